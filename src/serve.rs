//! `impala-awards serve`: a local preview that rebuilds as records are edited.
//!
//! The site is rendered into memory and served from there over plain HTTP/1.1;
//! nothing is written to disk, so `serve` can never disturb `public/`. A
//! watcher rebuilds after each change (debounced), swaps in the files whose
//! bytes changed, and wakes every open page through a long-poll endpoint so it
//! reloads. A failed build keeps the last good site and lays the diagnostics
//! over every HTML page until the next good build.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::NaiveDate;
use notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::config::{CONFIG_FILE, fmt_units};
use crate::deps;
use crate::diagnostics::{self, Diagnostic, MessageFormat, Sources};
use crate::records::load::LoadCache;
use crate::render::{self, OutFile, escape};
use crate::site;

/// The port `serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 1111;

/// Path of the long-poll endpoint: answers with the build version once it
/// differs from `?v=`, or after [`POLL_WAIT`].
const LIVERELOAD: &str = "/__livereload";
const LIVERELOAD_JS: &str = "/__livereload.js";
const LIVERELOAD_CSS: &str = "/__livereload.css";

/// The request line and headers may not exceed this; real browsers send ~1 KiB.
const MAX_HEAD: usize = 16 * 1024;
/// How long one read may block; the whole head must still arrive by [`HEAD_DEADLINE`].
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// A client trickling its headers (slowloris) is cut off after this.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once (one thread each); more get 503 straight away.
/// Open pages hold one each for the live-reload long poll.
const MAX_CONNECTIONS: usize = 128;
/// A long poll answers after this even when nothing changed, so dead
/// connections do not pile up.
const POLL_WAIT: Duration = Duration::from_secs(25);
/// Changes closer together than this make one rebuild.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// Folders watched whether or not site.toml names them.
const DEFAULT_WATCH: [&str; 2] = ["content", "themes"];

/// Settings of `serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The site's root folder.
    pub root: PathBuf,
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Open the site in a browser once it is served.
    pub open: bool,
    /// The build date used by the checks.
    pub today: NaiveDate,
    /// Colour diagnostics printed to the terminal.
    pub color: bool,
}

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("no site folder at {}: {source}", path.display())]
    Root { path: PathBuf, source: io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot watch for changes: {0}")]
    Watch(#[from] notify::Error),
}

/// Rendered files by '/'-separated path. Unchanged files keep their
/// allocation across rebuilds.
type Files = BTreeMap<String, Arc<[u8]>>;

/// What is being served at one moment.
struct Snapshot {
    /// Changes whenever what a page shows may have changed.
    version: u64,
    /// The last good build (empty before the first one).
    files: Arc<Files>,
    /// The diagnostics overlay, while the latest build failed.
    overlay: Option<Arc<str>>,
    /// When the change that led to this version was made.
    changed_at: Option<Instant>,
}

/// The snapshot shared by the connection threads, and a condition the long
/// polls wait on.
struct Shared {
    now: Mutex<Arc<Snapshot>>,
    changed: Condvar,
    /// The last version a reloaded page was reported for.
    reported: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Arc<Snapshot>> {
        // A connection thread that panicked cannot have left a half-written
        // snapshot: it is replaced whole.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self) -> Arc<Snapshot> {
        Arc::clone(&self.lock())
    }

    fn set(&self, snap: Snapshot) {
        *self.lock() = Arc::new(snap);
        self.changed.notify_all();
    }

    /// Waits until the version differs from `seen`, at most `max`; returns the version.
    fn wait_past(&self, seen: u64, max: Duration) -> u64 {
        let guard = self.lock();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, max, |s| s.version == seen)
            .unwrap_or_else(PoisonError::into_inner);
        guard.version
    }
}

/// What a build rendered.
#[derive(Debug)]
enum Render {
    /// Every file; why, when it is a rebuild that could not be partial.
    Full(Option<String>),
    /// Only the files the scope accepts, to be laid over the last good build.
    Partial(deps::Scope),
    /// Nothing: no source file changed since the last good build.
    Unchanged,
}

/// What `serve` keeps between builds to re-render only what an edit touches.
struct Incremental {
    /// The search index cache of this process: rebuilt only when the searched
    /// text changed. Removed on drop.
    search_cache: PathBuf,
    /// The records of the last good build.
    last: Option<deps::Summary>,
    /// Paths reported changed since the last good build (a failed build in
    /// between does not forget them).
    dirty: BTreeSet<PathBuf>,
    /// A change may have gone unreported (the watcher failed): render all.
    lost: bool,
    /// The files of the last load, parsed: only the `dirty` ones are read
    /// again (all of them when `lost`).
    loads: LoadCache,
    /// The list pages' rows of the last render: a partial render reuses
    /// those of the releases it did not see edited.
    rows: render::RowMemo,
}

impl Incremental {
    fn new(search_cache: PathBuf) -> Incremental {
        Incremental {
            search_cache,
            last: None,
            dirty: BTreeSet::new(),
            lost: false,
            loads: LoadCache::default(),
            rows: render::RowMemo::default(),
        }
    }

    /// What to render for `checked`, which has no errors.
    fn plan(&self, new: Option<&deps::Summary>) -> Render {
        match (&self.last, new) {
            (None, _) => Render::Full(None),
            (Some(_), _) if self.lost => {
                Render::Full(Some("a change may have gone unreported".into()))
            }
            (Some(_), None) => Render::Full(Some("site.toml did not load".into())),
            (Some(old), Some(new)) => match deps::plan(old, new, &self.dirty) {
                deps::Plan::Full(why) => Render::Full(Some(why)),
                deps::Plan::Partial(scope) => Render::Partial(scope),
                deps::Plan::Unchanged => Render::Unchanged,
            },
        }
    }
}

impl Incremental {
    /// Records that the site served is now the good build `summary` describes.
    fn settle(&mut self, summary: Option<deps::Summary>) {
        self.last = summary;
        self.dirty.clear();
        self.lost = false;
    }
}

impl Drop for Incremental {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.search_cache);
        // The cache is written beside itself first, then renamed.
        let _ = std::fs::remove_file(self.search_cache.with_extension("tmp"));
    }
}

/// One build in memory.
struct Build {
    /// `None` when the build failed.
    files: Option<Vec<OutFile>>,
    render: Render,
    /// The records built, when the build succeeded.
    summary: Option<deps::Summary>,
    /// Every problem, sorted; warnings only when `files` is `Some`.
    diags: Vec<Diagnostic>,
    sources: Sources,
    /// Folders site.toml names (static files, theme), relative to the root;
    /// `None` when site.toml did not load.
    config_dirs: Option<Vec<PathBuf>>,
    elapsed: Duration,
    /// A partial build that changed what is searched: the records it was
    /// rendered from, whose search bundle and search page [`search_bundle`]
    /// makes once the other pages are served (Pagefind was half of a title
    /// edit's rebuild at 10,000 releases).
    later: Option<site::Checked>,
}

/// The search bundle and page of a build whose other pages are served
/// already ([`Build::later`]).
fn search_bundle(
    checked: &site::Checked,
    root: &Path,
    base_url: &str,
    inc: &Incremental,
) -> Result<Vec<OutFile>, Vec<Diagnostic>> {
    let cache = Some(inc.search_cache.as_path());
    site::render_only(
        checked,
        root,
        Some(base_url),
        cache,
        &deps::Scope::is_search_file,
        None,
    )
}

