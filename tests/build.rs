//! `impala-awards build` on copies of the fixture site: every page kind, the
//! entries it lists and their order, the escaping of every field, and every
//! internal link of the output, at the root and under a sub-path.

mod common;
mod html;

use std::path::PathBuf;

use common::Site;
use html::{Built, build, element, links, main_of, page, table_rows, text, texts_of};

/// A site copy and the folder its build went to (outside the site root).
struct Fx {
    /// Kept so the site's temporary folder lives as long as the build's output.
    _site: Site,
    out_dir: tempfile::TempDir,
    built: Built,
}

impl Fx {
    fn out(&self) -> PathBuf {
        self.out_dir.path().join("public")
    }

    fn main(&self, url: &str) -> String {
        main_of(&page(&self.out(), url)).to_string()
    }
}

/// Builds `site` with `extra` arguments; asserts success.
fn build_site(site: Site, extra: &[&str]) -> Fx {
    let out_dir = tempfile::tempdir().expect("temporary folder");
    let built = build(site.root(), &out_dir.path().join("public"), extra).ok();
    Fx {
        _site: site,
        out_dir,
        built,
    }
}

/// The unmodified fixture, built.
fn fixture() -> Fx {
    build_site(Site::valid(), &[])
}

/// Release slugs linked from the rows of the awards table of `html`, in order.
fn award_releases(html: &str) -> Vec<String> {
    let Some(table) = element(html, "table", "class=\"awards\"") else {
        return Vec::new();
    };
    links(table)
        .into_iter()
        .filter_map(|l| {
            l.strip_prefix("/releases/")
                .map(|s| s.trim_end_matches('/').to_string())
        })
        .collect()
}

