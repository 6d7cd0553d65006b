//! The editors' workflow: `new`, redirects for renamed releases, the JSON
//! Schemas, the examples of docs/editing.md, the CI templates and the exact
//! text of each diagnostics format.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Site;
use serde_json::Value;

const MORKETID: &str = "content/releases/nordlys-kollektiv/nordlys-kollektiv-morketid.toml";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn read(site: &Site, rel: &str) -> String {
    std::fs::read_to_string(site.root().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
}

/// `impala-awards <args> --root <site>`, asserting the exit code.
fn run_ok(site: &Site, args: &[&str]) -> Output {
    let out = site.run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn run_fails(site: &Site, args: &[&str]) -> Output {
    let out = site.run(args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?}\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// The JSON diagnostics printed on stderr (other lines skipped).
fn json_diags(out: &Output) -> Vec<Value> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON diagnostic"))
        .collect()
}

fn codes(out: &Output) -> Vec<String> {
    json_diags(out)
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

// ---------------------------------------------------------------- new release

const NEW_RELEASE: &[&str] = &[
    "new",
    "release",
    "--artist",
    "Nordlys Kollektiv",
    "--artist",
    "Ada Vik",
    "--title",
    "Polarnatt: Live i Tromsø",
    "--label",
    "polar-sound",
    "--format",
    "album",
    "--released",
    "2023-11",
    "--tier",
    "double-silver",
    "--date",
    "2024-06-01",
    "--shipments",
    "NO=21000,de=12500,SE=8000",
    "--source",
    "https://polarsound.example/news/polarnatt",
];
const POLARNATT: &str =
    "content/releases/nordlys-kollektiv/nordlys-kollektiv-polarnatt-live-i-tromso.toml";

#[test]
fn new_release_writes_a_record_that_checks_clean() {
    let site = Site::valid();
    let out = run_ok(&site, NEW_RELEASE);
    // The path on stdout, for scripts; what was done on stderr.
    assert_eq!(
        text(&out.stdout),
        format!("{}\n", site.root().join(POLARNATT).display())
    );
    assert_eq!(
        text(&out.stderr),
        "added release \"Polarnatt: Live i Tromsø\" with its double-silver award\n"
    );
    assert_eq!(
        read(&site, POLARNATT),
        r#"title = "Polarnatt: Live i Tromsø"
artists = ["Nordlys Kollektiv", "Ada Vik"]
label = "polar-sound"
format = "album"
released = "2023-11"

[[awards]]
tier = "double-silver"
date = 2024-06-01
shipments = { NO = 21_000, DE = 12_500, SE = 8_000 }
source = "https://polarsound.example/news/polarnatt"
"#
    );
    site.check().assert_clean();
    let checked = site.check();
    assert!(
        checked.summary.starts_with("checked 8 releases, 11 awards"),
        "{checked:?}"
    );
}

#[test]
fn new_release_with_units_and_partial_date_round_trips() {
    let site = Site::valid();
    run_ok(
        &site,
        &[
            "new",
            "release",
            "--artist",
            "Jääkide",
            "--title",
            "Revontulet",
            "--label",
            "nordlicht-tontrager",
            "--format",
            "EP",
            "--tier",
            "silver",
            "--date",
            "2025",
            "--units",
            "20_500",
            "--catalogue",
            "NL-7-12",
        ],
    );
    let rel = "content/releases/jaakide/jaakide-revontulet.toml";
    assert_eq!(
        read(&site, rel),
        "title = \"Revontulet\"\nartists = [\"Jääkide\"]\nlabel = \"nordlicht-tontrager\"\n\
         format = \"ep\"\ncatalogue = \"NL-7-12\"\n\n[[awards]]\ntier = \"silver\"\n\
         date = \"2025\"\nunits = 20_500\n"
    );
    site.check().assert_clean();
}

#[test]
fn new_release_refuses_to_overwrite() {
    let site = Site::valid();
    run_ok(&site, NEW_RELEASE);
    let first = read(&site, POLARNATT);
    let mut args = NEW_RELEASE.to_vec();
    args.extend(["--message-format", "json"]);
    // Same artist and title, other figures: still the same file.
    let date = args.iter().position(|a| *a == "2024-06-01").unwrap();
    args[date] = "2024-07-01";
    let out = run_fails(&site, &args);
    assert_eq!(codes(&out), ["file-exists"]);
    let d = &json_diags(&out)[0];
    assert_eq!(d["file"], POLARNATT);
    assert_eq!(
        d["help"][0],
        "to record an upgrade, add an award to it: `impala-awards new award \
         nordlys-kollektiv-polarnatt-live-i-tromso --tier ... --date ...`"
    );
    assert!(text(&out.stdout).is_empty());
    assert_eq!(read(&site, POLARNATT), first, "the file is untouched");

    // A release of that slug in another folder is the same release.
    let site = Site::valid();
    let moved = "content/releases/other/zoe-brandt-uberall.toml";
    site.write(
        moved,
        read(&site, "content/releases/zoe-brandt/zoe-brandt-uberall.toml"),
    );
    site.remove("content/releases/zoe-brandt/zoe-brandt-uberall.toml");
    let out = run_fails(
        &site,
        &[
            "new",
            "release",
            "--artist",
            "Zoë Brandt",
            "--title",
            "Überall",
            "--label",
            "polar-sound",
            "--format",
            "download",
            "--tier",
            "silver",
            "--date",
            "2021-03",
            "--units",
            "22000",
            "--message-format",
            "json",
        ],
    );
    assert_eq!(codes(&out), ["file-exists"]);
    assert_eq!(json_diags(&out)[0]["file"], moved);
    assert!(
        !site
            .root()
            .join("content/releases/zoe-brandt/zoe-brandt-uberall.toml")
            .exists()
    );
}

#[test]
fn new_release_with_errors_writes_nothing_and_explains() {
    let site = Site::valid();
    let mut args: Vec<&str> = NEW_RELEASE.to_vec();
    let label = args.iter().position(|a| *a == "polar-sound").unwrap();
    args[label] = "polar-sond";
    let tier = args.iter().position(|a| *a == "double-silver").unwrap();
    args[tier] = "gold";
    let out = run_fails(&site, &args);
    assert!(!site.root().join(POLARNATT).exists());
    assert!(text(&out.stdout).is_empty());
    // The diagnostics point into the text that would have been written.
    assert_eq!(
        text(&out.stderr),
        format!(
            r#"error[unknown-label]: unknown label `polar-sond`
 --> {POLARNATT}:3:9
  |
3 | label = "polar-sond"
  |         ^^^^^^^^^^^^ no such label
  |
help: did you mean `polar-sound`?

error[below-threshold]: Impala Gold needs 75,000 units; the shipments add up to 41,500
  --> {POLARNATT}:10:13
   |
 8 | tier = "gold"
   |        ------ tier claimed here
 9 | date = 2024-06-01
10 | shipments = {{ NO = 21_000, DE = 12_500, SE = 8_000 }}
   |             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ 33,500 short
   |
help: DE 12,500 + NO 21,000 + SE 8,000 = 41,500
help: 41,500 units qualify for Impala Double Silver (`tier = "double-silver"`)
note: scale `current` (in force from 2013-01-01): Impala Gold needs 1 x 75,000 gold = 75,000

nothing was written: 2 errors, 0 warnings
"#
        )
    );
}

#[test]
fn new_release_reports_only_its_own_problems() {
    let site = Site::valid();
    // A problem elsewhere in the tree does not block an unrelated record.
    site.write(
        "content/labels/broken.toml",
        "name = \"Broken\"\ncountry = \"XX\"\n",
    );
    let out = run_ok(&site, NEW_RELEASE);
    assert_eq!(
        text(&out.stderr),
        "added release \"Polarnatt: Live i Tromsø\" with its double-silver award\n\
         note: the site already had 1 error elsewhere; `impala-awards check` lists them\n"
    );
}

#[test]
fn new_release_warning_is_shown_and_deny_warnings_refuses() {
    let site = Site::valid();
    let args = [
        "new",
        "release",
        "--artist",
        "Ada Vik",
        "--title",
        "Stille",
        "--label",
        "polar-sound",
        "--format",
        "single",
        "--tier",
        "silver",
        "--date",
        "2024-01-10",
        "--units",
        "45000",
        "--message-format",
        "short",
    ];
    let rel = "content/releases/ada-vik/ada-vik-stille.toml";
    let mut deny = args.to_vec();
    deny.push("--deny-warnings");
    let out = run_fails(&site, &deny);
    assert!(!site.root().join(rel).exists());
    assert_eq!(
        text(&out.stderr),
        format!(
            "{rel}:7:8: error[higher-tier]: 45,000 units already qualify for Impala Double Silver \
             (40,000 needed), above the Impala Silver claimed (help: if the release was awarded \
             Impala Double Silver, write `tier = \"double-silver\"`)\n\
             nothing was written: 1 error, 0 warnings\n"
        )
    );
    let out = run_ok(&site, &args);
    assert!(site.root().join(rel).exists());
    assert!(
        text(&out.stderr).starts_with(&format!("{rel}:7:8: warning[higher-tier]: ")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn new_release_requires_evidence_and_a_known_format() {
    let site = Site::valid();
    let out = site.run(&[
        "new",
        "release",
        "--artist",
        "A",
        "--title",
        "B",
        "--label",
        "polar-sound",
        "--format",
        "album",
        "--tier",
        "silver",
        "--date",
        "2024",
    ]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = text(&out.stderr);
    assert!(err.contains("--units"), "{err}");
    assert!(err.contains("--source"), "{err}");
    let out = site.run(&[
        "new",
        "release",
        "--artist",
        "A",
        "--title",
        "B",
        "--label",
        "polar-sound",
        "--format",
        "albun",
        "--tier",
        "silver",
        "--date",
        "2024",
        "--units",
        "20000",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `album`?"),
        "{}",
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------- new award

#[test]
fn new_award_appends_and_keeps_every_byte() {
    let site = Site::valid();
    let before = read(&site, MORKETID);
    assert!(
        before.contains("# Current scale (2019)"),
        "the fixture has comments"
    );
    let out = run_ok(
        &site,
        &[
            "new",
            "award",
            "nordlys-kollektiv-morketid",
            "--tier",
            "gold",
            "--date",
            "2024-02",
            "--units",
            "76000",
            "--source",
            "https://polarsound.example/news/morketid-gold",
            "--note",
            "Announced at \"by:Larm\".",
        ],
    );
    assert_eq!(
        text(&out.stdout),
        format!("{}\n", site.root().join(MORKETID).display())
    );
    assert_eq!(
        text(&out.stderr),
        "added the gold award of 2024-02 to `nordlys-kollektiv-morketid`\n"
    );
    let after = read(&site, MORKETID);
    assert_eq!(
        after,
        format!(
            "{before}\n[[awards]]\ntier = \"gold\"\ndate = \"2024-02\"\nunits = 76_000\n\
             source = \"https://polarsound.example/news/morketid-gold\"\n\
             note = 'Announced at \"by:Larm\".'\n"
        )
    );
    site.check().assert_clean();
}

#[test]
fn new_award_without_final_newline_or_with_inline_awards() {
    let site = Site::valid();
    let rel = "content/releases/zoe-brandt/zoe-brandt-uberall.toml";
    let before = read(&site, rel);
    let trimmed = before.trim_end();
    site.write(rel, trimmed);
    run_ok(
        &site,
        &[
            "new",
            "award",
            "zoe-brandt-uberall",
            "--tier",
            "double-silver",
            "--date",
            "2022",
            "--units",
            "41000",
        ],
    );
    assert_eq!(
        read(&site, rel),
        format!(
            "{trimmed}\n\n[[awards]]\ntier = \"double-silver\"\ndate = \"2022\"\nunits = 41_000\n"
        )
    );
    site.check().assert_clean();

    // An inline array of awards grows in its own style.
    let inline = "title = \"Überall\"\nartists = [\"Zoë Brandt\"]\nlabel = \"polar-sound\"\n\
                  format = \"download\"\nawards = [\n  { tier = \"silver\", date = \"2021-03\", units = 22_000 },\n]\n";
    site.write(rel, inline);
    run_ok(
        &site,
        &[
            "new",
            "award",
            "zoe-brandt-uberall",
            "--tier",
            "gold",
            "--date",
            "2023-05-05",
            "--units",
            "80000",
        ],
    );
    let after = read(&site, rel);
    assert!(
        after.starts_with(
            "title = \"Überall\"\nartists = [\"Zoë Brandt\"]\nlabel = \"polar-sound\"\n\
             format = \"download\"\nawards = [\n  { tier = \"silver\", date = \"2021-03\", units = 22_000 },"
        ),
        "{after}"
    );
    assert!(
        after.contains("{ tier = \"gold\", date = 2023-05-05, units = 80_000 }"),
        "{after}"
    );
    site.check().assert_clean();
}

#[test]
fn new_award_that_is_not_an_upgrade_is_refused() {
    let site = Site::valid();
    let before = read(&site, MORKETID);
    let out = run_fails(
        &site,
        &[
            "new",
            "award",
            "nordlys-kollektiv-morketid",
            "--tier",
            "silver",
            "--date",
            "2020-01-01",
            "--units",
            "30000",
            "--message-format",
            "json",
        ],
    );
    assert_eq!(codes(&out), ["award-order", "award-order"]);
    let d = json_diags(&out);
    assert_eq!(
        d[0]["message"],
        "an upgrade must reach a higher tier: Impala Silver follows Impala Double Silver"
    );
    assert_eq!(
        d[1]["message"],
        "this award is dated 2020-01-01 but the award before it is dated 2021-06-02"
    );
    // The new table's `tier` and `date`, past the end of the file on disk.
    let lines = before.lines().count();
    assert_eq!(d[0]["line"], lines + 3);
    assert_eq!(d[1]["line"], lines + 4);
    assert_eq!(read(&site, MORKETID), before);
}

#[test]
fn new_award_finds_releases_by_former_slug_and_suggests_slugs() {
    let site = Site::valid();
    let out = run_ok(
        &site,
        &[
            "new",
            "award",
            "nordlys-kollektiv-morketid-deluxe",
            "--tier",
            "gold",
            "--date",
            "2025-05-01",
            "--units",
            "75000",
        ],
    );
    assert_eq!(
        text(&out.stderr),
        "added the gold award of 2025-05-01 to `nordlys-kollektiv-morketid` \
         (`nordlys-kollektiv-morketid-deluxe` is its former slug)\n"
    );
    assert!(read(&site, MORKETID).ends_with("units = 75_000\n"));

    let out = run_fails(
        &site,
        &[
            "new",
            "award",
            "nordlys-kolektiv-morketid",
            "--tier",
            "gold",
            "--date",
            "2025",
            "--units",
            "75000",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(
        text(&out.stderr),
        "error[unknown-release]: no release has the slug `nordlys-kolektiv-morketid` \
         (help: did you mean `nordlys-kollektiv-morketid`?)\nnothing was written: 1 error, 0 warnings\n"
    );
}

// ---------------------------------------------------------------- new label

#[test]
fn new_label_then_a_release_on_it() {
    let site = Site::valid();
    let out = run_ok(
        &site,
        &[
            "new",
            "label",
            "--name",
            "Schallplatten Süd",
            "--country",
            "at",
            "--website",
            "https://sued.example/",
            "--parent",
            "nordlicht-tontrager",
        ],
    );
    let rel = "content/labels/schallplatten-sud.toml";
    assert_eq!(
        text(&out.stdout),
        format!("{}\n", site.root().join(rel).display())
    );
    assert_eq!(
        read(&site, rel),
        "name = \"Schallplatten Süd\"\ncountry = \"AT\"\nwebsite = \"https://sued.example/\"\n\
         parent = \"nordlicht-tontrager\"\n"
    );
    site.check().assert_clean();
    run_ok(
        &site,
        &[
            "new",
            "release",
            "--artist",
            "Wiener Wellen",
            "--title",
            "Donau",
            "--label",
            "schallplatten-sud",
            "--format",
            "single",
            "--tier",
            "silver",
            "--date",
            "2024-03-01",
            "--shipments",
            "AT=15000,DE=6000",
        ],
    );
    site.check().assert_clean();
}

#[test]
fn new_label_problems() {
    let site = Site::valid();
    let out = run_fails(
        &site,
        &[
            "new",
            "label",
            "polar-sound",
            "--name",
            "Polar Sound",
            "--country",
            "NO",
            "--message-format",
            "json",
        ],
    );
    assert_eq!(codes(&out), ["file-exists"]);
    let out = run_fails(
        &site,
        &[
            "new",
            "label",
            "Polar_Sound",
            "--name",
            "X",
            "--country",
            "NO",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(
        text(&out.stderr),
        "error[bad-slug]: `Polar_Sound` is not a valid slug (help: slugs use lowercase a-z, 0-9 \
         and hyphens: `polar-sound`)\nnothing was written: 1 error, 0 warnings\n"
    );
    let out = run_fails(
        &site,
        &[
            "new",
            "label",
            "--name",
            "Kent Records",
            "--country",
            "UK",
            "--message-format",
            "short",
        ],
    );
    assert_eq!(
        text(&out.stderr),
        "content/labels/kent-records.toml:2:11: error[unknown-country]: `UK` is not an ISO \
         3166-1 alpha-2 country code (help: did you mean `GB` (United Kingdom)?)\n\
         nothing was written: 1 error, 0 warnings\n"
    );
    assert!(
        !site
            .root()
            .join("content/labels/kent-records.toml")
            .exists()
    );
}

#[test]
fn new_needs_a_valid_site() {
    let site = Site::valid();
    site.write("site.toml", "title = \"x\"\n");
    let out = run_fails(
        &site,
        &[
            "new",
            "label",
            "--name",
            "X",
            "--country",
            "DE",
            "--message-format",
            "short",
        ],
    );
    let err = text(&out.stderr);
    assert!(err.contains("site.toml:1:1: error[missing-field]"), "{err}");
    assert!(
        err.contains("error[site-invalid]: site.toml has errors: nothing was checked"),
        "{err}"
    );
    assert!(!site.root().join("content/labels/x.toml").exists());
}

// ---------------------------------------------------------------- redirects

/// Builds `site` under a sub-path and returns the output folder.
fn build(site: &Site) -> PathBuf {
    let out = site.root().join("public");
    run_ok(
        site,
        &[
            "build",
            "--output",
            out.to_str().expect("UTF-8 path"),
            "--base-url",
            "https://example.org/awards/",
        ],
    );
    out
}

#[test]
fn aliases_get_redirect_pages() {
    let site = Site::valid();
    // Rename Überall: the old slug becomes an alias.
    let old = "content/releases/zoe-brandt/zoe-brandt-uberall.toml";
    let renamed = read(&site, old).replace(
        "format = \"download\"\n",
        "format = \"download\"\naliases = [\"zoe-brandt-uberall\", \"zoe-brandt-ueberall-2021\"]\n",
    );
    site.remove(old);
    site.write(
        "content/releases/zoe-brandt/zoe-brandt-ueberall.toml",
        renamed,
    );
    site.check().assert_clean();
    let public = build(&site);
    for (alias, target, title) in [
        (
            "nordlys-kollektiv-morketid-deluxe",
            "nordlys-kollektiv-morketid",
            "Mørketid",
        ),
        ("zoe-brandt-uberall", "zoe-brandt-ueberall", "Überall"),
        ("zoe-brandt-ueberall-2021", "zoe-brandt-ueberall", "Überall"),
    ] {
        let page = std::fs::read_to_string(public.join(format!("releases/{alias}/index.html")))
            .unwrap_or_else(|e| panic!("redirect page for {alias}: {e}"));
        let url = format!("/awards/releases/{target}/");
        assert!(
            page.contains(&format!(
                "<meta http-equiv=\"refresh\" content=\"0; url={url}\">"
            )),
            "{page}"
        );
        assert!(
            page.contains(&format!(
                "<link rel=\"canonical\" href=\"https://example.org/awards/releases/{target}/\">"
            )),
            "{page}"
        );
        assert!(
            page.contains("<meta name=\"robots\" content=\"noindex\">"),
            "{page}"
        );
        assert!(
            page.contains(&format!("<a href=\"{url}\">{title}</a>")),
            "{page}"
        );
        // The target is a real page.
        assert!(
            public
                .join(format!("releases/{target}/index.html"))
                .is_file()
        );
    }
    // Redirects are not pages of their own for search engines.
    let sitemap = std::fs::read_to_string(public.join("sitemap.xml")).unwrap_or_default();
    assert!(
        sitemap.contains("releases/zoe-brandt-ueberall/"),
        "{sitemap}"
    );
    assert!(!sitemap.contains("zoe-brandt-uberall/"), "{sitemap}");
    assert!(!sitemap.contains("deluxe"), "{sitemap}");
}

#[test]
fn redirect_titles_are_escaped() {
    let site = Site::valid();
    let rel = "content/releases/zoe-brandt/zoe-brandt-uberall.toml";
    site.write(
        rel,
        read(&site, rel)
            .replace("title = \"Überall\"", "title = \"<Über> & \\\"all\\\"\"")
            .replace(
                "format = \"download\"\n",
                "format = \"download\"\naliases = [\"zoe-brandt-old\"]\n",
            ),
    );
    let public = build(&site);
    let page = std::fs::read_to_string(public.join("releases/zoe-brandt-old/index.html"))
        .expect("redirect page");
    assert!(!page.contains("<Über>"), "{page}");
    assert!(
        page.contains("&lt;Über&gt; &amp; &quot;all&quot;"),
        "{page}"
    );
}

// ---------------------------------------------------------------- JSON Schemas

fn schema_value(name: &str) -> Value {
    let path = repo().join("schemas").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo run -- schema --write`", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::validator_for(&schema_value(name))
        .unwrap_or_else(|e| panic!("{name} is not a valid JSON Schema: {e}"))
}

/// TOML as JSON the way taplo hands it to the schema: dates become their text.
fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::json!(f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

fn toml_json(text: &str) -> Value {
    let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("TOML: {e}\n{text}"));
    toml_to_json(&toml::Value::Table(table))
}

/// The problems `v` finds in `text`, as "path: message" lines.
fn schema_errors(v: &jsonschema::Validator, text: &str) -> Vec<String> {
    let json = toml_json(text);
    v.iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Every `.toml` file below `dir`, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

#[test]
fn committed_schemas_are_what_the_code_generates() {
    let text = std::fs::read_to_string(repo().join("site.toml")).expect("site.toml");
    let mut diags = Vec::new();
    let config = impala_awards::config::parse(&text, Path::new("site.toml"), &mut diags)
        .unwrap_or_else(|| panic!("the repository's site.toml is invalid: {diags:?}"));
    let generated = impala_awards::schema::generate(Some(&config));
    let names: Vec<&str> = generated.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "site.schema.json",
            "label.schema.json",
            "release.schema.json"
        ]
    );
    for (name, text) in &generated {
        let committed =
            std::fs::read_to_string(repo().join("schemas").join(name)).unwrap_or_default();
        assert!(
            committed == *text,
            "schemas/{name} is stale: run `cargo run -- schema --write` and commit it"
        );
    }
}

#[test]
fn every_record_validates_against_its_schema() {
    let site = validator("site.schema.json");
    let label = validator("label.schema.json");
    let release = validator("release.schema.json");
    let mut counts = Vec::new();
    for root in [repo().to_path_buf(), common::valid_fixture()] {
        let mut n = 0;
        let mut check = |v: &jsonschema::Validator, file: &Path| {
            let text = std::fs::read_to_string(file).expect("read record");
            let errors = schema_errors(v, &text);
            assert!(
                errors.is_empty(),
                "{}:\n{}",
                file.display(),
                errors.join("\n")
            );
            n += 1;
        };
        check(&site, &root.join("site.toml"));
        for f in toml_files(&root.join("content/labels")) {
            check(&label, &f);
        }
        for f in toml_files(&root.join("content/releases")) {
            check(&release, &f);
        }
        counts.push(n);
    }
    // The shipped site and the fixture both have records to validate.
    assert!(counts[0] > 20, "{counts:?}");
    assert_eq!(counts[1], 1 + 4 + 7, "{counts:?}");
}

#[test]
fn schemas_catch_what_editors_get_wrong() {
    let release = validator("release.schema.json");
    let good = std::fs::read_to_string(common::valid_fixture().join(MORKETID)).expect("fixture");
    assert_eq!(schema_errors(&release, &good), Vec::<String>::new());
    let bad = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        schema_errors(&release, &good.replacen(from, to, 1))
    };
    let one = |errors: Vec<String>, path: &str, needle: &str| {
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(path) && e.contains(needle)),
            "expected {path} / {needle} in {errors:#?}"
        );
    };
    one(
        bad("format = \"album\"", "format = \"albun\""),
        "/format",
        "albun",
    );
    one(
        bad("tier = \"silver\"", "tier = \"glod\""),
        "/awards/0/tier",
        "glod",
    );
    one(
        bad("date = 2019-03-14", "date = \"2019-13\""),
        "/awards/0/date",
        "does not match",
    );
    one(
        bad("units = 23_500", "units = 0"),
        "/awards/0/units",
        "minimum",
    );
    one(
        bad("units = 23_500", "units = \"23,500\""),
        "/awards/0/units",
        "integer",
    );
    one(
        bad("shipments = {", "shipment = {"),
        "/awards/0",
        "shipment",
    );
    one(bad("NO = 9_000", "no = 9_000"), "/awards/0/shipments", "no");
    one(bad("catalogue = ", "catalog = "), "", "catalog");
    one(
        bad(
            "artists = [\"Nordlys Kollektiv\", \"Ada Vik\"]",
            "artists = []",
        ),
        "/artists",
        "",
    );
    one(
        bad(
            "https://polarsound.example/news/morketid-impala-silver",
            "polarsound.example",
        ),
        "/awards/0/source",
        "does not match",
    );
    one(
        bad(
            "aliases = [\"nordlys-kollektiv-morketid-deluxe\"]",
            "aliases = [\"Mørketid Deluxe\"]",
        ),
        "/aliases/0",
        "does not match",
    );
    // An award needs units, shipments or a source.
    let bare = "title = \"T\"\nartists = [\"A\"]\nlabel = \"l\"\nformat = \"single\"\n\n\
                [[awards]]\ntier = \"silver\"\ndate = \"2010\"\n";
    assert!(!schema_errors(&release, bare).is_empty());
    assert!(
        schema_errors(
            &release,
            &format!("{bare}source = \"https://x.example/\"\n")
        )
        .is_empty()
    );
    // And a release needs an award.
    assert!(
        !schema_errors(
            &release,
            "title = \"T\"\nartists = [\"A\"]\nlabel = \"l\"\nformat = \"ep\"\n"
        )
        .is_empty()
    );

    let label = validator("label.schema.json");
    assert!(schema_errors(&label, "name = \"X\"\ncountry = \"DE\"\n").is_empty());
    one(
        schema_errors(&label, "name = \"X\"\ncountry = \"UK\"\n"),
        "/country",
        "UK",
    );
    one(
        schema_errors(
            &label,
            "name = \"X\"\ncountry = \"DE\"\nparent = \"Polar Sound\"\n",
        ),
        "/parent",
        "",
    );

    let site = validator("site.schema.json");
    let minimal = "title = \"T\"\nbase_url = \"https://x.example/\"\ncountries = [\"DE\"]\n\
                   [[scales]]\nid = \"current\"\nfrom = 2013-01-01\nlevels = { silver = 20_000 }\n";
    assert_eq!(
        schema_errors(&site, minimal),
        Vec::<String>::new(),
        "only title, base_url, countries and scales are required"
    );
    one(
        schema_errors(&site, &minimal.replace("2013-01-01", "\"2013\"")),
        "/scales/0/from",
        "",
    );
    one(
        schema_errors(&site, &format!("lang = \"en\"\n{minimal}")),
        "",
        "lang",
    );
    assert!(!schema_errors(&site, &minimal.replace("title = \"T\"\n", "")).is_empty());
}

#[test]
fn schema_command_reports_and_rewrites_stale_files() {
    let site = Site::valid();
    let out = run_fails(&site, &["schema"]);
    assert_eq!(
        text(&out.stderr),
        "error: schemas/site.schema.json (missing), schemas/label.schema.json (missing), \
         schemas/release.schema.json (missing)\n\
         help: run `impala-awards schema --write` and commit the result\n"
    );
    let out = run_ok(&site, &["schema", "--write"]);
    assert_eq!(
        text(&out.stderr),
        "wrote schemas/site.schema.json, schemas/label.schema.json, schemas/release.schema.json\n"
    );
    // The fixture has the repository's tiers and scales, hence the same schemas.
    for name in [
        "site.schema.json",
        "label.schema.json",
        "release.schema.json",
    ] {
        assert_eq!(
            read(&site, &format!("schemas/{name}")),
            std::fs::read_to_string(repo().join("schemas").join(name)).unwrap_or_default(),
            "{name}"
        );
    }
    run_ok(&site, &["schema"]);
    // A site with its own tiers gets them in its schema.
    let with_tiers = format!(
        "{}\n[[tiers]]\nid = \"bronze\"\nname = \"Impala Bronze\"\nlevel = \"silver\"\n",
        read(&site, "site.toml")
    );
    site.write("site.toml", with_tiers);
    let out = run_fails(&site, &["schema"]);
    assert!(
        text(&out.stderr).starts_with("error: schemas/release.schema.json (stale)\n"),
        "{}",
        text(&out.stderr)
    );
    run_ok(&site, &["schema", "--write"]);
    let release: Value =
        serde_json::from_str(&read(&site, "schemas/release.schema.json")).expect("JSON");
    assert_eq!(
        release.pointer("/properties/awards/items/properties/tier/enum"),
        Some(&serde_json::json!(["bronze"]))
    );
}

// ---------------------------------------------------------------- taplo (Even Better TOML)

/// The taplo CLI installed by `.ci/run` (`npm ci --prefix tests/taplo`).
fn taplo() -> PathBuf {
    let bin = repo().join("tests/taplo/node_modules/.bin/taplo");
    assert!(
        bin.exists(),
        "taplo is not installed: run `npm ci --prefix tests/taplo` (as .ci/run does)"
    );
    bin
}

fn run_taplo(dir: &Path) -> Output {
    Command::new(taplo())
        .arg("check")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "error")
        .output()
        .expect("run taplo")
}

#[test]
fn taplo_checks_the_records_with_the_schemas() {
    // The repository as an editor opens it: every record passes.
    let out = run_taplo(repo());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A copy with mistakes: taplo maps each file to its schema and flags them.
    let dir = tempfile::tempdir().expect("temp dir");
    for f in [
        ".taplo.toml",
        "schemas/site.schema.json",
        "schemas/label.schema.json",
        "schemas/release.schema.json",
    ] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(repo().join(f), &to).expect("copy");
    }
    common::copy_tree(&common::valid_fixture(), dir.path());
    let release = dir.path().join(MORKETID);
    let good = std::fs::read_to_string(&release).expect("read");
    std::fs::write(
        &release,
        good.replace("tier = \"silver\"", "tier = \"glod\""),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("content/labels/kent.toml"),
        "name = \"Kent\"\ncountry = \"GB\"\nwebsit = \"https://kent.example/\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("site.toml"),
        std::fs::read_to_string(dir.path().join("site.toml")).expect("read")
            + "\nlanguages = [\"en\"]\n",
    )
    .expect("write");
    let out = run_taplo(dir.path());
    let err = text(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("\"glod\" is not one of"), "{err}");
    assert!(err.contains("'websit' was unexpected"), "{err}");
    assert!(err.contains("'languages' was unexpected"), "{err}");
    for f in ["nordlys-kollektiv-morketid.toml", "kent.toml", "site.toml"] {
        assert!(err.contains(f), "{f} is flagged: {err}");
    }
}

// ---------------------------------------------------------------- CI templates and the hook

/// The arguments after `cargo run --release --locked --` (or `--profile quick`, the
/// release profile without LTO) on each `run:` line of a workflow.
fn workflow_commands(file: &str) -> Vec<Vec<String>> {
    let yaml = std::fs::read_to_string(repo().join(file)).expect("workflow");
    yaml.lines()
        .filter_map(|l| {
            l.split_once("cargo run --release --locked -- ")
                .or_else(|| l.split_once("cargo run --profile quick --locked -- "))
        })
        .map(|(_, args)| args.split_whitespace().map(str::to_string).collect())
        .collect()
}

#[test]
fn the_check_workflow_runs_a_command_that_annotates_pull_requests() {
    let check =
        std::fs::read_to_string(repo().join(".github/workflows/check.yml")).expect("check.yml");
    assert!(check.contains("\non:\n  pull_request:\n"), "{check}");
    if check.contains("--profile quick") {
        let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
        assert!(
            manifest.contains("[profile.quick]\ninherits = \"release\""),
            "the profile check.yml uses is defined: {manifest}"
        );
    }
    let commands = workflow_commands(".github/workflows/check.yml");
    assert_eq!(
        commands,
        [
            vec!["check", "--message-format", "github", "--deny-warnings"],
            vec!["schema"],
        ]
    );
    // The same command on a clean tree passes...
    let site = Site::valid();
    site.run(&["schema", "--write"]);
    let args: Vec<&str> = commands[0].iter().map(String::as_str).collect();
    run_ok(&site, &args);
    run_ok(&site, &["schema"]);
    // ...and on a pull request with a mistake, annotates its line and fails.
    site.write(
        MORKETID,
        read(&site, MORKETID).replace("tier = \"silver\"", "tier = \"glod\""),
    );
    let out = run_fails(&site, &args);
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "::error file={MORKETID},line=16,col=8,endLine=16,endColumn=14,title=unknown-tier::unknown tier `glod`"
        )),
        "{err}"
    );
    // A warning fails the check too.
    let site = Site::valid();
    site.write(
        MORKETID,
        read(&site, MORKETID)
            .replace("units = 23_500", "units = 41_000")
            .replace("NO = 9_000", "NO = 26_500"),
    );
    let out = run_fails(&site, &args);
    assert!(
        text(&out.stderr).starts_with("::error file="),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("title=higher-tier"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_publish_workflow_builds_for_the_pages_address() {
    let publish =
        std::fs::read_to_string(repo().join(".github/workflows/publish.yml")).expect("publish.yml");
    assert!(
        publish.contains("\non:\n  push:\n    branches: [main]\n"),
        "{publish}"
    );
    for needle in [
        "actions/configure-pages@",
        "BASE_URL: ${{ steps.pages.outputs.base_url }}",
        "actions/upload-pages-artifact@",
        "path: public",
        "actions/deploy-pages@",
        "pages: write",
        "id-token: write",
        // The search index cache the build keeps beside `public`.
        "actions/cache@",
        "path: .public.search-cache",
    ] {
        assert!(publish.contains(needle), "{needle}");
    }
    let commands = workflow_commands(".github/workflows/publish.yml");
    assert_eq!(commands.len(), 1);
    // Pages gives the address without a trailing slash.
    let site = Site::valid();
    let args: Vec<String> = commands[0]
        .iter()
        .map(|a| {
            a.replace("\"$BASE_URL/\"", "https://impala.github.io/awards/")
                .replace("public", site.root().join("out").to_str().expect("UTF-8"))
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(args[0], "build");
    run_ok(&site, &args);
    let home = std::fs::read_to_string(site.root().join("out/index.html")).expect("home page");
    assert!(
        home.contains("href=\"/awards/labels/\""),
        "links work under the sub-path"
    );
    assert!(
        home.contains("https://impala.github.io/awards/"),
        "absolute URLs use the Pages address"
    );
}

/// `git` in `dir`, isolated from the user's configuration.
fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args([
            "-c",
            "user.name=Editor",
            "-c",
            "user.email=editor@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("IMPALA_AWARDS", env!("CARGO_BIN_EXE_impala-awards"))
        .env("SOURCE_DATE_EPOCH", common::SOURCE_DATE_EPOCH)
        .env("NO_COLOR", "1")
        .output()
        .expect("run git")
}

#[test]
fn the_pre_commit_hook_checks_what_is_staged() {
    let site = Site::valid();
    let dir = site.root();
    site.write(
        "hooks/pre-commit",
        std::fs::read(repo().join("hooks/pre-commit")).expect("hook"),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("hooks/pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }
    assert!(git(dir, &["init", "-q", "-b", "main"]).status.success());
    assert!(
        git(dir, &["config", "core.hooksPath", "hooks"])
            .status
            .success()
    );
    assert!(git(dir, &["add", "."]).status.success());
    let first = git(dir, &["commit", "-q", "-m", "the fixture"]);
    assert!(first.status.success(), "{}", text(&first.stderr));

    // A broken record is refused, with the diagnostic.
    let good = read(&site, MORKETID);
    site.write(
        MORKETID,
        good.replace("label = \"polar-sound\"", "label = \"polar-sond\""),
    );
    assert!(git(dir, &["add", MORKETID]).status.success());
    let out = git(dir, &["commit", "-q", "-m", "typo"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("error[unknown-label]: unknown label `polar-sond`"),
        "{err}"
    );
    assert!(
        err.contains(&format!("--> {MORKETID}:4:9")),
        "paths are the repository's: {err}"
    );
    assert!(err.contains("help: did you mean `polar-sound`?"), "{err}");
    assert!(
        err.contains("pre-commit: the staged records have problems"),
        "{err}"
    );
    let log = git(dir, &["log", "--oneline"]);
    assert_eq!(
        text(&log.stdout).lines().count(),
        1,
        "nothing was committed"
    );

    // Fixed in the working tree but not staged: still refused.
    site.write(MORKETID, &good);
    assert!(!git(dir, &["commit", "-q", "-m", "typo"]).status.success());
    // Staged: accepted.
    assert!(git(dir, &["add", MORKETID]).status.success());
    let out = git(
        dir,
        &["commit", "-q", "-m", "nothing to do", "--allow-empty"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A broken file that is not staged does not block a good commit.
    site.write(
        MORKETID,
        good.replace("label = \"polar-sound\"", "label = \"polar-sond\""),
    );
    site.write(
        "content/labels/new-label.toml",
        "name = \"New Label\"\ncountry = \"DE\"\n",
    );
    assert!(
        git(dir, &["add", "content/labels/new-label.toml"])
            .status
            .success()
    );
    let out = git(dir, &["commit", "-q", "-m", "a label"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Commits that do not touch the records are not checked.
    site.write("notes.txt", "x");
    assert!(git(dir, &["add", "notes.txt"]).status.success());
    let out = git(dir, &["commit", "-q", "-m", "notes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

// ---------------------------------------------------------------- diagnostics, exactly as printed

const STILLE: &str = "content/releases/ada-vik/ada-vik-stille.toml";

/// A tree with one problem of several kinds: a TOML syntax error, an unknown
/// label, an unknown key, units below the threshold and a higher tier reached.
fn problems() -> Site {
    let site = Site::valid();
    site.write(
        STILLE,
        r#"title = "Stille"
artists = ["Ada Vik"]
label = "polar-sond"
format = "single"
released = 2023-09-01
catalog = "PSR-020"

[[awards]]
tier = "silver"
date = 2024-01-10
units = 19_500

[[awards]]
tier = "gold"
date = 2024-06-01
shipments = { NO = 82_000, SE = 30_000, DE = 40_000 }
"#,
    );
    site.write(
        "content/labels/broken.toml",
        "name = \"Broken\ncountry = \"NO\"\n",
    );
    site
}

const SUMMARY: &str = "checked 8 releases, 12 awards, 4 labels: 4 errors, 1 warning\n";

fn check_output(format: &str) -> String {
    let out = run_fails(&problems(), &["check", "--message-format", format]);
    text(&out.stderr)
}

#[test]
fn diagnostics_human() {
    assert_eq!(
        check_output("human"),
        format!(
            r#"error[toml-syntax]: invalid TOML: invalid basic string, expected `"`
 --> content/labels/broken.toml:1:15
  |
1 | name = "Broken
  |               ^
  |
help: see https://toml.io for the syntax; strings need double quotes

error[unknown-label]: unknown label `polar-sond`
 --> {STILLE}:3:9
  |
3 | label = "polar-sond"
  |         ^^^^^^^^^^^^ no such label
  |
help: did you mean `polar-sound`?

error[unknown-key]: unknown key `catalog` in release
 --> {STILLE}:6:1
  |
6 | catalog = "PSR-020"
  | ^^^^^^^ not a known key
  |
help: did you mean `catalogue`?
note: a release may have: title, artists, credit, label, format, released, catalogue, notes, aliases, awards

error[below-threshold]: Impala Silver needs 20,000 units; `units` is 19,500
  --> {STILLE}:11:9
   |
 9 | tier = "silver"
   |        -------- tier claimed here
10 | date = 2024-01-10
11 | units = 19_500
   |         ^^^^^^ 500 short
   |
note: scale `current` (in force from 2013-01-01): Impala Silver needs 1 x 20,000 silver = 20,000

warning[higher-tier]: 152,000 units already qualify for Impala Double Gold (150,000 needed), above the Impala Gold claimed
  --> {STILLE}:14:8
   |
14 | tier = "gold"
   |        ^^^^^^ a higher tier is reached
   |
help: if the release was awarded Impala Double Gold, write `tier = "double-gold"`
note: DE 40,000 + NO 82,000 + SE 30,000 = 152,000
note: scale `current` (in force from 2013-01-01): Impala Double Gold needs 2 x 75,000 gold = 150,000

{SUMMARY}"#
        )
    );
}

#[test]
fn diagnostics_short() {
    assert_eq!(
        check_output("short"),
        format!(
            "content/labels/broken.toml:1:15: error[toml-syntax]: invalid TOML: invalid basic string, expected `\"` (help: see https://toml.io for the syntax; strings need double quotes)
{STILLE}:3:9: error[unknown-label]: unknown label `polar-sond` (help: did you mean `polar-sound`?)
{STILLE}:6:1: error[unknown-key]: unknown key `catalog` in release (help: did you mean `catalogue`?)
{STILLE}:11:9: error[below-threshold]: Impala Silver needs 20,000 units; `units` is 19,500
{STILLE}:14:8: warning[higher-tier]: 152,000 units already qualify for Impala Double Gold (150,000 needed), above the Impala Gold claimed (help: if the release was awarded Impala Double Gold, write `tier = \"double-gold\"`)
{SUMMARY}"
        )
    );
}

#[test]
fn diagnostics_json() {
    assert_eq!(
        check_output("json"),
        format!(
            r#"{{"severity":"error","code":"toml-syntax","message":"invalid TOML: invalid basic string, expected `\"`","file":"content/labels/broken.toml","line":1,"column":15,"end_line":1,"end_column":15,"label":null,"help":["see https://toml.io for the syntax; strings need double quotes"],"notes":[]}}
{{"severity":"error","code":"unknown-label","message":"unknown label `polar-sond`","file":"{STILLE}","line":3,"column":9,"end_line":3,"end_column":21,"label":"no such label","help":["did you mean `polar-sound`?"],"notes":[]}}
{{"severity":"error","code":"unknown-key","message":"unknown key `catalog` in release","file":"{STILLE}","line":6,"column":1,"end_line":6,"end_column":8,"label":"not a known key","help":["did you mean `catalogue`?"],"notes":["a release may have: title, artists, credit, label, format, released, catalogue, notes, aliases, awards"]}}
{{"severity":"error","code":"below-threshold","message":"Impala Silver needs 20,000 units; `units` is 19,500","file":"{STILLE}","line":11,"column":9,"end_line":11,"end_column":15,"label":"500 short","help":[],"notes":["scale `current` (in force from 2013-01-01): Impala Silver needs 1 x 20,000 silver = 20,000"]}}
{{"severity":"warning","code":"higher-tier","message":"152,000 units already qualify for Impala Double Gold (150,000 needed), above the Impala Gold claimed","file":"{STILLE}","line":14,"column":8,"end_line":14,"end_column":14,"label":"a higher tier is reached","help":["if the release was awarded Impala Double Gold, write `tier = \"double-gold\"`"],"notes":["DE 40,000 + NO 82,000 + SE 30,000 = 152,000","scale `current` (in force from 2013-01-01): Impala Double Gold needs 2 x 75,000 gold = 150,000"]}}
{SUMMARY}"#
        )
    );
}

#[test]
fn diagnostics_github() {
    assert_eq!(
        check_output("github"),
        format!(
            "::error file=content/labels/broken.toml,line=1,col=15,endLine=1,endColumn=15,title=toml-syntax::invalid TOML: invalid basic string, expected `\"`%0Ahelp: see https://toml.io for the syntax; strings need double quotes
::error file={STILLE},line=3,col=9,endLine=3,endColumn=21,title=unknown-label::unknown label `polar-sond`: no such label%0Ahelp: did you mean `polar-sound`?
::error file={STILLE},line=6,col=1,endLine=6,endColumn=8,title=unknown-key::unknown key `catalog` in release: not a known key%0Ahelp: did you mean `catalogue`?%0Anote: a release may have: title, artists, credit, label, format, released, catalogue, notes, aliases, awards
::error file={STILLE},line=11,col=9,endLine=11,endColumn=15,title=below-threshold::Impala Silver needs 20,000 units; `units` is 19,500: 500 short%0Anote: scale `current` (in force from 2013-01-01): Impala Silver needs 1 x 20,000 silver = 20,000
::warning file={STILLE},line=14,col=8,endLine=14,endColumn=14,title=higher-tier::152,000 units already qualify for Impala Double Gold (150,000 needed), above the Impala Gold claimed: a higher tier is reached%0Ahelp: if the release was awarded Impala Double Gold, write `tier = \"double-gold\"`%0Anote: DE 40,000 + NO 82,000 + SE 30,000 = 152,000%0Anote: scale `current` (in force from 2013-01-01): Impala Double Gold needs 2 x 75,000 gold = 150,000
{SUMMARY}"
        )
    );
}

/// `check` in human format with `env`, on a terminal (`script` gives it one) or piped.
fn human_check(site: &Site, terminal: bool, env: &[(&str, &str)]) -> String {
    let bin = env!("CARGO_BIN_EXE_impala-awards");
    let root = site.root().to_str().expect("UTF-8 path");
    let mut cmd = if terminal {
        let mut c = Command::new("script");
        c.args([
            "-qec",
            &format!("'{bin}' check --root '{root}'"),
            "/dev/null",
        ]);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(["check", "--root", root]);
        c
    };
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("SOURCE_DATE_EPOCH", common::SOURCE_DATE_EPOCH);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("run (is `script` from util-linux installed?)");
    // `script` relays the terminal, where stderr and stdout meet.
    text(&out.stdout) + &text(&out.stderr)
}

#[test]
fn colour_only_on_a_terminal() {
    let site = problems();
    const ESC: char = '\u{1b}';
    let tty = human_check(&site, true, &[]);
    assert!(
        tty.contains("\u{1b}[1m\u{1b}[91merror[unknown-label]"),
        "{tty:?}"
    );
    assert!(!human_check(&site, false, &[]).contains(ESC));
    assert!(!human_check(&site, true, &[("NO_COLOR", "1")]).contains(ESC));
    // A CI log that shows colours can ask for them.
    assert!(human_check(&site, false, &[("CLICOLOR_FORCE", "1")]).contains(ESC));
    // Other formats are for tools: never coloured.
    let out = Command::new("script")
        .args([
            "-qec",
            &format!(
                "'{}' check --message-format short --root '{}'",
                env!("CARGO_BIN_EXE_impala-awards"),
                site.root().display()
            ),
            "/dev/null",
        ])
        .env_remove("NO_COLOR")
        .output()
        .expect("run script");
    assert!(!text(&out.stdout).contains(ESC), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("error[unknown-label]"));
}

// ---------------------------------------------------------------- docs/editing.md

/// A fenced block of a Markdown file: its info string and text.
#[derive(Debug)]
struct Block {
    info: String,
    body: String,
    /// 1-based line of the opening fence, for messages.
    line: usize,
}

fn fenced_blocks(md: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    body: String::new(),
                    line: i + 1,
                });
            }
            (Some(_), Some("")) => blocks.extend(open.take()),
            (Some(b), _) => {
                b.body.push_str(line);
                b.body.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed code block");
    blocks
}

fn editing_guide() -> String {
    std::fs::read_to_string(repo().join("docs/editing.md")).expect("docs/editing.md")
}

/// What a snippet does to the fixture: the file it replaces, or appends to.
struct Snippet<'a> {
    path: String,
    append: bool,
    /// The file name this one replaces, in the same folder.
    renamed_from: Option<String>,
    text: &'a str,
    /// (severity, code) of each `# error: code` / `# warning: code` comment.
    expected: Vec<(String, String)>,
}

fn snippet(block: &Block) -> Option<Snippet<'_>> {
    let attr = |name: &str| {
        block
            .info
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
    };
    if block.info.starts_with("markdown") {
        let path = attr("file")?;
        let expected = attr("expect")
            .map(|c| vec![("error".to_string(), c)])
            .unwrap_or_default();
        return Some(Snippet {
            path,
            append: false,
            renamed_from: None,
            text: &block.body,
            expected,
        });
    }
    if block.info != "toml" {
        return None;
    }
    let first = block.body.lines().next().unwrap_or_default();
    let path = first.strip_prefix("# ").unwrap_or_else(|| {
        panic!(
            "docs/editing.md:{}: a TOML example starts with a comment naming its file",
            block.line
        )
    });
    let (path, append) = match path.strip_suffix(" (end of the file)") {
        Some(p) => (p.to_string(), true),
        None => (path.to_string(), false),
    };
    // "# content/releases/a/new.toml (renamed from old.toml)": the old file goes.
    let (path, renamed_from) = match path.split_once(" (renamed from ") {
        Some((p, old)) => (p.to_string(), Some(old.trim_end_matches(')').to_string())),
        None => (path, None),
    };
    let mut expected = Vec::new();
    for line in block.body.lines() {
        for severity in ["error", "warning"] {
            if let Some((_, code)) = line.split_once(&format!("# {severity}: ")) {
                expected.push((severity.to_string(), code.trim().to_string()));
            }
        }
    }
    let text = if append {
        block.body.split_once('\n').map_or("", |(_, rest)| rest)
    } else {
        &block.body
    };
    Some(Snippet {
        path,
        append,
        renamed_from,
        text,
        expected,
    })
}

fn apply(site: &Site, s: &Snippet<'_>) {
    if let Some(old) = &s.renamed_from {
        let dir = Path::new(&s.path).parent().expect("a folder");
        site.remove(dir.join(old).to_str().expect("UTF-8"));
    }
    if s.append {
        let before = read(site, &s.path);
        site.write(&s.path, before + s.text);
    } else {
        site.write(&s.path, s.text);
    }
}

/// Sets up a situation no snippet can show (`text scenario=NAME`).
fn scenario(site: &Site, name: &str) {
    match name {
        "not-utf8" => {
            site.write(
                "content/labels/disques-eclat.toml",
                b"name = \"Disques \xc9clat\"\ncountry = \"FR\"\n",
            );
        }
        other => panic!("docs/editing.md names an unknown scenario `{other}`"),
    }
}

#[test]
fn editing_guide_examples_check_as_marked() {
    let md = editing_guide();
    let blocks = fenced_blocks(&md);
    let mut snippets = 0;
    let mut broken = 0;
    let mut messages = 0;
    for (i, block) in blocks.iter().enumerate() {
        let next = blocks.get(i + 1).filter(|b| b.info == "text");
        if block.info.starts_with("text scenario=") {
            let site = Site::valid();
            scenario(&site, block.info.trim_start_matches("text scenario="));
            let out = site.run(&["check"]);
            assert!(
                text(&out.stderr).contains(block.body.trim_end()),
                "docs/editing.md:{}: the message differs:\n{}",
                block.line,
                text(&out.stderr)
            );
            messages += 1;
            continue;
        }
        let Some(s) = snippet(block) else { continue };
        snippets += 1;
        let site = Site::valid();
        apply(&site, &s);
        let checked = site.check();
        let mut found: Vec<(String, String)> = checked
            .diags
            .iter()
            .map(|d| (d.severity.clone(), d.code.clone()))
            .collect();
        found.sort();
        found.dedup();
        let mut expected = s.expected.clone();
        expected.sort();
        expected.dedup();
        assert_eq!(
            found, expected,
            "docs/editing.md:{}: the example should report exactly what its comments say\n{checked:?}",
            block.line
        );
        if expected.is_empty() {
            checked.assert_clean();
        } else {
            broken += 1;
        }
        // The message shown after an example is what `check` prints for it.
        if let Some(shown) = next.filter(|b| !b.info.contains("scenario=")) {
            let human = text(&site.run(&["check"]).stderr);
            assert!(
                human.contains(shown.body.trim_end()),
                "docs/editing.md:{}: the message shown differs from what `check` prints:\n{human}",
                shown.line
            );
            messages += 1;
        }
    }
    assert!(snippets >= 45, "{snippets} examples");
    assert!(broken >= 40, "{broken} broken examples");
    assert!(messages >= 40, "{messages} messages");
}

/// Every diagnostic code the generator can print (test modules left out).
fn all_codes() -> std::collections::BTreeSet<String> {
    let mut codes = std::collections::BTreeSet::new();
    for entry in walkdir::WalkDir::new(repo().join("src")) {
        let entry = entry.expect("walk src");
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(entry.path()).expect("read source");
        let source = source.split("#[cfg(test)]").next().unwrap_or_default();
        for part in source.split("Diagnostic::").skip(1) {
            let Some(rest) = part
                .strip_prefix("error(")
                .or_else(|| part.strip_prefix("warning("))
            else {
                continue;
            };
            let rest = rest.trim_start();
            if let Some((code, _)) = rest.strip_prefix('"').and_then(|l| l.split_once('"')) {
                codes.insert(code.to_string());
            }
        }
    }
    codes
}

#[test]
fn editing_guide_covers_every_diagnostic_code() {
    let md = editing_guide();
    let codes = all_codes();
    assert!(codes.len() > 40, "{codes:?}");
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !md.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/editing.md has no section on {missing:?}"
    );
}

/// Splits a command line as a shell would (quotes, no expansions).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    assert!(quote.is_none(), "unclosed quote in {line}");
    words.extend(word);
    words
}

#[test]
fn editing_guide_commands_print_what_it_shows() {
    let md = editing_guide();
    let blocks = fenced_blocks(&md);
    // The commands run one after the other in one site, as an editor would.
    let site = Site::valid();
    let mut commands = 0;
    for block in blocks.iter().filter(|b| b.info == "console") {
        let mut lines = block.body.lines().peekable();
        while let Some(line) = lines.next() {
            let cmd = line.strip_prefix("$ ").unwrap_or_else(|| {
                panic!("docs/editing.md:{}: expected a `$ ` command", block.line)
            });
            let mut expected = String::new();
            while let Some(l) = lines.next_if(|l| !l.starts_with("$ ")) {
                expected.push_str(l);
                expected.push('\n');
            }
            let words = shell_words(cmd);
            assert_eq!(words[0], "impala-awards", "{cmd}");
            let out = Command::new(env!("CARGO_BIN_EXE_impala-awards"))
                .args(&words[1..])
                .current_dir(site.root())
                .env("SOURCE_DATE_EPOCH", common::SOURCE_DATE_EPOCH)
                .env("NO_COLOR", "1")
                .output()
                .expect("run impala-awards");
            assert_eq!(
                text(&out.stdout) + &text(&out.stderr),
                expected,
                "docs/editing.md:{}: {cmd}",
                block.line
            );
            commands += 1;
        }
    }
    assert!(commands >= 4, "{commands} commands");
    // "By hand" examples of what a command wrote are exactly what it wrote.
    let mut compared = 0;
    for block in &blocks {
        let Some(s) = snippet(block) else { continue };
        if s.append || !s.expected.is_empty() || common::valid_fixture().join(&s.path).exists() {
            continue;
        }
        let Ok(written) = std::fs::read_to_string(site.root().join(&s.path)) else {
            continue;
        };
        let by_hand = s.text.split_once('\n').map_or("", |(_, rest)| rest);
        assert_eq!(written, by_hand, "docs/editing.md:{}", block.line);
        compared += 1;
    }
    assert_eq!(compared, 2, "the release and the label written by `new`");
    site.check().assert_clean();
}

#[test]
fn records_reference_examples_match_the_schemas() {
    let md = std::fs::read_to_string(repo().join("docs/records.md")).expect("docs/records.md");
    let site = validator("site.schema.json");
    let label = validator("label.schema.json");
    let release = validator("release.schema.json");
    let mut seen = [0; 3];
    for block in fenced_blocks(&md).iter().filter(|b| b.info == "toml") {
        let json = toml_json(&block.body);
        let (i, v) = if json.get("base_url").is_some() {
            (0, &site)
        } else if json.get("country").is_some() {
            (1, &label)
        } else if json.get("artists").is_some() {
            (2, &release)
        } else {
            continue; // an `[[awards]]` excerpt
        };
        let errors: Vec<String> = v.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "docs/records.md:{}: {errors:?}",
            block.line
        );
        seen[i] += 1;
    }
    assert_eq!(seen, [1, 2, 1]);
}