impl Build {
    fn run(root: &Path, today: NaiveDate, base_url: &str, inc: &mut Incremental) -> Build {
        let start = Instant::now();
        crate::timings::mark("serve: build");
        let changed = (!inc.lost).then_some(&inc.dirty);
        let checked = site::load_and_check_reusing(root, today, &mut inc.loads, changed);
        crate::timings::mark("serve: load+check");
        // Only folders inside the site are watched: `static_dir = "/"` must
        // not watch the whole disk (the render refuses it with its own error).
        let config_dirs = checked.loaded.config.as_ref().map(|c| {
            c.static_dir
                .iter()
                .chain(c.theme.iter())
                .filter(|d| site::inside_site(d))
                .cloned()
                .collect::<Vec<_>>()
        });
        let mut extra = Vec::new();
        let mut summary = None;
        let mut render = Render::Full(None);
        let mut search_later = false;
        let files = if checked.has_errors() {
            None
        } else if checked.loaded.config.is_none() {
            extra.push(
                Diagnostic::error("config", format!("{CONFIG_FILE} could not be loaded"))
                    .in_file(Path::new(CONFIG_FILE)),
            );
            None
        } else {
            summary = deps::Summary::of(&checked);
            render = inc.plan(summary.as_ref());
            if let Render::Partial(scope) = &mut render {
                search_later = scope.take_search();
            }
            crate::timings::mark("serve: summary and plan");
            let cache = Some(inc.search_cache.as_path());
            let out = match &render {
                Render::Unchanged => Ok(Vec::new()),
                Render::Partial(scope) => {
                    inc.rows.forget(scope.edited());
                    let only = |p: &str| scope.accepts(p);
                    let rows = Some(&mut inc.rows);
                    site::render_only(&checked, root, Some(base_url), cache, &only, rows)
                }
                Render::Full(_) => {
                    // Anything site-wide may have changed: no row is reused.
                    inc.rows.clear();
                    let sink = render::Collect::default();
                    let rows = Some(&mut inc.rows);
                    site::render_into(&checked, root, Some(base_url), cache, &sink, None, rows)
                        .map(|_| sink.into_files())
                }
            };
            crate::timings::mark("serve: rendered");
            match out {
                Ok(files) => Some(files),
                Err(ds) => {
                    extra = ds;
                    None
                }
            }
        };
        let mut checked = checked;
        let mut diags = std::mem::take(&mut checked.diags);
        diags.append(&mut extra);
        diagnostics::sort(&mut diags);
        let later = search_later && files.is_some();
        let sources = if later {
            checked.loaded.sources.clone()
        } else {
            std::mem::take(&mut checked.loaded.sources)
        };
        Build {
            summary: summary.filter(|_| files.is_some()),
            files,
            render,
            diags,
            sources,
            config_dirs,
            elapsed: start.elapsed(),
            later: later.then_some(checked),
        }
    }
}

/// A good build laid over the last one.
struct Merged {
    files: Arc<Files>,
    /// HTML pages rendered by this build, and in the whole site.
    rendered: usize,
    pages: usize,
    /// Files changed (or new), and removed.
    changed: usize,
    removed: usize,
}

/// Lays the files of a good `build` over `old`, the last good site.
fn apply(old: &Arc<Files>, render: &Render, files: Vec<OutFile>) -> Merged {
    let rendered = count_pages(&files);
    let (files, changed, removed) = match render {
        Render::Full(_) => {
            let (f, c, r) = merge(old, files);
            (Arc::new(f), c, r)
        }
        Render::Partial(scope) => {
            let (f, c, r) = merge_partial(old, files, &|p| scope.accepts(p));
            (Arc::new(f), c, r)
        }
        Render::Unchanged => (Arc::clone(old), 0, 0),
    };
    let pages = files.keys().filter(|k| is_page(k)).count();
    Merged {
        files,
        rendered,
        pages,
        changed,
        removed,
    }
}

/// Whether an output path is an HTML page, as `build` counts them.
fn is_page(path: &str) -> bool {
    path.ends_with("index.html") || path == "404.html"
}

/// Counts HTML pages the way `build` does.
fn count_pages(files: &[OutFile]) -> usize {
    files.iter().filter(|f| is_page(&f.path)).count()
}

/// The new file set, reusing the bytes of every unchanged file; with the
/// numbers of files changed (or new) and removed.
fn merge(old: &Files, new: Vec<OutFile>) -> (Files, usize, usize) {
    let mut out = Files::new();
    let mut changed = 0;
    for f in new {
        match old.get(&f.path) {
            Some(prev) if **prev == *f.bytes => {
                out.insert(f.path, Arc::clone(prev));
            }
            _ => {
                changed += 1;
                out.insert(f.path, Arc::from(f.bytes));
            }
        }
    }
    let removed = old.keys().filter(|k| !out.contains_key(*k)).count();
    (out, changed, removed)
}

/// `old` with the files of a partial render laid over it: every file `only`
/// accepts is replaced by its new version, or removed when the render did
/// not make it (a search bundle's files are named by their hash); every other
/// file is kept as it was. With the numbers of files changed (or new) and removed.
fn merge_partial(
    old: &Files,
    new: Vec<OutFile>,
    only: &dyn Fn(&str) -> bool,
) -> (Files, usize, usize) {
    let made: BTreeSet<&str> = new.iter().map(|f| f.path.as_str()).collect();
    let mut out = old.clone();
    out.retain(|k, _| made.contains(k.as_str()) || !only(k));
    let removed = old.len() - out.len();
    let mut changed = 0;
    for f in new {
        if out.get(&f.path).is_none_or(|prev| **prev != *f.bytes) {
            changed += 1;
            out.insert(f.path, Arc::from(f.bytes));
        }
    }
    (out, changed, removed)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// [`plural`] with thousands separated: "12,551 pages".
fn plural_fmt(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        fmt_units(n as u64),
        if n == 1 { one } else { many }
    )
}

/// The overlay listing a failed build's problems, every one escaped.
fn overlay_html(diags: &[Diagnostic], sources: &Sources) -> String {
    let (errors, warnings) = diagnostics::counts(diags);
    let text: Vec<String> = diags
        .iter()
        .map(|d| diagnostics::render(d, sources, MessageFormat::Human, false))
        .collect();
    format!(
        "<div id=\"impala-serve-overlay\" role=\"alert\">\
         <link rel=\"stylesheet\" href=\"{LIVERELOAD_CSS}\">\
         <div class=\"box\">\
         <p><strong>The build failed: {}, {}.</strong> \
         This page is from the last good build; it reloads once the problem is fixed.</p>\
         <pre>{}</pre>\
         <button type=\"button\">Hide</button>\
         </div></div>",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
        escape::html(&text.join("\n\n")),
    )
}

/// Last position of `needle` in `hay`, ignoring ASCII case.
fn rfind_ascii_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// `html` with the live-reload script (and the overlay, if any) added before
/// `</body>`. Only pages served by `serve` get this; built output never does.
fn inject(html: &[u8], version: u64, overlay: Option<&str>) -> Vec<u8> {
    let snippet = format!(
        "<script src=\"{LIVERELOAD_JS}\" data-version=\"{version}\"></script>{}",
        overlay.unwrap_or("")
    );
    let at = rfind_ascii_ci(html, b"</body>").unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + snippet.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(snippet.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

/// The media type of a served file, by extension.
fn content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml",
        "rss" => "application/rss+xml",
        "atom" => "application/atom+xml",
        "xsl" | "xslt" => "application/xslt+xml",
        "svg" => "image/svg+xml",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/vnd.microsoft.icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "pdf" => "application/pdf",
        // Pagefind's index chunks and its compressed wasm are opaque bytes its
        // own script fetches.
        "pagefind" | "pf_meta" | "pf_index" | "pf_fragment" | "pf_filter" => {
            "application/octet-stream"
        }
        _ => "application/octet-stream",
    }
}

