//! Quality gates on whole builds of the fixture site, as outside tools see them:
//! the Nu HTML Checker (vnu.jar on Java) reports no error on any page or on the
//! stylesheet; axe-core in headless Chromium finds no violation on any page kind
//! at desktop and phone widths; every internal link of the pages, feeds, sitemap,
//! robots.txt and data files resolves to a file of the build, at the root and
//! under a sub-path; every Atom feed is well formed; and the sitemap (and a
//! sitemap index) validates against the sitemaps.org 0.9 schema with xmllint.
//!
//! The tools come from Debian (java, chromium, xmllint) and from npm in
//! tests/browser (vnu-jar, axe-core, playwright-core, sitemap); `.ci/run`
//! installs them. A missing tool skips its check with a loud message, except
//! under `CI=true`, where it is a failure.

mod common;
mod html;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Site;
use common::browser::{Server, chromium, npm_dir, run_bounded, run_node, under_ci};

/// The fixture's own `base_url` (tests/fixtures/valid/site.toml).
const ROOT_URL: &str = "https://awards.example.org/";
/// The sub-path variant, passed with `--base-url`.
const SUB_URL: &str = "https://example.org/awards/";
const ATOM: &str = "http://www.w3.org/2005/Atom";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

// ---------------------------------------------------------------------------
// Builds and tools.

/// A build of the valid fixture into `<copy>/public`; the copy lives as long as this.
struct Build {
    site: Site,
    /// The absolute address the site is built for, ending in '/'.
    base_url: &'static str,
    /// Its path part: "/" or "/awards/".
    base: String,
}

impl Build {
    /// Builds at the fixture's own address, or at `base_url`.
    fn new(base_url: Option<&'static str>) -> Build {
        let site = Site::valid();
        let out = site.root().join("public");
        let extra: Vec<&str> = base_url.map_or(Vec::new(), |u| vec!["--base-url", u]);
        html::build(site.root(), &out, &extra).ok();
        let base_url = base_url.unwrap_or(ROOT_URL);
        let after_scheme = &base_url[base_url.find("://").map_or(0, |i| i + 3)..];
        let base = after_scheme[after_scheme.find('/').unwrap_or(after_scheme.len())..].to_string();
        Build {
            site,
            base_url,
            base,
        }
    }

    fn out(&self) -> PathBuf {
        self.site.root().join("public")
    }
}

/// Whether `check` can run: `missing` names what is not there. Under CI a missing
/// tool fails the test; elsewhere the check is skipped, loudly.
fn can_run(check: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let why = missing.join("; ");
    assert!(
        !under_ci(),
        "CI is set, so {check} must run, but: {why} (bash .ci/run installs everything)"
    );
    // Written to the stream itself, not through eprintln!, which the test harness
    // captures and shows only for failing tests: a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "\n==================== SKIPPED: {check} ====================\n\
         {why}\n\
         (bash .ci/run installs everything; under CI=true this is a failure)\n\
         =========================================================\n"
    );
    false
}

/// What is missing to run `program args` (empty when it runs and succeeds).
fn need_program(program: &str, args: &[&str], install: &str) -> Vec<String> {
    match Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Vec::new(),
        Ok(s) => vec![format!(
            "`{program} {}` failed ({s}): {install}",
            args.join(" ")
        )],
        Err(e) => vec![format!("no `{program}` ({e}): {install}")],
    }
}

/// What is missing of a file the checks need (empty when it is there).
fn need_file(path: &Path, install: &str) -> Vec<String> {
    if path.is_file() {
        Vec::new()
    } else {
        vec![format!("no {}: {install}", path.display())]
    }
}

const NPM_CI: &str = "run `npm ci` in tests/browser";

// ---------------------------------------------------------------------------
// The Nu HTML Checker.

#[derive(serde::Deserialize)]
struct VnuReport {
    messages: Vec<VnuMessage>,
}

#[derive(serde::Deserialize)]
struct VnuMessage {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    #[serde(rename = "lastLine")]
    line: Option<u64>,
    message: String,
    extract: Option<String>,
}