/// The first cell (date) of each row of the awards table.
fn award_dates(html: &str) -> Vec<String> {
    table_rows(html, "class=\"awards\"")
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

// ---------------------------------------------------------------- every page kind

#[test]
fn every_page_kind_is_written() {
    let fx = fixture();
    let files = html::files(&fx.out());
    for f in [
        "index.html",
        "404.html",
        "tiers/index.html",
        "tiers/silver/index.html",
        "tiers/diamond/index.html",
        "tiers/double-platinum/index.html",
        "labels/index.html",
        "labels/polar-sound/index.html",
        "years/index.html",
        "years/2009/index.html",
        "years/2025/index.html",
        "artists/index.html",
        "artists/ada-vik/index.html",
        "countries/index.html",
        "countries/de/index.html",
        "releases/nordlys-kollektiv-morketid/index.html",
        "about/index.html",
        "how-to-register/index.html",
        "assets/style.css",
        "favicon.svg",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} missing from {files:#?}");
    }
    // Pages, not the redirects left at renamed releases' old addresses.
    let count = |prefix: &str| {
        files
            .iter()
            .filter(|f| f.starts_with(prefix) && f.ends_with("/index.html"))
            .filter(|f| !html::is_redirect(&page(&fx.out(), f)))
            .count()
    };
    // One page per release, label, tier, year, artist and shipping country (plus each list).
    assert_eq!(count("releases/"), 7);
    assert_eq!(count("labels/"), 4 + 1);
    assert_eq!(count("tiers/"), 8 + 1);
    assert_eq!(count("years/"), 9 + 1);
    assert_eq!(count("artists/"), 8 + 1);
    assert_eq!(count("countries/"), 13 + 1);
    // Every page is a whole document with the site's language.
    for f in html::html_files(&fx.out()) {
        let h = std::fs::read_to_string(fx.out().join(&f)).unwrap();
        assert!(h.starts_with("<!DOCTYPE html>"), "{f}");
        assert!(h.contains("<html lang=\"en\">"), "{f}");
        assert!(h.trim_end().ends_with("</html>"), "{f}");
    }
}

#[test]
fn build_prints_one_summary_line() {
    let fx = fixture();
    let pages = html::html_files(&fx.out()).len();
    let s = fx.built.summary().to_string();
    assert_eq!(fx.built.stderr.lines().count(), 1, "{:?}", fx.built);
    assert!(
        s.starts_with(&format!("built {pages} pages (")),
        "{s:?} should count {pages} pages"
    );
    assert!(
        s.contains(" from 7 releases, 10 awards in "),
        "{s:?} names releases and awards"
    );
    // Time taken, as Rust prints a Duration ("30.02ms", "1.20s").
    let after = s.split(" in ").nth(1).unwrap_or("");
    let time = after.split(' ').next().unwrap_or("");
    assert!(
        time.ends_with("ms") || time.ends_with("µs") || time.ends_with('s'),
        "{s:?}"
    );
    assert!(
        time.trim_end_matches(|c: char| c.is_alphabetic() || c == 'µ')
            .parse::<f64>()
            .is_ok(),
        "{s:?}"
    );
    let (written, unchanged, removed) = fx.built.counts();
    assert_eq!(
        (written, unchanged, removed),
        (html::files(&fx.out()).len() - 1, 0, 0),
        "a first build writes every file (the marker aside): {s:?}"
    );
    assert!(fx.built.stdout.is_empty());
}

#[test]
fn invalid_tree_writes_nothing() {
    let site = Site::valid();
    site.write(
        "content/releases/jaakide/jaakide-hamara.toml",
        "title = \"Hämärä\"\nartists = [\"Jääkide\"]\n",
    );
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("public");
    let b = build(site.root(), &out, &[]).failed();
    assert!(b.stderr.contains("jaakide-hamara.toml"), "{b:?}");
    assert!(b.summary().starts_with("build failed: "), "{b:?}");
    assert!(!out.exists(), "an invalid tree created the output");
    assert_eq!(
        std::fs::read_dir(out_dir.path()).unwrap().count(),
        0,
        "nothing, not even a staging folder, is left beside the output"
    );
}

// ---------------------------------------------------------------- home

#[test]
fn home_lists_latest_awards_and_counts_per_tier() {
    let fx = fixture();
    let m = fx.main("");
    assert_eq!(
        award_releases(&m),
        [
            "various-artists-nachtfahrt-nordlicht-2014-2024",
            "nordlys-kollektiv-morketid",
            "zoe-brandt-uberall",
            "jaakide-hamara",
            "nordlys-kollektiv-morketid",
            "solveig-ran-ljos-i-myrkri",
            "solveig-ran-ljos-i-myrkri",
            "ecume-noire-les-heures-pales",
            "ecume-noire-les-heures-pales",
            "olafur-thorsson-vetrarljod",
        ],
        "latest awards, newest first"
    );
    let cards = texts_of(element(&m, "ul", "tier-grid").unwrap(), "li");
    assert_eq!(
        cards,
        [
            "Impala Silver 7 awards",
            "Impala Double Silver 1 award",
            "Impala Triple Silver 0 awards",
            "Impala Gold 2 awards",
            "Impala Double Gold 0 awards",
            "Impala Diamond 0 awards",
            "Impala Platinum 0 awards",
            "Impala Double Platinum 0 awards",
        ]
    );
    let t = text(&m);
    assert!(
        t.contains("10 awards · 7 releases · 8 artists · 4 labels"),
        "{t}"
    );
    // Ways into the archive.
    let l = links(&m);
    for to in [
        "/years/",
        "/labels/",
        "/artists/",
        "/countries/",
        "/years/2009/",
    ] {
        assert!(l.iter().any(|x| x == to), "home links {to}: {l:?}");
    }
}

#[test]
fn home_shows_at_most_twelve_latest_awards() {
    let site = Site::valid();
    for i in 0..6 {
        site.write(
            &format!("content/releases/extra/extra-r{i}.toml"),
            format!(
                "title = \"R{i}\"\nartists = [\"Extra\"]\nlabel = \"polar-sound\"\nformat = \"single\"\n\
                 [[awards]]\ntier = \"silver\"\ndate = 2026-0{}-01\nunits = 20_000\n",
                i + 1
            ),
        );
    }
    let fx = build_site(site, &[]);
    let r = award_releases(&fx.main(""));
    assert_eq!(r.len(), 12, "{r:?}");
    assert_eq!(r[0], "extra-r5");
    assert_eq!(r[5], "extra-r0");
    assert_eq!(r[6], "various-artists-nachtfahrt-nordlicht-2014-2024");
}

// ---------------------------------------------------------------- tiers

#[test]
fn tier_page_lists_exactly_its_awards_newest_first() {
    let fx = fixture();
    let m = fx.main("tiers/silver/");
    assert_eq!(
        award_releases(&m),
        [
            "various-artists-nachtfahrt-nordlicht-2014-2024",
            "zoe-brandt-uberall",
            "jaakide-hamara",
            "nordlys-kollektiv-morketid",
            "solveig-ran-ljos-i-myrkri",
            "ecume-noire-les-heures-pales",
            "olafur-thorsson-vetrarljod",
        ]
    );
    assert_eq!(
        award_dates(&m),
        [
            "15 January 2025",
            "March 2021",
            "February 2020",
            "14 March 2019",
            "September 2015",
            "2010",
            "June 2009",
        ]
    );
    let rows = table_rows(&m, "class=\"awards\"");
    assert!(rows.iter().all(|r| r[1] == "1 Impala Silver"), "{rows:?}");
    // Unpublished figures say so.
    assert_eq!(rows[6][5], "not published");
    assert_eq!(rows[0][5], "20,400");
    assert_eq!(texts_of(&m, "h1"), ["Impala Silver"]);
    assert!(text(&m).contains("7 awards, newest first"));
    assert!(text(&m).contains("30,000 units under the launch scale (from 2007-01-01)"));
    assert!(text(&m).contains("20,000 units under the current scale (from 2013-01-01)"));

    let gold = fx.main("tiers/gold/");
    assert_eq!(
        award_releases(&gold),
        ["solveig-ran-ljos-i-myrkri", "ecume-noire-les-heures-pales"]
    );
    assert_eq!(
        award_releases(&fx.main("tiers/double-silver/")),
        ["nordlys-kollektiv-morketid"]
    );
    let diamond = fx.main("tiers/diamond/");
    assert!(award_releases(&diamond).is_empty());
    assert!(text(&diamond).contains("No awards yet."));
    assert!(text(&diamond).contains("200,000 units under the current scale"));
}

#[test]
fn tiers_page_lists_tiers_in_units_order_with_thresholds_per_scale() {
    let fx = fixture();
    let m = fx.main("tiers/");
    let head = texts_of(element(&m, "thead", "").unwrap(), "th");
    assert_eq!(
        head,
        [
            "Tier",
            "Launch scale (from 2007-01-01)",
            "Current scale (from 2013-01-01)",
            "Awards"
        ]
    );
    let rows = table_rows(&m, "");
    let got: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        got,
        [
            ["1 Impala Silver", "30,000", "20,000", "7"],
            ["2 Impala Double Silver", "60,000", "40,000", "1"],
            ["3 Impala Triple Silver", "90,000", "60,000", "0"],
            ["4 Impala Gold", "100,000", "75,000", "2"],
            ["5 Impala Double Gold", "200,000", "150,000", "0"],
            ["6 Impala Diamond", "250,000", "200,000", "0"],
            ["7 Impala Platinum", "500,000", "400,000", "0"],
            ["8 Impala Double Platinum", "1,000,000", "800,000", "0"],
        ],
        "Diamond sits below Platinum"
    );
    // The badge mark is decoration; the tier's name carries the meaning.
    assert!(m.contains("<span class=\"badge-mark\" aria-hidden=\"true\">6</span>Impala Diamond"));
}

// ---------------------------------------------------------------- labels

