//! Helpers shared by the integration tests: a copy of the fixture site in a
//! temporary folder, and runs of the `impala-awards` binary against it.

#![allow(dead_code)]

pub mod browser;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

/// The "today" of every test run: 2026-09-21 (UTC).
pub const SOURCE_DATE_EPOCH: &str = "1790000000";

/// The fixture tree that checks clean.
pub fn valid_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid")
}

/// A throw-away copy of a fixture site.
pub struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    /// A copy of `tests/fixtures/valid`.
    pub fn valid() -> Site {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        copy_tree(&valid_fixture(), dir.path());
        Site { dir }
    }

    /// The site's root folder.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (or overwrites) `rel`, creating its folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.root().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, contents).expect("write file");
        self
    }

    /// Deletes `rel`.
    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.root().join(rel)).expect("remove file");
        self
    }

    /// Runs the binary with `args`, then `--root <site>`, with the fixed build date.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_impala-awards"))
            .args(args)
            .arg("--root")
            .arg(self.root())
            .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
            .env("NO_COLOR", "1")
            .output()
            .expect("run impala-awards")
    }

    /// `check --message-format json`, parsed.
    pub fn check(&self) -> Checked {
        self.check_with(&[])
    }

    /// `check --message-format json` plus `extra` arguments, parsed.
    pub fn check_with(&self, extra: &[&str]) -> Checked {
        let mut args = vec!["check", "--message-format", "json"];
        args.extend_from_slice(extra);
        Checked::parse(self.run(&args))
    }
}

/// Copies the folder `from` into `to`, recursively.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk the fixture");
        let rel = entry.path().strip_prefix(from).expect("inside the fixture");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("create folder");
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy file");
        }
    }
}

/// One problem as printed by `--message-format json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Diag {
    pub severity: String,
    pub code: String,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub label: Option<String>,
    pub help: Vec<String>,
    pub notes: Vec<String>,
}

impl Diag {
    /// `(line, column)` of the start.
    pub fn pos(&self) -> (usize, usize) {
        (
            self.line.expect("diagnostic has a line"),
            self.column.expect("diagnostic has a column"),
        )
    }
}

/// The outcome of one `check` run.
pub struct Checked {
    /// The process exit code.
    pub status: i32,
    pub diags: Vec<Diag>,
    /// The last line: "checked N releases, ...".
    pub summary: String,
    pub stderr: String,
    pub stdout: String,
}

impl fmt::Debug for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit {}\n--- stderr ---\n{}--- stdout ---\n{}",
            self.status, self.stderr, self.stdout
        )
    }
}

impl Checked {
    fn parse(out: Output) -> Checked {
        let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
        let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
        let mut diags = Vec::new();
        let mut summary = String::new();
        for line in stderr.lines() {
            if line.starts_with('{') {
                let mut d: Diag = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("bad JSON line {line:?}: {e}\n{stderr}"));
                d.file = d.file.map(|f| f.replace('\\', "/"));
                diags.push(d);
            } else if line.starts_with("checked ") {
                summary = line.to_string();
            } else {
                panic!("unexpected line on stderr: {line:?}\n{stderr}");
            }
        }
        Checked {
            status: out.status.code().expect("exited normally"),
            diags,
            summary,
            stderr,
            stdout,
        }
    }

    /// The codes of all problems, in printed order.
    pub fn codes(&self) -> Vec<&str> {
        self.diags.iter().map(|d| d.code.as_str()).collect()
    }

    /// The problems with `code`.
    pub fn with_code(&self, code: &str) -> Vec<&Diag> {
        self.diags.iter().filter(|d| d.code == code).collect()
    }

    /// The only problem of the run, which must have `code`.
    pub fn only(&self, code: &str) -> &Diag {
        assert_eq!(self.codes(), [code], "{self:?}");
        &self.diags[0]
    }

    /// The problems in `file`.
    pub fn in_file(&self, file: &str) -> Vec<&Diag> {
        self.diags
            .iter()
            .filter(|d| d.file.as_deref() == Some(file))
            .collect()
    }

    /// Asserts a clean run: exit 0, nothing reported.
    pub fn assert_clean(&self) {
        assert!(self.diags.is_empty(), "{self:?}");
        assert_eq!(self.status, 0, "{self:?}");
        assert!(self.summary.ends_with(": 0 errors, 0 warnings"), "{self:?}");
    }
}

/// 1-based `(line, column)` of the first `needle` in `text`, column in characters.
pub fn pos(text: &str, needle: &str) -> (usize, usize) {
    pos_nth(text, needle, 0)
}

/// 1-based `(line, column)` of the `n`th (0-based) `needle` in `text`.
pub fn pos_nth(text: &str, needle: &str, n: usize) -> (usize, usize) {
    let (at, _) = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} is not {} times in the test's text", n + 1));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..at].chars().count() + 1)
}
