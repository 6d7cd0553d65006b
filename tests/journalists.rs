//! What journalists use besides the pages: the open data (CSV, JSON and its
//! schema), the Atom feeds, the sitemap and robots.txt, the citation and
//! sharing metadata of release, label and artist pages, and the `/awards/`
//! table. Each test builds a copy of the fixture site and reads the output.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Site;
use common::browser::{Server, browser_or_skip, run_node};
use serde_json::Value;

const BASE: &str = "https://awards.example.org/";
/// Awards in the fixture, newest first: (id, date).
const FIXTURE_AWARDS: [(&str, &str); 10] = [
    (
        "various-artists-nachtfahrt-nordlicht-2014-2024/1",
        "2025-01-15",
    ),
    ("nordlys-kollektiv-morketid/2", "2021-06-02"),
    ("zoe-brandt-uberall/1", "2021-03"),
    ("jaakide-hamara/1", "2020-02"),
    ("nordlys-kollektiv-morketid/1", "2019-03-14"),
    ("solveig-ran-ljos-i-myrkri/2", "2017-02-10"),
    ("solveig-ran-ljos-i-myrkri/1", "2015-09"),
    ("ecume-noire-les-heures-pales/2", "2012-11-20"),
    ("ecume-noire-les-heures-pales/1", "2010"),
    ("olafur-thorsson-vetrarljod/1", "2009-06"),
];

/// A release whose every text field is hostile to CSV, XML, HTML and JSON-LD.
const HOSTILE: &str = "content/releases/hostile/hostile-release.toml";
const HOSTILE_TOML: &str = r#"title = "=HYPERLINK(\"http://evil.example\",\"x\") </script><!--"
artists = ["+Plus, \"Quoted\"", "@At & <Co>"]
credit = "-Minus\nTwo lines"
label = "polar-sound"
format = "single"
released = 2019-01-01

[[awards]]
tier = "silver"
date = "2019-05"
units = 20_000
source = "https://example.org/?a=1&b=<2>"
"#;

/// A built copy of the fixture site.
struct Built {
    /// The source tree, kept alive as long as its output.
    _site: Site,
    out: tempfile::TempDir,
}

impl Built {
    fn new(site: Site) -> Built {
        Built::with_args(site, &[])
    }

    fn with_args(site: Site, extra: &[&str]) -> Built {
        let out = tempfile::tempdir().expect("output folder");
        let dest = out.path().join("public");
        let mut args = vec!["build", "--output", dest.to_str().expect("UTF-8 path")];
        args.extend_from_slice(extra);
        let run = site.run(&args);
        assert!(
            run.status.success(),
            "build failed:\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        Built { _site: site, out }
    }

    fn dir(&self) -> PathBuf {
        self.out.path().join("public")
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn json(&self, rel: &str) -> Value {
        serde_json::from_str(&self.read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
    }

    /// Every file of the output, '/'-separated and relative.
    fn files(&self) -> Vec<String> {
        let root = self.dir();
        let mut out: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| rel(&root, e.path()))
            .filter(|p| !p.starts_with('.'))
            .collect();
        out.sort();
        out
    }
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .expect("inside the output")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn fixture() -> Built {
    Built::new(Site::valid())
}

fn hostile() -> Built {
    let site = Site::valid();
    site.write(HOSTILE, HOSTILE_TOML);
    Built::new(site)
}

// ------------------------------------------------------------------------ CSV

/// A strict RFC 4180 reader: records end in CRLF; quoted fields may hold
/// commas, quotes (doubled) and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            '"' => panic!("bare quote inside an unquoted field: {field:?}"),
            ',' => {
                row.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR not followed by LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            '\n' => panic!("bare LF outside quotes after {field:?}"),
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(row.is_empty() && field.is_empty(), "last record lacks CRLF");
    rows
}

const COLUMNS: [&str; 18] = [
    "id",
    "release_slug",
    "title",
    "artists",
    "credit",
    "label_slug",
    "label",
    "label_country",
    "format",
    "tier",
    "tier_name",
    "date",
    "year",
    "units",
    "shipments",
    "scale",
    "source",
    "url",
];

/// The CSV as maps from column to cell, checking its shape on the way.
fn csv_records(b: &Built) -> Vec<BTreeMap<String, String>> {
    let rows = parse_csv(&b.read("data/awards.csv"));
    assert_eq!(rows[0], COLUMNS, "header");
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), COLUMNS.len(), "{r:?}");
            COLUMNS
                .iter()
                .map(|c| c.to_string())
                .zip(r.iter().cloned())
                .collect()
        })
        .collect()
}