#[test]
fn labels_are_listed_a_to_z_with_country_and_counts() {
    let site = Site::valid();
    // Sorted with its diacritic folded: between "Disques" and "Nordlicht", not after "Polar".
    site.write(
        "content/labels/echappee-belle.toml",
        "name = \"Échappée Belle\"\ncountry = \"BE\"\n",
    );
    let fx = build_site(site, &[]);
    let m = fx.main("labels/");
    let rows = table_rows(&m, "");
    let got: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        got,
        [
            ["Aurora Music Group", "Norway NO", "2", "6"],
            ["Disques Éclat", "France FR", "1", "2"],
            ["Échappée Belle", "Belgium BE", "0", "0"],
            ["Nordlicht Tonträger", "Germany DE", "2", "2"],
            [
                "Polar Sound imprint of Aurora Music Group",
                "Norway NO",
                "2",
                "3"
            ],
        ]
    );
    let l = links(&m);
    assert!(l.contains(&"/labels/echappee-belle/".to_string()), "{l:?}");
    assert_eq!(
        texts_of(&fx.main("labels/echappee-belle/"), "h1"),
        ["Échappée Belle"]
    );
}

#[test]
fn label_page_counts_its_imprints_awards_and_links_parent_and_imprints() {
    let fx = fixture();
    let m = fx.main("labels/aurora-music-group/");
    assert_eq!(texts_of(&m, "h1"), ["Aurora Music Group"]);
    let facts = text(element(&m, "dl", "facts").unwrap());
    assert!(facts.contains("Country Norway NO"), "{facts}");
    assert!(facts.contains("Imprints Polar Sound"), "{facts}");
    assert!(
        facts.contains("Awards 6 (3 on the label itself)"),
        "{facts}"
    );
    assert!(links(&m).contains(&"/labels/polar-sound/".to_string()));
    assert!(links(&m).contains(&"https://aurora-music-group.example/".to_string()));
    // Its own releases only, in the release list ...
    let list = element(&m, "ul", "release-list").unwrap();
    let listed: Vec<String> = links(list)
        .into_iter()
        .filter(|l| l.starts_with("/releases/"))
        .collect();
    assert_eq!(
        listed,
        [
            "/releases/solveig-ran-ljos-i-myrkri/",
            "/releases/olafur-thorsson-vetrarljod/"
        ]
    );
    // ... and its imprint's awards too, newest first.
    assert_eq!(
        award_releases(&m),
        [
            "nordlys-kollektiv-morketid",
            "zoe-brandt-uberall",
            "nordlys-kollektiv-morketid",
            "solveig-ran-ljos-i-myrkri",
            "solveig-ran-ljos-i-myrkri",
            "olafur-thorsson-vetrarljod",
        ]
    );

    let p = fx.main("labels/polar-sound/");
    let facts = text(element(&p, "dl", "facts").unwrap());
    assert!(facts.contains("Imprint of Aurora Music Group"), "{facts}");
    assert!(
        facts.contains("Also known as Polar Sound Records, Polarsound"),
        "{facts}"
    );
    assert!(facts.contains("Awards 3"), "{facts}");
    assert!(links(&p).contains(&"/labels/aurora-music-group/".to_string()));
    assert_eq!(
        award_releases(&p),
        [
            "nordlys-kollektiv-morketid",
            "zoe-brandt-uberall",
            "nordlys-kollektiv-morketid"
        ]
    );
}

// ---------------------------------------------------------------- years

#[test]
fn years_list_counts_by_tier() {
    let fx = fixture();
    let m = fx.main("years/");
    let head = texts_of(element(&m, "thead", "").unwrap(), "th");
    assert_eq!(head[0], "Year");
    assert_eq!(head[1], "Impala Silver");
    assert_eq!(head[6], "Impala Diamond");
    assert_eq!(head[7], "Impala Platinum");
    let rows = table_rows(&m, "");
    let years: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        years,
        [
            "2025", "2021", "2020", "2019", "2017", "2015", "2012", "2010", "2009"
        ]
    );
    // 2021: one Silver, one Double Silver; the last column is the total.
    assert_eq!(rows[1][1..], ["1", "1", "0", "0", "0", "0", "0", "0", "2"]);
    // 2017: one Gold.
    assert_eq!(rows[4][1..], ["0", "0", "0", "1", "0", "0", "0", "0", "1"]);
    for r in &rows {
        let sum: usize = r[1..r.len() - 1]
            .iter()
            .map(|c| c.parse::<usize>().unwrap())
            .sum();
        assert_eq!(sum.to_string(), r[r.len() - 1], "{r:?}");
    }
}

#[test]
fn year_page_lists_its_awards() {
    let fx = fixture();
    let m = fx.main("years/2021/");
    assert_eq!(texts_of(&m, "h1"), ["Awards of 2021"]);
    assert_eq!(
        award_releases(&m),
        ["nordlys-kollektiv-morketid", "zoe-brandt-uberall"]
    );
    assert_eq!(award_dates(&m), ["2 June 2021", "March 2021"]);
    // A year known only as "2010" belongs to 2010.
    assert_eq!(
        award_releases(&fx.main("years/2010/")),
        ["ecume-noire-les-heures-pales"]
    );
}

// ---------------------------------------------------------------- artists

#[test]
fn artists_are_listed_a_to_z() {
    let fx = fixture();
    let m = fx.main("artists/");
    let items = texts_of(element(&m, "ul", "az-list").unwrap(), "li");
    assert_eq!(
        items,
        [
            "Ada Vik 2 awards",
            "Écume Noire 2 awards",
            "Jääkide 1 award",
            "Nordlys Kollektiv 2 awards",
            "Ólafur Þórsson 1 award",
            "Sólveig Rán 2 awards",
            "Various Artists 1 award",
            "Zoë Brandt 1 award",
        ]
    );
}