/// Percent-decodes a request path once. `None` for a bad escape, an escaped
/// separator (`%2f`, `%5c`), NUL or any control character, a backslash, or
/// invalid UTF-8: such paths only ever mean trouble.
fn decode_path(raw: &str) -> Option<String> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            let c = hi * 16 + lo;
            if matches!(c, b'/' | b'\\') {
                return None;
            }
            out.push(c);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    if s.contains('\\') || s.chars().any(char::is_control) {
        return None;
    }
    Some(s)
}

/// Where a request path leads.
#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    /// The key of a rendered file.
    File(String),
    /// A folder asked for without its trailing slash.
    Redirect(String),
    NotFound,
}

/// Maps a request path (no query) to a rendered file.
///
/// Files are looked up by key in the in-memory map of the rendered site and
/// never opened on disk, so no path, however crafted, can reach a file outside
/// the site: traversal is impossible by construction. Paths with `.`/`..`
/// segments, empty segments, escaped separators, backslashes or control
/// characters are still refused outright, so they get a plain 404 rather than
/// whatever a normalisation might make of them.
fn resolve(path: &str, files: &Files) -> Resolved {
    let Some(rel) = path.strip_prefix('/') else {
        return Resolved::NotFound;
    };
    let Some(decoded) = decode_path(rel) else {
        return Resolved::NotFound;
    };
    let segments: Vec<&str> = decoded.split('/').collect();
    let last = segments.len() - 1;
    let clean = segments
        .iter()
        .enumerate()
        .all(|(i, s)| *s != "." && *s != ".." && (!s.is_empty() || i == last));
    if !clean {
        return Resolved::NotFound;
    }
    let key = if decoded.is_empty() || decoded.ends_with('/') {
        format!("{decoded}index.html")
    } else {
        decoded.clone()
    };
    if files.contains_key(&key) {
        Resolved::File(key)
    } else if !decoded.is_empty()
        && !decoded.ends_with('/')
        && files.contains_key(&format!("{decoded}/index.html"))
    {
        Resolved::Redirect(format!("{path}/"))
    } else {
        Resolved::NotFound
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Head,
}

/// A parsed request: only what serving needs.
#[derive(Debug)]
struct Request {
    method: Method,
    /// Origin-form target, e.g. `/releases/x/?a=b`: visible ASCII only.
    target: String,
}

/// Parses a request head (request line and headers, without the blank line).
/// `Err` is the status to answer with.
fn parse_request(head: &[u8]) -> Result<Request, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    match version {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if v.starts_with("HTTP/") && v.len() > 5 => return Err(505),
        _ => return Err(400),
    }
    if !target.starts_with('/') || !target.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(400);
    }
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return Err(400);
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(400);
        }
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        m if !m.is_empty() && m.bytes().all(is_token_byte) => return Err(405),
        _ => return Err(400),
    };
    Ok(Request {
        method,
        target: target.to_string(),
    })
}

/// A `tchar` of RFC 9110.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Why no request head could be read.
#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// The client went away before sending anything.
    Closed,
    /// The client stopped mid-request.
    Incomplete,
    TooLarge,
    Timeout,
}

/// End of the head (after the blank line), if it has arrived.
fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Reads a request head, at most [`MAX_HEAD`] bytes and until `deadline`.
fn read_head(stream: &mut impl Read, deadline: Instant) -> Result<Vec<u8>, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = head_end(&buf) {
            // Anything after the head would be a body or a pipelined request;
            // every answer closes the connection, so it is dropped.
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        if Instant::now() >= deadline {
            return Err(HeadError::Timeout);
        }
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Err(HeadError::Closed),
            Ok(0) => return Err(HeadError::Incomplete),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Err(HeadError::Closed),
        }
    }
}

enum Body {
    Shared(Arc<[u8]>),
    Owned(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Shared(b) => b,
            Body::Owned(b) => b,
        }
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: Body,
    location: Option<String>,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: Body) -> Response {
        Response {
            status,
            content_type,
            body,
            location: None,
        }
    }

    /// A plain-text answer to a request that could not be served.
    fn plain(status: u16) -> Response {
        let text = format!("{status} {}\n", reason(status));
        Response::new(
            status,
            "text/plain; charset=utf-8",
            Body::Owned(text.into_bytes()),
        )
    }

    fn write_to(&self, out: &mut impl Write, head_only: bool) -> io::Result<()> {
        let body = self.body.bytes();
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            body.len()
        );
        if let Some(loc) = &self.location {
            let _ = write!(head, "Location: {loc}\r\n");
        }
        if self.status == 405 {
            head.push_str("Allow: GET, HEAD\r\n");
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        if !head_only {
            out.write_all(body)?;
        }
        out.flush()
    }
}

const LIVERELOAD_SCRIPT: &str = r#"// Live reload for `impala-awards serve`: wait for a new build, then reload.
(function () {
  "use strict";
  var script = document.currentScript;
  var version = script ? script.getAttribute("data-version") : "";
  var delay = 250;
  function poll() {
    fetch("/__livereload?v=" + encodeURIComponent(version), { cache: "no-store" })
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.text();
      })
      .then(function (v) {
        delay = 250;
        if (v.trim() !== version) { location.reload(); } else { poll(); }
      })
      .catch(function () {
        // The server is restarting or busy: try again, less and less often.
        setTimeout(poll, delay);
        delay = Math.min(delay * 2, 5000);
      });
  }
  var overlay = document.getElementById("impala-serve-overlay");
  var hide = overlay && overlay.querySelector("button");
  if (hide) { hide.addEventListener("click", function () { overlay.hidden = true; }); }
  poll();
})();
"#;

const OVERLAY_CSS: &str = "#impala-serve-overlay{position:fixed;inset:0;z-index:2147483647;\
display:flex;align-items:flex-start;justify-content:center;overflow:auto;padding:4vh 2vw;\
background:rgba(16,16,16,.72);font:15px/1.45 system-ui,sans-serif}\
#impala-serve-overlay[hidden]{display:none}\
#impala-serve-overlay .box{box-sizing:border-box;width:100%;max-width:60rem;padding:1rem 1.25rem;\
background:#fff;color:#1a1a1a;border-top:6px solid #b3261e;box-shadow:0 8px 32px rgba(0,0,0,.4)}\
#impala-serve-overlay pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.75rem 0;padding:.75rem;\
background:#f4f4f4;color:#1a1a1a;font:13px/1.4 ui-monospace,monospace}\
#impala-serve-overlay button{font:inherit;padding:.3rem .9rem}\n";

