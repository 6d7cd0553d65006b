//! `impala-awards serve` over real sockets on 127.0.0.1: pages, 404s, traversal,
//! rebuilds, the diagnostics overlay, bursts, malformed HTTP, Ctrl-C, and live
//! reload in headless Chromium.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{SOURCE_DATE_EPOCH, Site};

const RELEASE: &str = "content/releases/zoe-brandt/zoe-brandt-uberall.toml";
const RELEASE_PAGE: &str = "/releases/zoe-brandt-uberall/";
/// Bound of every wait for the server to notice a change.
const WAIT: Duration = Duration::from_secs(30);

/// A running `impala-awards serve`, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(site: &Site) -> Server {
        Server::start_with(site, &[], &[])
    }

    /// Starts `serve --port 0` with `args` more and `envs` set.
    fn start_with(site: &Site, args: &[&str], envs: &[(&str, &Path)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_impala-awards"))
            .args(["serve", "--port", "0", "--root"])
            .arg(site.root())
            .args(args)
            .envs(envs.iter().copied())
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start impala-awards serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut l) = log.lock() {
                        l.push_str(&line);
                        l.push('\n');
                    }
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("serving http://") {
                        let hostport = rest.split('/').next().expect("an address");
                        break hostport.parse::<SocketAddr>().expect("a socket address");
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "serve printed no address:\n{}",
                        log.lock().map(|l| l.clone()).unwrap_or_default()
                    );
                }
            }
        };
        Server { child, addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn get(&self, target: &str) -> Resp {
        get(self.addr, target)
    }

    /// GETs `target` until `ok` holds, at most [`WAIT`].
    fn wait_for(&self, target: &str, what: &str, ok: impl Fn(&Resp) -> bool) -> Resp {
        let deadline = Instant::now() + WAIT;
        loop {
            let r = self.get(target);
            if ok(&r) {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what} at {target}; last answer {} {}\n--- server ---\n{}",
                r.status,
                r.body,
                self.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the server's log has a line containing `needle`.
    fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log:\n{log}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn assert_alive(&mut self) {
        assert!(
            self.child.try_wait().expect("poll the server").is_none(),
            "the server died:\n{}",
            self.log()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // Ctrl-C first, so that serve removes its search cache; killed if it lingers.
        #[cfg(unix)]
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: signals the child this test started, by its id; it has
            // not been reaped, so the id is still its own.
            unsafe { libc::kill(pid, libc::SIGINT) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_overlay(&self) -> bool {
        self.body.contains("id=\"impala-serve-overlay\"")
    }
}

/// Sends `request` as it is and reads the answer: up to Content-Length when
/// there is one (DevTools keeps its connections open), else to the end.
fn raw(addr: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    raw_with(addr, request, false)
}

/// [`raw`], half-closing the connection after `request` when `end` is set.
fn raw_with(addr: SocketAddr, request: &[u8], end: bool) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(40)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request)?;
    if end {
        s.shutdown(std::net::Shutdown::Write)?;
    }
    let head_only = request.starts_with(b"HEAD ");
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        match length {
            Some(_) if head_only => return Ok(out),
            Some(len) if out.len() >= end + 4 + len => return Ok(out),
            _ => {}
        }
    }
}

fn parse(bytes: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_string(),
    }
}

fn request(addr: SocketAddr, method: &str, target: &str) -> Resp {
    let req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    parse(&raw(addr, req.as_bytes()).unwrap_or_else(|e| panic!("{method} {target}: {e}")))
}

fn get(addr: SocketAddr, target: &str) -> Resp {
    request(addr, "GET", target)
}

/// The served page without the snippet `serve` adds to HTML.
fn strip_livereload(html: &str) -> String {
    let start = html
        .find("<script src=\"/__livereload.js\"")
        .expect("the live-reload script is injected");
    let end = start + html[start..].find("</script>").expect("script closes") + "</script>".len();
    format!("{}{}", &html[..start], &html[end..])
}

fn edit(site: &Site, rel: &str, from: &str, to: &str) {
    let path = site.root().join(rel);
    let text = std::fs::read_to_string(&path).expect("read record");
    assert!(text.contains(from), "{from:?} not in {rel}");
    site.write(rel, text.replacen(from, to, 1));
}

#[test]
fn serves_pages_with_their_types_and_the_sites_404() {
    let site = Site::valid();
    let server = Server::start(&site);
    assert!(server.addr.ip().is_loopback(), "{}", server.addr);
    assert_eq!(server.addr.ip().to_string(), "127.0.0.1");
    assert_ne!(server.addr.port(), 0);

    for (target, ct) in [
        ("/", "text/html; charset=utf-8"),
        (RELEASE_PAGE, "text/html; charset=utf-8"),
        ("/tiers/", "text/html; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
        ("/__livereload.js", "text/javascript; charset=utf-8"),
    ] {
        let r = server.get(target);
        assert_eq!(r.status, 200, "{target}: {r:?}");
        assert_eq!(r.header("content-type"), Some(ct), "{target}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{target}");
        assert_eq!(
            r.header("content-length").and_then(|l| l.parse().ok()),
            Some(r.body.len()),
            "{target}"
        );
    }
    let home = server.get("/");
    assert!(home.body.contains("<script src=\"/__livereload.js\""));
    // Links point at the server, whatever site.toml's base_url says.
    assert!(home.body.contains(&format!("href=\"{}\"", server.url())));
    let css = server.get("/assets/style.css");
    assert!(!css.body.contains("__livereload"));

    let folder = server.get(RELEASE_PAGE.trim_end_matches('/'));
    assert_eq!(folder.status, 301);
    assert_eq!(folder.header("location"), Some(RELEASE_PAGE));

    let head = request(server.addr, "HEAD", "/");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post = request(server.addr, "POST", "/");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));

    // The 404 page is the site's own, as `build` writes it for the same URL,
    // plus the live-reload script; the built file has no such script.
    let out = tempfile::tempdir().expect("temp dir");
    let built = site.run(&[
        "build",
        "--output",
        &out.path().join("site").to_string_lossy(),
        "--base-url",
        &server.url(),
    ]);
    assert!(built.status.success(), "{built:?}");
    let built_404 =
        std::fs::read_to_string(out.path().join("site/404.html")).expect("built 404.html");
    assert!(!built_404.contains("__livereload"));
    let missing = server.get("/no/such/page/");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(strip_livereload(&missing.body), built_404);

    // Serving writes nothing into the site.
    assert!(!site.root().join("public").exists());
}