#[test]
fn an_artist_on_several_releases_has_one_page() {
    let site = Site::valid();
    site.write(
        "content/releases/ada-vik/ada-vik-stille.toml",
        "title = \"Stille\"\nartists = [\"Ada Vik\"]\nlabel = \"polar-sound\"\nformat = \"ep\"\n\
         [[awards]]\ntier = \"silver\"\ndate = 2022-05-01\nunits = 21_000\n",
    );
    let fx = build_site(site, &[]);
    let files = html::files(&fx.out());
    assert_eq!(
        files
            .iter()
            .filter(|f| f.starts_with("artists/ada-vik"))
            .count(),
        1,
        "{files:?}"
    );
    let m = fx.main("artists/ada-vik/");
    assert_eq!(texts_of(&m, "h1"), ["Ada Vik"]);
    let list = element(&m, "ul", "release-list").unwrap();
    let listed: Vec<String> = links(list)
        .into_iter()
        .filter(|l| l.starts_with("/releases/"))
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.contains(&"/releases/ada-vik-stille/".to_string()));
    assert!(listed.contains(&"/releases/nordlys-kollektiv-morketid/".to_string()));
    assert_eq!(
        award_releases(&m),
        [
            "ada-vik-stille",
            "nordlys-kollektiv-morketid",
            "nordlys-kollektiv-morketid"
        ]
    );
    let items = texts_of(
        element(&fx.main("artists/"), "ul", "az-list").unwrap(),
        "li",
    );
    assert_eq!(items[0], "Ada Vik 3 awards");
}

#[test]
fn two_spellings_that_fold_to_one_slug_are_one_artist() {
    let site = Site::valid();
    site.write(
        "content/releases/ecume-noire/ecume-noire-marees.toml",
        "title = \"Marées\"\nartists = [\"ECUME NOIRE\"]\nlabel = \"disques-eclat\"\nformat = \"album\"\n\
         [[awards]]\ntier = \"silver\"\ndate = 2023-04-01\nunits = 20_500\n",
    );
    let fx = build_site(site, &[]);
    let files = html::files(&fx.out());
    let pages: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with("artists/ecume") || f.starts_with("artists/ecume-noire"))
        .collect();
    assert_eq!(pages, ["artists/ecume-noire/index.html"]);
    let m = fx.main("artists/ecume-noire/");
    assert_eq!(
        award_releases(&m),
        [
            "ecume-noire-marees",
            "ecume-noire-les-heures-pales",
            "ecume-noire-les-heures-pales"
        ]
    );
    let items = texts_of(
        element(&fx.main("artists/"), "ul", "az-list").unwrap(),
        "li",
    );
    assert_eq!(
        items
            .iter()
            .filter(|i| i.to_lowercase().contains("cume noire"))
            .count(),
        1,
        "{items:?}"
    );
    // Each release keeps the name as credited, linked to the one artist page.
    let credit = |slug: &str| {
        let m = fx.main(&format!("releases/{slug}/"));
        let p = element(&m, "p", "class=\"credit\"").unwrap().to_string();
        (text(&p), links(&p))
    };
    assert_eq!(
        credit("ecume-noire-marees"),
        (
            "by ECUME NOIRE".to_string(),
            vec!["/artists/ecume-noire/".to_string()]
        )
    );
    assert_eq!(
        credit("ecume-noire-les-heures-pales"),
        (
            "by Écume Noire".to_string(),
            vec!["/artists/ecume-noire/".to_string()]
        )
    );
}

// ---------------------------------------------------------------- countries

#[test]
fn countries_list_units_shipped() {
    let fx = fixture();
    let rows = table_rows(&fx.main("countries/"), "");
    let de = rows.iter().find(|r| r[0] == "Germany DE").expect("Germany");
    // Per release, its units in Germany at its latest award: 19,750 + 12,000 + 6,000 + 5,500.
    assert_eq!(de[1..], ["43,250", "4"]);
    let lu = rows
        .iter()
        .find(|r| r[0] == "Luxembourg LU")
        .expect("Luxembourg");
    assert_eq!(lu[1..], ["900", "1"]);
    // Countries with no published shipments are not listed.
    assert!(!rows.iter().any(|r| r[0].ends_with(" PL")), "{rows:?}");
    assert_eq!(rows.len(), 13);
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "countries A-Z by name");
}

#[test]
fn country_page_lists_releases_with_their_units_there() {
    let fx = fixture();
    let m = fx.main("countries/de/");
    assert_eq!(texts_of(&m, "h1"), ["Germany"]);
    assert!(text(&m).contains("43,250 units"));
    let rows = table_rows(&m, "");
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Ljós í myrkri", "19,750"),
            ("Nachtfahrt: Nordlicht 2014–2024", "12,000"),
            ("Hämärä", "6,000"),
            ("Mørketid", "5,500"),
        ]
    );
}

// ---------------------------------------------------------------- releases

