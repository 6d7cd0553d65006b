//! The site's search index, written by the build itself through Pagefind's Rust
//! API (no Node step): one record per release, label and artist.
//!
//! Pagefind folds case and letters that decompose ("Rós" matches "ros") but not
//! letters such as ø, æ or ß. Each record's content therefore also carries an
//! ASCII-folded copy of its names ("MØ" → "MO", "Straße" → "Strasse"), so that
//! either spelling finds it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pagefind::api::{CustomRecord, PagefindIndex};
use pagefind::options::PagefindServiceConfig;
use rayon::prelude::*;
use serde::Serialize;

use super::OutFile;
use super::views;
use crate::diagnostics::Diagnostic;
use crate::index::{AwardRef, Index};
use crate::iso;
use crate::slug::slugify;

/// Folder of the search bundle in the output.
pub const BUNDLE_DIR: &str = "pagefind";

/// The index's language. Records are names in every European language, so no
/// stemmer fits: with English stemming "nordlys" would find "Nordlicht". Pagefind
/// stems nothing for "unknown", and pagefind.js falls back to it whatever the
/// page's `lang`.
const INDEX_LANGUAGE: &str = "unknown";

/// At most this many fragment files (the data shown per result): past it Pagefind
/// groups records into shared files, so a 100,000-release archive publishes a few
/// thousand small files rather than one per record.
const MAX_FRAGMENT_FILES: u32 = 2000;

/// Sort key of a record with no award: sorts after every dated one when newest first.
const NO_DATE: &str = "0000-00-00";

/// Filter names, as the search page and the index both use them.
pub const FILTER_TYPE: &str = "type";
pub const FILTER_TIER: &str = "tier";
pub const FILTER_LABEL: &str = "label";
pub const FILTER_YEAR: &str = "year";
pub const FILTER_COUNTRY: &str = "country";
pub const FILTER_FORMAT: &str = "format";

/// One search record: a page, the words that find it, and how to filter and sort it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchRecord {
    /// Site-relative URL ("releases/x/"); pagefind.js prefixes the site's base path.
    pub url: String,
    /// Searched text: names as written and folded to ASCII; for a release also its
    /// label, tiers, years, countries and format.
    pub content: String,
    /// Shown with a result: `title`, `type`, `detail`, `tier`, `tier_rank`, `latest`.
    pub meta: BTreeMap<String, String>,
    /// Filter name -> values.
    pub filters: BTreeMap<String, Vec<String>>,
    /// `date`: latest award date as zero-padded ISO (string order is date order);
    /// `title`: the folded title, for A-Z.
    pub sort: BTreeMap<String, String>,
}

/// The values each filter of the search page offers, in display order.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SearchFacets {
    /// Tier names, lowest tier first.
    pub tiers: Vec<String>,
    /// Label names, A-Z.
    pub labels: Vec<String>,
    /// Years, newest first.
    pub years: Vec<String>,
    /// Country names, A-Z.
    pub countries: Vec<String>,
    /// Format names, in the site's format order.
    pub formats: Vec<String>,
}

/// `text` folded to ASCII ("MØ" → "MO", "Sigur Rós" → "Sigur Ros", "Æ" → "AE", "ß" → "ss").
pub fn fold(text: &str) -> String {
    deunicode::deunicode(text)
}

/// Words for `names`, each as written and, when it differs, folded to ASCII.
fn searchable(names: &[&str]) -> String {
    let mut out = Vec::with_capacity(names.len() * 2);
    for n in names {
        out.push((*n).to_string());
        let folded = fold(n);
        if folded != *n {
            out.push(folded);
        }
    }
    out.join(" · ")
}

/// The zero-padded ISO first day of the latest award among `awards` (dates only
/// known to the month or year sort at their first day).
fn latest_sort_key(index: &Index<'_>, awards: &[AwardRef]) -> (String, Option<String>) {
    // `awards` lists are newest first throughout the index.
    match awards.iter().max_by_key(|a| index.date(a).sort_key()) {
        Some(a) => {
            let d = index.date(a);
            (
                d.first_day().format("%Y-%m-%d").to_string(),
                Some(d.human()),
            )
        }
        None => (NO_DATE.to_string(), None),
    }
}