#[test]
fn csv_has_one_row_per_award_with_every_column() {
    let b = fixture();
    let recs = csv_records(&b);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str()).collect();
    let want: Vec<&str> = FIXTURE_AWARDS.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, want, "one row per award, newest first");
    for (r, (_, date)) in recs.iter().zip(FIXTURE_AWARDS) {
        assert_eq!(r["date"], date, "{r:?}");
        assert_eq!(r["year"], &date[..4]);
        assert_eq!(
            r["url"],
            format!("{BASE}releases/{}/", r["release_slug"]),
            "{r:?}"
        );
        assert!(r["id"].starts_with(&format!("{}/", r["release_slug"])));
        assert_ne!(r["units"], "0", "unpublished units are never 0: {r:?}");
    }
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> =
        recs.iter().map(|r| (r["id"].as_str(), r)).collect();

    let m = by_id["nordlys-kollektiv-morketid/2"];
    assert_eq!(m["title"], "Mørketid");
    assert_eq!(m["artists"], "Nordlys Kollektiv; Ada Vik");
    assert_eq!(m["credit"], "Nordlys Kollektiv with Ada Vik");
    assert_eq!(m["label_slug"], "polar-sound");
    assert_eq!(m["label"], "Polar Sound");
    assert_eq!(m["label_country"], "NO");
    assert_eq!(m["format"], "album");
    assert_eq!(m["tier"], "double-silver");
    assert_eq!(m["tier_name"], "Impala Double Silver");
    // Units from the sum of the shipments.
    assert_eq!(m["units"], "41200");
    assert_eq!(m["shipments"], "DE=5500;DK=6400;FI=3500;NO=14800;SE=11000");
    assert_eq!(m["scale"], "current");
    assert_eq!(
        m["source"],
        "https://polarsound.example/news/morketid-double-silver"
    );

    // Figures never published: empty, not 0.
    let v = by_id["olafur-thorsson-vetrarljod/1"];
    assert_eq!(v["units"], "");
    assert_eq!(v["shipments"], "");
    assert_eq!(v["scale"], "launch");
    // Units without shipments; no source.
    assert_eq!(by_id["zoe-brandt-uberall/1"]["shipments"], "");
    assert_eq!(
        by_id["various-artists-nachtfahrt-nordlicht-2014-2024/1"]["source"],
        ""
    );
    // The scale an award names overrides the one of its date.
    assert_eq!(by_id["ecume-noire-les-heures-pales/2"]["scale"], "current");
    // A title with a comma-free colon stays unquoted; a comma would be quoted.
    assert_eq!(
        by_id["various-artists-nachtfahrt-nordlicht-2014-2024/1"]["title"],
        "Nachtfahrt: Nordlicht 2014–2024"
    );
}

#[test]
fn csv_quotes_and_defuses_hostile_text() {
    let b = hostile();
    let raw = b.read("data/awards.csv");
    let recs = csv_records(&b);
    assert_eq!(recs.len(), 11);
    let h = recs
        .iter()
        .find(|r| r["id"] == "hostile-release/1")
        .expect("the hostile record is in the CSV");
    // Each cell starting with = + - @ gets a leading apostrophe, then quoting.
    assert_eq!(
        h["title"],
        "'=HYPERLINK(\"http://evil.example\",\"x\") </script><!--"
    );
    assert_eq!(h["artists"], "'+Plus, \"Quoted\"; @At & <Co>");
    assert_eq!(h["credit"], "'-Minus\nTwo lines");
    assert_eq!(h["source"], "https://example.org/?a=1&b=<2>");
    assert!(
        raw.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\") </script><!--\""),
        "{raw}"
    );
    // No cell anywhere starts a formula.
    for r in &recs {
        for (col, cell) in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{col} = {cell:?}"
            );
        }
    }
}

// ----------------------------------------------------------------------- JSON

fn validator(b: &Built) -> jsonschema::Validator {
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/awards-data.schema.json"),
        )
        .expect("read the committed schema"),
    )
    .expect("the committed schema is JSON");
    assert_eq!(
        b.json("data/awards.schema.json"),
        committed,
        "the site publishes the committed schema"
    );
    jsonschema::meta::validate(&committed).expect("the schema is a valid JSON Schema");
    jsonschema::validator_for(&committed).expect("compile the schema")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} fails its schema: {errors:#?}");
}

