//! A synthetic archive of any size, for benchmarks: realistic shape, deterministic per seed.
//!
//! N releases on about N/25 labels (some imprints), several releases per
//! artist, award dates from 2007 to the build date, 1 to 12 countries per
//! award, upgrades, and diacritics in names. Every record passes the checks.
//! Optionally writes the same archive as a Hugo site with the same pages.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use crate::config::fmt_units;
use crate::slug::slugify;

/// SplitMix64: tiny, fast and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const SYLLABLES: &[&str] = &[
    "nor", "dl", "ys", "mør", "ke", "tid", "sig", "ur", "rós", "ljós", "ée", "cail", "les", "bri",
    "sa", "ðr", "ä", "mä", "rä", "zo", "ë", "kaj", "ß", "wal", "fjö", "ll", "ån", "ça", "vi", "ny",
    "læ", "ro", "ke", "ma", "ti", "on", "ba", "sti", "án", "ir", "el", "ka", "lu", "ne",
];
const WORDS: &[&str] = &[
    "Night", "Aurora", "Lune", "Echo", "Winter", "Songs", "Nordlys", "Herz", "Sommer", "Étoile",
    "Océan", "Stille", "Fjord", "Ville", "Rêve", "Licht", "Tiden", "Mørke", "Ljós", "Ciel", "Amor",
    "Kraft", "Weite", "Straße", "Sólin", "Vår", "Zeit", "Feuer", "Himmel", "Blå",
];
/// Countries shipments go to (all in the shipped `countries`).
const COUNTRIES: &[&str] = &[
    "DE", "FR", "GB", "NL", "BE", "AT", "CH", "SE", "NO", "DK", "FI", "IT", "ES", "PL", "IE", "PT",
    "CZ", "HU", "GR", "RO",
];
const FORMATS: &[&str] = &[
    "album",
    "album",
    "album",
    "single",
    "single",
    "ep",
    "compilation",
    "download",
];
/// Tier ids in rank order with their level and multiple (the default tiers).
const TIERS: &[(&str, &str, u64)] = &[
    ("silver", "silver", 1),
    ("double-silver", "silver", 2),
    ("triple-silver", "silver", 3),
    ("gold", "gold", 1),
    ("double-gold", "gold", 2),
    ("diamond", "diamond", 1),
    ("platinum", "platinum", 1),
    ("double-platinum", "platinum", 2),
];

fn level_units(level: &str, launch: bool) -> u64 {
    match (level, launch) {
        ("silver", true) => 30_000,
        ("gold", true) => 100_000,
        ("diamond", true) => 250_000,
        ("platinum", true) => 500_000,
        ("silver", false) => 20_000,
        ("gold", false) => 75_000,
        ("diamond", false) => 200_000,
        _ => 400_000,
    }
}

fn threshold(rank: usize, launch: bool) -> u64 {
    let (_, level, mult) = TIERS[rank];
    level_units(level, launch) * mult
}