#[test]
fn the_nu_html_checker_reports_no_error_on_any_page_or_the_stylesheet() {
    let jar = npm_dir().join("node_modules/vnu-jar/build/dist/vnu.jar");
    let mut missing = need_program(
        "java",
        &["-version"],
        "apt-get install -y default-jre-headless",
    );
    missing.extend(need_file(&jar, NPM_CI));
    if !can_run("the Nu HTML Checker (vnu.jar)", &missing) {
        return;
    }
    let build = Build::new(None);
    let out = build.out();
    // A page and a stylesheet with one known error each: the checker must report
    // them, or a silent checker (wrong flags, wrong output stream) would pass.
    std::fs::write(
        out.join("quality-canary.html"),
        "<!DOCTYPE html><html lang=\"en\"><head><title>canary</title></head>\
         <body><p id=\"x\" id=\"x\">duplicate attribute</p></body></html>\n",
    )
    .expect("write the canary page");
    std::fs::write(out.join("quality-canary.css"), "a { colr: red; }\n")
        .expect("write the canary stylesheet");

    let mut files: Vec<String> = html::html_files(&out);
    files.extend(
        html::files(&out)
            .into_iter()
            .filter(|f| f.ends_with(".css")),
    );
    assert!(files.len() > 50, "too few files to check: {files:?}");
    assert!(files.contains(&"assets/style.css".to_string()), "{files:?}");
    let mut cmd = Command::new("java");
    cmd.arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--also-check-css", "--format", "json"])
        .args(&files)
        .current_dir(&out);
    let (_, _, stderr) = run_bounded(cmd, Duration::from_secs(300));
    // The report is one line; the JVM may print notes of its own around it
    // ("Picked up JAVA_TOOL_OPTIONS: ...").
    let json = stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("vnu.jar printed no JSON report:\n{stderr}"));
    let report: VnuReport = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("vnu.jar's report does not parse ({e}):\n{stderr}"));

    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &report.messages {
        // "error" and "non-document-error" (a file it could not read) both count;
        // --errors-only leaves out warnings and info.
        let url = m.url.clone().unwrap_or_default();
        let file = url
            .rsplit_once("/public/")
            .map_or(url.clone(), |(_, f)| f.to_string());
        by_file.entry(file).or_default().push(format!(
            "{} line {}: {}{}",
            m.kind,
            m.line.unwrap_or(0),
            m.message,
            m.extract
                .as_deref()
                .map_or(String::new(), |x| format!("\n      {}", x.trim()))
        ));
    }
    assert!(
        by_file.remove("quality-canary.html").is_some(),
        "vnu.jar did not report the canary page's error: is it checking anything?\n{stderr}"
    );
    assert!(
        by_file.remove("quality-canary.css").is_some(),
        "vnu.jar did not report the canary stylesheet's error: is --also-check-css checking CSS?\n{stderr}"
    );
    let report: Vec<String> = by_file
        .iter()
        .map(|(f, ms)| format!("{f}:\n    {}", ms.join("\n    ")))
        .collect();
    assert!(
        report.is_empty(),
        "the Nu HTML Checker found errors in {} of {} files:\n{}",
        report.len(),
        files.len() - 2,
        report.join("\n")
    );
}

// ---------------------------------------------------------------------------
// axe-core in Chromium.

#[derive(serde::Deserialize, Debug)]
struct AxeRun {
    runs: Vec<AxePage>,
    requests: Vec<String>,
    errors: Vec<String>,
}

#[derive(serde::Deserialize, Debug)]
struct AxePage {
    path: String,
    viewport: String,
    violations: Vec<AxeRule>,
    incomplete: Vec<AxeRule>,
}

#[derive(serde::Deserialize, Debug)]
struct AxeRule {
    id: String,
    #[serde(default)]
    impact: Option<String>,
    #[serde(default)]
    help: String,
    nodes: Vec<AxeNode>,
}

#[derive(serde::Deserialize, Debug)]
struct AxeNode {
    target: String,
    #[serde(default)]
    html: String,
    #[serde(default)]
    summary: Option<String>,
}