#[test]
fn json_validates_and_matches_the_csv() {
    let b = fixture();
    let v = validator(&b);
    let doc = b.json("data/awards.json");
    assert_valid(&v, &doc, "awards.json");
    assert_eq!(doc["licence"], "CC BY 4.0");
    assert_eq!(doc["generated_from"], "IMPALA European Sales Awards");
    assert_eq!(doc["site"], BASE);
    assert_eq!(doc["$schema"], format!("{BASE}data/awards.schema.json"));
    let awards = doc["awards"].as_array().expect("awards array");
    let ids: Vec<&str> = awards.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = FIXTURE_AWARDS.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, want);

    let m = &awards[1];
    assert_eq!(
        m["artists"],
        serde_json::json!(["Nordlys Kollektiv", "Ada Vik"])
    );
    assert_eq!(m["units"], 41200);
    assert_eq!(
        m["shipments"],
        serde_json::json!({"DE": 5500, "DK": 6400, "FI": 3500, "NO": 14800, "SE": 11000})
    );
    let v9 = &awards[9];
    assert_eq!(v9["id"], "olafur-thorsson-vetrarljod/1");
    assert!(v9["units"].is_null(), "unpublished units are null: {v9}");
    assert_eq!(v9["shipments"], serde_json::json!({}));

    // The same values as the CSV, cell by cell.
    let csv = csv_records(&b);
    for (a, r) in awards.iter().zip(&csv) {
        for col in COLUMNS {
            let cell = match &a[col] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Array(xs) => xs
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                Value::Bool(x) => x.to_string(),
            };
            assert_eq!(cell, r[col], "{col} of {}", r["id"]);
        }
    }
}

#[test]
fn each_release_has_its_own_json_linked_from_its_page() {
    let b = fixture();
    let v = validator(&b);
    let all = b.json("data/awards.json");
    let releases: BTreeSet<&str> = FIXTURE_AWARDS
        .iter()
        .map(|(id, _)| id.split('/').next().unwrap())
        .collect();
    assert_eq!(releases.len(), 7);
    for slug in releases {
        let doc = b.json(&format!("releases/{slug}/data.json"));
        assert_valid(&v, &doc, slug);
        assert_eq!(doc["release"], slug);
        assert_eq!(doc["licence"], "CC BY 4.0");
        let awards = doc["awards"].as_array().unwrap();
        let ids: Vec<String> = awards
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect();
        let want: Vec<String> = (1..=awards.len()).map(|n| format!("{slug}/{n}")).collect();
        assert_eq!(ids, want, "the release's awards in order");
        // The same objects as in awards.json.
        for a in awards {
            let same = all["awards"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == a["id"])
                .expect("in awards.json");
            assert_eq!(a, same);
        }
        let html = b.read(&format!("releases/{slug}/index.html"));
        assert!(
            html.contains(&format!("href=\"/releases/{slug}/data.json\"")),
            "{slug} links its JSON"
        );
    }
}