/// Answers one parsed request from the current snapshot.
fn respond(req: &Request, shared: &Shared) -> Response {
    let (path, query) = req
        .target
        .split_once('?')
        .map_or((req.target.as_str(), None), |(p, q)| (p, Some(q)));
    match path {
        LIVERELOAD => {
            let seen = query
                .into_iter()
                .flat_map(|q| q.split('&'))
                .find_map(|kv| kv.strip_prefix("v="))
                .and_then(|v| v.parse::<u64>().ok());
            let version = match (seen, req.method) {
                (Some(v), Method::Get) => {
                    report_reload(shared, v);
                    shared.wait_past(v, POLL_WAIT)
                }
                _ => shared.get().version,
            };
            return Response::new(
                200,
                "text/plain; charset=utf-8",
                Body::Owned(version.to_string().into_bytes()),
            );
        }
        LIVERELOAD_JS => {
            return Response::new(
                200,
                content_type(LIVERELOAD_JS),
                Body::Owned(LIVERELOAD_SCRIPT.as_bytes().to_vec()),
            );
        }
        LIVERELOAD_CSS => {
            return Response::new(
                200,
                content_type(LIVERELOAD_CSS),
                Body::Owned(OVERLAY_CSS.as_bytes().to_vec()),
            );
        }
        _ => {}
    }
    let snap = shared.get();
    if snap.files.is_empty() {
        return not_built(&snap);
    }
    match resolve(path, &snap.files) {
        Resolved::File(key) => match snap.files.get(&key) {
            Some(bytes) => page(200, &key, Arc::clone(bytes), &snap),
            None => not_found(&snap),
        },
        Resolved::Redirect(to) => {
            let to = match query {
                Some(q) => format!("{to}?{q}"),
                None => to,
            };
            let mut r = Response::plain(301);
            r.location = Some(to);
            r
        }
        Resolved::NotFound => not_found(&snap),
    }
}

/// Prints, once per version, how long after the change a page came back
/// showing it: the first poll for the newest version comes from a page
/// that has just loaded it.
fn report_reload(shared: &Shared, seen: u64) {
    let snap = shared.get();
    if let Some(at) = snap.changed_at
        && seen == snap.version
        && shared.reported.swap(seen, Ordering::SeqCst) != seen
    {
        eprintln!(
            "page reloaded in the browser {} ms after the change",
            at.elapsed().as_millis()
        );
    }
}

/// A rendered file; HTML gets the live-reload script and any overlay.
fn page(status: u16, key: &str, bytes: Arc<[u8]>, snap: &Snapshot) -> Response {
    let ct = content_type(key);
    let body = if ct.starts_with("text/html") {
        Body::Owned(inject(&bytes, snap.version, snap.overlay.as_deref()))
    } else {
        Body::Shared(bytes)
    };
    Response::new(status, ct, body)
}

/// The site's own 404 page, or a plain one when the site has none.
fn not_found(snap: &Snapshot) -> Response {
    match snap.files.get("404.html") {
        Some(bytes) => page(404, "404.html", Arc::clone(bytes), snap),
        None => {
            let html = b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1></html>";
            Response::new(
                404,
                "text/html; charset=utf-8",
                Body::Owned(inject(html, snap.version, snap.overlay.as_deref())),
            )
        }
    }
}

/// Every answer before the first good build: the problems, and a reload once fixed.
fn not_built(snap: &Snapshot) -> Response {
    let html = b"<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\">\
        <title>Site not built yet</title><body><h1>The site has not built yet</h1></body></html>";
    Response::new(
        503,
        "text/html; charset=utf-8",
        Body::Owned(inject(html, snap.version, snap.overlay.as_deref())),
    )
}

/// Serves one connection: one request, one answer, then close.
fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let (resp, head_only) = match read_head(&mut stream, Instant::now() + HEAD_DEADLINE) {
        Ok(head) => match parse_request(&head) {
            Ok(req) => (respond(&req, shared), req.method == Method::Head),
            Err(status) => (Response::plain(status), false),
        },
        Err(HeadError::Closed) => return,
        Err(HeadError::Incomplete) => (Response::plain(400), false),
        Err(HeadError::TooLarge) => (Response::plain(431), false),
        Err(HeadError::Timeout) => (Response::plain(408), false),
    };
    let written = resp.write_to(&mut stream, head_only).is_ok();
    if written && resp.status >= 400 && resp.status != 404 {
        // The client may have sent more than was read; closing with unread
        // data would reset the connection and could lose the answer, so
        // half-close and drain a little first.
        let _ = stream.shutdown(Shutdown::Write);
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let mut sink = [0u8; 4096];
        let mut drained = 0;
        while drained < 256 * 1024 {
            match stream.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    }
}

/// Releases a connection slot when its thread ends, even by panic.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Accepts connections forever, one thread each up to [`MAX_CONNECTIONS`].
fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let active = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        let mut stream = match conn {
            Ok(s) => s,
            Err(_) => {
                // Out of file descriptors or similar: let it pass rather than spin.
                thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            let _ = Response::plain(503).write_to(&mut stream, false);
            continue;
        }
        let slot = Slot(Arc::clone(&active));
        let shared = Arc::clone(&shared);
        // A failed spawn drops the closure, and with it the slot and stream.
        let _ = thread::Builder::new()
            .name("serve-connection".into())
            .stack_size(512 * 1024)
            .spawn(move || {
                let _slot = slot;
                serve_connection(stream, &shared);
            });
    }
}

type Watcher = Debouncer<RecommendedWatcher, RecommendedCache>;

/// Messages to the main loop.
enum Msg {
    Changed(DebounceEventResult),
    Stop,
}

/// Editor droppings that are not part of the site.
fn is_scratch(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name == "4913"
}

/// The build loop: owns the watcher and swaps in new builds.
struct Server {
    root: PathBuf,
    /// `root`, canonical, to match the watcher's paths against.
    root_abs: PathBuf,
    today: NaiveDate,
    base_url: String,
    color: bool,
    shared: Arc<Shared>,
    /// Folders whose changes trigger a rebuild, relative to the root.
    want: BTreeSet<PathBuf>,
    /// Folders being watched right now.
    watching: BTreeSet<PathBuf>,
    inc: Incremental,
}

impl Server {
    fn print_diags(&self, diags: &[Diagnostic], sources: &Sources) {
        for d in diags {
            eprintln!(
                "{}\n",
                diagnostics::render(d, sources, MessageFormat::Human, self.color)
            );
        }
    }

    /// Runs a build and serves its result; `cause` is what changed and when.
    fn rebuild(&mut self, watcher: &mut Watcher, cause: Option<(&[PathBuf], Instant)>) {
        if let Some((paths, _)) = cause {
            self.inc.dirty.extend(paths.iter().cloned());
        }
        let mut build = Build::run(&self.root, self.today, &self.base_url, &mut self.inc);
        let later = build.later.take();
        if let Some(dirs) = &build.config_dirs {
            self.want = DEFAULT_WATCH.iter().map(PathBuf::from).collect();
            self.want.extend(
                dirs.iter()
                    .filter(|d| d.is_relative() && !d.as_os_str().is_empty())
                    .cloned(),
            );
        }
        // Before the new site goes live, so that an edit made as soon as it
        // shows is seen even in a folder site.toml has just named.
        self.sync_watches(watcher);
        self.print_diags(&build.diags, &build.sources);
        let what = cause.map(|(paths, _)| describe(paths));
        let old = self.shared.get();
        match build.files {
            Some(files) => {
                let total = files.len();
                let m = apply(&old.files, &build.render, files);
                crate::timings::mark("serve: merged");
                self.inc.settle(build.summary);
                let moved = m.changed + m.removed > 0 || old.overlay.is_some();
                if moved {
                    self.shared.set(Snapshot {
                        version: old.version + 1,
                        files: Arc::clone(&m.files),
                        overlay: None,
                        changed_at: cause.map(|(_, at)| at),
                    });
                }
                let warnings = diagnostics::counts(&build.diags).1;
                let warned = if warnings > 0 {
                    format!(", {}", plural(warnings, "warning", "warnings"))
                } else {
                    String::new()
                };
                match (cause, what) {
                    (Some((_, since)), Some(what)) => eprintln!(
                        "rebuilt in {} ms ({what}): {} of {} re-rendered in {} ms{}, {} changed{}{}{warned}{}",
                        since.elapsed().as_millis(),
                        fmt_units(m.rendered as u64),
                        plural_fmt(m.pages, "page", "pages"),
                        build.elapsed.as_millis(),
                        match &build.render {
                            Render::Full(Some(why)) => format!(" (all: {why})"),
                            Render::Unchanged => " (no record changed)".to_string(),
                            Render::Full(None) | Render::Partial(_) => String::new(),
                        },
                        plural(m.changed, "file", "files"),
                        if m.removed > 0 {
                            format!(", {} removed", m.removed)
                        } else {
                            String::new()
                        },
                        if old.overlay.is_some() {
                            ", errors fixed"
                        } else {
                            ""
                        },
                        if later.is_some() {
                            "; the search index follows"
                        } else {
                            ""
                        },
                    ),
                    _ => eprintln!(
                        "built {} ({}) in {} ms{warned}",
                        plural(m.pages, "page", "pages"),
                        plural(total, "file", "files"),
                        build.elapsed.as_millis()
                    ),
                }
            }
            None => {
                let overlay: Arc<str> = Arc::from(overlay_html(&build.diags, &build.sources));
                if old.overlay.as_deref() != Some(&*overlay) {
                    self.shared.set(Snapshot {
                        version: old.version + 1,
                        files: Arc::clone(&old.files),
                        overlay: Some(overlay),
                        changed_at: cause.map(|(_, at)| at),
                    });
                }
                let (errors, warnings) = diagnostics::counts(&build.diags);
                let serving = if old.files.is_empty() {
                    "nothing to serve until it is fixed"
                } else {
                    "still serving the last good build, with the errors over every page"
                };
                eprintln!(
                    "build failed{}: {}, {}; {serving}",
                    what.map(|w| format!(" ({w})")).unwrap_or_default(),
                    plural(errors, "error", "errors"),
                    plural(warnings, "warning", "warnings"),
                );
            }
        }
        if let Some(checked) = later {
            self.search_after(&checked, cause.map(|(_, at)| at));
        }
    }