#[test]
fn release_page_shows_every_fact() {
    let fx = fixture();
    let m = fx.main("releases/nordlys-kollektiv-morketid/");
    assert_eq!(texts_of(&m, "h1"), ["Mørketid"]);
    let credit = element(&m, "p", "class=\"credit\"").unwrap();
    assert_eq!(
        text(credit),
        "by Nordlys Kollektiv & Ada Vik (credited as “Nordlys Kollektiv with Ada Vik”)"
    );
    assert_eq!(
        links(credit),
        ["/artists/nordlys-kollektiv/", "/artists/ada-vik/"],
        "each artist linked"
    );
    let facts = element(&m, "dl", "facts").unwrap();
    let dt = texts_of(facts, "dt");
    let dd = texts_of(facts, "dd");
    let fact = |k: &str| {
        dt.iter()
            .position(|d| d == k)
            .map(|i| dd[i].clone())
            .unwrap_or_else(|| panic!("no {k} in {dt:?}"))
    };
    assert_eq!(fact("Label"), "Polar Sound");
    assert!(links(facts).contains(&"/labels/polar-sound/".to_string()));
    assert_eq!(fact("Format"), "Album");
    assert_eq!(fact("Released"), "9 November 2018");
    assert!(facts.contains("<time datetime=\"2018-11-09\">"));
    assert_eq!(fact("Catalogue number"), "PSR-014");
    assert_eq!(fact("Highest award"), "2 Impala Double Silver");

    // The award timeline, oldest first, with a shipments table per award.
    let timeline = element(&m, "ol", "timeline").unwrap();
    let heads = texts_of(timeline, "h3");
    assert_eq!(
        heads,
        [
            "1 Impala Silver 14 March 2019",
            "2 Impala Double Silver 2 June 2021"
        ]
    );
    let t = text(timeline);
    assert!(
        t.contains(
            "23,500 units shipped across Europe (the tier needed 20,000 under the current scale)"
        ),
        "{t}"
    );
    assert!(
        t.contains(
            "41,200 units shipped across Europe (the tier needed 40,000 under the current scale)"
        ),
        "{t}"
    );
    let ships = table_rows(timeline, "shipments");
    assert_eq!(
        ships,
        [
            ["Germany DE", "4,000"],
            ["Denmark DK", "4,000"],
            ["Norway NO", "9,000"],
            ["Sweden SE", "6,500"],
        ]
    );
    assert!(links(timeline).contains(&"/countries/no/".to_string()));
    assert!(
        links(timeline)
            .contains(&"https://polarsound.example/news/morketid-impala-silver".to_string())
    );
    // An award's note and the release's notes are markdown.
    assert!(timeline.contains("<strong>tenth-anniversary</strong>"));
    let notes = element(&m, "div", "class=\"notes\"").unwrap();
    assert!(notes.contains("<em>Tromsø</em>"), "{notes}");
    assert!(
        notes.contains(
            "<a href=\"https://polarsound.example/\" rel=\"noopener noreferrer\">the label</a>"
        ),
        "{notes}"
    );
}

#[test]
fn release_page_without_figures_links_its_source() {
    let fx = fixture();
    let m = fx.main("releases/olafur-thorsson-vetrarljod/");
    let timeline = element(&m, "ol", "timeline").unwrap();
    assert!(text(timeline).contains("Figures not published."));
    assert!(
        element(timeline, "table", "").is_none(),
        "no shipments table"
    );
    assert_eq!(
        links(element(timeline, "p", "class=\"source\"").unwrap()),
        ["https://news.example/impala-awards-june-2009"]
    );
    // No catalogue number, no notes: no empty fields.
    let dt = texts_of(element(&m, "dl", "facts").unwrap(), "dt");
    assert!(!dt.contains(&"Catalogue number".to_string()), "{dt:?}");
    assert!(!m.contains("class=\"notes\""));
    // A year-only release date is shown as a year.
    assert!(m.contains("<time datetime=\"2009\">2009</time>"));
}

#[test]
fn scale_named_by_an_award_is_shown() {
    let fx = fixture();
    let m = fx.main("releases/ecume-noire-les-heures-pales/");
    let t = text(element(&m, "ol", "timeline").unwrap());
    // 2010 under the launch scale; the 2012 Gold names the current scale.
    assert!(
        t.contains(
            "30,500 units shipped across Europe (the tier needed 30,000 under the launch scale)"
        ),
        "{t}"
    );
    assert!(
        t.contains(
            "76,000 units shipped across Europe (the tier needed 75,000 under the current scale)"
        ),
        "{t}"
    );
}

// ---------------------------------------------------------------- pages

#[test]
fn free_pages_are_rendered_from_markdown_and_in_the_menu() {
    let fx = fixture();
    let about = fx.main("about/");
    assert_eq!(texts_of(&about, "h1"), ["About the awards"]);
    assert!(about.contains("<strong>Europe</strong>"));
    assert!(about.contains("<h2>The tiers</h2>"));
    assert_eq!(
        table_rows(&about, ""),
        [
            ["Impala Silver", "20,000"],
            ["Impala Double Silver", "40,000"],
            ["Impala Gold", "75,000"],
        ]
    );
    let reg = fx.main("how-to-register/");
    assert_eq!(texts_of(&reg, "li").len(), 3);
    assert!(reg.contains("<ol>"));
    // The menu lists the pages by weight, after the archive's own entries.
    let home = page(&fx.out(), "");
    let nav = texts_of(element(&home, "nav", "").unwrap(), "li");
    let at = |name: &str| {
        nav.iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name} not in the menu {nav:?}"))
    };
    assert!(
        at("Tiers") < at("Years") && at("Years") < at("Labels"),
        "{nav:?}"
    );
    assert!(
        at("Labels") < at("Artists") && at("Artists") < at("Countries"),
        "{nav:?}"
    );
    assert_eq!(
        nav[nav.len() - 2..],
        ["About the awards", "How to register"],
        "pages last, by weight"
    );
}

#[test]
fn not_found_page_offers_a_way_back() {
    let fx = fixture();
    let p = page(&fx.out(), "404.html");
    let m = main_of(&p);
    assert_eq!(texts_of(m, "h1"), ["Page not found"]);
    assert!(links(m).contains(&"/".to_string()));
    // Served at any depth, its links must not be relative.
    assert!(html::tags(&p).iter().all(|t| {
        ["href", "src"]
            .iter()
            .filter_map(|a| t.attr(a))
            .all(|v| v.starts_with('/') || v.starts_with("http") || v.starts_with('#'))
    }));
}

#[test]
fn slugs_fold_diacritics_while_pages_keep_names() {
    let fx = fixture();
    for (url, name) in [
        ("releases/ecume-noire-les-heures-pales/", "Les Heures Pâles"),
        ("releases/zoe-brandt-uberall/", "Überall"),
        ("artists/olafur-thorsson/", "Ólafur Þórsson"),
        ("artists/ecume-noire/", "Écume Noire"),
        ("artists/zoe-brandt/", "Zoë Brandt"),
        ("labels/disques-eclat/", "Disques Éclat"),
        ("labels/nordlicht-tontrager/", "Nordlicht Tonträger"),
    ] {
        assert_eq!(texts_of(&fx.main(url), "h1"), [name], "{url}");
        let full = page(&fx.out(), url);
        assert!(
            texts_of(&full, "title")[0].starts_with(name),
            "{url}: title"
        );
    }
    // Every folder name is a slug.
    for f in html::files(&fx.out()) {
        for seg in f.split('/') {
            assert!(
                seg.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b)),
                "{f}"
            );
        }
    }
}