#[test]
fn traversal_gets_404_and_never_a_file_from_disk() {
    let site = Site::valid();
    let server = Server::start(&site);
    let not_found = server.get("/no-such-page").body;
    for target in [
        "/../site.toml",
        "/%2e%2e/site.toml",
        "/%2E%2E/%2e%2e/site.toml",
        "/..%2fsite.toml",
        "/..%2Fsite.toml",
        "/releases/..\\..\\site.toml",
        "/releases/..%5c..%5csite.toml",
        "/releases/../../site.toml",
        "/releases/%2e%2e/%2e%2e/site.toml",
        "/site.toml",
        "/site.toml%00",
        "/%00",
        "/./site.toml",
        "//site.toml",
        "/content/releases/zoe-brandt/zoe-brandt-uberall.toml",
        "/../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/favicon.svg",
    ] {
        let r = server.get(target);
        assert_eq!(r.status, 404, "{target}: {r:?}");
        assert!(!r.body.contains("[[scales]]"), "{target}");
        assert!(!r.body.contains("base_url ="), "{target}");
        assert!(!r.body.contains("units = 22_000"), "{target}");
        assert!(!r.body.contains("root:"), "{target}");
        assert_eq!(
            strip_livereload(&r.body),
            strip_livereload(&not_found),
            "{target}"
        );
    }
}

#[test]
fn edits_rebuild_and_a_broken_record_shows_the_overlay_until_fixed() {
    let site = Site::valid();
    let server = Server::start(&site);
    let page = server.get(RELEASE_PAGE);
    assert!(page.body.contains("22,000"));
    assert!(!page.has_overlay());

    edit(&site, RELEASE, "units = 22_000", "units = 23_456");
    server.wait_for(RELEASE_PAGE, "the new units", |r| {
        r.status == 200 && r.body.contains("23,456")
    });
    let line = server.wait_log("rebuilt in ");
    assert!(line.contains(&format!("({RELEASE})")), "{line}");
    assert!(line.contains("pages re-rendered"), "{line}");

    edit(&site, RELEASE, "tier = \"silver\"", "tier = \"silvr\"");
    let tiers = server.wait_for("/tiers/", "the overlay", Resp::has_overlay);
    assert_eq!(tiers.status, 200);
    assert!(
        tiers.body.contains("unknown tier `silvr`"),
        "{}",
        tiers.body
    );
    assert!(
        tiers.body.contains(&format!("{RELEASE}:9:8")),
        "{}",
        tiers.body
    );
    assert!(
        tiers.body.contains("tier = &quot;silvr&quot;"),
        "escaped source line"
    );
    // The last good site is still served, overlay and all, on every HTML page.
    let page = server.get(RELEASE_PAGE);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("23,456"));
    assert!(page.has_overlay());
    assert!(server.get("/no-such-page/").has_overlay());
    assert!(!server.get("/assets/style.css").body.contains("overlay"));
    server.wait_log("build failed");

    edit(&site, RELEASE, "tier = \"silvr\"", "tier = \"silver\"");
    server.wait_for("/tiers/", "the overlay to go", |r| {
        r.status == 200 && !r.has_overlay()
    });
    assert!(!server.get(RELEASE_PAGE).has_overlay());
}