    /// Makes the search bundle of a good partial build whose pages are
    /// served already, and serves it with them. The version stays: the
    /// pages reloaded for the edit, and a second reload would show nothing
    /// new. Should it fail, the next build renders everything.
    fn search_after(&mut self, checked: &site::Checked, since: Option<Instant>) {
        let start = Instant::now();
        let made = search_bundle(checked, &self.root, &self.base_url, &self.inc);
        crate::timings::mark("serve: search bundle");
        match made {
            Ok(files) => {
                let now = self.shared.get();
                let (merged, changed, removed) =
                    merge_partial(&now.files, files, &deps::Scope::is_search_file);
                if changed + removed > 0 {
                    self.shared.set(Snapshot {
                        version: now.version,
                        files: Arc::new(merged),
                        overlay: now.overlay.clone(),
                        changed_at: now.changed_at,
                    });
                }
                eprintln!(
                    "search index rebuilt in {} ms{}: {} changed{}",
                    start.elapsed().as_millis(),
                    since
                        .map(|t| format!(" ({} ms after the change)", t.elapsed().as_millis()))
                        .unwrap_or_default(),
                    plural(changed, "file", "files"),
                    if removed > 0 {
                        format!(", {removed} removed")
                    } else {
                        String::new()
                    },
                );
            }
            Err(ds) => {
                self.print_diags(&ds, &checked.loaded.sources);
                self.inc.lost = true;
                eprintln!(
                    "the search index could not be rebuilt: search shows the records as they were; the next build renders everything"
                );
            }
        }
    }

    /// The changed paths that matter, relative to the root.
    fn relevant(&self, path: &Path) -> Option<PathBuf> {
        let rel = path.strip_prefix(&self.root_abs).ok()?;
        let wanted = rel == Path::new(CONFIG_FILE) || self.want.iter().any(|w| rel.starts_with(w));
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        (wanted && !hidden && !is_scratch(rel)).then(|| rel.to_path_buf())
    }

    /// Watches every wanted folder that exists, and drops the rest.
    fn sync_watches(&mut self, watcher: &mut Watcher) {
        let stale: Vec<PathBuf> = self.watching.difference(&self.want).cloned().collect();
        for dir in stale {
            let _ = watcher.unwatch(self.root_abs.join(&dir));
            self.watching.remove(&dir);
        }
        let missing: Vec<PathBuf> = self.want.difference(&self.watching).cloned().collect();
        for dir in missing {
            let abs = self.root_abs.join(&dir);
            if !abs.is_dir() {
                continue;
            }
            match watcher.watch(&abs, RecursiveMode::Recursive) {
                Ok(()) => {
                    self.watching.insert(dir);
                }
                Err(e) => eprintln!("warning: cannot watch {}: {e}", dir.display()),
            }
        }
    }
}

/// "a.toml", "a.toml, b.toml" or "a.toml, b.toml and 3 more".
fn describe(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths
        .iter()
        .take(2)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect();
    let mut s = shown.join(", ");
    if paths.len() > 2 {
        let _ = write!(s, " and {} more", paths.len() - 2);
    }
    s
}

/// The URL the site is served at. An unspecified bind address is reached
/// through loopback.
fn site_url(local: SocketAddr) -> String {
    let ip = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/", SocketAddr::new(ip, local.port()))
}

/// Name of the search index cache of the `serve` with process id `pid`.
fn cache_name(pid: u32) -> String {
    format!("impala-awards-serve-{pid}.search-cache")
}

/// This process's own search index cache, so two servers never share one;
/// the caches a killed server left behind are removed first.
fn search_cache_file() -> PathBuf {
    let dir = std::env::temp_dir();
    #[cfg(unix)]
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix("impala-awards-serve-"))
                .and_then(|n| n.strip_suffix(".search-cache"))
                .and_then(|p| p.parse::<libc::pid_t>().ok())
                .filter(|&p| p > 0)
            else {
                continue;
            };
            // SAFETY: signal 0 only asks whether the process exists.
            let gone = unsafe { libc::kill(pid, 0) } != 0
                && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    dir.join(cache_name(std::process::id()))
}