/// What a set of awards contributes: tier names, years, countries (names), by rank/order.
struct AwardFacts<'i> {
    tiers: BTreeSet<usize>,
    years: BTreeSet<i32>,
    countries: BTreeSet<&'i str>,
}

fn award_facts<'i>(index: &'i Index<'_>, awards: &[AwardRef]) -> AwardFacts<'i> {
    let mut f = AwardFacts {
        tiers: BTreeSet::new(),
        years: BTreeSet::new(),
        countries: BTreeSet::new(),
    };
    // The countries met, as bits by their place in the table of codes, named
    // once each at the end: a label's or an artist's record meets one
    // shipment per country of each of its awards, most of them met already,
    // and looking each one's name up and into a set of names (string
    // compares) was half of the records' time at 100,000 releases.
    let mut met = [0u64; iso::COUNTRIES.len().div_ceil(64)];
    for a in awards {
        f.tiers.insert(a.tier);
        f.years.insert(index.date(a).year());
        let award = &index.releases[a.release].awards[a.award];
        if let Some(ships) = &award.shipments {
            for (c, _) in &ships.value {
                match iso::country_index(&c.value) {
                    Some(i) => met[i / 64] |= 1 << (i % 64),
                    // Not a code of the table: its own name, as on the pages.
                    None => {
                        f.countries.insert(&c.value);
                    }
                }
            }
        }
    }
    for (w, bits) in met.iter().enumerate() {
        let mut bits = *bits;
        while bits != 0 {
            let i = w * 64 + bits.trailing_zeros() as usize;
            f.countries.insert(iso::COUNTRIES[i].1);
            bits &= bits - 1;
        }
    }
    f
}

fn country_name(code: &str) -> String {
    iso::country_name(code).unwrap_or(code).to_string()
}

fn tier_name(index: &Index<'_>, rank: usize) -> String {
    index
        .config
        .tiers
        .tiers()
        .get(rank)
        .map_or_else(String::new, |t| t.name.clone())
}

/// Builds the record of a page from its parts.
struct RecordParts<'x> {
    url: String,
    kind: &'static str,
    title: &'x str,
    detail: String,
    /// Names to match as written and folded (title first).
    names: Vec<&'x str>,
    labels: BTreeSet<String>,
    formats: BTreeSet<&'static str>,
    awards: &'x [AwardRef],
}