/// One page of every kind the site has, plus the scripted states of the search
/// page and the awards table. `ready` must hold in the page before axe runs.
fn page_kinds() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("home", "", ""),
        ("release", "releases/nordlys-kollektiv-morketid/", ""),
        ("tiers", "tiers/", ""),
        ("tier", "tiers/double-silver/", ""),
        ("labels", "labels/", ""),
        ("label", "labels/polar-sound/", ""),
        ("years", "years/", ""),
        ("year", "years/2021/", ""),
        ("artists", "artists/", ""),
        ("artist", "artists/nordlys-kollektiv/", ""),
        ("countries", "countries/", ""),
        ("country", "countries/no/", ""),
        ("free page", "about/", ""),
        ("404", "no/such/page/", ""),
        (
            "search",
            "search/",
            "!document.getElementById('search-form').hidden && document.getElementById('search-status').textContent !== ''",
        ),
        (
            "search results",
            "search/?q=morketid",
            "document.getElementById('search-results').dataset.query === 'morketid' && document.querySelectorAll('#search-results li').length > 0",
        ),
        (
            "awards table",
            "awards/",
            "document.getElementById('awards-status').textContent.startsWith('Showing')",
        ),
        (
            "awards table, filtered and sorted",
            "awards/?tier=silver&sort=units&order=asc",
            "document.getElementById('awards-status').textContent.startsWith('Showing') && document.querySelector('th[aria-sort]') !== null",
        ),
        ("stats", "stats/", ""),
        ("canary", "quality-canary/", ""),
    ]
}

#[test]
fn axe_finds_no_violation_on_any_page_kind_at_desktop_and_phone_widths() {
    let browser = chromium();
    let mut missing = need_file(&browser, "apt-get install -y chromium, or set CHROMIUM");
    missing.extend(need_program(
        "node",
        &["--version"],
        "apt-get install -y nodejs npm",
    ));
    for module in ["playwright-core/package.json", "axe-core/axe.min.js"] {
        missing.extend(need_file(
            &npm_dir().join("node_modules").join(module),
            NPM_CI,
        ));
    }
    if !can_run("axe-core in Chromium", &missing) {
        return;
    }
    let build = Build::new(None);
    let out = build.out();
    // A page with known violations: axe must report them, or a run that checked
    // nothing (axe not injected, an empty page) would pass.
    std::fs::create_dir_all(out.join("quality-canary")).expect("create the canary folder");
    std::fs::write(
        out.join("quality-canary/index.html"),
        "<!DOCTYPE html><html><head><title>canary</title></head><body><main>\
         <img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\" width=\"1\" height=\"1\">\
         </main></body></html>\n",
    )
    .expect("write the canary page");
    for (kind, path, _) in page_kinds() {
        let file = path.split('?').next().unwrap_or("");
        assert!(
            kind == "404" || out.join(file).join("index.html").is_file(),
            "the fixture has no {kind} page at /{file}"
        );
    }
    let server = Server::start(out);
    let cases: Vec<serde_json::Value> = page_kinds()
        .into_iter()
        .map(|(_, path, ready)| serde_json::json!({"path": path, "ready": ready}))
        .collect();
    let stdout = run_node(
        "axe.mjs",
        &[&server.base, &serde_json::Value::Array(cases).to_string()],
        &browser,
        Duration::from_secs(400),
    );
    let run: AxeRun =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));

    let kinds = page_kinds();
    assert_eq!(run.runs.len(), kinds.len() * 2, "{run:?}");
    let kind_of = |path: &str| {
        kinds
            .iter()
            .find(|(_, p, _)| *p == path)
            .map_or("?", |(k, _, _)| *k)
    };
    let mut found = Vec::new();
    let mut undecided: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for page in &run.runs {
        if page.path == "quality-canary/" {
            let ids: BTreeSet<&str> = page.violations.iter().map(|v| v.id.as_str()).collect();
            assert!(
                ids.contains("image-alt") && ids.contains("html-has-lang"),
                "axe did not report the canary page's violations ({ids:?}): is it running?"
            );
            continue;
        }
        for v in &page.violations {
            let nodes: Vec<String> = v
                .nodes
                .iter()
                .map(|n| {
                    format!(
                        "      {}  {}\n        {}",
                        n.target,
                        n.html,
                        n.summary.as_deref().unwrap_or("").replace('\n', " ")
                    )
                })
                .collect();
            found.push(format!(
                "{} /{} at {} width: {} ({}): {}\n{}",
                kind_of(&page.path),
                page.path,
                page.viewport,
                v.id,
                v.impact.as_deref().unwrap_or("?"),
                v.help,
                nodes.join("\n")
            ));
        }
        for v in &page.incomplete {
            undecided
                .entry(v.id.clone())
                .or_default()
                .insert(format!("/{}", page.path));
        }
    }
    // What axe could not decide (text in SVG, one-character badge marks) is no
    // violation, but worth a look when the theme changes.
    for (rule, pages) in &undecided {
        eprintln!(
            "axe could not decide {rule} on: {}",
            pages.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    assert!(
        found.is_empty(),
        "axe-core found {} violations:\n{}",
        found.len(),
        found.join("\n")
    );
    assert!(run.errors.is_empty(), "page errors: {:#?}", run.errors);
    // Nothing but the site itself was asked for.
    assert!(!run.requests.is_empty());
    let external: Vec<&String> = run
        .requests
        .iter()
        .filter(|r| !r.starts_with(&server.base))
        .collect();
    assert!(external.is_empty(), "external requests: {external:#?}");
}

// ---------------------------------------------------------------------------
// Links.

/// The site's absolute URLs written anywhere in `text` (pages' canonical, Open
/// Graph and JSON-LD addresses, feeds, sitemaps, robots.txt, data files): every
/// `scheme://host/...` run of URL characters that starts with `origin`.
fn absolute_urls<'t>(text: &'t str, origin: &str) -> Vec<&'t str> {
    text.match_indices(origin)
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "\"'<>,)\\`".contains(c))
                .unwrap_or(rest.len());
            // A URL ending a sentence ("... /releases/x/.") does not own the full stop.
            rest[..end].trim_end_matches('.')
        })
        .collect()
}