#[test]
fn a_record_edit_re_renders_only_the_pages_that_show_it() {
    let site = Site::valid();
    let server = Server::start(&site);
    let built = server.wait_log("built ");
    let total: usize = built
        .strip_prefix("built ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("no page count in {built:?}"));
    let other = server.get("/releases/jaakide-hamara/").body;

    edit(&site, RELEASE, "units = 22_000", "units = 23_456");
    server.wait_for(RELEASE_PAGE, "the new units", |r| {
        r.status == 200 && r.body.contains("23,456")
    });
    let line = server.wait_log("rebuilt in ");
    // "rebuilt in N ms (path): X of Y pages re-rendered in M ms, ..."
    let counts = line
        .split_once("): ")
        .and_then(|(_, r)| r.split_once(" pages re-rendered"))
        .and_then(|(r, _)| r.split_once(" of "))
        .and_then(|(x, y)| {
            Some((
                x.replace(',', "").parse::<usize>().ok()?,
                y.replace(',', "").parse::<usize>().ok()?,
            ))
        });
    let Some((rendered, pages)) = counts else {
        panic!("no page counts in {line:?}");
    };
    assert_eq!(pages, total, "{line}");
    assert!(rendered > 0 && rendered < pages, "{line}");
    // The pages listing the award show the new units too; the others are
    // served as they were.
    for list in ["/tiers/silver/", "/awards/", "/labels/polar-sound/"] {
        assert!(server.get(list).body.contains("23,456"), "{list}");
    }
    let strip = |html: &str| strip_livereload(html);
    assert_eq!(
        strip(&server.get("/releases/jaakide-hamara/").body),
        strip(&other)
    );

    // A label record is shown on many pages: everything is rendered again.
    edit(
        &site,
        "content/labels/polar-sound.toml",
        "name = \"Polar Sound\"",
        "name = \"Polar Sound Recordings\"",
    );
    server.wait_for(RELEASE_PAGE, "the new label name", |r| {
        r.body.contains("Polar Sound Recordings")
    });
    let all = format!("{total} of {total} pages re-rendered");
    let line = server.wait_log(&all);
    assert!(
        line.contains("(all: content/labels/polar-sound.toml changed)"),
        "{line}"
    );
}

/// The live-reload version a page was served with.
fn version_of(page: &str) -> u64 {
    let at = page.find("data-version=\"").expect("a version") + "data-version=\"".len();
    page[at..]
        .split('"')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a numeric version")
}

#[test]
fn a_title_edit_serves_its_pages_first_and_its_search_index_after() {
    let site = Site::valid();
    let server = Server::start(&site);
    server.wait_log("built ");
    let entry = "/pagefind/pagefind-entry.json";
    let before = server.get(entry).body;

    edit(
        &site,
        RELEASE,
        "title = \"Überall\"",
        "title = \"Überall (Tour Edition)\"",
    );
    let page = server.wait_for(RELEASE_PAGE, "the new title", |r| {
        r.body.contains("Überall (Tour Edition)")
    });
    let pages_line = server.wait_log("rebuilt in ");
    assert!(
        pages_line.ends_with("; the search index follows"),
        "{pages_line}"
    );
    let line = server.wait_log("search index rebuilt in ");
    assert!(line.contains(" ms after the change): "), "{line}");
    let log = server.log();
    let (pages_at, search_at) = (log.find("rebuilt in "), log.find("search index rebuilt"));
    assert!(
        matches!((pages_at, search_at), (Some(p), Some(s)) if p < s),
        "the pages' line comes first:\n{log}"
    );
    // The new index is served: its entry names new index files, each served.
    let after = server.get(entry);
    assert_eq!(after.status, 200);
    assert_ne!(after.body, before, "the entry names the new index");
    let named: serde_json::Value = serde_json::from_str(&after.body).expect("entry JSON");
    let hash = named["languages"]
        .as_object()
        .and_then(|l| l.values().next())
        .and_then(|l| l["hash"].as_str())
        .unwrap_or_else(|| panic!("no language hash in {}", after.body));
    assert_eq!(
        server
            .get(&format!("/pagefind/pagefind.{hash}.pf_meta"))
            .status,
        200,
        "the index {hash} the entry names"
    );
    // Laying the index over the pages does not reload them a second time.
    assert_eq!(
        version_of(&server.get(RELEASE_PAGE).body),
        version_of(&page.body)
    );

    // An edit of nothing searched makes no search index after its pages.
    edit(&site, RELEASE, "units = 22_000", "units = 23_456");
    server.wait_for(RELEASE_PAGE, "the new units", |r| r.body.contains("23,456"));
    let count = |prefix: &str| {
        server
            .log()
            .lines()
            .filter(|l| l.starts_with(prefix))
            .count()
    };
    let deadline = Instant::now() + WAIT;
    while count("rebuilt in ") < 2 {
        assert!(
            Instant::now() < deadline,
            "no second rebuild:\n{}",
            server.log()
        );
        thread::sleep(Duration::from_millis(50));
    }
    // The index of the fixture takes milliseconds: one that came would be here.
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(count("search index rebuilt in "), 1, "{}", server.log());
}

#[test]
fn a_template_error_shows_the_overlay_and_theme_edits_rebuild() {
    let site = Site::valid();
    let server = Server::start(&site);
    site.write(
        "mytheme/templates/tiers.html",
        "{% extends \"base.html\" %}{% block content %}{{ nope( }}{% endblock content %}",
    );
    let config = std::fs::read_to_string(site.root().join("site.toml")).expect("site.toml");
    site.write("site.toml", format!("theme = \"mytheme\"\n{config}"));
    let home = server.wait_for("/", "the overlay", Resp::has_overlay);
    assert!(home.body.contains("error[template"), "{}", home.body);

    // The theme folder named in site.toml is now watched too.
    site.write(
        "mytheme/templates/tiers.html",
        "{% extends \"base.html\" %}{% block content %}<p>Own tiers page</p>{% endblock content %}",
    );
    let tiers = server.wait_for("/tiers/", "the fixed theme", |r| {
        !r.has_overlay() && r.body.contains("Own tiers page")
    });
    assert_eq!(tiers.status, 200);
}

#[test]
fn the_long_poll_answers_when_the_site_changes() {
    let site = Site::valid();
    let server = Server::start(&site);
    let page = server.get(RELEASE_PAGE).body;
    let at = page.find("data-version=\"").expect("a version") + "data-version=\"".len();
    let version: u64 = page[at..]
        .split('"')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a numeric version");
    // Nothing changed: a poll for another version answers at once.
    let now = server.get(&format!("/__livereload?v={}", version + 1000));
    assert_eq!(now.body, version.to_string());

    let addr = server.addr;
    let started = Instant::now();
    let poll = thread::spawn(move || get(addr, &format!("/__livereload?v={version}")));
    thread::sleep(Duration::from_millis(300));
    edit(&site, RELEASE, "units = 22_000", "units = 23_456");
    let answer = poll.join().expect("poll thread");
    assert_eq!(answer.status, 200);
    let next: u64 = answer.body.parse().expect("a version");
    assert_ne!(next, version);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "answered on change, not on timeout"
    );
    let page = server.get(RELEASE_PAGE).body;
    assert!(page.contains(&format!("data-version=\"{next}\"")));
}