fn record(index: &Index<'_>, p: RecordParts<'_>) -> SearchRecord {
    let facts = award_facts(index, p.awards);
    let tiers: Vec<String> = facts.tiers.iter().map(|&r| tier_name(index, r)).collect();
    let years: Vec<String> = facts.years.iter().rev().map(i32::to_string).collect();
    let countries: Vec<String> = facts.countries.iter().map(|c| (*c).to_string()).collect();
    let labels: Vec<String> = p.labels.iter().cloned().collect();
    let formats: Vec<String> = p.formats.iter().map(|f| (*f).to_string()).collect();
    let (date_key, latest) = latest_sort_key(index, p.awards);

    let mut content = vec![searchable(&p.names), p.kind.to_string()];
    // A release is found by everything about it. A label or an artist is found
    // by its names: the tiers, years, countries and formats of all its
    // releases matched most queries ("gold 2015" listed every label with a gold
    // and a 2015 award) and were half of what Pagefind indexed; the filters
    // still narrow labels and artists by them.
    if p.kind == "Release" {
        let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        content.push(searchable(&label_refs));
        content.push(tiers.join(" · "));
        content.push(years.join(" "));
        let country_refs: Vec<&str> = countries.iter().map(String::as_str).collect();
        content.push(searchable(&country_refs));
        content.push(formats.join(" "));
    }
    let content = content
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(". ");

    let mut meta = BTreeMap::new();
    meta.insert("title".to_string(), p.title.to_string());
    meta.insert("type".to_string(), p.kind.to_string());
    meta.insert("detail".to_string(), p.detail);
    if let Some(&top) = facts.tiers.iter().next_back() {
        meta.insert("tier".to_string(), tier_name(index, top));
        meta.insert("tier_rank".to_string(), top.to_string());
    }
    if let Some(l) = latest {
        meta.insert("latest".to_string(), l);
    }

    let mut filters = BTreeMap::new();
    filters.insert(FILTER_TYPE.to_string(), vec![p.kind.to_string()]);
    for (k, v) in [
        (FILTER_TIER, tiers),
        (FILTER_LABEL, labels),
        (FILTER_YEAR, years),
        (FILTER_COUNTRY, countries),
        (FILTER_FORMAT, formats),
    ] {
        if !v.is_empty() {
            filters.insert(k.to_string(), v);
        }
    }

    let mut sort = BTreeMap::new();
    sort.insert("date".to_string(), date_key);
    sort.insert("title".to_string(), slugify(p.title));

    SearchRecord {
        url: format!("/{}", p.url),
        content,
        meta,
        filters,
        sort,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn label_name(index: &Index<'_>, slug: &str) -> String {
    index
        .label(slug)
        .map_or_else(|| slug.to_string(), |l| l.name.value.clone())
}

/// Every search record of the archive: releases, then labels, then artists, each by slug.
pub fn records(index: &Index<'_>) -> Vec<SearchRecord> {
    let mut release_awards: Vec<Vec<AwardRef>> = vec![Vec::new(); index.releases.len()];
    for a in &index.awards {
        release_awards[a.release].push(*a);
    }
    // Built on every core: at 100,000 releases this ran 3 s on one thread
    // before Pagefind could start.
    let releases = index.releases.par_iter().enumerate().map(|(ri, r)| {
        let label = label_name(index, &r.label.value);
        let credit = r.display_credit();
        let mut names: Vec<&str> = vec![&r.title.value, &credit];
        names.extend(r.artists.value.iter().map(|a| a.value.as_str()));
        if let Some(c) = &r.catalogue {
            names.push(&c.value);
        }
        let format = r.format.value.name();
        record(
            index,
            RecordParts {
                url: views::release_path(&r.slug),
                kind: "Release",
                title: &r.title.value,
                detail: format!("{credit} · {label} · {format}"),
                names,
                labels: BTreeSet::from([label]),
                formats: BTreeSet::from([format]),
                awards: &release_awards[ri],
            },
        )
    });
    let by_label: Vec<_> = index.by_label.iter().collect();
    let labels = by_label.into_par_iter().map(|(slug, e)| {
        let l = index.labels[e.label];
        let mut names: Vec<&str> = vec![&l.name.value];
        names.extend(l.aliases.iter().map(|a| a.value.as_str()));
        let country = country_name(&l.country.value);
        record(
            index,
            RecordParts {
                url: views::label_path(slug),
                kind: "Label",
                title: &l.name.value,
                detail: format!(
                    "{country} · {}, {}",
                    plural(e.releases.len(), "release", "releases"),
                    plural(e.awards_with_imprints.len(), "award", "awards")
                ),
                names,
                labels: BTreeSet::from([l.name.value.clone()]),
                formats: e
                    .releases
                    .iter()
                    .map(|&ri| index.releases[ri].format.value.name())
                    .collect(),
                awards: &e.awards_with_imprints,
            },
        )
    });
    let by_artist: Vec<_> = index.by_artist.values().collect();
    let artists = by_artist.into_par_iter().map(|a| {
        record(
            index,
            RecordParts {
                url: views::artist_path(&a.slug),
                kind: "Artist",
                title: &a.name,
                detail: format!(
                    "{}, {}",
                    plural(a.releases.len(), "release", "releases"),
                    plural(a.awards.len(), "award", "awards")
                ),
                names: vec![&a.name],
                labels: a
                    .releases
                    .iter()
                    .map(|&ri| label_name(index, &index.releases[ri].label.value))
                    .collect(),
                formats: a
                    .releases
                    .iter()
                    .map(|&ri| index.releases[ri].format.value.name())
                    .collect(),
                awards: &a.awards,
            },
        )
    });
    let mut out: Vec<SearchRecord> = releases.collect();
    out.par_extend(labels);
    out.par_extend(artists);
    out
}

/// The filter values the records use, in the order the search page lists them.
pub fn facets(index: &Index<'_>, records: &[SearchRecord]) -> SearchFacets {
    let mut used: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in records {
        for (k, vs) in &r.filters {
            used.entry(k.as_str())
                .or_default()
                .extend(vs.iter().map(String::as_str));
        }
    }
    let values = |k: &str| -> Vec<String> {
        used.get(k)
            .map(|s| s.iter().map(|v| (*v).to_string()).collect())
            .unwrap_or_default()
    };
    let az = |mut v: Vec<String>| {
        v.sort_by_cached_key(|s| (slugify(s), s.clone()));
        v
    };
    let tier_names = values(FILTER_TIER);
    let format_names = values(FILTER_FORMAT);
    let mut years = values(FILTER_YEAR);
    years.sort_by(|a, b| b.cmp(a));
    SearchFacets {
        tiers: index
            .config
            .tiers
            .tiers()
            .iter()
            .filter(|t| tier_names.contains(&t.name))
            .map(|t| t.name.clone())
            .collect(),
        labels: az(values(FILTER_LABEL)),
        years,
        countries: az(values(FILTER_COUNTRY)),
        formats: crate::records::Format::ALL
            .iter()
            .map(|f| f.name().to_string())
            .filter(|n| format_names.contains(n))
            .collect(),
    }
}

fn search_error(what: &str, e: impl std::fmt::Display) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(
        "search-index",
        format!("cannot build the search index: {what}: {e}"),
    ))
}