/// Why `url` (absolute, under `build.base_url`) does not resolve in the build, if it does not.
fn unresolved(
    build: &Build,
    url: &str,
    ids: &mut BTreeMap<PathBuf, BTreeSet<String>>,
) -> Option<String> {
    let Some(inside) = url.strip_prefix(build.base_url) else {
        return Some(format!("outside the site's address {}", build.base_url));
    };
    let (inside, fragment) = inside.split_once('#').unwrap_or((inside, ""));
    let inside = inside.split('?').next().unwrap_or("");
    if inside.split('/').any(|s| s == ".." || s == ".") || inside.contains('%') {
        return Some("dot segments or escapes the site never writes".into());
    }
    let out = build.out();
    let file = if inside.is_empty() || inside.ends_with('/') {
        out.join(inside).join("index.html")
    } else {
        out.join(inside)
    };
    if !file.is_file() {
        return Some(format!("no file {}", file.display()));
    }
    if fragment.is_empty() {
        return None;
    }
    let known = ids.entry(file.clone()).or_insert_with(|| {
        let page = std::fs::read_to_string(&file).unwrap_or_default();
        html::tags(&page)
            .into_iter()
            .filter_map(|t| t.attr("id").map(str::to_string))
            .collect()
    });
    (!known.contains(fragment)).then(|| format!("no id=\"{fragment}\" in {}", file.display()))
}

