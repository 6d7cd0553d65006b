//! Helpers for the build tests: run `impala-awards build`, read the pages it
//! wrote, scan their tags and text, walk their links and snapshot whole trees.
//!
//! The scanner is deliberately small: the generator's own output is
//! well-formed, and any raw `<` in text would itself be an escaping bug.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::SOURCE_DATE_EPOCH;

/// `impala-awards build --root <root> --output <out>` plus `extra`, with the fixed build date.
pub fn build_cmd(root: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_impala-awards"));
    cmd.arg("build")
        .arg("--root")
        .arg(root)
        .arg("--output")
        .arg(out)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .env("NO_COLOR", "1");
    cmd
}

/// The outcome of one build.
pub struct Built {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stderr ---\n{}--- stdout ---\n{}",
            self.status, self.stderr, self.stdout
        )
    }
}

impl Built {
    /// Wraps a finished process. A signal (no exit code) is reported as -1.
    pub fn from_output(o: Output) -> Built {
        Built {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts exit 0.
    pub fn ok(self) -> Built {
        assert_eq!(self.status, 0, "{self:?}");
        self
    }

    /// Asserts exit 1 (a reported failure, never a panic).
    pub fn failed(self) -> Built {
        assert_eq!(self.status, 1, "{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        self
    }

    /// The last line of stderr: the build's summary.
    pub fn summary(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }

    /// `(written, unchanged, removed)` from a successful build's summary.
    pub fn counts(&self) -> (usize, usize, usize) {
        let s = self.summary();
        let inner = s
            .split_once(" (")
            .and_then(|(_, r)| r.split_once(')'))
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no counts in {s:?}"));
        let nums: Vec<usize> = inner
            .split(", ")
            .map(|p| {
                p.split(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("bad count {p:?} in {s:?}"))
            })
            .collect();
        assert_eq!(nums.len(), 3, "{s:?}");
        (nums[0], nums[1], nums[2])
    }
}

/// Runs a build and waits for it.
pub fn build(root: &Path, out: &Path, extra: &[&str]) -> Built {
    Built::from_output(
        build_cmd(root, out, extra)
            .output()
            .expect("run impala-awards"),
    )
}

/// The page at URL path `url` ("" for the home page, "releases/x/" or "404.html").
pub fn page(out: &Path, url: &str) -> String {
    let file = if url.is_empty() || url.ends_with('/') {
        out.join(url).join("index.html")
    } else {
        out.join(url)
    };
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()))
}

/// The `<main>` element of a page.
pub fn main_of(html: &str) -> &str {
    let start = html.find("<main").expect("page has <main>");
    let end = html[start..].find("</main>").expect("page closes <main>") + start;
    &html[start..end + "</main>".len()]
}

/// Decodes the character references the generator (and tera) may write.
pub fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.bytes().take(12).position(|b| b == b';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..semi];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => name.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// One tag of a page.
#[derive(Debug, Clone)]
pub struct Tag {
    /// Lowercase element name ("a", "script"); "!--" for comments, "!doctype",
    /// "?" for XML declarations, "![cdata[" for CDATA sections.
    pub name: String,
    pub closing: bool,
    /// Attribute names (lowercase) and decoded values.
    pub attrs: Vec<(String, String)>,
    /// Byte offsets of `<` and just past `>`.
    pub start: usize,
    pub end: usize,
}

impl Tag {
    /// The decoded value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every tag of `html`, in order. The content of `<script>` and `<style>` is skipped.
pub fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let start = i + off;
        // Comments, XML processing instructions and CDATA sections hold no tags.
        let special = [
            ("<!--", "-->", "!--"),
            ("<?", "?>", "?"),
            ("<![CDATA[", "]]>", "![cdata["),
        ]
        .into_iter()
        .find(|(open, _, _)| html[start..].starts_with(open));
        if let Some((_, close, name)) = special {
            let end = html[start..]
                .find(close)
                .map_or(b.len(), |e| start + e + close.len());
            out.push(Tag {
                name: name.into(),
                closing: false,
                attrs: Vec::new(),
                start,
                end,
            });
            i = end;
            continue;
        }
        let mut j = start + 1;
        let closing = b.get(j) == Some(&b'/');
        if closing {
            j += 1;
        }
        let name_start = j;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b'!') {
            j += 1;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        assert!(
            !name.is_empty(),
            "a raw `<` in text at byte {start}: {:?}",
            &html[start..(start + 60).min(html.len())]
        );
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                break;
            }
            let an = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && !matches!(b[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            let aname = html[an..j].to_ascii_lowercase();
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                match b.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let vs = j + 1;
                        let ve = html[vs..].find(q as char).map_or(b.len(), |e| vs + e);
                        value = decode(&html[vs..ve]);
                        j = (ve + 1).min(b.len());
                    }
                    _ => {
                        let vs = j;
                        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                            j += 1;
                        }
                        value = decode(&html[vs..j]);
                    }
                }
            }
            attrs.push((aname, value));
        }
        let end = (j + 1).min(b.len());
        let raw_text = !closing && (name == "script" || name == "style");
        out.push(Tag {
            name: name.clone(),
            closing,
            attrs,
            start,
            end,
        });
        i = end;
        if raw_text {
            let close = format!("</{name}");
            i = html[i..]
                .to_ascii_lowercase()
                .find(&close)
                .map_or(b.len(), |e| i + e);
        }
    }
    out
}