/// Compressed files of an earlier bundle, by the hash of their uncompressed
/// bytes ([`raw_hash`]): a bundle made again after a small change has mostly
/// the same files, and gzipping them was a quarter of Pagefind's work.
pub type Compressed = HashMap<u128, Vec<u8>>;

/// The hash [`Compressed`] is keyed by, of a file's uncompressed parts.
fn raw_hash(parts: &[&[u8]]) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.digest128()
}

/// One file of a bundle, and the [`raw_hash`] of a gzipped one.
struct BundleFile {
    file: OutFile,
    raw: Option<u128>,
}

/// Builds the Pagefind bundle for `records` in memory, as files under `pagefind/`.
///
/// Only what pagefind.js needs is kept: the search API, its worker, the WebAssembly
/// and the index; Pagefind's prebuilt UI bundles are left out since the search page
/// has its own.
pub fn bundle(records: Vec<SearchRecord>) -> Result<Vec<OutFile>, Box<Diagnostic>> {
    Ok(bundle_reusing(records, &Compressed::new())?
        .into_iter()
        .map(|f| f.file)
        .collect())
}

/// [`bundle`], taking each gzipped file whose bytes `known` has from it
/// instead of compressing it again: the same bytes, since gzip's output
/// depends only on its input (the cache records which gzip made them:
/// [`compressor`]).
fn bundle_reusing(
    records: Vec<SearchRecord>,
    known: &Compressed,
) -> Result<Vec<BundleFile>, Box<Diagnostic>> {
    // Pagefind's API is async; a small runtime on this thread drives it. Its
    // blocking work runs on tokio's blocking pool and rayon.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| search_error("cannot start its runtime", e))?;
    let language = INDEX_LANGUAGE.to_string();
    // The hash of each gzipped file, by its name (hash-named by Pagefind, so
    // unique in a bundle), to key the next build's `known`.
    let raws = std::sync::Mutex::new(HashMap::<std::ffi::OsString, u128>::new());
    let reuse = |path: &std::path::Path, parts: &[&[u8]]| -> Option<Vec<u8>> {
        let raw = raw_hash(parts);
        if let Some(name) = path.file_name() {
            raws.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(name.to_os_string(), raw);
        }
        known.get(&raw).cloned()
    };
    let files = rt.block_on(async {
        let options = PagefindServiceConfig::builder()
            .force_language(language.clone())
            .max_fragments(MAX_FRAGMENT_FILES)
            .build();
        let mut pf = PagefindIndex::new(Some(options)).map_err(|e| search_error("options", e))?;
        // Moved, not copied: at 100k releases the records are a few hundred MB.
        let batch = records
            .into_iter()
            .map(|r| CustomRecord {
                url: r.url,
                content: r.content,
                language: language.clone(),
                meta: r.meta,
                filters: r.filters,
                sort: r.sort,
            })
            .collect();
        pf.add_custom_records(batch)
            .await
            .map_err(|e| search_error("records", e))?;
        crate::timings::mark("search: records given to Pagefind");
        pf.into_files_reusing(&reuse)
            .await
            .map_err(|e| search_error("output", e))
    })?;
    let raws = raws
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !known.is_empty() {
        let reused = raws.values().filter(|r| known.contains_key(r)).count();
        crate::timings::mark(&format!(
            "search: {reused} of {} compressed files reused",
            raws.len()
        ));
    }
    let mut out: Vec<BundleFile> = files
        .into_iter()
        .filter_map(|f| {
            let raw = f.filename.file_name().and_then(|n| raws.get(n)).copied();
            let rel: Vec<String> = f
                .filename
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let rel = rel.join("/");
            keep(&rel).then(|| BundleFile {
                file: OutFile {
                    path: format!("{BUNDLE_DIR}/{rel}"),
                    bytes: f.contents,
                },
                raw,
            })
        })
        .collect();
    out.sort_by(|a, b| a.file.path.cmp(&b.file.path));
    Ok(out)
}