/// Every broken internal link of `build`: hrefs and srcs of the pages (with
/// fragments), plus every absolute address of the site in any text file.
fn broken_links(build: &Build) -> Vec<String> {
    let out = build.out();
    let mut broken = html::broken_links(&out, &build.base, build.base_url);
    // The scheme and host: an address of the same host outside the base path is broken too.
    let origin_end = build.base_url[build.base_url.find("://").map_or(0, |i| i + 3)..]
        .find('/')
        .map_or(build.base_url.len(), |i| {
            i + build.base_url.find("://").map_or(0, |j| j + 3)
        });
    let origin = &build.base_url[..origin_end];
    let mut ids = BTreeMap::new();
    let mut seen = 0;
    for rel in html::files(&out) {
        if rel.starts_with("pagefind/") || rel == ".impala-awards-output" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(out.join(&rel)) else {
            continue;
        };
        // Form actions are links too; html::broken_links follows href, src and refresh.
        if rel.ends_with(".html") {
            for t in html::tags(&text) {
                if let Some(a) = t.attr("action") {
                    let url = match a.strip_prefix(&build.base) {
                        Some(rest) => format!("{}{rest}", build.base_url),
                        None => format!("{origin}{a}"),
                    };
                    if let Some(why) = unresolved(build, &url, &mut ids) {
                        broken.push(format!("{rel}: action=\"{a}\" ({why})"));
                    }
                }
            }
        }
        for url in absolute_urls(&text, origin) {
            seen += 1;
            if let Some(why) = unresolved(build, url, &mut ids) {
                broken.push(format!("{rel}: {url} ({why})"));
            }
        }
    }
    // The sitemap alone lists every page, so a scan that found fewer URLs missed something.
    let pages = html::html_files(&out).len();
    assert!(seen > pages, "only {seen} absolute URLs for {pages} pages");
    broken.sort();
    broken.dedup();
    broken
}

#[test]
fn every_internal_link_resolves_at_the_root_and_under_a_sub_path() {
    for build in [Build::new(None), Build::new(Some(SUB_URL))] {
        let broken = broken_links(&build);
        assert!(
            broken.is_empty(),
            "{} broken links in the build for {}:\n{}",
            broken.len(),
            build.base_url,
            broken.join("\n")
        );
        // The scan covered the crawlers' files.
        let robots = std::fs::read_to_string(build.out().join("robots.txt")).expect("robots.txt");
        assert_eq!(
            absolute_urls(&robots, build.base_url),
            [format!("{}sitemap.xml", build.base_url)]
        );
    }
}

#[test]
fn the_link_check_catches_broken_links() {
    let build = Build::new(Some(SUB_URL));
    let out = build.out();
    let page = out.join("about/index.html");
    let html = std::fs::read_to_string(&page).expect("read the about page");
    let html = html.replacen(
        "</main>",
        "<p><a href=\"/awards/no-such-page/\">gone</a> <a href=\"/tiers/\">no base</a> \
         <a href=\"https://example.org/awards/labels/#nowhere\">bad fragment</a></p></main>",
        1,
    );
    std::fs::write(&page, html).expect("write the about page");
    let sitemap = out.join("sitemap.xml");
    let xml = std::fs::read_to_string(&sitemap).expect("read the sitemap");
    let xml = xml.replacen(
        "</urlset>",
        "  <url><loc>https://example.org/awards/releases/gone/</loc></url>\n</urlset>",
        1,
    );
    std::fs::write(&sitemap, xml).expect("write the sitemap");
    let broken = broken_links(&build).join("\n");
    for needle in [
        "about/index.html: href=\"/awards/no-such-page/\"",
        "about/index.html: href=\"/tiers/\" (outside the site's path /awards/)",
        "about/index.html: href=\"https://example.org/awards/labels/#nowhere\" (no id=\"nowhere\"",
        "sitemap.xml: https://example.org/awards/releases/gone/ (no file",
    ] {
        assert!(
            broken.contains(needle),
            "{needle:?} not reported in:\n{broken}"
        );
    }
}

// ---------------------------------------------------------------------------
// Atom feeds.

fn atom<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children()
        .filter(|c| c.has_tag_name((ATOM, name)))
        .collect()
}

/// The text of the only Atom child `name` of `node`, with what is wrong pushed to `errs`.
fn one_text(node: roxmltree::Node, name: &str, errs: &mut Vec<String>, at: &str) -> String {
    let found = atom(node, name);
    if found.len() != 1 {
        errs.push(format!("{at}: {} <{name}> elements, want 1", found.len()));
        return String::new();
    }
    let text = found[0].text().unwrap_or("").trim().to_string();
    if text.is_empty() {
        errs.push(format!("{at}: empty <{name}>"));
    }
    text
}

fn rfc3339(
    text: &str,
    errs: &mut Vec<String>,
    at: &str,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|e| errs.push(format!("{at}: {text:?} is no RFC 3339 date ({e})")))
        .ok()
}