/// The text of an HTML fragment: tags removed, references decoded, white space collapsed.
pub fn text(html: &str) -> String {
    let mut raw = String::new();
    let mut at = 0;
    for t in tags(html) {
        raw.push_str(&html[at..t.start]);
        raw.push(' ');
        at = t.end;
    }
    raw.push_str(&html[at.min(html.len())..]);
    decode(&raw)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The inner HTML of the first `<name ...>` element whose opening tag contains `marker`
/// (e.g. `class="awards"`; "" for the first one).
pub fn element<'h>(html: &'h str, name: &str, marker: &str) -> Option<&'h str> {
    let ts = tags(html);
    let open = ts
        .iter()
        .position(|t| !t.closing && t.name == name && html[t.start..t.end].contains(marker))?;
    let mut depth = 0;
    for t in &ts[open..] {
        if t.name != name {
            continue;
        }
        if t.closing {
            depth -= 1;
            if depth == 0 {
                return Some(&html[ts[open].end..t.start]);
            }
        } else {
            depth += 1;
        }
    }
    None
}

/// The text of every element `name` in `html`, in order.
pub fn texts_of(html: &str, name: &str) -> Vec<String> {
    let ts = tags(html);
    let mut out = Vec::new();
    for (k, t) in ts.iter().enumerate() {
        if t.closing || t.name != name {
            continue;
        }
        if let Some(c) = ts[k + 1..].iter().find(|c| c.closing && c.name == name) {
            out.push(text(&html[t.end..c.start]));
        }
    }
    out
}

/// The rows of the first table whose opening tag contains `marker`: each row's cell texts.
pub fn table_rows(html: &str, marker: &str) -> Vec<Vec<String>> {
    let Some(table) = element(html, "table", marker) else {
        return Vec::new();
    };
    let body = element(table, "tbody", "").unwrap_or(table);
    let ts = tags(body);
    let mut rows = Vec::new();
    let mut row: Option<Vec<String>> = None;
    let mut cell_start: Option<usize> = None;
    for t in &ts {
        match (t.name.as_str(), t.closing) {
            ("tr", false) => row = Some(Vec::new()),
            ("tr", true) => rows.extend(row.take()),
            ("td" | "th", false) => cell_start = Some(t.end),
            ("td" | "th", true) => {
                if let (Some(r), Some(s)) = (row.as_mut(), cell_start.take()) {
                    r.push(text(&body[s..t.start]));
                }
            }
            _ => {}
        }
    }
    rows
}

/// The `href` of every `<a>` in `html`, in order.
pub fn links(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|t| !t.closing && t.name == "a")
        .filter_map(|t| t.attr("href").map(str::to_string))
        .collect()
}

/// Paths, relative to `out` and '/'-separated, of every file below `out`.
pub fn files(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(out)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            e.path()
                .strip_prefix(out)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    v.sort();
    v
}