/// Key of a search index: what was indexed and by which indexer.
fn cache_key(records: &[SearchRecord]) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"impala-awards search v1 ");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // Every setting `bundle` passes to pagefind belongs in the key.
    h.update(INDEX_LANGUAGE.as_bytes());
    h.update(&MAX_FRAGMENT_FILES.to_le_bytes());
    // Streamed into the hash, not built in memory first: it holds every record.
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut h);
    let _ = serde_json::to_writer(&mut w, records);
    drop(w);
    h.finalize().to_hex().to_string()
}

/// Which gzip made a cache's compressed files: this program's version and
/// the bytes gzip makes of a sample now (vendor/pagefind's `gzip` gives the
/// bytes of flate2's `GzEncoder` at the default level), so that files
/// compressed by another build of the program, or after the compressor
/// changed, are made again rather than taken.
fn compressor() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(compressor_now)
}

fn compressor_now() -> String {
    use std::io::Write as _;
    let sample: Vec<u8> = (0u32..4096)
        .flat_map(|i| format!("{{\"w\":\"word{}\",\"p\":[{},{}]}}", i % 97, i, i * 7).into_bytes())
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let probe = gz
        .write_all(&sample)
        .and_then(|()| gz.finish())
        .unwrap_or_default();
    format!(
        "{}-{:032x}",
        env!("CARGO_PKG_VERSION"),
        raw_hash(&[probe.as_slice()])
    )
}

/// A cached bundle, as [`write_cache`] wrote it.
struct Cache {
    key: String,
    /// Whether its compressed files came from the gzip this build has.
    same_compressor: bool,
    files: Vec<BundleFile>,
}

/// Reads a cached bundle: a header line `impala-search2 <key> <count>
/// <compressor>`, then per file a line `<path-len> <bytes-len> <raw-hash>`
/// (`-` for a file not compressed) followed by the path and the bytes.
fn read_cache(path: &std::path::Path, compressor: &str) -> Option<Cache> {
    let data = std::fs::read(path).ok()?;
    let mut rest = data.as_slice();
    fn line(rest: &mut &[u8]) -> Option<String> {
        let nl = rest.iter().position(|&b| b == b'\n')?;
        let l = String::from_utf8(rest[..nl].to_vec()).ok()?;
        *rest = &rest[nl + 1..];
        Some(l)
    }
    let header = line(&mut rest)?;
    let mut parts = header.split(' ');
    if parts.next()? != "impala-search2" {
        return None;
    }
    let key = parts.next()?.to_string();
    let count: usize = parts.next()?.parse().ok()?;
    let same_compressor = parts.next()? == compressor;
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        let sizes = line(&mut rest)?;
        let mut fields = sizes.split(' ');
        let p: usize = fields.next()?.parse().ok()?;
        let b: usize = fields.next()?.parse().ok()?;
        let raw = match fields.next()? {
            "-" => None,
            hex => Some(u128::from_str_radix(hex, 16).ok()?),
        };
        if rest.len() < p + b {
            return None;
        }
        let path = String::from_utf8(rest[..p].to_vec()).ok()?;
        files.push(BundleFile {
            file: OutFile {
                path,
                bytes: rest[p..p + b].to_vec(),
            },
            raw,
        });
        rest = &rest[p + b..];
    }
    Some(Cache {
        key,
        same_compressor,
        files,
    })
}

