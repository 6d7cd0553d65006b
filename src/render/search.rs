//! The site's search index, written by the build itself through Pagefind's Rust
//! API (no Node step): one record per release, label and artist.
//!
//! Pagefind folds case and letters that decompose ("Rós" matches "ros") but not
//! letters such as ø, æ or ß. Each record's content therefore also carries an
//! ASCII-folded copy of its names ("MØ" → "MO", "Straße" → "Strasse"), so that
//! either spelling finds it.

use std::collections::{BTreeMap, BTreeSet};

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

/// Builds the Pagefind bundle for `records` in memory, as files under `pagefind/`.
///
/// Only what pagefind.js needs is kept: the search API, its worker, the WebAssembly
/// and the index; Pagefind's prebuilt UI bundles are left out since the search page
/// has its own.
pub fn bundle(records: Vec<SearchRecord>) -> Result<Vec<OutFile>, Box<Diagnostic>> {
    // Pagefind's API is async; a small runtime on this thread drives it. Its
    // blocking work runs on tokio's blocking pool and rayon.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| search_error("cannot start its runtime", e))?;
    let language = INDEX_LANGUAGE.to_string();
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
        pf.into_files().await.map_err(|e| search_error("output", e))
    })?;
    let mut out: Vec<OutFile> = files
        .into_iter()
        .filter_map(|f| {
            let rel: Vec<String> = f
                .filename
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let rel = rel.join("/");
            keep(&rel).then(|| OutFile {
                path: format!("{BUNDLE_DIR}/{rel}"),
                bytes: f.contents,
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
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

/// Reads a cached bundle: a header line `impala-search <key> <count>`, then per
/// file a line `<path-len> <bytes-len>` followed by the path and the bytes.
fn read_cache(path: &std::path::Path, key: &str) -> Option<Vec<OutFile>> {
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
    if parts.next()? != "impala-search" || parts.next()? != key {
        return None;
    }
    let count: usize = parts.next()?.parse().ok()?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let sizes = line(&mut rest)?;
        let (p, b) = sizes.split_once(' ')?;
        let (p, b): (usize, usize) = (p.parse().ok()?, b.parse().ok()?);
        if rest.len() < p + b {
            return None;
        }
        let path = String::from_utf8(rest[..p].to_vec()).ok()?;
        out.push(OutFile {
            path,
            bytes: rest[p..p + b].to_vec(),
        });
        rest = &rest[p + b..];
    }
    Some(out)
}

/// Writes a bundle to the cache; a failure only costs the next build time.
fn write_cache(path: &std::path::Path, key: &str, files: &[OutFile]) {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        writeln!(w, "impala-search {key} {}", files.len())?;
        for f in files {
            writeln!(w, "{} {}", f.path.len(), f.bytes.len())?;
            w.write_all(f.path.as_bytes())?;
            w.write_all(&f.bytes)?;
        }
        w.flush()
    });
    if written.is_err() || std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// [`bundle`], reusing the index kept in `cache` when the records are the same.
pub fn bundle_cached(
    records: Vec<SearchRecord>,
    cache: Option<&std::path::Path>,
) -> Result<Vec<OutFile>, Box<Diagnostic>> {
    let Some(cache) = cache else {
        return bundle(records);
    };
    let key = cache_key(&records);
    if let Some(files) = read_cache(cache, &key) {
        return Ok(files);
    }
    let files = bundle(records)?;
    write_cache(cache, &key, &files);
    Ok(files)
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
