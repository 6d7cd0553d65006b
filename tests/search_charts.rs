//! Search and charts: the build writes the Pagefind bundle and the search page,
//! draws the charts with their titles, descriptions and matching tables, and a
//! real browser finds releases by names typed without their diacritics.

mod common;
mod html;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Site;
use common::browser::{Server, browser_or_skip, run_node};

/// Builds `site` into `<site>/public` and returns that folder.
fn build(site: &Site) -> PathBuf {
    let out = site.root().join("public");
    html::build(site.root(), &out, &[]).ok();
    out
}

fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// The valid fixture plus releases whose names hold letters that do not decompose
/// (Ø, Æ, ß) and ones that do (ó, á).
fn site_with_hard_names() -> Site {
    let site = Site::valid();
    site.write(
        "content/releases/mo/mo-aether-strasse.toml",
        r#"title = "Æther Straße"
artists = ["MØ"]
label = "polar-sound"
format = "single"
released = "2022"

[[awards]]
tier = "silver"
date = 2023-05-04
units = 21_000
"#,
    );
    site.write(
        "content/releases/sigur-ros/sigur-ros-agaetis-byrjun.toml",
        r#"title = "Ágætis byrjun"
artists = ["Sigur Rós"]
label = "aurora-music-group"
format = "album"
released = "1999"

[[awards]]
tier = "gold"
date = "2014-06"
units = 80_000
"#,
    );
    site
}

/// Every file below `dir`, by '/'-separated relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir) {
        let e = e.expect("walk output");
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read(e.path()).expect("read output file"));
        }
    }
    out
}

#[test]
fn build_writes_the_pagefind_bundle_without_ui_bundles() {
    let site = Site::valid();
    let out = build(&site);
    let files = tree(&out);
    let bundle: Vec<&String> = files
        .keys()
        .filter(|p| p.starts_with("pagefind/"))
        .collect();
    for needed in [
        "pagefind/pagefind.js",
        "pagefind/pagefind-worker.js",
        "pagefind/pagefind-entry.json",
        "pagefind/wasm.unknown.pagefind",
    ] {
        assert!(files.contains_key(needed), "{needed} missing: {bundle:?}");
    }
    for ext in [".pf_meta", ".pf_fragment", ".pf_index", ".pf_filter"] {
        assert!(
            bundle.iter().any(|p| p.ends_with(ext)),
            "no {ext} file: {bundle:?}"
        );
    }
    // The search page has its own UI: Pagefind's bundles are not shipped.
    assert!(
        !bundle
            .iter()
            .any(|p| p.contains("-ui.") || p.contains("playground")),
        "{bundle:?}"
    );
    // One record per release, label and artist: 7 + 4 + 8.
    let entry: serde_json::Value =
        serde_json::from_slice(&files["pagefind/pagefind-entry.json"]).expect("entry JSON");
    assert_eq!(entry["languages"]["unknown"]["page_count"], 19, "{entry}");
}

#[test]
fn the_search_bundle_and_charts_are_reproducible() {
    let site = Site::valid();
    let a = site.root().join("out-a");
    let b = site.root().join("out-b");
    html::build(site.root(), &a, &[]).ok();
    html::build(site.root(), &b, &[]).ok();
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        if path.starts_with("pagefind/")
            || path.starts_with("stats/")
            || path == "search/index.html"
        {
            assert!(bytes == &tb[path], "{path} differs between two builds");
        }
    }
}