// ---------------------------------------------------------------- escaping

const TITLE: &str = "<b>\"AC/DC\" & Co</b>";
const ARTIST: &str = "Bob \"The <Hat>\" O'Neil & <i>Sons</i>";
const LABEL_NAME: &str = "<script>alert('label')</script> Records";
const CATALOGUE: &str = "CAT\" onmouseover=\"alert(1)";
const SOURCE: &str = "https://news.example/a?b=1&c=\"><script>alert(2)</script>";

/// The fixture plus a label and a release whose every field is hostile.
fn hostile_site() -> Site {
    let site = Site::valid();
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    site.write(
        "content/labels/evil.toml",
        format!(
            "name = \"{}\"\ncountry = \"GB\"\nwebsite = \"https://evil.example/?x=\\\"><b>\"\naliases = [\"<em>alias</em>\"]\n",
            esc(LABEL_NAME)
        ),
    );
    site.write(
        "content/releases/acdc/acdc-co.toml",
        format!(
            "title = \"{}\"\nartists = [\"{}\"]\ncredit = \"{}\"\nlabel = \"evil\"\nformat = \"album\"\n\
             catalogue = \"{}\"\nnotes = \"\"\"\n*Really* <script>alert(3)</script> <b onclick=\"x()\">bold</b>\n\"\"\"\n\
             [[awards]]\ntier = \"silver\"\ndate = 2024-02-01\nunits = 21_000\nsource = \"{}\"\n\
             note = \"<img src=x onerror=alert(4)>\"\n",
            esc(TITLE),
            esc(ARTIST),
            esc("<u>credit</u>"),
            esc(CATALOGUE),
            esc(SOURCE)
        ),
    );
    site
}

#[test]
fn every_field_is_escaped() {
    let fx = build_site(hostile_site(), &[]);
    let out = fx.out();
    let release = page(&out, "releases/acdc-co/");
    let m = main_of(&release);
    // Shown literally, as text.
    assert_eq!(texts_of(m, "h1"), [TITLE]);
    assert_eq!(
        texts_of(&release, "title"),
        [format!("{TITLE} · IMPALA European Sales Awards")]
    );
    let credit = element(m, "p", "class=\"credit\"").unwrap();
    assert_eq!(
        text(credit),
        format!("by {ARTIST} (credited as “<u>credit</u>”)")
    );
    let facts = element(m, "dl", "facts").unwrap();
    let dd = texts_of(facts, "dd");
    assert_eq!(dd[0], LABEL_NAME);
    assert!(dd.contains(&CATALOGUE.to_string()), "{dd:?}");
    let source = element(m, "p", "class=\"source\"").unwrap();
    assert_eq!(text(source), format!("Source: {SOURCE}"));
    // In an attribute, the URL stays one attribute value.
    let a = html::tags(source)
        .into_iter()
        .find(|t| t.name == "a")
        .unwrap();
    assert_eq!(a.attr("href"), Some(SOURCE));
    assert_eq!(a.attrs.len(), 2, "{:?}", a.attrs);
    // The meta description, an attribute, holds title, credit and label as text.
    let desc = html::tags(&release)
        .into_iter()
        .find(|t| t.name == "meta" && t.attr("name") == Some("description"))
        .unwrap();
    assert_eq!(
        desc.attr("content"),
        Some(format!("{TITLE} by <u>credit</u> ({LABEL_NAME}): IMPALA award history.").as_str())
    );
    // Markdown of notes: formatting kept, raw HTML shown as text.
    let notes = element(m, "div", "class=\"notes\"").unwrap();
    assert!(notes.contains("<em>Really</em>"), "{notes}");
    assert!(text(notes).contains("<script>alert(3)</script>"), "{notes}");
    let note = element(m, "div", "class=\"note\"").unwrap();
    assert_eq!(text(note), "<img src=x onerror=alert(4)>");

    // The same values in every list they appear in.
    for url in [
        "",
        "tiers/silver/",
        "years/2024/",
        "labels/evil/",
        "artists/",
    ] {
        let t = text(main_of(&page(&out, url)));
        assert!(t.contains(TITLE) || url == "artists/", "{url}: {t}");
        assert!(t.contains(ARTIST) || url == "labels/evil/", "{url}: {t}");
    }
    let label = main_of(&page(&out, "labels/evil/")).to_string();
    assert_eq!(texts_of(&label, "h1"), [LABEL_NAME]);
    assert!(text(&label).contains("<em>alias</em>"));
    assert!(links(&label).contains(&"https://evil.example/?x=\"><b>".to_string()));
    assert!(text(&page(&out, "labels/")).contains(LABEL_NAME));

    // No element, attribute or URL from a record made it into the markup.
    for f in html::html_files(&out) {
        let h = std::fs::read_to_string(out.join(&f)).unwrap();
        let found = html::executable(&h, "/");
        assert!(found.is_empty(), "{f}: {found:#?}");
        for t in html::tags(&h) {
            assert!(
                !matches!(t.name.as_str(), "b" | "i" | "u" | "img"),
                "{f}: <{}> from a record",
                t.name
            );
        }
    }
}

// ---------------------------------------------------------------- links

