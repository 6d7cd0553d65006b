//! Helpers for the tests that drive a real browser: a static file server for a
//! built site, the Chromium to use, and bounded runs of the Node scripts in
//! tests/browser (which launch that Chromium through playwright-core).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Whether the tests run under CI, where a missing tool is a failure, not a skip.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The browser to drive: `CHROMIUM`, else Debian's.
pub fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// tests/browser: the Node scripts, and the node_modules holding the npm tools.
pub fn npm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// The browser for the browser test `test`, or `None` (after saying so) when
/// there is none outside CI. Under CI a missing browser fails the test, and a
/// missing playwright-core fails it anywhere.
pub fn browser_or_skip(test: &str) -> Option<PathBuf> {
    let browser = chromium();
    if !browser.is_file() {
        assert!(
            !under_ci(),
            "CI is set but there is no browser at {} (install Debian's chromium, or set CHROMIUM)",
            browser.display()
        );
        eprintln!(
            "SKIPPED {test}: no browser at {} \
             (apt-get install -y chromium, or set CHROMIUM); CI would fail here",
            browser.display()
        );
        return None;
    }
    let scripts = npm_dir();
    assert!(
        scripts.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: run `npm ci` in {}",
        scripts.display()
    );
    Some(browser)
}

/// Runs `node tests/browser/<script> <args>` with `browser` as `CHROMIUM`, at most
/// `limit`, asserts that it succeeded and returns what it printed on stdout.
pub fn run_node(script: &str, args: &[&str], browser: &Path, limit: Duration) -> String {
    let mut cmd = Command::new("node");
    cmd.arg(npm_dir().join(script))
        .args(args)
        .env("CHROMIUM", browser)
        .current_dir(npm_dir());
    let (ok, stdout, stderr) = run_bounded(cmd, limit);
    assert!(ok, "node {script} failed:\n{stderr}\n{stdout}");
    stdout
}

/// Runs `cmd` to its end, at most `limit`, and returns (success, stdout, stderr).
/// Output is read while the process runs, so a large report cannot block it.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> (bool, String, String) {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut s);
            }
            s
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the child") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} took more than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    (status.success(), stdout, stderr)
}

/// A static file server for `root` on 127.0.0.1 (a free port), stopped when
/// dropped. Folders serve their index.html; anything else missing gets the
/// site's 404.html with status 404, as on GitHub Pages.
pub struct Server {
    /// `http://127.0.0.1:PORT/`.
    pub base: String,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves `root` until dropped.
    pub fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = conn {
                    let root = root.clone();
                    std::thread::spawn(move || serve_one(stream, &root));
                }
            }
        });
        Server {
            base: format!("http://{addr}/"),
            stop,
            addr,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        // Module scripts need a JavaScript MIME type.
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "xml" => "application/xml",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn serve_one(stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let mut file = root.to_path_buf();
    let mut ok = true;
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        if seg == ".." || seg.contains('\\') {
            ok = false;
            break;
        }
        file.push(seg);
    }
    if ok && file.is_dir() {
        file.push("index.html");
    }
    let (status, file) = if ok && file.is_file() {
        ("200 OK", file)
    } else {
        ("404 Not Found", root.join("404.html"))
    };
    let body = std::fs::read(&file).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content_type(&file),
        body.len()
    );
    let mut w = &stream;
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(&body);
    let _ = w.flush();
}