/// What is wrong with the Atom feed `xml` served at `url` (RFC 4287's musts).
fn feed_problems(xml: &str, url: &str) -> Vec<String> {
    let doc = match roxmltree::Document::parse(xml) {
        Ok(d) => d,
        Err(e) => return vec![format!("does not parse as XML: {e}")],
    };
    let feed = doc.root_element();
    if !feed.has_tag_name((ATOM, "feed")) {
        return vec![format!(
            "root is {:?} in {:?}, not an Atom <feed>",
            feed.tag_name().name(),
            feed.tag_name().namespace()
        )];
    }
    let mut errs = Vec::new();
    let feed_id = one_text(feed, "id", &mut errs, "feed");
    one_text(feed, "title", &mut errs, "feed");
    let updated = one_text(feed, "updated", &mut errs, "feed");
    let feed_updated = rfc3339(&updated, &mut errs, "feed <updated>");
    if !feed_id.contains(':') {
        errs.push(format!("feed <id> {feed_id:?} is no IRI"));
    }
    let links = atom(feed, "link");
    let rel = |l: &roxmltree::Node| l.attribute("rel").unwrap_or("alternate").to_string();
    let selfs: Vec<_> = links.iter().filter(|l| rel(l) == "self").collect();
    if selfs.len() != 1 || selfs[0].attribute("href") != Some(url) {
        errs.push(format!(
            "feed wants one <link rel=\"self\" href=\"{url}\">, has {:?}",
            selfs
                .iter()
                .map(|l| l.attribute("href"))
                .collect::<Vec<_>>()
        ));
    }
    if !links.iter().any(|l| rel(l) == "alternate") {
        errs.push("feed has no alternate link to its page".into());
    }
    let feed_author = atom(feed, "author")
        .iter()
        .any(|a| !atom(*a, "name").is_empty());
    // A tier nobody has reached yet has a feed with no entry, which Atom allows.
    let entries = atom(feed, "entry");
    let mut ids = BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let at = format!("entry {}", i + 1);
        let id = one_text(*e, "id", &mut errs, &at);
        if !id.contains(':') {
            errs.push(format!("{at}: <id> {id:?} is no IRI"));
        }
        if !ids.insert(id.clone()) {
            errs.push(format!("{at}: <id> {id} repeats an earlier entry's"));
        }
        one_text(*e, "title", &mut errs, &at);
        let up = one_text(*e, "updated", &mut errs, &at);
        let up = rfc3339(&up, &mut errs, &format!("{at} <updated>"));
        if let (Some(up), Some(feed_up)) = (up, feed_updated)
            && up > feed_up
        {
            errs.push(format!("{at}: updated after the feed's <updated>"));
        }
        for p in atom(*e, "published") {
            rfc3339(
                p.text().unwrap_or(""),
                &mut errs,
                &format!("{at} <published>"),
            );
        }
        let alternates: Vec<_> = atom(*e, "link")
            .into_iter()
            .filter(|l| rel(l) == "alternate")
            .collect();
        if alternates.len() != 1 || alternates[0].attribute("href").is_none_or(str::is_empty) {
            errs.push(format!("{at}: wants one alternate link with an href"));
        }
        if !feed_author && atom(*e, "author").is_empty() {
            errs.push(format!("{at}: no <author>, and the feed has none"));
        }
        for text in ["title", "summary", "content", "rights"] {
            for t in atom(*e, text) {
                if let Some(ty) = t.attribute("type")
                    && !["text", "html", "xhtml"].contains(&ty)
                    && text != "content"
                {
                    errs.push(format!("{at}: <{text} type=\"{ty}\">"));
                }
            }
        }
        if atom(*e, "content").is_empty() && atom(*e, "summary").is_empty() {
            // Allowed by RFC 4287 only with an alternate link; readers show an empty item.
            errs.push(format!("{at}: neither <summary> nor <content>"));
        }
    }
    errs
}