#[test]
fn search_page_has_filters_sort_and_a_no_script_fallback() {
    let site = Site::valid();
    let out = build(&site);
    let html = read(&out, "search/index.html");
    assert!(html.contains(r#"<script type="module" src="/assets/search.js"></script>"#));
    assert!(html.contains(r#"data-bundle="/pagefind/""#), "{html}");
    // Hidden until the script has loaded the index; the fallback says why and where to go.
    assert!(html.contains(r#"method="get" data-bundle="/pagefind/" data-base="/" hidden>"#));
    let nojs = between(
        &html,
        r#"<div class="search-nojs" id="search-nojs">"#,
        "</div>",
    );
    assert!(nojs.contains("Search needs JavaScript"), "{nojs}");
    for link in ["/awards/", "/artists/", "/labels/"] {
        assert!(nojs.contains(&format!("href=\"{link}\"")), "{link}: {nojs}");
    }
    let options = |id: &str| -> Vec<String> {
        let select = between(&html, &format!("<select id=\"{id}\""), "</select>");
        select
            .split("<option value=\"")
            .skip(1)
            .map(|o| o.split('"').next().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        options("search-tier"),
        ["", "Impala Silver", "Impala Double Silver", "Impala Gold"]
    );
    assert_eq!(
        options("search-label"),
        [
            "",
            "Aurora Music Group",
            "Disques Éclat",
            "Nordlicht Tonträger",
            "Polar Sound"
        ]
    );
    assert_eq!(
        options("search-year"),
        [
            "", "2025", "2021", "2020", "2019", "2017", "2015", "2012", "2010", "2009"
        ]
    );
    assert_eq!(
        options("search-country"),
        [
            "",
            "Austria",
            "Belgium",
            "Denmark",
            "Finland",
            "France",
            "Germany",
            "Iceland",
            "Luxembourg",
            "Netherlands",
            "Norway",
            "Sweden",
            "Switzerland",
            "United Kingdom"
        ]
    );
    assert_eq!(
        options("search-format"),
        ["", "Single", "EP", "Album", "Compilation", "Download"]
    );
    assert_eq!(
        options("search-sort"),
        ["", "date:desc", "date:asc", "title:asc"]
    );
    // Every page links to search and statistics.
    let home = read(&out, "index.html");
    assert!(home.contains(r#"<a href="/search/">Search</a>"#), "{home}");
    assert!(
        home.contains(r#"<a href="/stats/">Statistics</a>"#),
        "{home}"
    );
    // The script asks nothing of other hosts.
    let js = read(&out, "assets/search.js");
    assert!(!js.contains("http:") && !js.contains("https:") && !js.contains("//cdn"));
}

/// The text between the first `start` and the next `end` after it.
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found"));
    let rest = &s[i + start.len()..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Text of an HTML fragment: tags dropped, entities of the escaper decoded.
fn text(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

/// One chart of a page, taken apart.
struct ChartParts {
    title: String,
    desc: String,
    /// `<text>` contents of the SVG, in order.
    texts: Vec<String>,
    /// `<title>` tooltips of the SVG's shapes.
    tips: Vec<String>,
    head: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
    foot: Option<(String, Vec<String>)>,
}

fn row(tr: &str) -> (String, Vec<String>) {
    let name = text(between(tr, "<th scope=\"row\">", "</th>"));
    let cells = tr
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| text(c.split("</td>").next().unwrap_or_default()))
        .collect();
    (name, cells)
}

fn chart(html: &str, id: &str) -> ChartParts {
    let sec = between(
        html,
        &format!("<section class=\"chart\" id=\"{id}\">"),
        "</section>",
    );
    let svg = between(sec, "<svg", "</svg>");
    // The SVG is an image named by its <title> and described by its <desc>.
    assert!(
        svg.contains(&format!(
            "role=\"img\" aria-labelledby=\"{id}-title\" aria-describedby=\"{id}-desc\""
        )),
        "{svg}"
    );
    let title = text(between(
        svg,
        &format!("<title id=\"{id}-title\">"),
        "</title>",
    ));
    let desc = text(between(svg, &format!("<desc id=\"{id}-desc\">"), "</desc>"));
    let texts = svg
        .split("<text ")
        .skip(1)
        .map(|t| {
            text(&format!(
                "<{}",
                t.split("</text>").next().unwrap_or_default()
            ))
        })
        .collect();
    let tips = svg
        .split("<title>")
        .skip(1)
        .map(|t| text(t.split("</title>").next().unwrap_or_default()))
        .collect();
    let table = between(sec, "<table", "</table>");
    let head = between(table, "<thead>", "</thead>")
        .split("<th scope=\"col\"")
        .skip(1)
        .map(|h| text(&format!("<{h}")))
        .collect();
    let body = between(table, "<tbody>", "</tbody>");
    let rows = body.split("<tr>").skip(1).map(row).collect();
    let foot = table
        .contains("<tfoot>")
        .then(|| row(between(table, "<tfoot>", "</tfoot>")));
    ChartParts {
        title,
        desc,
        texts,
        tips,
        head,
        rows,
        foot,
    }
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn stats_page_charts_have_titles_descriptions_and_matching_tables() {
    let site = Site::valid();
    let out = build(&site);
    let html = read(&out, "stats/index.html");

    let years = chart(&html, "chart-years");
    assert_eq!(years.title, "Awards per year, by tier: all awards");
    assert!(
        years.desc.contains("10 awards from 2009 to 2025") && years.desc.contains("2 in 2021"),
        "{}",
        years.desc
    );
    assert_eq!(
        years.head,
        strs(&[
            "Year",
            "Impala Silver",
            "Impala Double Silver",
            "Impala Gold",
            "Total"
        ])
    );
    // Every year of the span, newest first, gaps included.
    assert_eq!(years.rows.len(), 17);
    assert_eq!(years.rows[0], ("2025".into(), strs(&["1", "0", "0", "1"])));
    assert_eq!(years.rows[4], ("2021".into(), strs(&["1", "1", "0", "2"])));
    assert_eq!(years.rows[8], ("2017".into(), strs(&["0", "0", "1", "1"])));
    assert_eq!(years.rows[10], ("2015".into(), strs(&["1", "0", "0", "1"])));
    assert_eq!(years.rows[16], ("2009".into(), strs(&["1", "0", "0", "1"])));
    assert_eq!(
        years.foot,
        Some(("All years".into(), strs(&["7", "1", "2", "10"])))
    );
    // Each stacked segment's tooltip is a table cell; each column's total label a row total.
    assert_eq!(years.tips.len(), 10, "{:?}", years.tips);
    for (y, cells) in &years.rows {
        for (i, c) in cells[..cells.len() - 1].iter().enumerate() {
            let tip = format!("{y}, {}: {c}", years.head[i + 1]);
            assert_eq!(years.tips.contains(&tip), c != "0", "{tip}");
        }
    }
    // The legend names every tier, so patterns (not colour alone) tell them apart.
    for t in ["Impala Silver", "Impala Double Silver", "Impala Gold"] {
        assert!(years.texts.iter().any(|x| x == t), "{t}: {:?}", years.texts);
    }
    assert!(
        html.matches("<pattern id=\"chart-years-p").count() == 3,
        "one pattern per tier"
    );

    let tiers = chart(&html, "chart-tiers");
    assert_eq!(tiers.title, "Awards by tier: all awards");
    assert_eq!(
        tiers.rows,
        vec![
            ("Impala Silver".into(), strs(&["7", "70.0%"])),
            ("Impala Double Silver".into(), strs(&["1", "10.0%"])),
            ("Impala Gold".into(), strs(&["2", "20.0%"])),
        ]
    );
    // Bars are labelled directly: name, then "count (share)".
    assert_eq!(
        tiers.texts,
        strs(&[
            "Impala Silver",
            "7 (70.0%)",
            "Impala Double Silver",
            "1 (10.0%)",
            "Impala Gold",
            "2 (20.0%)"
        ])
    );

    let labels = chart(&html, "chart-labels");
    assert_eq!(
        labels.rows,
        vec![
            ("Aurora Music Group".into(), strs(&["3"])),
            ("Polar Sound".into(), strs(&["3"])),
            ("Disques Éclat".into(), strs(&["2"])),
            ("Nordlicht Tonträger".into(), strs(&["2"])),
        ]
    );
    assert_eq!(
        labels.texts,
        strs(&[
            "Aurora Music Group",
            "3",
            "Polar Sound",
            "3",
            "Disques Éclat",
            "2",
            "Nordlicht Tonträger",
            "2"
        ])
    );

    // Each release counts with its latest figures per country.
    let countries = chart(&html, "chart-countries");
    let expected = [
        ("Germany", "43,250", "4"),
        ("Norway", "35,800", "2"),
        ("France", "19,200", "1"),
        ("United Kingdom", "17,300", "1"),
        ("Finland", "14,500", "2"),
        ("Sweden", "14,000", "2"),
        ("Belgium", "12,100", "2"),
        ("Switzerland", "8,300", "2"),
        ("Netherlands", "8,200", "1"),
        ("Denmark", "6,400", "1"),
        ("Iceland", "6,200", "1"),
        ("Austria", "4,400", "1"),
        ("Luxembourg", "900", "1"),
    ];
    assert_eq!(
        countries.rows,
        expected
            .iter()
            .map(|(c, u, r)| ((*c).to_string(), strs(&[u, r])))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        countries.foot,
        Some(("All countries".into(), strs(&["190,550", ""])))
    );
    assert_eq!(
        countries.texts,
        expected
            .iter()
            .flat_map(|(c, u, _)| [(*c).to_string(), (*u).to_string()])
            .collect::<Vec<_>>()
    );
    assert!(countries.desc.contains("190,550"), "{}", countries.desc);
}

#[test]
fn label_and_artist_pages_chart_their_own_awards() {
    let site = Site::valid();
    let out = build(&site);
    let html = read(&out, "labels/polar-sound/index.html");
    assert!(html.contains("<h2>Charts</h2>"));
    let years = chart(&html, "chart-years");
    assert_eq!(years.title, "Awards per year, by tier: Polar Sound");
    assert_eq!(
        years.rows,
        vec![
            ("2021".into(), strs(&["1", "1", "2"])),
            ("2020".into(), strs(&["0", "0", "0"])),
            ("2019".into(), strs(&["1", "0", "1"])),
        ]
    );
    let tiers = chart(&html, "chart-tiers");
    assert_eq!(
        tiers.rows,
        vec![
            ("Impala Silver".into(), strs(&["2", "66.7%"])),
            ("Impala Double Silver".into(), strs(&["1", "33.3%"])),
        ]
    );
    let countries = chart(&html, "chart-countries");
    assert_eq!(
        countries.rows,
        vec![
            ("Norway".into(), strs(&["14,800", "1"])),
            ("Sweden".into(), strs(&["11,000", "1"])),
            ("Denmark".into(), strs(&["6,400", "1"])),
            ("Germany".into(), strs(&["5,500", "1"])),
            ("Finland".into(), strs(&["3,500", "1"])),
        ]
    );
    // Top labels is a site-wide chart only.
    assert!(!html.contains("chart-labels"));

    // An award without published figures: no country chart, the others still drawn.
    let html = read(&out, "artists/olafur-thorsson/index.html");
    let years = chart(&html, "chart-years");
    assert_eq!(years.rows, vec![("2009".into(), strs(&["1", "1"]))]);
    assert!(!html.contains("chart-countries"), "{html}");
}

#[test]
fn chart_text_is_escaped() {
    let site = Site::valid();
    site.write(
        "content/labels/polar-sound.toml",
        r#"name = "Polar <Sound> & \"Co\" 'x'"
country = "NO"
parent = "aurora-music-group"
"#,
    );
    let out = build(&site);
    let html = read(&out, "stats/index.html");
    let svg = between(
        &html,
        "<section class=\"chart\" id=\"chart-labels\">",
        "</svg>",
    );
    assert!(
        svg.contains("Polar &lt;Sound&gt; &amp; &quot;Co&quot; &#39;x&#39;"),
        "{svg}"
    );
    assert!(!svg.contains("<Sound>"), "{svg}");
    let label = read(&out, "labels/polar-sound/index.html");
    let title = between(&label, "<title id=\"chart-years-title\">", "</title>");
    assert_eq!(
        title,
        "Awards per year, by tier: Polar &lt;Sound&gt; &amp; &quot;Co&quot; &#39;x&#39;"
    );
}

// ---------------------------------------------------------------------------
// The real browser.

#[derive(serde::Deserialize, Debug)]
struct BrowserRun {
    cases: Vec<BrowserCase>,
    requests: Vec<String>,
    errors: Vec<String>,
}

#[derive(serde::Deserialize, Debug)]
struct BrowserCase {
    query: String,
    params: String,
    status: String,
    results: Vec<BrowserResult>,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct BrowserResult {
    title: String,
    href: String,
}

#[test]
fn browser_finds_names_typed_without_their_diacritics() {
    let Some(browser) = browser_or_skip("browser_finds_names_typed_without_their_diacritics")
    else {
        return;
    };
    let site = site_with_hard_names();
    let out = build(&site);
    let server = Server::start(out);
    let cases = serde_json::json!([
        {"query": "morketid"},
        {"query": "mo"},
        {"query": "aether strasse"},
        {"query": "sigur ros"},
        {"query": "AGAETIS"},
        {"query": "", "params": "tier=Impala+Gold&country=Norway&sort=date:desc"},
        {"query": "norway"},
    ]);
    // Bounded: a hung browser fails the test instead of the whole run.
    let stdout = run_node(
        "search.mjs",
        &[&server.base, &cases.to_string()],
        &browser,
        Duration::from_secs(180),
    );
    let run: BrowserRun =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));

    assert!(run.errors.is_empty(), "page errors: {:?}", run.errors);
    // Nothing but the site itself was asked for.
    assert!(!run.requests.is_empty());
    for r in &run.requests {
        assert!(r.starts_with(&server.base), "external request: {r}");
    }
    let found = |i: usize| -> Vec<(&str, &str)> {
        run.cases[i]
            .results
            .iter()
            .map(|r| (r.title.as_str(), r.href.as_str()))
            .collect()
    };
    let has = |i: usize, title: &str, href: &str| {
        let c = &run.cases[i];
        assert!(
            found(i).contains(&(title, href)),
            "search {:?} {:?} did not find {title} ({}): {:?}",
            c.query,
            c.params,
            c.status,
            found(i)
        );
    };
    has(0, "Mørketid", "/releases/nordlys-kollektiv-morketid/");
    assert_eq!(run.cases[0].status, "1 result.", "{:?}", run.cases[0]);
    has(1, "Æther Straße", "/releases/mo-aether-strasse/");
    has(1, "MØ", "/artists/mo/");
    has(2, "Æther Straße", "/releases/mo-aether-strasse/");
    has(3, "Ágætis byrjun", "/releases/sigur-ros-agaetis-byrjun/");
    has(3, "Sigur Rós", "/artists/sigur-ros/");
    has(4, "Ágætis byrjun", "/releases/sigur-ros-agaetis-byrjun/");
    // Filters and sort without a query: Gold awards shipped to Norway, latest award
    // first (Aurora's imprint Polar Sound has the 2023 one; the other two tie on 2017).
    let f = found(5);
    assert_eq!(f.len(), 3, "{:?}", run.cases[5]);
    assert_eq!(f[0], ("Aurora Music Group", "/labels/aurora-music-group/"));
    let mut rest = f[1..].to_vec();
    rest.sort();
    assert_eq!(
        rest,
        [
            ("Ljós í myrkri", "/releases/solveig-ran-ljos-i-myrkri/"),
            ("Sólveig Rán", "/artists/solveig-ran/"),
        ]
    );
    // Words of the awards (countries, tiers, years) find releases; artists are
    // found by their names, not by every country their releases shipped to.
    has(6, "Ljós í myrkri", "/releases/solveig-ran-ljos-i-myrkri/");
    assert!(
        found(6)
            .iter()
            .all(|(_, href)| !href.starts_with("/artists/")),
        "{:?}",
        run.cases[6]
    );
}