/// Writes a bundle to the cache; a failure only costs the next build time.
fn write_cache(path: &std::path::Path, key: &str, compressor: &str, files: &[BundleFile]) {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        writeln!(w, "impala-search2 {key} {} {compressor}", files.len())?;
        for f in files {
            let raw = f
                .raw
                .map_or_else(|| "-".to_string(), |r| format!("{r:032x}"));
            writeln!(w, "{} {} {raw}", f.file.path.len(), f.file.bytes.len())?;
            w.write_all(f.file.path.as_bytes())?;
            w.write_all(&f.file.bytes)?;
        }
        w.flush()
    });
    if written.is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// [`bundle`], reusing the index kept in `cache` when the records are the
/// same, and otherwise the compressed files of that index that are the same.
pub fn bundle_cached(
    records: Vec<SearchRecord>,
    cache: Option<&std::path::Path>,
) -> Result<Vec<OutFile>, Box<Diagnostic>> {
    let Some(cache) = cache else {
        return bundle(records);
    };
    let key = cache_key(&records);
    let compressor = compressor();
    let old = read_cache(cache, compressor);
    let known: Compressed = match old {
        Some(c) if c.key == key && c.same_compressor => {
            return Ok(c.files.into_iter().map(|f| f.file).collect());
        }
        Some(c) if c.same_compressor => c
            .files
            .into_iter()
            .filter_map(|f| Some((f.raw?, f.file.bytes)))
            .collect(),
        _ => Compressed::new(),
    };
    let files = bundle_reusing(records, &known)?;
    drop(known);
    write_cache(cache, &key, compressor, &files);
    Ok(files.into_iter().map(|f| f.file).collect())
}