#[test]
fn json_of_hostile_text_still_validates() {
    let b = hostile();
    let v = validator(&b);
    let doc = b.json("data/awards.json");
    assert_valid(&v, &doc, "awards.json");
    let h = doc["awards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "hostile-release/1")
        .expect("hostile record");
    // JSON keeps the text as it is: no spreadsheet guard here.
    assert_eq!(
        h["title"],
        "=HYPERLINK(\"http://evil.example\",\"x\") </script><!--"
    );
    assert_eq!(h["credit"], "-Minus\nTwo lines");
}

// ---------------------------------------------------------------------- feeds

const ATOM: &str = "http://www.w3.org/2005/Atom";

struct Entry {
    id: String,
    title: String,
    updated: String,
    link: String,
}

struct Feed {
    id: String,
    updated: String,
    self_link: String,
    entries: Vec<Entry>,
}

fn child_text(n: roxmltree::Node<'_, '_>, name: &str) -> String {
    n.children()
        .find(|c| c.has_tag_name((ATOM, name)))
        .and_then(|c| c.text())
        .unwrap_or_else(|| panic!("no <{name}> in <{}>", n.tag_name().name()))
        .to_string()
}

fn parse_feed(text: &str) -> Feed {
    let doc = roxmltree::Document::parse(text).expect("the feed is well-formed XML");
    let root = doc.root_element();
    assert!(root.has_tag_name((ATOM, "feed")), "root is atom:feed");
    for required in ["id", "title", "updated"] {
        child_text(root, required);
    }
    assert!(
        root.children().any(|c| c.has_tag_name((ATOM, "author"))),
        "a feed-level author covers every entry"
    );
    let self_link = root
        .children()
        .find(|c| c.has_tag_name((ATOM, "link")) && c.attribute("rel") == Some("self"))
        .and_then(|c| c.attribute("href"))
        .expect("rel=self link")
        .to_string();
    let entries = root
        .children()
        .filter(|c| c.has_tag_name((ATOM, "entry")))
        .map(|e| Entry {
            id: child_text(e, "id"),
            title: child_text(e, "title"),
            updated: child_text(e, "updated"),
            link: e
                .children()
                .find(|c| c.has_tag_name((ATOM, "link")))
                .and_then(|c| c.attribute("href"))
                .expect("entry link")
                .to_string(),
        })
        .collect();
    Feed {
        id: child_text(root, "id"),
        updated: child_text(root, "updated"),
        self_link,
        entries,
    }
}

/// RFC 3339 time of a fixture date: partial dates stand for their first day.
fn time_of(date: &str) -> String {
    match date.len() {
        4 => format!("{date}-01-01T00:00:00Z"),
        7 => format!("{date}-01T00:00:00Z"),
        _ => format!("{date}T00:00:00Z"),
    }
}

fn entry_id(award_id: &str) -> String {
    let (slug, n) = award_id.split_once('/').unwrap();
    format!("{BASE}releases/{slug}/#award-{n}")
}

#[test]
fn site_feed_lists_the_awards_newest_first() {
    let b = fixture();
    let f = parse_feed(&b.read("feed.xml"));
    assert_eq!(f.id, format!("{BASE}feed.xml"));
    assert_eq!(f.self_link, format!("{BASE}feed.xml"));
    let got: Vec<(&str, &str)> = f
        .entries
        .iter()
        .map(|e| (e.id.as_str(), e.updated.as_str()))
        .collect();
    let want: Vec<(String, String)> = FIXTURE_AWARDS
        .iter()
        .map(|(id, date)| (entry_id(id), time_of(date)))
        .collect();
    let want: Vec<(&str, &str)> = want.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(got, want);
    // The feed is as new as its newest entry, never the build's clock.
    assert_eq!(f.updated, "2025-01-15T00:00:00Z");
    for e in &f.entries {
        assert_eq!(
            e.link, e.id,
            "the entry id is the award's anchor on its page"
        );
    }
    assert_eq!(
        f.entries[1].title,
        "Impala Double Silver: Mørketid by Nordlys Kollektiv with Ada Vik"
    );
    // The anchors the ids point at exist.
    let page = b.read("releases/nordlys-kollektiv-morketid/index.html");
    assert!(page.contains("id=\"award-1\"") && page.contains("id=\"award-2\""));
    // Two builds give the same bytes.
    let again = fixture();
    assert_eq!(b.read("feed.xml"), again.read("feed.xml"));
}

#[test]
fn label_and_tier_feeds_hold_their_own_awards() {
    let b = fixture();
    // A label's feed folds in its imprints' awards, like its page.
    let aurora = parse_feed(&b.read("labels/aurora-music-group/feed.xml"));
    let ids: Vec<&str> = aurora.entries.iter().map(|e| e.id.as_str()).collect();
    let want: Vec<String> = [
        "nordlys-kollektiv-morketid/2",
        "zoe-brandt-uberall/1",
        "nordlys-kollektiv-morketid/1",
        "solveig-ran-ljos-i-myrkri/2",
        "solveig-ran-ljos-i-myrkri/1",
        "olafur-thorsson-vetrarljod/1",
    ]
    .iter()
    .map(|id| entry_id(id))
    .collect();
    assert_eq!(ids, want);
    assert_eq!(aurora.updated, "2021-06-02T00:00:00Z");
    assert_eq!(
        aurora.self_link,
        format!("{BASE}labels/aurora-music-group/feed.xml")
    );

    let eclat = parse_feed(&b.read("labels/disques-eclat/feed.xml"));
    assert_eq!(eclat.entries.len(), 2);
    assert_eq!(eclat.updated, "2012-11-20T00:00:00Z");

    let gold = parse_feed(&b.read("tiers/gold/feed.xml"));
    let ids: Vec<&str> = gold.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            entry_id("solveig-ran-ljos-i-myrkri/2"),
            entry_id("ecume-noire-les-heures-pales/2")
        ]
    );
    assert_eq!(gold.updated, "2017-02-10T00:00:00Z");
    // A tier without awards has a valid, empty feed dated by the newest award.
    let diamond = parse_feed(&b.read("tiers/diamond/feed.xml"));
    assert!(diamond.entries.is_empty());
    assert_eq!(diamond.updated, "2025-01-15T00:00:00Z");
    // Every tier and label has one.
    for t in [
        "silver",
        "double-silver",
        "triple-silver",
        "gold",
        "double-gold",
        "diamond",
        "platinum",
        "double-platinum",
    ] {
        parse_feed(&b.read(&format!("tiers/{t}/feed.xml")));
    }
}

#[test]
fn pages_announce_their_feeds() {
    let b = fixture();
    let site_feed = "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"IMPALA European Sales Awards: latest awards\" href=\"/feed.xml\">";
    for page in [
        "index.html",
        "awards/index.html",
        "releases/jaakide-hamara/index.html",
    ] {
        assert!(b.read(page).contains(site_feed), "{page}");
    }
    let label = b.read("labels/polar-sound/index.html");
    assert!(label.contains(site_feed));
    assert!(label.contains(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Polar Sound: latest awards\" href=\"/labels/polar-sound/feed.xml\">"
    ));
    let tier = b.read("tiers/gold/index.html");
    assert!(tier.contains(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Impala Gold: latest awards\" href=\"/tiers/gold/feed.xml\">"
    ));
}