#[test]
fn a_burst_of_concurrent_requests_is_all_answered() {
    let site = Site::valid();
    let mut server = Server::start(&site);
    let n = 50;
    let barrier = Arc::new(Barrier::new(n));
    let targets = ["/", RELEASE_PAGE, "/tiers/", "/assets/style.css", "/nope/"];
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let addr = server.addr;
            let target = targets[i % targets.len()];
            thread::spawn(move || {
                barrier.wait();
                (target, get(addr, target).status)
            })
        })
        .collect();
    for h in handles {
        let (target, status) = h.join().expect("request thread");
        let want = if target == "/nope/" { 404 } else { 200 };
        assert_eq!(status, want, "{target}");
    }
    server.assert_alive();
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn malformed_requests_do_not_kill_it() {
    let site = Site::valid();
    let mut server = Server::start(&site);
    let addr = server.addr;

    // A slowloris connection that never finishes its head stays open meanwhile.
    let mut slow = TcpStream::connect(addr).expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("partial request");

    let garbage: Vec<u8> = (0u8..=255).cycle().take(3000).collect();
    for (what, req, want) in [
        ("garbage", [&garbage[..], b"\r\n\r\n"].concat(), Some(400)),
        (
            "NUL in the target",
            b"GET /\0 HTTP/1.1\r\n\r\n".to_vec(),
            Some(400),
        ),
        ("no version", b"GET /\r\n\r\n".to_vec(), Some(400)),
        (
            "HTTP/2 preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
            Some(505),
        ),
        (
            "bad header",
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n".to_vec(),
            Some(400),
        ),
        (
            "huge header",
            format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "a".repeat(64 * 1024)).into_bytes(),
            Some(431),
        ),
        ("cut short", b"GET / HT".to_vec(), Some(400)),
        ("empty", Vec::new(), None),
    ] {
        let started = Instant::now();
        match raw_with(addr, &req, true) {
            Ok(bytes) if !bytes.is_empty() => {
                let r = parse(&bytes);
                if let Some(want) = want {
                    assert_eq!(r.status, want, "{what}: {r:?}");
                }
            }
            // Closing on the client is a fine answer to nonsense.
            Ok(_) | Err(_) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: a client that is done gets its answer at once"
        );
        // The server answers a good request right after each bad one.
        assert_eq!(get(addr, "/").status, 200, "after {what}");
        server.assert_alive();
    }
    // A client that sends half a request and leaves.
    {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /tiers/ HTTP/1.1\r\nHo")
            .expect("partial request");
    }
    assert_eq!(get(addr, "/tiers/").status, 200);

    // The slow client gets cut off with 408, not served forever.
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    server.assert_alive();
    assert_eq!(get(addr, "/").status, 200);
}