/// Whether a bundle file is one pagefind.js loads (its UI bundles are not).
fn keep(rel: &str) -> bool {
    !(rel.starts_with("pagefind-ui.")
        || rel.starts_with("pagefind-modular-ui.")
        || rel.starts_with("pagefind-component-ui.")
        || rel.starts_with("pagefind-highlight.")
        || rel.starts_with("playground/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_letters_that_do_not_decompose() {
        assert_eq!(fold("MØ"), "MO");
        assert_eq!(fold("Sigur Rós"), "Sigur Ros");
        assert_eq!(fold("Æther Straße"), "AEther Strasse");
        assert_eq!(searchable(&["MØ", "Polar"]), "MØ · MO · Polar");
    }

    /// `n` records of made-up releases, the `edited` one retitled.
    fn some_records(n: usize, edited: Option<usize>) -> Vec<SearchRecord> {
        (0..n)
            .map(|i| {
                let title = match edited {
                    Some(e) if e == i => format!("Nordlys Zwölf {i} (Demo)"),
                    _ => format!("Nordlys Zwölf {i}"),
                };
                SearchRecord {
                    url: format!("releases/r-{i}/"),
                    content: format!("{title} · Artist {} · Label {}", i % 17, i % 5),
                    meta: BTreeMap::from([
                        ("title".to_string(), title),
                        ("type".to_string(), "release".to_string()),
                    ]),
                    filters: BTreeMap::from([(
                        FILTER_YEAR.to_string(),
                        vec![format!("{}", 2007 + i % 19)],
                    )]),
                    sort: BTreeMap::from([(
                        "date".to_string(),
                        format!("{:04}-01-01", 2007 + i % 19),
                    )]),
                }
            })
            .collect()
    }

    fn paths_and_bytes(files: Vec<OutFile>) -> Vec<(String, Vec<u8>)> {
        files.into_iter().map(|f| (f.path, f.bytes)).collect()
    }

    #[test]
    fn a_bundle_taking_an_earlier_ones_files_is_the_one_made_afresh() {
        let before = bundle_reusing(some_records(300, None), &Compressed::new()).expect("bundle");
        let known: Compressed = before
            .iter()
            .filter_map(|f| Some((f.raw?, f.file.bytes.clone())))
            .collect();
        assert!(
            known.len() > 300,
            "every fragment and index file is gzipped"
        );
        let again = bundle_reusing(some_records(300, Some(7)), &known).expect("bundle");
        let reused = again
            .iter()
            .filter(|f| f.raw.is_some_and(|r| known.contains_key(&r)))
            .count();
        let gzipped = again.iter().filter(|f| f.raw.is_some()).count();
        // The edited record's fragment, the index chunks of its words and the
        // meta file are new; the other records' fragments are not.
        assert!(reused >= 290 && reused < gzipped, "{reused} of {gzipped}");
        let afresh = bundle(some_records(300, Some(7))).expect("bundle");
        assert_eq!(
            paths_and_bytes(again.into_iter().map(|f| f.file).collect()),
            paths_and_bytes(afresh)
        );
    }

    #[test]
    fn the_search_cache_gives_an_edited_index_the_bytes_of_a_fresh_one() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let cache = dir.path().join("search-cache");
        let first = bundle_cached(some_records(120, None), Some(&cache)).expect("bundle");
        assert_eq!(
            paths_and_bytes(first),
            paths_and_bytes(bundle(some_records(120, None)).expect("bundle"))
        );
        let text = std::fs::read(&cache).expect("the cache is written");
        assert!(text.starts_with(b"impala-search2 "));
        let edited = bundle_cached(some_records(120, Some(3)), Some(&cache)).expect("bundle");
        assert_eq!(
            paths_and_bytes(edited),
            paths_and_bytes(bundle(some_records(120, Some(3))).expect("bundle"))
        );
        let kept = read_cache(&cache, compressor()).expect("the cache reads back");
        assert!(kept.same_compressor);
        assert_eq!(kept.key, cache_key(&some_records(120, Some(3))));
        // A cache cut short (a full disk, a killed build) is not read at all.
        let whole = std::fs::read(&cache).expect("the cache");
        std::fs::write(&cache, &whole[..whole.len() - 100]).expect("cut the cache");
        assert!(read_cache(&cache, compressor()).is_none());
        let again = bundle_cached(some_records(120, Some(4)), Some(&cache)).expect("bundle");
        assert_eq!(
            paths_and_bytes(again),
            paths_and_bytes(bundle(some_records(120, Some(4))).expect("bundle"))
        );
    }

    #[test]
    fn files_another_gzip_compressed_are_not_taken() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let cache = dir.path().join("search-cache");
        let records = some_records(40, None);
        let mut files = bundle_reusing(records.clone(), &Compressed::new()).expect("bundle");
        // As if another gzip had made other bytes of the same files.
        for f in &mut files {
            if f.raw.is_some() {
                f.file.bytes = b"not these bytes".to_vec();
            }
        }
        write_cache(&cache, &cache_key(&records), "0.0.0-another-gzip", &files);
        let read = read_cache(&cache, compressor()).expect("the cache reads back");
        assert!(!read.same_compressor);
        for records in [records, some_records(40, Some(1))] {
            let made = bundle_cached(records.clone(), Some(&cache)).expect("bundle");
            assert!(made.iter().all(|f| f.bytes != b"not these bytes"));
            assert_eq!(
                paths_and_bytes(made),
                paths_and_bytes(bundle(records).expect("bundle"))
            );
        }
    }

    #[test]
    fn keeps_only_what_pagefind_js_loads() {
        assert!(keep("pagefind.js"));
        assert!(keep("pagefind-worker.js"));
        assert!(keep("pagefind-entry.json"));
        assert!(keep("wasm.en.pagefind"));
        assert!(keep("fragment/en_1a2b.pf_fragment"));
        assert!(!keep("pagefind-ui.js"));
        assert!(!keep("pagefind-component-ui.css"));
        assert!(!keep("playground/index.html"));
    }
}