/// Builds the site, serves it and rebuilds on every change until Ctrl-C.
pub fn run(opts: &ServeOptions) -> Result<(), ServeError> {
    let root_abs = opts
        .root
        .canonicalize()
        .map_err(|source| ServeError::Root {
            path: opts.root.clone(),
            source,
        })?;
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let url = site_url(local);

    let (tx, rx) = mpsc::channel::<Msg>();
    let stop = tx.clone();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(Msg::Stop);
    }) {
        eprintln!("warning: cannot handle Ctrl-C: {e}");
    }
    // Watch before the first build, so a change made during it is not missed.
    let mut watcher = new_debouncer(DEBOUNCE, None, move |r: DebounceEventResult| {
        let _ = tx.send(Msg::Changed(r));
    })?;
    // site.toml is watched through its folder: editors that save by
    // renaming a new file over it would end a watch on the file itself.
    watcher.watch(&root_abs, RecursiveMode::NonRecursive)?;

    // The version starts from the clock so that a page left open across a
    // restart of the server still sees a new version and reloads.
    let boot = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_millis() as u64);
    let shared = Arc::new(Shared {
        now: Mutex::new(Arc::new(Snapshot {
            version: boot,
            files: Arc::new(Files::new()),
            overlay: None,
            changed_at: None,
        })),
        changed: Condvar::new(),
        reported: AtomicU64::new(0),
    });
    let mut server = Server {
        root: opts.root.clone(),
        root_abs,
        today: opts.today,
        base_url: url.clone(),
        color: opts.color,
        shared: Arc::clone(&shared),
        want: DEFAULT_WATCH.iter().map(PathBuf::from).collect(),
        watching: BTreeSet::new(),
        inc: Incremental::new(search_cache_file()),
    };
    server.rebuild(&mut watcher, None);

    thread::Builder::new()
        .name("serve-accept".into())
        .spawn(move || accept_loop(listener, shared))
        .map_err(|source| ServeError::Bind { addr, source })?;
    if !local.ip().is_loopback() {
        eprintln!(
            "warning: listening on {local}: anyone who can reach this machine can read the preview"
        );
    }
    eprintln!("serving {url} (Ctrl-C to stop)");
    if opts.open
        && let Err(e) = open::that_detached(&url)
    {
        eprintln!("could not open a browser ({e}); open {url} yourself");
    }

    while let Ok(msg) = rx.recv() {
        let mut batches = vec![msg];
        // Changes queued during the last rebuild make one more rebuild, not many.
        batches.extend(rx.try_iter());
        let mut changed = BTreeSet::new();
        let mut since: Option<Instant> = None;
        let mut stopping = false;
        for batch in batches {
            match batch {
                Msg::Stop => stopping = true,
                Msg::Changed(Err(errors)) => {
                    for e in errors {
                        eprintln!("warning: watching for changes: {e}");
                    }
                    // What the failed events were about is unknown.
                    server.inc.lost = true;
                }
                Msg::Changed(Ok(events)) => {
                    for ev in events {
                        if matches!(ev.kind, EventKind::Access(_)) {
                            continue;
                        }
                        // The system dropped events (its queue overflowed):
                        // anything may have changed, records kept from the
                        // last load too.
                        if ev.need_rescan() {
                            server.inc.lost = true;
                            changed.insert(PathBuf::from("content"));
                            since = Some(since.map_or(ev.time, |s| s.min(ev.time)));
                        }
                        for p in &ev.paths {
                            if let Some(rel) = server.relevant(p) {
                                // A watched folder that was removed must be
                                // watched afresh when it comes back.
                                if matches!(ev.kind, EventKind::Remove(_)) {
                                    server.watching.remove(&rel);
                                }
                                changed.insert(rel);
                                since = Some(since.map_or(ev.time, |s| s.min(ev.time)));
                            }
                        }
                    }
                }
            }
        }
        if stopping {
            break;
        }
        if let Some(since) = since {
            let paths: Vec<PathBuf> = changed.into_iter().collect();
            server.rebuild(&mut watcher, Some((&paths, since)));
        }
    }
    eprintln!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(keys: &[&str]) -> Files {
        keys.iter()
            .map(|k| (k.to_string(), Arc::from(k.as_bytes())))
            .collect()
    }

    #[test]
    fn resolves_pages_folders_and_redirects() {
        let f = files(&["index.html", "releases/x/index.html", "assets/style.css"]);
        assert_eq!(resolve("/", &f), Resolved::File("index.html".into()));
        assert_eq!(
            resolve("/releases/x/", &f),
            Resolved::File("releases/x/index.html".into())
        );
        assert_eq!(
            resolve("/releases/x", &f),
            Resolved::Redirect("/releases/x/".into())
        );
        assert_eq!(
            resolve("/assets/style%2Ecss", &f),
            Resolved::File("assets/style.css".into())
        );
        assert_eq!(resolve("/releases/y/", &f), Resolved::NotFound);
    }

    #[test]
    fn refuses_traversal_and_odd_paths() {
        let f = files(&["index.html", "site.toml", "a/index.html"]);
        for p in [
            "/../site.toml",
            "/%2e%2e/site.toml",
            "/%2E%2E/site.toml",
            "/..%2fsite.toml",
            "/..%2Fsite.toml",
            "/a/..\\..\\site.toml",
            "/a%5c..%5csite.toml",
            "/a/../site.toml",
            "/./site.toml",
            "//site.toml",
            "/a//index.html",
            "/site.toml%00",
            "/%00",
            "/%zz",
            "/%2",
            "/%ff",
            "relative",
        ] {
            assert_eq!(resolve(p, &f), Resolved::NotFound, "{p}");
        }
        // Decoded once only: "%252e" is the literal name "%2e".
        assert_eq!(resolve("/%252e%252e/site.toml", &f), Resolved::NotFound);
    }

    #[test]
    fn parses_requests_strictly() {
        let r = parse_request(b"GET /a/?x=1 HTTP/1.1\r\nHost: h\r\n").expect("valid");
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.target, "/a/?x=1");
        assert_eq!(
            parse_request(b"HEAD / HTTP/1.0").map(|r| r.method),
            Ok(Method::Head)
        );
        assert_eq!(parse_request(b"POST / HTTP/1.1").err(), Some(405));
        assert_eq!(parse_request(b"GET / HTTP/2.0").err(), Some(505));
        for bad in [
            &b"\x00\xff\xfe garbage"[..],
            b"GET /",
            b"GET / HTTP/1.1 extra",
            b"GET a HTTP/1.1",
            b"GET /\x01 HTTP/1.1",
            b"GET / HTTP/1.1\r\nno colon here",
            b"GET / HTTP/1.1\r\nbad name: x",
            b"G(T / HTTP/1.1",
            b"",
        ] {
            assert_eq!(parse_request(bad).err(), Some(400), "{bad:?}");
        }
    }

    #[test]
    fn reads_heads_within_limits() {
        let far = Instant::now() + Duration::from_secs(5);
        let mut ok = &b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"[..];
        assert_eq!(
            read_head(&mut ok, far).as_deref(),
            Ok(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..])
        );
        let big = vec![b'a'; MAX_HEAD + 10];
        assert_eq!(read_head(&mut &big[..], far), Err(HeadError::TooLarge));
        assert_eq!(
            read_head(&mut &b"GET / HT"[..], far),
            Err(HeadError::Incomplete)
        );
        assert_eq!(read_head(&mut &b""[..], far), Err(HeadError::Closed));
        assert_eq!(
            read_head(&mut &b"GET"[..], Instant::now()),
            Err(HeadError::Timeout)
        );
    }

    #[test]
    fn content_types_by_extension() {
        for (p, ct) in [
            ("index.html", "text/html; charset=utf-8"),
            ("assets/style.css", "text/css; charset=utf-8"),
            ("pagefind/pagefind.js", "text/javascript; charset=utf-8"),
            ("pagefind/pagefind-entry.json", "application/json"),
            ("feed.xml", "application/xml"),
            ("favicon.svg", "image/svg+xml"),
            ("data/awards.csv", "text/csv; charset=utf-8"),
            ("pagefind/wasm.unknown.wasm", "application/wasm"),
            ("robots.txt", "text/plain; charset=utf-8"),
            ("pagefind/wasm.en.pagefind", "application/octet-stream"),
            ("pagefind/index/en_1.pf_index", "application/octet-stream"),
            ("CNAME", "application/octet-stream"),
            ("a.b/CNAME", "application/octet-stream"),
        ] {
            assert_eq!(content_type(p), ct, "{p}");
        }
    }

    #[test]
    fn injects_before_the_last_body_end() {
        let out = inject(b"<p></body>x</BODY>", 7, Some("<div>o</div>"));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "<p></body>x<script src=\"/__livereload.js\" data-version=\"7\"></script>\
             <div>o</div></BODY>"
        );
        let out = inject(b"<p>", 1, None);
        assert!(out.starts_with(b"<p><script"));
    }

    #[test]
    fn overlay_escapes_diagnostics() {
        let d = Diagnostic::error("x", "bad <script>alert(1)</script> & \"q\"");
        let html = overlay_html(&[d], &Sources::default());
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
        assert!(html.contains("1 error, 0 warnings"));
    }

    #[test]
    fn merge_keeps_unchanged_bytes() {
        let old = files(&["a", "b", "c"]);
        let new = vec![
            OutFile {
                path: "a".into(),
                bytes: b"a".to_vec(),
            },
            OutFile {
                path: "b".into(),
                bytes: b"B".to_vec(),
            },
            OutFile {
                path: "d".into(),
                bytes: b"d".to_vec(),
            },
        ];
        let (merged, changed, removed) = merge(&old, new);
        assert_eq!((changed, removed), (2, 1));
        assert!(Arc::ptr_eq(&merged["a"], &old["a"]));
        assert_eq!(&*merged["b"], b"B");
        assert!(!merged.contains_key("c"));
    }

    #[test]
    fn describes_changes_briefly() {
        let p: Vec<PathBuf> = ["a", "b", "c", "d"].iter().map(PathBuf::from).collect();
        assert_eq!(describe(&p[..1]), "a");
        assert_eq!(describe(&p), "a, b and 2 more");
    }
}