#[test]
fn feeds_escape_hostile_text_and_keep_only_the_latest_50() {
    let site = Site::valid();
    site.write(HOSTILE, HOSTILE_TOML);
    // 55 more awards, one a day from 2022-01-01, all newer than the fixture's
    // 2021 awards and older than its 2025 one.
    for i in 0..55 {
        site.write(
            &format!("content/releases/bulk/bulk-release-{i}.toml"),
            format!(
                "title = \"Release {i}\"\nartists = [\"Bulk\"]\nlabel = \"disques-eclat\"\n\
                 format = \"album\"\n\n[[awards]]\ntier = \"silver\"\ndate = 2022-{:02}-{:02}\n\
                 units = 20_000\n",
                1 + i / 28,
                1 + i % 28
            ),
        );
    }
    let b = Built::new(site);
    let f = parse_feed(&b.read("feed.xml"));
    assert_eq!(f.entries.len(), 50);
    assert_eq!(
        f.entries[0].id,
        entry_id("various-artists-nachtfahrt-nordlicht-2014-2024/1")
    );
    assert_eq!(f.entries[1].id, entry_id("bulk-release-54/1"));
    assert_eq!(f.entries[49].id, entry_id("bulk-release-6/1"));
    let mut last = String::from("9999");
    for e in &f.entries {
        assert!(e.updated <= last, "newest first");
        last = e.updated.clone();
    }
    // The label's feed is capped too; the hostile title survives escaping.
    let eclat = parse_feed(&b.read("labels/disques-eclat/feed.xml"));
    assert_eq!(eclat.entries.len(), 50);
    let polar = parse_feed(&b.read("labels/polar-sound/feed.xml"));
    let h = polar
        .entries
        .iter()
        .find(|e| e.id == entry_id("hostile-release/1"))
        .expect("hostile entry");
    assert_eq!(
        h.title,
        "Impala Silver: =HYPERLINK(\"http://evil.example\",\"x\") </script><!-- by -Minus\nTwo lines"
    );
}

// -------------------------------------------------------- sitemap and robots

fn is_redirect(html: &str) -> bool {
    html.contains("<meta name=\"robots\" content=\"noindex")
}

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

fn sitemap_locs(text: &str, root: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(text).expect("well-formed sitemap");
    assert!(doc.root_element().has_tag_name((SITEMAP_NS, root)));
    doc.descendants()
        .filter(|n| n.has_tag_name((SITEMAP_NS, "loc")))
        .map(|n| n.text().expect("loc text").to_string())
        .collect()
}

#[test]
fn sitemap_lists_every_page_and_robots_names_it() {
    let b = fixture();
    let locs = sitemap_locs(&b.read("sitemap.xml"), "urlset");
    let pages: Vec<String> = b
        .files()
        .into_iter()
        .filter(|p| p == "index.html" || p.ends_with("/index.html"))
        // Redirects from former slugs ask not to be indexed.
        .filter(|p| !is_redirect(&b.read(p)))
        .map(|p| format!("{BASE}{}", p.trim_end_matches("index.html")))
        .collect();
    assert!(pages.len() > 50, "{pages:?}");
    let got: BTreeSet<&String> = locs.iter().collect();
    let want: BTreeSet<&String> = pages.iter().collect();
    assert_eq!(got, want);
    assert_eq!(locs.len(), got.len(), "no URL twice");
    for must in [
        BASE.to_string(),
        format!("{BASE}awards/"),
        format!("{BASE}releases/jaakide-hamara/"),
        format!("{BASE}labels/polar-sound/"),
    ] {
        assert!(got.contains(&must), "{must}");
    }
    assert!(!locs.iter().any(|l| l.ends_with("404.html")));
    assert!(
        b.files()
            .iter()
            .any(|p| p.ends_with("/index.html") && is_redirect(&b.read(p))),
        "the fixture's alias makes a redirect page, which the sitemap leaves out"
    );
    assert_eq!(
        b.read("robots.txt"),
        format!("User-agent: *\nAllow: /\n\nSitemap: {BASE}sitemap.xml\n")
    );
}

#[test]
fn sitemap_and_robots_follow_the_base_url() {
    let b = Built::with_args(
        Site::valid(),
        &["--base-url", "https://mirror.example.net/awards"],
    );
    let locs = sitemap_locs(&b.read("sitemap.xml"), "urlset");
    assert!(
        locs.iter()
            .all(|l| l.starts_with("https://mirror.example.net/awards/"))
    );
    assert!(locs.contains(&"https://mirror.example.net/awards/".to_string()));
    assert!(
        b.read("robots.txt")
            .contains("Sitemap: https://mirror.example.net/awards/sitemap.xml\n")
    );
}