fn name(rng: &mut Rng, parts: u64) -> String {
    let mut s = String::new();
    for _ in 0..1 + rng.below(parts) {
        s.push_str(rng.pick(SYLLABLES));
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

/// The site.toml of a synthetic archive (same scales as the shipped site).
pub const SITE_TOML: &str = r#"title = "IMPALA European Sales Awards (synthetic)"
base_url = "https://example.org/"
language = "en"
description = "A synthetic archive for benchmarks."
countries = ["AT", "BE", "CH", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "GR", "HU", "IE", "IT", "NL", "NO", "PL", "PT", "RO", "SE"]

[[scales]]
id = "launch"
from = 2007-01-01
levels = { silver = 30_000, gold = 100_000, diamond = 250_000, platinum = 500_000 }

[[scales]]
id = "current"
from = 2013-01-01
levels = { silver = 20_000, gold = 75_000, diamond = 200_000, platinum = 400_000 }
"#;

struct Award {
    rank: usize,
    date: NaiveDate,
    shipments: Vec<(&'static str, u64)>,
}

struct Release {
    slug: String,
    title: String,
    artists: Vec<String>,
    label: usize,
    format: &'static str,
    awards: Vec<Award>,
}

/// Writes a synthetic site with `n` releases into `out` (which must not exist or be empty).
/// With `hugo`, also writes an equivalent Hugo site there; with `hugo_rows`,
/// one whose list pages also carry our award rows (see [`HugoFlavour`]).
pub fn generate(
    out: &Path,
    n: usize,
    seed: u64,
    today: NaiveDate,
    hugo: Option<&Path>,
    hugo_rows: Option<&Path>,
) -> io::Result<()> {
    let mut rng = Rng(seed ^ 0x001A_9A1A);
    let n_labels = (n / 25).max(1);
    let n_artists = (n / 3).max(1);
    let labels: Vec<(String, String, &str, Option<usize>)> = (0..n_labels)
        .map(|i| {
            let nm = format!(
                "{} {}",
                name(&mut rng, 2),
                rng.pick(&[
                    "Records",
                    "Musik",
                    "Disques",
                    "Tonträger",
                    "Recordings",
                    "Música"
                ])
            );
            let slug = format!("{}-{i}", slugify(&nm));
            let country = rng.pick(COUNTRIES);
            // One label in ten is an imprint of an earlier one.
            let parent = (i > 0 && rng.below(10) == 0).then(|| rng.below(i as u64) as usize);
            (slug, nm, country, parent)
        })
        .collect();
    let artists: Vec<String> = (0..n_artists)
        .map(|i| {
            format!(
                "{} {}",
                name(&mut rng, 3),
                if i % 7 == 0 {
                    name(&mut rng, 2)
                } else {
                    String::new()
                }
            )
            .trim()
            .to_string()
        })
        .collect();
    let last_year = today.year();
    let mut releases = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    for i in 0..n {
        let artist = rng.below(n_artists as u64) as usize;
        let mut names = vec![artists[artist].clone()];
        if rng.below(8) == 0 {
            let other = &artists[rng.below(n_artists as u64) as usize];
            if *other != names[0] {
                names.push(other.clone());
            }
        }
        let mut title = format!("{} {}", rng.pick(WORDS), rng.pick(WORDS));
        // Same artist, title and format twice is an error in real records too.
        if !seen.insert((slugify(&names[0]), slugify(&title))) {
            title = format!("{title} Vol. {i}");
        }
        let slug = format!("{}-{}-{i}", slugify(&names[0]), slugify(&title));
        // Awards: 1 to 3, rising tier and date.
        let n_awards = 1 + (rng.below(10) / 7) as usize + usize::from(rng.below(20) == 0);
        let span_days = (NaiveDate::from_ymd_opt(last_year, 1, 1).unwrap_or(today)
            - NaiveDate::from_ymd_opt(2007, 1, 1).unwrap_or(today))
        .num_days()
        .max(1) as u64;
        let mut date = NaiveDate::from_ymd_opt(2007, 1, 1).unwrap_or(today)
            + chrono::Duration::days(rng.below(span_days) as i64);
        let mut rank = if rng.below(4) == 0 {
            rng.below(4) as usize
        } else {
            0
        };
        let mut awards = Vec::new();
        let k = 1 + rng.below(12) as usize;
        let mut countries: Vec<&'static str> = Vec::new();
        while countries.len() < k {
            let c = rng.pick(COUNTRIES);
            if !countries.contains(&c) {
                countries.push(c);
            }
        }
        countries.sort_unstable();
        for _ in 0..n_awards {
            if rank >= TIERS.len() || date > today {
                break;
            }
            let launch = date.year() < 2013;
            let need = threshold(rank, launch);
            let next = if rank + 1 < TIERS.len() {
                threshold(rank + 1, launch)
            } else {
                need * 2
            };
            let total = need + rng.below((next - need).max(1));
            // Split the total across the countries.
            let mut weights: Vec<u64> = countries.iter().map(|_| 1 + rng.below(100)).collect();
            let wsum: u64 = weights.iter().sum();
            let mut left = total;
            let mut shipments = Vec::new();
            for (j, c) in countries.iter().enumerate() {
                let u = if j + 1 == countries.len() {
                    left
                } else {
                    (total * weights[j] / wsum).min(left)
                };
                left -= u;
                if u > 0 {
                    shipments.push((*c, u));
                }
            }
            weights.clear();
            awards.push(Award {
                rank,
                date,
                shipments,
            });
            rank += 1 + rng.below(2) as usize;
            date += chrono::Duration::days(30 + rng.below(700) as i64);
        }
        releases.push(Release {
            slug,
            title,
            artists: names,
            label: rng.below(n_labels as u64) as usize,
            format: rng.pick(FORMATS),
            awards,
        });
    }

    fs::create_dir_all(out.join("content/labels"))?;
    fs::write(out.join("site.toml"), SITE_TOML)?;
    for (slug, nm, country, parent) in &labels {
        let mut s = format!("name = {}\ncountry = \"{country}\"\n", quoted(nm));
        if let Some(p) = parent {
            let _ = writeln!(s, "parent = \"{}\"", labels[*p].0);
        }
        fs::write(out.join(format!("content/labels/{slug}.toml")), s)?;
    }
    for r in &releases {
        let dir = out
            .join("content/releases")
            .join(&r.slug[..2.min(r.slug.len())]);
        fs::create_dir_all(&dir)?;
        let mut s = format!(
            "title = {}\nartists = [{}]\nlabel = \"{}\"\nformat = \"{}\"\n",
            quoted(&r.title),
            r.artists
                .iter()
                .map(|a| quoted(a))
                .collect::<Vec<_>>()
                .join(", "),
            labels[r.label].0,
            r.format
        );
        for a in &r.awards {
            let ships: Vec<String> = a
                .shipments
                .iter()
                .map(|(c, u)| format!("{c} = {u}"))
                .collect();
            let _ = write!(
                s,
                "\n[[awards]]\ntier = \"{}\"\ndate = {}\nshipments = {{ {} }}\n",
                TIERS[a.rank].0,
                a.date,
                ships.join(", ")
            );
        }
        fs::write(dir.join(format!("{}.toml", r.slug)), s)?;
    }
    if let Some(h) = hugo {
        write_hugo(h, &labels, &releases, HugoFlavour::Minimal)?;
    }
    if let Some(h) = hugo_rows {
        write_hugo(h, &labels, &releases, HugoFlavour::SameRows)?;
    }
    Ok(())
}

/// `s` as a double-quoted string, which TOML and YAML escape alike.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Which Hugo site [`generate`] writes beside the archive.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HugoFlavour {
    /// The same pages as ours, each listing its releases by title and artist.
    Minimal,
    /// The same pages with our award rows: tier, year, label and artist pages
    /// list every award (date, tier, release, artists, label, units) newest
    /// first, country pages one row per release by units shipped there, the
    /// releases section every award with its countries, and each release
    /// also gets a JSON file. Still no charts, feeds, JSON-LD or search index.
    SameRows,
}

/// The Hugo layouts of [`HugoFlavour::SameRows`]: (path under `layouts/`, text).
const HUGO_ROWS_LAYOUTS: &[(&str, &str)] = &[
    (
        "partials/row.html",
        "<tr><td class=\"date\">{{ .a.date }}</td><td><a href=\"/tiers/{{ .a.tier }}/\">{{ .a.tier_name }}</a></td><th scope=\"row\"><a href=\"{{ .p.RelPermalink }}\">{{ .p.Title }}</a></th><td>{{ range .p.Params.artists }}<a href=\"/artists/{{ urlize . }}/\">{{ . }}</a> {{ end }}</td><td><a href=\"/labels/{{ index .p.Params.labels 0 }}/\">{{ .p.Params.label_name }}</a></td><td class=\"num\">{{ .a.units }}</td></tr>\n",
    ),
    (
        "_default/term.html",
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>{{ $plural := .Data.Plural }}{{ $term := .Data.Term }}{{ if eq $plural \"countries\" }}{{ $rows := slice }}{{ range .Pages }}{{ $p := . }}{{ $e := index .Params.in_country (lower $term) }}{{ $rows = $rows | append (dict \"n\" $e.v \"u\" $e.u \"tier\" $e.tier \"p\" $p) }}{{ end }}<table><caption>Releases by units shipped to {{ .Title }}</caption><thead><tr><th scope=\"col\">Release</th><th scope=\"col\">Artist</th><th scope=\"col\">Highest award</th><th scope=\"col\" class=\"num\">Units</th></tr></thead><tbody>{{ range sort $rows \"n\" \"desc\" }}<tr><th scope=\"row\"><a href=\"{{ .p.RelPermalink }}\">{{ .p.Title }}</a></th><td>{{ delimit .p.Params.artists \", \" }}</td><td>{{ .tier }}</td><td class=\"num\">{{ .u }}</td></tr>{{ end }}</tbody></table>{{ else }}{{ if eq $plural \"artists\" }}<h2>Releases</h2><ul>{{ range .Pages }}<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}</ul><h2>Awards</h2>{{ end }}{{ $rows := slice }}{{ range .Pages }}{{ $p := . }}{{ range .Params.awards }}{{ if or (and (eq $plural \"tiers\") (eq .tier $term)) (and (eq $plural \"years\") (eq (substr .date 0 4) $term)) (eq $plural \"labels\") (eq $plural \"artists\") }}{{ $rows = $rows | append (dict \"date\" .date \"a\" . \"p\" $p) }}{{ end }}{{ end }}{{ end }}<table><caption>Awards of {{ .Title }}, newest first</caption><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Tier</th><th scope=\"col\">Release</th><th scope=\"col\">Artist</th><th scope=\"col\">Label</th><th scope=\"col\" class=\"num\">Units</th></tr></thead><tbody>{{ range sort $rows \"date\" \"desc\" }}{{ partial \"row.html\" . }}{{ end }}</tbody></table>{{ end }}{{ end }}\n",
    ),
    (
        "_default/list.html",
        "{{ define \"main\" }}<h1>{{ .Title }}</h1>{{ $rows := slice }}{{ range .Pages }}{{ $p := . }}{{ range .Params.awards }}{{ $rows = $rows | append (dict \"date\" .date \"a\" . \"p\" $p) }}{{ end }}{{ end }}<table><caption>Every award, newest first</caption><thead><tr><th scope=\"col\">Release</th><th scope=\"col\">Artists</th><th scope=\"col\">Label</th><th scope=\"col\">Tier</th><th scope=\"col\" class=\"num\">Units</th><th scope=\"col\">Date</th><th scope=\"col\">Countries</th></tr></thead><tbody>{{ range sort $rows \"date\" \"desc\" }}<tr><th scope=\"row\"><a href=\"{{ .p.RelPermalink }}\">{{ .p.Title }}</a></th><td>{{ delimit .p.Params.artists \", \" }}</td><td>{{ .p.Params.label_name }}</td><td>{{ .a.tier_name }}</td><td class=\"num\">{{ .a.units }}</td><td>{{ .a.date }}</td><td>{{ .a.countries }}</td></tr>{{ end }}</tbody></table>{{ end }}\n",
    ),
    (
        "_default/single.json",
        "{{ dict \"title\" .Title \"artists\" .Params.artists \"label\" .Params.label_name \"format\" .Params.format \"awards\" .Params.awards | jsonify }}\n",
    ),
];

/// "double-silver" -> "Impala Double Silver".
fn tier_display(id: &str) -> String {
    let mut s = String::from("Impala");
    for w in id.split('-') {
        let mut c = w.chars();
        if let Some(f) = c.next() {
            s.push(' ');
            s.extend(f.to_uppercase());
            s.push_str(c.as_str());
        }
    }
    s
}

/// The same archive as a Hugo site: one page per release, taxonomies for
/// tier, label, year, artist and country (whose term and list pages match ours).
fn write_hugo(
    out: &Path,
    labels: &[(String, String, &str, Option<usize>)],
    releases: &[Release],
    flavour: HugoFlavour,
) -> io::Result<()> {
    let rows = flavour == HugoFlavour::SameRows;
    fs::create_dir_all(out.join("content/releases"))?;
    fs::create_dir_all(out.join("layouts/_default"))?;
    fs::create_dir_all(out.join("layouts/partials"))?;
    let outputs = if rows {
        "[outputs]\npage = [\"HTML\", \"JSON\"]\n"
    } else {
        ""
    };
    fs::write(
        out.join("hugo.toml"),
        format!(
            "baseURL = \"https://example.org/\"\ntitle = \"IMPALA European Sales Awards (synthetic)\"\ndisableKinds = [\"RSS\", \"sitemap\", \"robotsTXT\"]\n{outputs}[taxonomies]\ntier = \"tiers\"\nlabel = \"labels\"\nyear = \"years\"\nartist = \"artists\"\ncountry = \"countries\"\n"
        ),
    )?;
    let base = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{{ .Title }} · {{ site.Title }}</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body><header><nav><a href=\"/tiers/\">Tiers</a> <a href=\"/years/\">Years</a> <a href=\"/labels/\">Labels</a> <a href=\"/artists/\">Artists</a> <a href=\"/countries/\">Countries</a></nav></header><main>{{ block \"main\" . }}{{ end }}</main></body></html>\n";
    fs::write(out.join("layouts/_default/baseof.html"), base)?;
    fs::write(
        out.join("layouts/_default/single.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1><p>by {{ range .Params.artists }}<a href=\"{{ (printf \"/artists/%s/\" (urlize .)) }}\">{{ . }}</a> {{ end }}</p><p>Label: <a href=\"/labels/{{ index .Params.labels 0 }}/\">{{ .Params.label_name }}</a> · {{ .Params.format }}</p><ol>{{ range .Params.awards }}<li>{{ .tier }} · {{ .date }} · {{ .units }} units<table><tr><th>Country</th><th>Units</th></tr>{{ range .shipments }}<tr><td>{{ .c }}</td><td>{{ .u }}</td></tr>{{ end }}</table></li>{{ end }}</ol>{{ end }}\n",
    )?;
    let list = "{{ define \"main\" }}<h1>{{ .Title }}</h1><table><tr><th>Release</th><th>Artist</th></tr>{{ range .Pages }}<tr><td><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></td><td>{{ delimit .Params.artists \", \" }}</td></tr>{{ end }}</table>{{ end }}\n";
    fs::write(out.join("layouts/_default/list.html"), list)?;
    fs::write(
        out.join("layouts/_default/terms.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1><ul>{{ range .Data.Terms.Alphabetical }}<li><a href=\"{{ .Page.RelPermalink }}\">{{ .Page.Title }}</a> {{ .Count }}</li>{{ end }}</ul>{{ end }}\n",
    )?;
    fs::write(
        out.join("layouts/index.html"),
        "{{ define \"main\" }}<h1>{{ site.Title }}</h1><ul>{{ range first 12 (where site.RegularPages \"Section\" \"releases\") }}<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n",
    )?;
    if rows {
        for (path, text) in HUGO_ROWS_LAYOUTS {
            fs::write(out.join("layouts").join(path), text)?;
        }
    }
    for r in releases {
        let mut s = String::from("---\n");
        let _ = writeln!(s, "title: {}", quoted(&r.title));
        let _ = writeln!(s, "slug: {}", r.slug);
        let _ = writeln!(
            s,
            "artists: [{}]",
            r.artists
                .iter()
                .map(|a| quoted(a))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(s, "labels: [{}]", quoted(&labels[r.label].0));
        let _ = writeln!(s, "label_name: {}", quoted(&labels[r.label].1));
        let _ = writeln!(s, "format: {}", r.format);
        let tiers: Vec<&str> = r.awards.iter().map(|a| TIERS[a.rank].0).collect();
        let _ = writeln!(s, "tiers: [{}]", tiers.join(", "));
        let mut years: Vec<String> = r
            .awards
            .iter()
            .map(|a| format!("\"{}\"", a.date.year()))
            .collect();
        years.dedup();
        let _ = writeln!(s, "years: [{}]", years.join(", "));
        let mut cs: Vec<String> = r
            .awards
            .iter()
            .flat_map(|a| a.shipments.iter().map(|(c, _)| format!("\"{c}\"")))
            .collect();
        cs.sort_unstable();
        cs.dedup();
        let _ = writeln!(s, "countries: [{}]", cs.join(", "));
        if rows {
            // What a country page shows of the release, looked up by the
            // page's code: the units of the last award that shipped there.
            let mut last = std::collections::BTreeMap::new();
            for a in &r.awards {
                for (c, u) in &a.shipments {
                    last.insert(c.to_ascii_lowercase(), (*u, a.rank));
                }
            }
            s.push_str("in_country:\n");
            for (c, (u, rank)) in last {
                let _ = writeln!(
                    s,
                    "  \"{c}\": {{v: {u}, u: \"{}\", tier: \"{}\"}}",
                    fmt_units(u),
                    tier_display(TIERS[rank].0)
                );
            }
        }
        s.push_str("awards:\n");
        for a in &r.awards {
            let total: u64 = a.shipments.iter().map(|(_, u)| u).sum();
            let _ = writeln!(
                s,
                "  - tier: {}\n    date: \"{}\"\n    units: \"{}\"",
                TIERS[a.rank].0,
                a.date,
                fmt_units(total)
            );
            if rows {
                let cs: Vec<&str> = a.shipments.iter().map(|(c, _)| *c).collect();
                let _ = writeln!(
                    s,
                    "    tier_name: {}\n    countries: \"{}\"",
                    tier_display(TIERS[a.rank].0),
                    cs.join(", ")
                );
            }
            s.push_str("    shipments:\n");
            for (c, u) in &a.shipments {
                let _ = write!(s, "      - {{c: \"{c}\", u: \"{}\"", fmt_units(*u));
                if rows {
                    let _ = write!(s, ", v: {u}");
                }
                s.push_str("}\n");
            }
        }
        s.push_str("---\n");
        fs::write(
            out.join("content/releases").join(format!("{}.md", r.slug)),
            s,
        )?;
    }
    Ok(())
}