/// Partial rebuilds against full ones, on a copy of the fixture site.
#[cfg(test)]
mod incremental_tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:1111/";
    const ZOE: &str = "content/releases/zoe-brandt/zoe-brandt-uberall.toml";
    const JAAKIDE: &str = "content/releases/jaakide/jaakide-hamara.toml";
    const ECUME: &str = "content/releases/ecume-noire/ecume-noire-les-heures-pales.toml";
    const SOLVEIG: &str = "content/releases/solveig-ran/solveig-ran-ljos-i-myrkri.toml";

    /// A copy of the valid fixture and serve's state over it.
    struct Site {
        dir: tempfile::TempDir,
        inc: Incremental,
        files: Arc<Files>,
        /// What the last partial rebuild rendered.
        scope: Option<deps::Scope>,
        /// Rebuilds whose search bundle came after their pages.
        searched_after: usize,
    }

    /// What one rebuild did.
    #[derive(Debug, PartialEq, Eq)]
    enum Kind {
        Full,
        Partial,
        Unchanged,
        Failed,
    }

    fn today() -> NaiveDate {
        // SOURCE_DATE_EPOCH of the integration tests: 2026-09-21.
        NaiveDate::from_ymd_opt(2026, 9, 21).unwrap_or_default()
    }

    impl Site {
        fn new() -> Site {
            let dir = crate::test_support::valid_fixture();
            let inc = Incremental::new(dir.path().join(".search-cache"));
            let mut site = Site {
                dir,
                inc,
                files: Arc::new(Files::new()),
                scope: None,
                searched_after: 0,
            };
            assert_eq!(site.rebuild(&[]).0, Kind::Full);
            site
        }

        fn root(&self) -> &Path {
            self.dir.path()
        }

        /// Replaces the first `from` in `rel` by `to`.
        fn edit(&self, rel: &str, from: &str, to: &str) {
            let path = self.root().join(rel);
            let text = std::fs::read_to_string(&path).expect("read record");
            assert!(text.contains(from), "{from:?} not in {rel}");
            std::fs::write(&path, text.replacen(from, to, 1)).expect("write record");
        }

        /// What `serve` does after the watcher reports `changed`.
        fn rebuild(&mut self, changed: &[&str]) -> (Kind, usize, usize) {
            self.inc.dirty.extend(changed.iter().map(PathBuf::from));
            let mut build = Build::run(self.dir.path(), today(), BASE, &mut self.inc);
            let later = build.later.take();
            let Some(files) = build.files else {
                let codes: Vec<&str> = build.diags.iter().map(|d| d.code).collect();
                eprintln!("the build failed: {codes:?}");
                return (Kind::Failed, 0, 0);
            };
            let kind = match build.render {
                Render::Full(_) => Kind::Full,
                Render::Partial(_) => Kind::Partial,
                Render::Unchanged => Kind::Unchanged,
            };
            if later.is_some() {
                let bundled: Vec<&str> = files
                    .iter()
                    .map(|f| f.path.as_str())
                    .filter(|p| deps::Scope::is_search_file(p))
                    .collect();
                assert!(bundled.is_empty(), "served before its index: {bundled:?}");
            }
            let m = apply(&self.files, &build.render, files);
            self.inc.settle(build.summary);
            self.files = m.files;
            // As `Server::search_after` does, once the pages are served.
            if let Some(checked) = later {
                self.searched_after += 1;
                let bundle = search_bundle(&checked, self.dir.path(), BASE, &self.inc)
                    .expect("the search bundle");
                assert!(bundle.iter().any(|f| f.path == render::SEARCH_ENTRY));
                let (merged, _, _) =
                    merge_partial(&self.files, bundle, &deps::Scope::is_search_file);
                self.files = Arc::new(merged);
            }
            self.scope = match build.render {
                Render::Partial(scope) => Some(scope),
                _ => None,
            };
            (kind, m.rendered, m.pages)
        }

        /// Asserts that what serve holds is what a fresh full render makes,
        /// byte for byte, sitemap included: a partial render is only made
        /// when the set of pages stays the same, so the sitemap does too.
        fn assert_same_as_full(&self, what: &str) {
            let checked = site::load_and_check(self.root(), today());
            assert!(!checked.has_errors(), "{what}: {:?}", checked.diags);
            let full: BTreeMap<String, Vec<u8>> = site::render(&checked, self.root(), Some(BASE))
                .expect("a full render")
                .into_iter()
                .map(|f| (f.path, f.bytes))
                .collect();
            let ours: BTreeMap<&String, &[u8]> =
                self.files.iter().map(|(k, v)| (k, &**v)).collect();
            let missing: Vec<&String> = full.keys().filter(|k| !ours.contains_key(k)).collect();
            let extra: Vec<&&String> = ours.keys().filter(|k| !full.contains_key(**k)).collect();
            let differ: Vec<&String> = full
                .iter()
                .filter(|(k, v)| ours.get(k).is_some_and(|o| *o != v.as_slice()))
                .map(|(k, _)| k)
                .collect();
            assert!(
                missing.is_empty() && extra.is_empty() && differ.is_empty(),
                "{what}: missing {missing:?}, extra {extra:?}, different {differ:?}"
            );
        }
    }

    #[test]
    fn partial_rebuilds_match_full_renders() {
        let mut site = Site::new();
        site.assert_same_as_full("first build");
        // The rows of the first render are kept; a partial render reuses
        // those of the releases it was not told changed, and renders the
        // edited release's anew.
        let row = |site: &Site, slug: &str| site.inc.rows.award(slug, 0).cloned();
        let (ecume, zoe) = (
            row(&site, "ecume-noire-les-heures-pales"),
            row(&site, "zoe-brandt-uberall"),
        );
        assert!(
            ecume.is_some() && zoe.is_some(),
            "rows of the first render are kept"
        );
        site.edit(ZOE, "title = \"Überall\"", "title = \"Überall (Demo)\"");
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Partial);
        // A title is searched: its search bundle came after the pages.
        assert_eq!(site.searched_after, 1);
        let (ecume_now, zoe_now) = (
            row(&site, "ecume-noire-les-heures-pales"),
            row(&site, "zoe-brandt-uberall"),
        );
        assert!(
            matches!((&ecume, &ecume_now), (Some(a), Some(b)) if Arc::ptr_eq(a, b)),
            "an unedited release's row is reused"
        );
        assert!(
            zoe_now
                .as_deref()
                .is_some_and(|r| r.contains("Überall (Demo)")),
            "{zoe_now:?}"
        );
        site.assert_same_as_full("title, with rows reused");
        site.edit(ZOE, "title = \"Überall (Demo)\"", "title = \"Überall\"");
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Partial);
        // Cumulative edits; each must render only some pages and leave the
        // site exactly as a full render of the new records would.
        let partial: [(&str, &str, &str, &str); 8] = [
            (
                "title",
                ZOE,
                "title = \"Überall\"",
                "title = \"Überall (Live)\"",
            ),
            ("units", ZOE, "units = 22_000", "units = 23_456"),
            (
                "tier upgrade",
                ZOE,
                "tier = \"silver\"\ndate = \"2021-03\"\nunits = 23_456",
                "tier = \"double-silver\"\ndate = \"2021-03\"\nunits = 40_500",
            ),
            (
                "label",
                ZOE,
                "label = \"polar-sound\"",
                "label = \"nordlicht-tontrager\"",
            ),
            (
                "artists",
                ZOE,
                "artists = [\"Zoë Brandt\"]",
                "artists = [\"Zoë Brandt\", \"Jääkide\"]",
            ),
            ("shipment country", JAAKIDE, "SE = 3_000", "DK = 3_000"),
            (
                "award year",
                ZOE,
                "date = \"2021-03\"",
                "date = \"2025-03\"",
            ),
            (
                "label back",
                ZOE,
                "label = \"nordlicht-tontrager\"",
                "label = \"polar-sound\"",
            ),
        ];
        for (what, rel, from, to) in partial {
            site.edit(rel, from, to);
            let (kind, rendered, pages) = site.rebuild(&[rel]);
            assert_eq!(kind, Kind::Partial, "{what}");
            assert!(
                rendered > 0 && rendered < pages,
                "{what}: {rendered} of {pages}"
            );
            site.assert_same_as_full(what);
        }

        // The first award's figures of a release whose later award gave
        // figures for the same countries: its country pages, which show the
        // latest figures, and the later award's tier page stay as they were.
        site.edit(SOLVEIG, "IS = 3_100", "IS = 3_200");
        assert_eq!(site.rebuild(&[SOLVEIG]).0, Kind::Partial);
        let scope = site.scope.as_ref().expect("a partial render");
        for p in [
            "countries/is/",
            "countries/no/",
            "tiers/gold/",
            "years/2017/",
        ] {
            assert!(!scope.accepts(&format!("{p}index.html")), "{p}");
        }
        for p in ["tiers/silver/", "years/2015/", "labels/aurora-music-group/"] {
            assert!(scope.accepts(&format!("{p}index.html")), "{p}");
        }
        site.assert_same_as_full("figures of an earlier award");
        // The same country's latest figure does show there.
        site.edit(SOLVEIG, "IS = 6_200", "IS = 6_300");
        site.edit(SOLVEIG, "units = 78_450", "units = 78_550");
        assert_eq!(site.rebuild(&[SOLVEIG]).0, Kind::Partial);
        let scope = site.scope.as_ref().expect("a partial render");
        assert!(scope.accepts("countries/is/index.html"));
        site.assert_same_as_full("figures of the latest award");

        // A later award's tier, without figures by country: the country
        // pages of the earlier one show the release's highest tier.
        site.edit(ECUME, "tier = \"gold\"", "tier = \"double-silver\"");
        assert_eq!(site.rebuild(&[ECUME]).0, Kind::Partial);
        site.assert_same_as_full("highest tier");

        // An upgrade, the most common edit: the new award shows on the
        // release, its label's and artists' pages and the lists of its tier,
        // year and countries, but no page counts every award.
        site.edit(
            ZOE,
            "source = \"https://polarsound.example/news/uberall-silver\"",
            "source = \"https://polarsound.example/news/uberall-silver\"\n\n\
             [[awards]]\ntier = \"gold\"\ndate = 2025-06-10\nunits = 80_000\n\
             source = \"https://polarsound.example/news/uberall-gold\"\n",
        );
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Partial, "an added award");
        site.assert_same_as_full("an added award");

        // Each of these changes what every page shows or which pages exist.
        let full: [(&str, &str, &str, &str); 3] = [
            ("a new country", JAAKIDE, "DK = 3_000", "IE = 3_000"),
            (
                "a new artist",
                ZOE,
                "\"Zoë Brandt\", \"Jääkide\"",
                "\"Zoë Brandt\", \"Mira Lund\"",
            ),
            (
                "a new redirect",
                ZOE,
                "format = \"download\"",
                "format = \"download\"\naliases = [\"uberall-old\"]",
            ),
        ];
        for (what, rel, from, to) in full {
            site.edit(rel, from, to);
            assert_eq!(site.rebuild(&[rel]).0, Kind::Full, "{what}");
            site.assert_same_as_full(what);
        }

        // Saved without a change.
        let before = Arc::clone(&site.files);
        site.edit(ZOE, "units", "units");
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Unchanged);
        assert!(Arc::ptr_eq(&before, &site.files));

        // A label or site.toml edit renders everything.
        site.edit(
            "content/labels/polar-sound.toml",
            "name = \"Polar Sound\"",
            "name = \"Polar Sound Recordings\"",
        );
        assert_eq!(
            site.rebuild(&["content/labels/polar-sound.toml"]).0,
            Kind::Full
        );
        site.assert_same_as_full("label record");
    }

    #[test]
    fn changes_made_while_the_build_failed_are_not_forgotten() {
        let mut site = Site::new();
        site.edit(ZOE, "tier = \"silver\"", "tier = \"silvr\"");
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Failed);
        // A static file changes while the record is broken...
        std::fs::write(site.root().join("static/favicon.svg"), "<svg/>").expect("write");
        assert_eq!(site.rebuild(&["static/favicon.svg"]).0, Kind::Failed);
        // ...and the fix of the record alone must still bring it in.
        site.edit(ZOE, "tier = \"silvr\"", "tier = \"silver\"");
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Full);
        assert_eq!(
            site.files.get("favicon.svg").map(|b| &**b),
            Some(&b"<svg/>"[..])
        );
        site.assert_same_as_full("static file");

        // Broken, then fixed with a title edit: compared with the last good build.
        site.edit(ZOE, "tier = \"silver\"", "tier = \"silvr\"");
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Failed);
        site.edit(ZOE, "tier = \"silvr\"", "tier = \"silver\"");
        site.edit(ZOE, "title = \"Überall\"", "title = \"Überall 2\"");
        assert_eq!(site.rebuild(&[ZOE]).0, Kind::Partial);
        site.assert_same_as_full("title after a failed build");

        // An unreported change forces a full render.
        site.inc.lost = true;
        site.edit(ZOE, "units = 22_000", "units = 22_500");
        assert_eq!(site.rebuild(&[]).0, Kind::Full);
        site.assert_same_as_full("lost change");
    }

    #[test]
    fn merge_partial_replaces_and_removes_only_what_it_rendered() {
        let old: Files = ["a", "b", "p/1", "p/2"]
            .iter()
            .map(|k| (k.to_string(), Arc::from(k.as_bytes())))
            .collect();
        let new = vec![
            OutFile {
                path: "a".into(),
                bytes: b"a".to_vec(),
            },
            OutFile {
                path: "p/3".into(),
                bytes: b"3".to_vec(),
            },
        ];
        let only = |p: &str| p == "a" || p.starts_with("p/");
        let (merged, changed, removed) = merge_partial(&old, new, &only);
        assert_eq!((changed, removed), (1, 2));
        assert!(Arc::ptr_eq(&merged["a"], &old["a"]));
        assert!(Arc::ptr_eq(&merged["b"], &old["b"]));
        assert_eq!(
            merged.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "p/3"]
        );
    }
}