/// Whether a page is only a redirect (an alias of a renamed page).
pub fn is_redirect(html: &str) -> bool {
    tags(html).iter().any(|t| {
        t.name == "meta"
            && t.attr("http-equiv")
                .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
    })
}

/// The HTML files below `out`.
pub fn html_files(out: &Path) -> Vec<String> {
    files(out)
        .into_iter()
        .filter(|f| f.ends_with(".html"))
        .collect()
}

/// One entry of a tree snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Entry {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// Every entry below `dir` (not following links), by relative path; empty if absent.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e.expect("walk the output");
        let rel = e
            .path()
            .strip_prefix(dir)
            .expect("inside")
            .to_string_lossy()
            .into_owned();
        let ft = e.file_type();
        let entry = if ft.is_symlink() {
            Entry::Link(std::fs::read_link(e.path()).expect("read link"))
        } else if ft.is_dir() {
            Entry::Dir
        } else {
            Entry::File(std::fs::read(e.path()).expect("read file"))
        };
        out.insert(rel, entry);
    }
    out
}

/// A digest of a whole snapshot, for short messages.
pub fn tree_hash(snap: &BTreeMap<String, Entry>) -> u64 {
    let mut h = DefaultHasher::new();
    snap.hash(&mut h);
    h.finish()
}

/// Asserts two snapshots are identical, naming the first difference.
pub fn assert_same_tree(a: &BTreeMap<String, Entry>, b: &BTreeMap<String, Entry>, what: &str) {
    if a == b {
        return;
    }
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => panic!(
                "{what}: trees differ at `{k}` (hashes {:x} vs {:x}): {} vs {}",
                tree_hash(a),
                tree_hash(b),
                describe(x),
                describe(y)
            ),
        }
    }
}

fn describe(e: Option<&Entry>) -> String {
    match e {
        None => "absent".into(),
        Some(Entry::Dir) => "a folder".into(),
        Some(Entry::Link(p)) => format!("a link to {}", p.display()),
        Some(Entry::File(b)) => format!("{} bytes", b.len()),
    }
}

/// Follows every internal `href` and `src` of every HTML page below `out` and
/// returns the ones that do not resolve, as "page: link (why)".
///
/// `base` is the path the site is served from ("/" or "/awards/"); `base_url`
/// the absolute address, whose links (canonical) must resolve too. Fragments
/// must name an `id` of the target page.
pub fn broken_links(out: &Path, base: &str, base_url: &str) -> Vec<String> {
    let mut broken = Vec::new();
    let mut ids: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut ids_of = |file: &Path| -> BTreeSet<String> {
        ids.entry(file.to_path_buf())
            .or_insert_with(|| {
                let html = std::fs::read_to_string(file).unwrap_or_default();
                tags(&html)
                    .into_iter()
                    .filter_map(|t| t.attr("id").map(str::to_string))
                    .collect()
            })
            .clone()
    };
    for rel in html_files(out) {
        let file = out.join(&rel);
        let html = std::fs::read_to_string(&file).expect("read page");
        // The URL path this page is served at, for relative links.
        let page_url = format!(
            "{base}{}",
            rel.strip_suffix("index.html").unwrap_or(rel.as_str())
        );
        for t in tags(&html) {
            if t.closing {
                continue;
            }
            // A redirect's target is a link too: `<meta http-equiv="refresh" content="0; url=...">`.
            let refresh = (t.name == "meta"
                && t.attr("http-equiv")
                    .is_some_and(|h| h.eq_ignore_ascii_case("refresh")))
            .then(|| {
                t.attr("content")
                    .and_then(|c| c.split_once("url="))
                    .map(|(_, u)| u)
            })
            .flatten();
            for attr in ["href", "src", "content"] {
                let Some(link) = (if attr == "content" {
                    refresh
                } else {
                    t.attr(attr)
                }) else {
                    continue;
                };
                let mut why = |w: &str| broken.push(format!("{rel}: {attr}=\"{link}\" ({w})"));
                let path = if let Some(rest) = link.strip_prefix(base_url) {
                    format!("{base}{rest}")
                } else if link.starts_with("http://")
                    || link.starts_with("https://")
                    || link.starts_with("mailto:")
                {
                    continue;
                } else if link.starts_with("//") {
                    why("protocol-relative link");
                    continue;
                } else if link.starts_with('/') {
                    link.to_string()
                } else if link.starts_with('#') {
                    format!("{page_url}{link}")
                } else if link.contains(':') {
                    why("unexpected scheme");
                    continue;
                } else {
                    let dir = &page_url[..page_url.rfind('/').map_or(0, |i| i + 1)];
                    normalise(&format!("{dir}{link}"))
                };
                let (path, fragment) = match path.split_once('#') {
                    Some((p, f)) => (p.to_string(), Some(f.to_string())),
                    None => (path, None),
                };
                let path = path.split('?').next().unwrap_or("").to_string();
                let Some(inside) = path.strip_prefix(base) else {
                    why(&format!("outside the site's path {base}"));
                    continue;
                };
                let inside = percent_decode(inside);
                if inside.split('/').any(|s| s == "..") {
                    why("climbs out of the site");
                    continue;
                }
                let target = if inside.is_empty() || inside.ends_with('/') {
                    out.join(&inside).join("index.html")
                } else {
                    out.join(&inside)
                };
                if !target.is_file() {
                    why(&format!("no file {}", target.display()));
                    continue;
                }
                if let Some(f) = fragment
                    && !f.is_empty()
                    && !ids_of(&target).contains(&f)
                {
                    why(&format!("no id=\"{f}\" in {}", target.display()));
                }
            }
        }
    }
    broken
}