#[test]
fn every_atom_feed_is_well_formed_and_every_page_names_a_real_one() {
    for build in [Build::new(None), Build::new(Some(SUB_URL))] {
        let out = build.out();
        let mut feeds = BTreeSet::new();
        let mut problems = Vec::new();
        for rel in html::files(&out)
            .into_iter()
            .filter(|f| f.ends_with(".xml"))
        {
            let xml = std::fs::read_to_string(out.join(&rel)).expect("read XML");
            let is_sitemap = roxmltree::Document::parse(&xml)
                .is_ok_and(|d| d.root_element().tag_name().namespace() == Some(SITEMAP_NS));
            if is_sitemap {
                continue;
            }
            let url = format!("{}{rel}", build.base_url);
            for p in feed_problems(&xml, &url) {
                problems.push(format!("{rel}: {p}"));
            }
            feeds.insert(url);
        }
        let site_feed = std::fs::read_to_string(out.join("feed.xml")).expect("read feed.xml");
        assert!(site_feed.contains("<entry>"), "the site feed has no entry");
        assert!(
            problems.is_empty(),
            "Atom feed problems ({}):\n{}",
            build.base_url,
            problems.join("\n")
        );
        // The site feed, one per label and one per tier.
        let dirs = |d: &str| {
            std::fs::read_dir(out.join(d))
                .expect("read a listing folder")
                .filter_map(Result::ok)
                .filter(|e| e.path().join("index.html").is_file())
                .count()
        };
        assert_eq!(
            feeds.len(),
            1 + dirs("labels") + dirs("tiers"),
            "{feeds:#?}"
        );
        // Autodiscovery: every feed link of every page names one of these feeds.
        let mut announced = BTreeSet::new();
        for rel in html::html_files(&out) {
            let page = std::fs::read_to_string(out.join(&rel)).expect("read page");
            for t in html::tags(&page) {
                if t.name == "link" && t.attr("type") == Some("application/atom+xml") {
                    let href = t.attr("href").unwrap_or("");
                    let url = href
                        .strip_prefix(&build.base)
                        .map_or(href.to_string(), |r| format!("{}{r}", build.base_url));
                    assert!(
                        feeds.contains(&url),
                        "{rel}: feed link {href} names no feed"
                    );
                    announced.insert(url);
                }
            }
        }
        assert_eq!(announced, feeds, "every feed is announced by some page");
    }
}

#[test]
fn the_feed_check_catches_broken_feeds() {
    let url = "https://x.example/feed.xml";
    assert_eq!(
        feed_problems("<feed xmlns=\"http://www.w3.org/2005/Atom\"><id>x", url).len(),
        1
    );
    let rss = "<rss version=\"2.0\"><channel/></rss>";
    assert!(feed_problems(rss, url)[0].contains("not an Atom <feed>"));
    let bad = format!(
        "<feed xmlns=\"{ATOM}\"><id>tag:x,2026:f</id><title>t</title><updated>2026-01-02</updated>\
         <link rel=\"self\" href=\"{url}\"/><link href=\"https://x.example/\"/>\
         <entry><id>e</id><title>a</title><updated>2026-01-01T00:00:00Z</updated><summary>s</summary></entry>\
         <entry><id>e</id><updated>2026-01-01T00:00:00Z</updated><link href=\"https://x.example/a\"/><summary>s</summary></entry></feed>"
    );
    let found = feed_problems(&bad, url).join("\n");
    for needle in [
        "feed <updated>: \"2026-01-02\" is no RFC 3339 date",
        "entry 1: <id> \"e\" is no IRI",
        "entry 1: wants one alternate link",
        "entry 1: no <author>",
        "entry 2: <id> e repeats",
        "entry 2: 0 <title> elements",
    ] {
        assert!(found.contains(needle), "{needle:?} not in:\n{found}");
    }
}

// ---------------------------------------------------------------------------
// The sitemap schema.