fn assert_links_resolve(fx: &Fx, base: &str, base_url: &str) {
    let broken = html::broken_links(&fx.out(), base, base_url);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // The walk saw the whole site: every page is linked from some page.
    let mut linked = std::collections::BTreeSet::new();
    for f in html::html_files(&fx.out()) {
        let h = std::fs::read_to_string(fx.out().join(&f)).unwrap();
        for l in links(&h) {
            if let Some(p) = l.strip_prefix(base) {
                linked.insert(format!("{}index.html", p.split('#').next().unwrap_or("")));
            }
        }
    }
    for f in html::html_files(&fx.out()) {
        if f != "404.html" && !html::is_redirect(&page(&fx.out(), &f)) {
            assert!(linked.contains(&f), "no page links to {f}");
        }
    }
}

#[test]
fn every_internal_link_resolves_at_the_root() {
    let fx = build_site(hostile_site(), &[]);
    assert_links_resolve(&fx, "/", "https://awards.example.org/");
    let home = page(&fx.out(), "");
    assert!(home.contains("<link rel=\"canonical\" href=\"https://awards.example.org/\">"));
    assert!(home.contains("href=\"/assets/style.css\""));
}

#[test]
fn every_internal_link_resolves_under_a_sub_path() {
    let fx = build_site(
        hostile_site(),
        &["--base-url", "https://example.org/awards/"],
    );
    assert_links_resolve(&fx, "/awards/", "https://example.org/awards/");
    // Every root-relative link starts with the sub-path.
    for f in html::html_files(&fx.out()) {
        let h = std::fs::read_to_string(fx.out().join(&f)).unwrap();
        for t in html::tags(&h) {
            for v in ["href", "src"].iter().filter_map(|a| t.attr(a)) {
                if v.starts_with('/') {
                    assert!(v.starts_with("/awards/"), "{f}: {v}");
                }
            }
        }
    }
    let release = page(&fx.out(), "releases/nordlys-kollektiv-morketid/");
    assert!(release.contains(
        "<link rel=\"canonical\" href=\"https://example.org/awards/releases/nordlys-kollektiv-morketid/\">"
    ));
    assert!(release.contains("href=\"/awards/artists/ada-vik/\""));
}

#[test]
fn base_url_without_trailing_slash_is_the_same_site() {
    let a = build_site(
        Site::valid(),
        &["--base-url", "https://example.org/awards/"],
    );
    let b = build_site(Site::valid(), &["--base-url", "https://example.org/awards"]);
    html::assert_same_tree(
        &html::snapshot(&a.out()),
        &html::snapshot(&b.out()),
        "base URL with and without its slash",
    );
}

/// The awards table's rows are joined into the page after it renders (it is
/// 120 MB at 100,000 releases); a theme that shows them otherwise than once
/// and unescaped (`| safe`) gets what its template says all the same.
#[test]
fn a_theme_showing_the_awards_rows_twice_or_escaped_gets_what_it_wrote() {
    let full = fixture();
    let rows = {
        let html = page(&full.out(), "awards/");
        let start = html.find("<tbody>").expect("the awards table's body") + "<tbody>".len();
        let end = html[start..].find("</tbody>").expect("its end") + start;
        html[start..end].trim().to_string()
    };
    assert!(rows.contains("<tr id=\"award-"), "{rows}");
    // The `<main>` of the awards page built with `awards.html` holding `body`.
    let awards_with = |body: &str| {
        let site = Site::valid();
        let cfg = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
        site.write("site.toml", format!("theme = \"mytheme\"\n{cfg}"));
        site.write(
            "mytheme/templates/awards.html",
            format!(
                "{{% extends \"base.html\" %}}{{% block content %}}{body}{{% endblock content %}}"
            ),
        );
        build_site(site, &[]).main("awards/")
    };
    let twice = awards_with(
        "<div id=\"a\">{{ rows_html | safe }}</div><div id=\"b\">{{ rows_html | safe }}</div>",
    );
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let expected = format!("<div id=\"a\">{rows}</div><div id=\"b\">{rows}</div>");
    assert!(squeeze(&twice).contains(&squeeze(&expected)), "{twice}");
    // Without `| safe` the rows are text, as the template says.
    let main = awards_with("<pre>{{ rows_html }}</pre>");
    assert!(main.contains("&lt;tr id=&quot;award-"), "{main}");
    assert!(!main.contains("<tr"), "{main}");
}

/// The rows of tier, year, label, artist and country pages are spliced in as
/// their files are written, like the awards table's: a theme that shows them
/// twice, escaped, or tests whether there are any gets what it wrote.
#[test]
fn a_theme_showing_list_rows_twice_escaped_or_tested_gets_what_it_wrote() {
    let full = fixture();
    let tbody = |path: &str| {
        let html = page(&full.out(), path);
        let start = html.find("<tbody>").expect("the table's body") + "<tbody>".len();
        let end = html[start..].find("</tbody>").expect("its end") + start;
        html[start..end].trim().to_string()
    };
    let (tier_rows, year_rows) = (tbody("tiers/silver/"), tbody("years/2021/"));
    let country_rows = tbody("countries/de/");
    assert!(
        tier_rows.contains("<tr") && year_rows.contains("<tr"),
        "{tier_rows}"
    );
    assert!(country_rows.contains("<tr"), "{country_rows}");
    let site = Site::valid();
    let cfg = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write("site.toml", format!("theme = \"mytheme\"\n{cfg}"));
    let block = |body: &str| {
        format!("{{% extends \"base.html\" %}}{{% block content %}}{body}{{% endblock content %}}")
    };
    site.write(
        "mytheme/templates/tier.html",
        block(
            "{% if awards_html %}<div id=\"a\">{{ awards_html | safe }}</div>\
             {% else %}<p>no rows</p>{% endif %}",
        ),
    );
    site.write(
        "mytheme/templates/year.html",
        block("<div id=\"a\">{{ awards_html | safe }}</div><div id=\"b\">{{ awards_html | safe }}</div>"),
    );
    site.write(
        "mytheme/templates/country.html",
        block("<pre>{{ releases_html }}</pre>"),
    );
    let built = build_site(site, &[]);
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let once = built.main("tiers/silver/");
    let expected = format!("<div id=\"a\">{tier_rows}</div>");
    assert!(squeeze(&once).contains(&squeeze(&expected)), "{once}");
    let twice = built.main("years/2021/");
    let expected = format!("<div id=\"a\">{year_rows}</div><div id=\"b\">{year_rows}</div>");
    assert!(squeeze(&twice).contains(&squeeze(&expected)), "{twice}");
    // A tier without awards has no rows: the test sees an empty string.
    let empty = built.main("tiers/diamond/");
    assert!(empty.contains("<p>no rows</p>"), "{empty}");
    assert!(!empty.contains('\u{1}'), "{empty}");
    // Without `| safe` the rows are text, as the template says.
    let text = built.main("countries/de/");
    assert!(
        text.contains("&lt;tr&gt;&lt;th scope=&quot;row&quot;&gt;"),
        "{text}"
    );
    assert!(!text.contains("<tr"), "{text}");
}