#[cfg(unix)]
#[test]
fn open_starts_the_browser_and_a_failure_to_is_only_a_message() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::valid();
    let bin = tempfile::tempdir().expect("temp dir");
    let opened = bin.path().join("opened.txt");
    let fake = bin.path().join("xdg-open");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", opened.display()),
    )
    .expect("write a fake xdg-open");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let server = Server::start_with(&site, &["--open"], &[("PATH", bin.path())]);
    let deadline = Instant::now() + WAIT;
    let url = loop {
        if let Ok(text) = std::fs::read_to_string(&opened)
            && text.ends_with('\n')
        {
            break text.trim().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no browser opened:\n{}",
            server.log()
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(url, server.url());
    drop(server);

    let nowhere = bin.path().join("empty");
    std::fs::create_dir(&nowhere).expect("mkdir");
    let mut server = Server::start_with(&site, &["--open"], &[("PATH", &nowhere)]);
    server.wait_log("could not open a browser");
    assert_eq!(server.get("/").status, 200);
    server.assert_alive();
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let site = Site::valid();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port().to_string();
    let out = site.run(&["serve", "--port", &port]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("error: cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_it_cleanly() {
    let site = Site::valid();
    let mut server = Server::start(&site);
    let pid = libc::pid_t::try_from(server.child.id()).expect("a pid");
    let cache = std::env::temp_dir().join(format!("impala-awards-serve-{pid}.search-cache"));
    assert!(cache.exists(), "no search cache at {}", cache.display());
    // SAFETY: signals the child this test started, by its id.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("poll the server") {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after Ctrl-C");
        thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}\n{}", server.log());
    server.wait_log("stopped");
    // serve's own search index cache goes with it.
    assert!(!cache.exists(), "{} left behind", cache.display());
    assert!(TcpStream::connect_timeout(&server.addr, Duration::from_secs(2)).is_err());
}

// ---------------------------------------------------------------------------
// Live reload in headless Chromium, driven over the DevTools protocol.

/// Chromium, or why the test cannot run.
fn find_chromium() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err("no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)".into())
}

/// A headless Chromium in its own process group, killed when dropped.
struct Chromium {
    child: Child,
    _profile: tempfile::TempDir,
    port: u16,
}

impl Chromium {
    fn launch(exe: &Path, url: &str) -> Chromium {
        use std::os::unix::process::CommandExt;
        let profile = tempfile::tempdir().expect("profile dir");
        let child = Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-breakpad",
                "--disable-crash-reporter",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromium");
        let mut chromium = Chromium {
            child,
            _profile: profile,
            port: 0,
        };
        // Chromium writes the port it picked into the profile.
        let file = chromium._profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(60);
        chromium.port = loop {
            if let Some(port) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
            {
                break port;
            }
            if let Ok(Some(status)) = chromium.child.try_wait() {
                panic!("chromium exited early: {status:?}");
            }
            assert!(
                Instant::now() < deadline,
                "chromium wrote no DevToolsActivePort"
            );
            thread::sleep(Duration::from_millis(50));
        };
        chromium
    }

    /// The DevTools WebSocket URL of the tab showing `url`.
    fn page_socket(&self, url: &str) -> String {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = get(addr, "/json/list");
            if let Ok(targets) = serde_json::from_str::<serde_json::Value>(&r.body)
                && let Some(ws) = targets.as_array().into_iter().flatten().find_map(|t| {
                    (t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(url)))
                        .then(|| t["webSocketDebuggerUrl"].as_str().map(str::to_string))
                        .flatten()
                })
            {
                return ws;
            }
            assert!(Instant::now() < deadline, "no tab at {url}: {}", r.body);
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // The browser and the helpers it started share its process group.
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: signals the process group of the browser this test started.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// A DevTools session with one tab.
struct Tab {
    ws: tungstenite::WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Tab {
    fn connect(ws_url: &str) -> Tab {
        let (ws, _) = tungstenite::connect(ws_url).expect("connect to DevTools");
        if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
        }
        Tab { ws, next_id: 1 }
    }

    /// Evaluates `expr` in the page; `None` if it threw or the page was
    /// between documents.
    fn eval(&mut self, expr: &str) -> Option<serde_json::Value> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = serde_json::json!({
            "id": id,
            "method": "Runtime.evaluate",
            "params": { "expression": expr, "returnByValue": true },
        });
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .expect("send to DevTools");
        for _ in 0..1000 {
            let reply = self.ws.read().expect("read from DevTools");
            let Ok(text) = reply.to_text() else { continue };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
                continue;
            };
            if v["id"] == id {
                if v.get("error").is_some() || v["result"].get("exceptionDetails").is_some() {
                    return None;
                }
                return Some(v["result"]["result"]["value"].clone());
            }
        }
        None
    }

    /// Evaluates `expr` until it is `true`, at most [`WAIT`].
    fn wait_true(&mut self, expr: &str, what: &str, server: &Server) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.eval(expr) == Some(serde_json::Value::Bool(true)) {
                return;
            }
            let text = self.eval("document.body ? document.body.innerText : ''");
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}; page shows {text:?}\n--- server ---\n{}",
                server.log()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