/// `xmllint --schema <xsd>` on each file; the failures, with xmllint's words.
fn xmllint(xsd: &Path, files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .filter_map(|f| {
            let o = Command::new("xmllint")
                .args(["--noout", "--nonet", "--schema"])
                .arg(xsd)
                .arg(f)
                .output()
                .expect("run xmllint");
            (!o.status.success()).then(|| {
                format!(
                    "{} against {}:\n{}",
                    f.display(),
                    xsd.display(),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
        })
        .collect()
}

/// Validates the sitemap at `dir/sitemap.xml`: a urlset against sitemap.xsd, or an
/// index against siteindex.xsd and then each sitemap it names. Returns the failures
/// and how many files were checked.
fn validate_sitemaps(dir: &Path, base_url: &str) -> (Vec<String>, usize) {
    let schemas = npm_dir().join("node_modules/sitemap/schema");
    let urlset_xsd = schemas.join("sitemap.xsd");
    let index_xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quality/siteindex.xsd");
    let main = dir.join("sitemap.xml");
    let xml = std::fs::read_to_string(&main).expect("read sitemap.xml");
    let doc = roxmltree::Document::parse(&xml).expect("sitemap.xml parses");
    let root = doc.root_element();
    if root.has_tag_name((SITEMAP_NS, "urlset")) {
        return (xmllint(&urlset_xsd, std::slice::from_ref(&main)), 1);
    }
    assert!(
        root.has_tag_name((SITEMAP_NS, "sitemapindex")),
        "sitemap.xml is neither a urlset nor a sitemap index"
    );
    let mut failures = xmllint(&index_xsd, std::slice::from_ref(&main));
    let parts: Vec<PathBuf> = root
        .descendants()
        .filter(|n| n.has_tag_name((SITEMAP_NS, "loc")))
        .map(|n| {
            let loc = n.text().unwrap_or("");
            let rel = loc
                .strip_prefix(base_url)
                .unwrap_or_else(|| panic!("index names {loc}, outside {base_url}"));
            dir.join(rel)
        })
        .collect();
    assert!(!parts.is_empty(), "an empty sitemap index");
    failures.extend(xmllint(&urlset_xsd, &parts));
    (failures, 1 + parts.len())
}

#[test]
fn the_sitemap_and_a_sitemap_index_validate_against_the_sitemap_schema() {
    let schemas = npm_dir().join("node_modules/sitemap/schema");
    let mut missing = need_program(
        "xmllint",
        &["--version"],
        "apt-get install -y libxml2-utils",
    );
    missing.extend(need_file(&schemas.join("sitemap.xsd"), NPM_CI));
    if !can_run("xmllint --schema on the sitemap", &missing) {
        return;
    }
    for build in [Build::new(None), Build::new(Some(SUB_URL))] {
        let (failures, checked) = validate_sitemaps(&build.out(), build.base_url);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(checked >= 1);
    }

    // The fixture is far below the 50,000 URLs that split a sitemap, so split its
    // pages into files of 10 with the same code, and validate that index too.
    let build = Build::new(None);
    let xml = std::fs::read_to_string(build.out().join("sitemap.xml")).expect("read sitemap");
    let doc = roxmltree::Document::parse(&xml).expect("sitemap parses");
    let pages: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name((SITEMAP_NS, "loc")))
        .filter_map(|n| n.text()?.strip_prefix(ROOT_URL).map(str::to_string))
        .collect();
    assert!(pages.len() > 30, "{pages:?}");
    let dir = tempfile::tempdir().expect("temporary folder");
    let files = impala_awards::render::sitemap::sitemaps(ROOT_URL, &pages, 10);
    assert!(files.len() > 3, "no index was written");
    for f in &files {
        std::fs::write(dir.path().join(&f.path), &f.bytes).expect("write a sitemap file");
    }
    let (failures, checked) = validate_sitemaps(dir.path(), ROOT_URL);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, files.len());

    // And the schemas do reject what they should.
    std::fs::write(
        dir.path().join("sitemap-1.xml"),
        format!("<urlset xmlns=\"{SITEMAP_NS}\"><url><lastmod>2026</lastmod></url></urlset>"),
    )
    .expect("write a broken sitemap");
    let (failures, _) = validate_sitemaps(dir.path(), ROOT_URL);
    assert_eq!(failures.len(), 1, "{failures:?}");
    let index_xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quality/siteindex.xsd");
    let broken_index = dir.path().join("broken-index.xml");
    std::fs::write(
        &broken_index,
        format!("<sitemapindex xmlns=\"{SITEMAP_NS}\"><sitemap><lastmod>x</lastmod></sitemap></sitemapindex>"),
    )
    .expect("write a broken index");
    assert_eq!(xmllint(&index_xsd, &[broken_index]).len(), 1);
}