/// With the default theme a release's country row is rendered once and its
/// units put in for each country; a site with its own `country_rows.html`
/// gets every row rendered by its template. The default template copied
/// into a site theme therefore gives the same country pages, byte for byte,
/// and a template that shows the units otherwise gets what it wrote.
#[test]
fn country_rows_rendered_once_per_release_are_those_the_template_renders() {
    let default = fixture();
    let themed = |rows: &str| {
        let site = Site::valid();
        let cfg = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
        site.write("site.toml", format!("theme = \"mytheme\"\n{cfg}"));
        site.write("mytheme/templates/country_rows.html", rows);
        build_site(site, &[])
    };
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("themes/default/templates/country_rows.html"),
    )
    .unwrap();
    let copied = themed(&template);
    for code in ["de", "no", "se", "at"] {
        let path = format!("countries/{code}/index.html");
        let (a, b) = (
            std::fs::read(default.out().join(&path)).unwrap(),
            std::fs::read(copied.out().join(&path)).unwrap(),
        );
        assert!(a == b, "{path} differs");
    }
    // Units shown through a filter: what the filter makes, on every row.
    let own = themed(
        "{% for r in releases %}<tr><td>{{ r.release.title }}</td>\
         <td class=\"u\">{{ r.units | replace(from=\",\", to=\"\") }}</td></tr>{% endfor %}",
    );
    let de = own.main("countries/de/");
    let units: Vec<&str> = de
        .split("<td class=\"u\">")
        .skip(1)
        .map(|cell| cell.split('<').next().unwrap_or(""))
        .collect();
    let default_de = default.main("countries/de/");
    assert_eq!(
        units.len(),
        default_de.matches("<tr><th scope=\"row\">").count(),
        "{de}"
    );
    assert!(
        units.iter().all(|u| u.bytes().all(|c| c.is_ascii_digit())),
        "{de}"
    );
    assert!(units.iter().any(|u| u.len() > 3), "{de}");
}

/// A site whose theme overrides `badge.html` with `badge`.
fn themed_badge(badge: &str) -> Site {
    let site = Site::valid();
    let cfg = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write("site.toml", format!("theme = \"mytheme\"\n{cfg}"));
    site.write("mytheme/templates/badge.html", badge);
    site
}

/// Badges are rendered once per tier (rows show `badges[rank]`), still by the
/// theme's `badge.html`: an override changes the badge on every page that
/// shows one, and each tier keeps its own name and rank.
#[test]
fn a_theme_badge_is_the_badge_on_every_page() {
    let default = fixture();
    let with_badges: Vec<String> = html::html_files(&default.out())
        .into_iter()
        .filter(|f| {
            std::fs::read_to_string(default.out().join(f))
                .unwrap()
                .contains("class=\"badge tier-")
        })
        .collect();
    // Rows of every kind: the home page, tier, year, label, artist, country,
    // release and awards pages.
    for kind in [
        "index.html",
        "awards/",
        "tiers/index.html",
        "tiers/",
        "years/",
        "labels/",
        "artists/",
        "countries/",
        "releases/",
    ] {
        assert!(
            with_badges.iter().any(|f| f.starts_with(kind)),
            "no {kind} page shows a badge: {with_badges:?}"
        );
    }
    let themed = build_site(
        themed_badge(
            "<b class=\"my-badge\" data-rank=\"{{ tier.rank }}\">{{ tier.name }} at {{ site.base }}</b>",
        ),
        &[],
    );
    for f in &with_badges {
        let html = std::fs::read_to_string(themed.out().join(f)).unwrap();
        assert!(
            !html.contains("class=\"badge tier-"),
            "{f} keeps the default badge"
        );
        assert!(
            html.contains("<b class=\"my-badge\" data-rank=\""),
            "{f}: {html}"
        );
    }
    let tiers = page(&themed.out(), "tiers/");
    assert!(
        tiers.contains("<b class=\"my-badge\" data-rank=\"0\">Impala Silver at /</b>"),
        "{tiers}"
    );
    assert!(
        tiers.contains("<b class=\"my-badge\" data-rank=\"5\">Impala Diamond at /</b>")
            && tiers.contains("<b class=\"my-badge\" data-rank=\"6\">Impala Platinum at /</b>"),
        "{tiers}"
    );
}

/// A `badge.html` that fails to render fails the build at its own line, and
/// nothing is published.
#[test]
fn a_theme_badge_that_fails_names_its_template() {
    let site = themed_badge("<b>\n{{ tier.no_such_field }}</b>\n");
    let out_dir = tempfile::tempdir().expect("temporary folder");
    let out = out_dir.path().join("public");
    let b = build(site.root(), &out, &["--message-format", "short"]).failed();
    assert!(
        b.stderr.contains("mytheme/templates/badge.html:2:"),
        "{b:?}"
    );
    assert!(b.stderr.contains("no_such_field"), "{b:?}");
    assert!(!out.exists());
}