#[cfg(unix)]
#[test]
fn live_reload_in_headless_chromium() {
    let exe = match find_chromium() {
        Ok(exe) => exe,
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI needs chromium for the live-reload test: {why}")
        }
        Err(why) => {
            eprintln!("skipping live_reload_in_headless_chromium: {why}");
            return;
        }
    };
    let site = Site::valid();
    let server = Server::start(&site);
    let url = format!("{}{}", server.url(), RELEASE_PAGE.trim_start_matches('/'));
    let chromium = Chromium::launch(&exe, &url);
    let mut tab = Tab::connect(&chromium.page_socket(&url));

    tab.wait_true(
        "document.readyState === 'complete' && document.body.innerText.includes('22,000')",
        "the page to load",
        &server,
    );
    // A mark on this document: a reload starts a new one without it.
    assert_eq!(
        tab.eval("window.__servedBefore = true"),
        Some(serde_json::Value::Bool(true))
    );

    edit(&site, RELEASE, "units = 22_000", "units = 23_456");
    tab.wait_true(
        "window.__servedBefore === undefined && document.readyState === 'complete' \
         && document.body.innerText.includes('23,456')",
        "the page to reload with the new units",
        &server,
    );

    // The server saw the reloaded page and says how long it took.
    server.wait_log("page reloaded in the browser");

    tab.eval("window.__servedBefore = true");
    edit(&site, RELEASE, "tier = \"silver\"", "tier = \"silvr\"");
    tab.wait_true(
        "window.__servedBefore === undefined \
         && !!document.getElementById('impala-serve-overlay') \
         && document.getElementById('impala-serve-overlay').innerText.includes('unknown tier')",
        "the overlay",
        &server,
    );
    edit(&site, RELEASE, "tier = \"silvr\"", "tier = \"silver\"");
    tab.wait_true(
        "document.readyState === 'complete' && !document.getElementById('impala-serve-overlay') \
         && document.body.innerText.includes('23,456')",
        "the overlay to go",
        &server,
    );
}