/// Resolves `.` and `..` segments of a URL path.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let trailing = path.ends_with('/');
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut s = format!("/{}", parts.join("/"));
    if trailing && !s.ends_with('/') {
        s.push('/');
    }
    s
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What in `html` could run script in a reader's browser: `<script>` elements
/// other than the theme's own files under `<base>assets/` and JSON-LD data,
/// `on*=` event-handler attributes, and `javascript:`/`vbscript:`/`data:` URLs.
/// A JSON-LD block must parse as JSON and hold no `<` that could close it.
pub fn executable(html: &str, base: &str) -> Vec<String> {
    let mut found = Vec::new();
    for t in tags(html) {
        if t.closing {
            continue;
        }
        let snippet = || html[t.start..t.end.min(t.start + 120)].to_string();
        if t.name == "script" {
            let body_end = html[t.end..]
                .to_ascii_lowercase()
                .find("</script")
                .map_or(html.len(), |e| t.end + e);
            let body = &html[t.end..body_end];
            match (t.attr("src"), t.attr("type")) {
                (Some(src), _)
                    if src.starts_with(&format!("{base}assets/")) && body.trim().is_empty() => {}
                (None, Some("application/ld+json")) => {
                    if body.contains('<') {
                        found.push(format!("`<` inside JSON-LD: {body}"));
                    }
                    if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
                        found.push(format!("JSON-LD does not parse ({e}): {body}"));
                    }
                }
                _ => found.push(format!("<script> element: {}", snippet())),
            }
        }
        if matches!(t.name.as_str(), "iframe" | "object" | "embed" | "base") {
            found.push(format!("<{}> element: {}", t.name, snippet()));
        }
        for (name, value) in &t.attrs {
            if name.starts_with("on") {
                found.push(format!("event handler `{name}`: {}", snippet()));
            }
            if matches!(
                name.as_str(),
                "href" | "src" | "action" | "formaction" | "xlink:href" | "srcdoc" | "content"
            ) {
                let squashed: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if ["javascript:", "vbscript:", "data:"].iter().any(|s| {
                    if name == "content" {
                        // Only a refresh's URL is followed: `0; url=javascript:...`.
                        t.attr("http-equiv")
                            .is_some_and(|h| h.eq_ignore_ascii_case("refresh"))
                            && squashed.contains(s)
                    } else {
                        squashed.starts_with(s)
                    }
                }) {
                    found.push(format!("script URL in `{name}`: {}", snippet()));
                }
            }
            if name == "style" && value.to_ascii_lowercase().contains("expression(") {
                found.push(format!("style expression: {}", snippet()));
            }
        }
    }
    found
}