// ----------------------------------------------------- citation and sharing

fn json_ld(html: &str) -> Value {
    let open = "<script type=\"application/ld+json\">";
    let start = html.find(open).expect("a JSON-LD script") + open.len();
    let len = html[start..].find("</script>").expect("closed script");
    let text = &html[start..start + len];
    assert!(
        !text.contains('<') && !text.contains('>') && !text.contains('&'),
        "JSON-LD escapes markup characters: {text}"
    );
    serde_json::from_str(text).unwrap_or_else(|e| panic!("JSON-LD is JSON: {e}\n{text}"))
}

fn meta(html: &str, attr: &str, key: &str) -> String {
    let open = format!("<meta {attr}=\"{key}\" content=\"");
    let start = html.find(&open).unwrap_or_else(|| panic!("no {key} meta")) + open.len();
    let len = html[start..].find('"').expect("closed content");
    html[start..start + len].to_string()
}

fn types(v: &Value) -> Vec<String> {
    match &v["@type"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(xs) => xs.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
        other => panic!("bad @type {other}"),
    }
}

#[test]
fn release_pages_can_be_cited_and_shared() {
    let b = fixture();
    let html = b.read("releases/nordlys-kollektiv-morketid/index.html");
    let url = format!("{BASE}releases/nordlys-kollektiv-morketid/");
    assert!(html.contains("<h2 id=\"cite-title\">Cite this</h2>"));
    assert!(html.contains(&format!(
        "IMPALA European Sales Awards. &quot;Mørketid&quot; by Nordlys Kollektiv with Ada Vik (Polar Sound): Impala Double Silver, 2021. {url} (accessed [date])."
    )), "{html}");
    assert!(html.contains(&format!("<link rel=\"canonical\" href=\"{url}\">")));
    assert_eq!(meta(&html, "property", "og:url"), url);
    assert_eq!(meta(&html, "property", "og:type"), "music.album");
    assert_eq!(
        meta(&html, "property", "og:title"),
        "Mørketid by Nordlys Kollektiv with Ada Vik"
    );
    assert_eq!(
        meta(&html, "property", "og:site_name"),
        "IMPALA European Sales Awards"
    );
    assert!(!meta(&html, "property", "og:description").is_empty());
    assert_eq!(meta(&html, "name", "twitter:card"), "summary");

    let ld = json_ld(&html);
    assert_eq!(ld["@context"], "https://schema.org");
    assert!(types(&ld).contains(&"MusicAlbum".to_string()));
    assert_eq!(ld["name"], "Mørketid");
    assert_eq!(ld["url"], url);
    let artists: Vec<&str> = ld["byArtist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(artists, ["Nordlys Kollektiv", "Ada Vik"]);
    assert_eq!(ld["recordLabel"]["name"], "Polar Sound");
    assert_eq!(
        ld["recordLabel"]["url"],
        format!("{BASE}labels/polar-sound/")
    );
    assert_eq!(
        ld["award"],
        serde_json::json!([
            "Impala Silver (14 March 2019)",
            "Impala Double Silver (2 June 2021)"
        ])
    );

    // A single is a recording.
    let single = b.read("releases/jaakide-hamara/index.html");
    assert!(types(&json_ld(&single)).contains(&"MusicRecording".to_string()));
    assert_eq!(meta(&single, "property", "og:type"), "music.song");
    // A release whose only award has no figures is still cited by its tier and year.
    let v = b.read("releases/olafur-thorsson-vetrarljod/index.html");
    assert!(v.contains(
        "&quot;Vetrarljóð&quot; by Ólafur Þórsson (Aurora Music Group): Impala Silver, 2009."
    ));
}

#[test]
fn label_and_artist_pages_can_be_cited_and_shared() {
    let b = fixture();
    let label = b.read("labels/aurora-music-group/index.html");
    assert!(label.contains("Cite this"));
    assert!(label.contains(&format!(
        "IMPALA European Sales Awards. &quot;Aurora Music Group&quot; (label, Norway): 6 awards, 2009–2021. {BASE}labels/aurora-music-group/ (accessed [date])."
    )));
    let ld = json_ld(&label);
    assert_eq!(types(&ld), ["Organization"]);
    assert_eq!(ld["name"], "Aurora Music Group");
    assert_eq!(ld["address"]["addressCountry"], "NO");
    assert_eq!(ld["subOrganization"][0]["name"], "Polar Sound");
    assert_eq!(ld["award"].as_array().unwrap().len(), 6);
    assert_eq!(
        meta(&label, "property", "og:url"),
        format!("{BASE}labels/aurora-music-group/")
    );

    let polar = json_ld(&b.read("labels/polar-sound/index.html"));
    assert_eq!(polar["parentOrganization"]["name"], "Aurora Music Group");
    assert_eq!(
        polar["alternateName"],
        serde_json::json!(["Polar Sound Records", "Polarsound"])
    );

    let artist = b.read("artists/nordlys-kollektiv/index.html");
    assert!(artist.contains(&format!(
        "IMPALA European Sales Awards. &quot;Nordlys Kollektiv&quot; (artist): 2 awards, 2019–2021. {BASE}artists/nordlys-kollektiv/ (accessed [date])."
    )));
    let ld = json_ld(&artist);
    assert_eq!(types(&ld), ["MusicGroup"]);
    assert_eq!(ld["name"], "Nordlys Kollektiv");
    assert_eq!(ld["album"][0]["name"], "Mørketid");
    assert_eq!(
        ld["award"][1],
        "Impala Silver for “Mørketid” by Nordlys Kollektiv with Ada Vik (14 March 2019)"
    );
    assert_eq!(meta(&artist, "name", "twitter:card"), "summary");

    // Every release, label and artist page has the block and parseable JSON-LD.
    for p in b.files() {
        let kind = p.split('/').next().unwrap_or("");
        if ["releases", "labels", "artists"].contains(&kind)
            && p.ends_with("/index.html")
            && p.matches('/').count() == 2
        {
            let html = b.read(&p);
            if is_redirect(&html) {
                continue;
            }
            assert!(html.contains("<h2 id=\"cite-title\">Cite this</h2>"), "{p}");
            json_ld(&html);
            meta(&html, "property", "og:title");
        }
    }
}

#[test]
fn json_ld_cannot_be_broken_out_of() {
    let b = hostile();
    let html = b.read("releases/hostile-release/index.html");
    // The only closing tag is the script's own.
    let start = html.find("<script type=\"application/ld+json\">").unwrap();
    let end = start + html[start..].find("</script>").unwrap();
    assert!(!html[start..end].contains("</script"));
    let ld = json_ld(&html);
    assert_eq!(
        ld["name"],
        "=HYPERLINK(\"http://evil.example\",\"x\") </script><!--"
    );
    assert_eq!(ld["byArtist"][1]["name"], "@At & <Co>");
    // The meta tags are escaped by the template.
    assert!(html.contains("<meta property=\"og:title\" content=\"=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;) &lt;/script&gt;&lt;!--"));
}

// ------------------------------------------------------------- /awards/ table

#[test]
fn awards_table_lists_every_award_without_javascript() {
    let b = fixture();
    let html = b.read("awards/index.html");
    let rows: Vec<&str> = html
        .split("<tr id=\"award-")
        .skip(1)
        .map(|r| r.split("</tr>").next().unwrap())
        .collect();
    assert_eq!(rows.len(), FIXTURE_AWARDS.len());
    for (row, (id, date)) in rows.iter().zip(FIXTURE_AWARDS) {
        let (slug, n) = id.split_once('/').unwrap();
        assert!(row.starts_with(&format!("{slug}-{n}\"")), "{row}");
        assert!(
            row.contains(&format!("href=\"/releases/{slug}/\"")),
            "{row}"
        );
        assert!(row.contains(&format!("datetime=\"{date}\"")), "{row}");
        assert!(
            row.contains(&format!("data-year=\"{}\"", &date[..4])),
            "{row}"
        );
    }
    let m = rows[1];
    for want in [
        ">Mørketid</a>",
        ">Nordlys Kollektiv</a>, <a href=\"/artists/ada-vik/\">Ada Vik</a>",
        ">Polar Sound</a>",
        "Impala Double Silver",
        "41,200",
        "2 June 2021",
        "<abbr title=\"Norway\">NO</abbr>",
        "data-tier=\"double-silver\"",
        "data-label=\"polar-sound\"",
        "data-countries=\"DE DK FI NO SE\"",
    ] {
        assert!(m.contains(want), "{want} in {m}");
    }
    assert!(rows[9].contains("not published"));
    // Filters offer what the rows hold; the form only shows with the script.
    assert!(html.contains("<form class=\"table-filters\" id=\"awards-filters\" hidden"));
    for opt in [
        "<option value=\"double-silver\">Impala Double Silver</option>",
        "<option value=\"2009\">2009</option>",
        "<option value=\"disques-eclat\">Disques Éclat</option>",
        "<option value=\"IS\">Iceland (IS)</option>",
    ] {
        assert!(html.contains(opt), "{opt}");
    }
    // Tiers without awards are not offered.
    assert!(!html.contains("<option value=\"diamond\">"));
    assert!(html.contains("<script src=\"/assets/awards.js\" defer></script>"));
    // The script is served and makes no request of its own.
    let js = b.read("assets/awards.js");
    for banned in ["fetch(", "XMLHttpRequest", "import(", "http://", "https://"] {
        assert!(!js.contains(banned), "{banned}");
    }
    assert!(js.contains("aria-sort") && js.contains("replaceState"));
    // Every page links the table from the navigation.
    for p in [
        "index.html",
        "labels/index.html",
        "releases/jaakide-hamara/index.html",
    ] {
        assert!(b.read(p).contains("<a href=\"/awards/\""), "{p}");
    }
    assert!(html.contains("<a href=\"/awards/\" aria-current=\"page\">"));
}

// ------------------------------------------- /awards/ in a real browser

#[derive(serde::Deserialize, Debug)]
struct TableRun {
    steps: Vec<TableStep>,
    requests: Vec<String>,
    errors: Vec<String>,
}

#[derive(serde::Deserialize, Debug)]
struct TableStep {
    name: String,
    search: String,
    status: String,
    visible: Vec<String>,
    sort: Option<(String, String)>,
    selects: BTreeMap<String, String>,
}

fn row_ids(ids: &[&str]) -> Vec<String> {
    ids.iter()
        .map(|id| format!("award-{}", id.replace('/', "-")))
        .collect()
}

#[test]
fn awards_table_sorts_filters_and_shares_its_state_in_a_browser() {
    let Some(browser) =
        browser_or_skip("awards_table_sorts_filters_and_shares_its_state_in_a_browser")
    else {
        return;
    };
    let b = fixture();
    let server = Server::start(b.dir());
    let stdout = run_node(
        "awards.mjs",
        &[&server.base],
        &browser,
        Duration::from_secs(120),
    );
    let run: TableRun =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(run.errors.is_empty(), "page errors: {:?}", run.errors);
    for r in &run.requests {
        assert!(r.starts_with(&server.base), "external request: {r}");
    }
    let step = |name: &str| -> &TableStep {
        run.steps
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step {name}: {run:?}"))
    };
    let sort = |s: &TableStep| s.sort.clone().map(|(k, o)| format!("{k} {o}"));

    // A shared URL restores filters and sort: Silver awards shipped to Germany, fewest units first.
    let s = step("shared url");
    assert_eq!(s.selects["tier"], "silver");
    assert_eq!(s.selects["country"], "DE");
    assert_eq!(sort(s).as_deref(), Some("units ascending"));
    assert_eq!(s.status, "Showing 4 of 10 awards.");
    let silver_de = [
        "jaakide-hamara/1",
        "various-artists-nachtfahrt-nordlicht-2014-2024/1",
        "solveig-ran-ljos-i-myrkri/1",
        "nordlys-kollektiv-morketid/1",
    ];
    assert_eq!(s.visible, row_ids(&silver_de));

    // Clicking the sorted column's button reverses it, and the URL follows.
    let s = step("units clicked");
    assert_eq!(s.search, "?tier=silver&country=DE&sort=units&order=desc");
    let mut reversed = silver_de;
    reversed.reverse();
    assert_eq!(s.visible, row_ids(&reversed));

    let s = step("year 2021");
    assert_eq!(s.search, "?year=2021&country=DE&sort=units&order=desc");
    assert_eq!(s.visible, row_ids(&["nordlys-kollektiv-morketid/2"]));
    assert_eq!(s.status, "Showing 1 of 10 awards.");

    // Reset clears the filters but keeps the sort; unpublished units sort last.
    let s = step("reset");
    assert_eq!(s.search, "?sort=units&order=desc");
    assert_eq!(s.visible.len(), 10);
    assert_eq!(s.visible[0], "award-solveig-ran-ljos-i-myrkri-2");
    assert_eq!(s.visible[9], "award-olafur-thorsson-vetrarljod-1");
    assert!(s.selects.values().all(String::is_empty));

    // Sort buttons work from the keyboard; titles sort ignoring diacritics.
    let s = step("release by keyboard");
    assert_eq!(sort(s).as_deref(), Some("release ascending"));
    assert_eq!(s.search, "?sort=release&order=asc");
    assert_eq!(s.visible[0], "award-jaakide-hamara-1");
    assert_eq!(s.visible[8], "award-zoe-brandt-uberall-1");
    assert_eq!(s.visible[9], "award-olafur-thorsson-vetrarljod-1");

    // Back to the default order (date, newest first): the URL is clean again.
    let s = step("date clicked");
    assert_eq!(s.search, "");
    assert_eq!(sort(s).as_deref(), Some("date descending"));
    let all: Vec<&str> = FIXTURE_AWARDS.iter().map(|(id, _)| *id).collect();
    assert_eq!(s.visible, row_ids(&all));

    let s = step("label");
    assert_eq!(s.search, "?label=disques-eclat");
    assert_eq!(
        s.visible,
        row_ids(&[
            "ecume-noire-les-heures-pales/2",
            "ecume-noire-les-heures-pales/1"
        ])
    );
}
