//! Atomic publishing: the output folder holds the whole old site or the whole new one.
//!
//! A build writes its files, as they render, into a buffer folder beside the
//! output (the site before last, brought up to date in place: only files whose
//! bytes changed are written, so the others keep their modification time and
//! deploy tools see only what changed), then swaps the two (one
//! `renameat2(RENAME_EXCHANGE)` on Linux). See [`Stager`].

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

/// Name of the file that marks a folder as written by this tool.
pub const MARKER: &str = ".impala-awards-output";

/// Why the output could not be published. The old output is untouched in every case.
#[derive(Debug, Error)]
pub enum PublishError {
    #[error("refusing to write to `{path}`: {why}")]
    Unsafe { path: PathBuf, why: String },
    #[error("a file path escapes the output folder: `{0}`")]
    BadPath(String),
    #[error("two files of the site have the same path: `{0}`")]
    Duplicate(String),
    #[error("cannot write `{path}`: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The marker file holds a manifest: one `<xxh3-128 hex> <path>` line per file
/// of the last build, so the next build knows what changed without reading
/// the old files back.
type Manifest = std::collections::HashMap<String, String>;

fn read_manifest(out: &Path) -> Manifest {
    let Ok(text) = fs::read_to_string(out.join(MARKER)) else {
        return Manifest::new();
    };
    manifest_files(&text).collect()
}

/// The `(path, hash)` of each file line of a manifest's text.
fn manifest_files(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(h, _)| h.len() == HASH_HEX_LEN)
        .map(|(h, p)| (p.to_string(), h.to_string()))
}

/// One file of a publish.
struct Entry {
    path: String,
    /// XXH3-128, hex (`hash_parts`).
    hash: String,
    len: u64,
}

/// What the manifest records of the inputs a site was built from, so the next
/// build can tell that nothing changed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Keys<'a> {
    /// A hash of the inputs' bytes, the program and the options (`# input`).
    pub input: Option<&'a str>,
}

fn manifest_header(keys: Keys<'_>) -> String {
    let mut s = String::from("# Written by impala-awards; a build replaces this whole folder.\n");
    if let Some(k) = keys.input {
        s.push_str("# input ");
        s.push_str(k);
        s.push('\n');
    }
    s
}

fn manifest_text(entries: &[Entry], keys: Keys<'_>) -> String {
    let mut s = manifest_header(keys);
    for e in entries {
        s.push_str(&e.hash);
        s.push(' ');
        s.push_str(&e.path);
        s.push('\n');
    }
    s
}

/// The header lines (`# ...`) of a manifest, and the rest.
fn split_header(text: &str) -> (Vec<&str>, &str) {
    let mut header = Vec::new();
    let mut rest = text;
    while rest.starts_with('#') {
        let (line, tail) = rest.split_once('\n').unwrap_or((rest, ""));
        header.push(line);
        rest = tail;
    }
    (header, rest)
}

fn listed_paths(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(_, p)| p.to_string())
        .collect()
}

/// The paths the manifest in `out` lists, when it says the site was built
/// from inputs whose key is `input_key`.
fn built_from(out: &Path, input_key: &str) -> Option<Vec<String>> {
    let text = fs::read_to_string(out.join(MARKER)).ok()?;
    let (header, body) = split_header(&text);
    let line = format!("# input {input_key}");
    header.contains(&line.as_str()).then(|| listed_paths(body))
}

/// A published site as its manifest lists it.
pub struct Published {
    /// The input key it was built from, if it records one.
    pub input: Option<String>,
    /// Each file's path and hash (XXH3-128, hex).
    pub files: Vec<(String, String)>,
}

/// The site published in `out`; `None` when `out` has no manifest.
pub fn published(out: &Path) -> Option<Published> {
    let text = fs::read_to_string(out.join(MARKER)).ok()?;
    let (header, body) = split_header(&text);
    let key = header
        .iter()
        .find_map(|l| l.strip_prefix("# input "))
        .map(str::to_string);
    Some(Published {
        input: key,
        files: manifest_files(body).collect(),
    })
}

/// The paths of the site in `out` when its manifest says it was built from
/// inputs whose key is `input_key` and its first level holds what the
/// manifest lists; `None` otherwise.
///
/// Nothing below the output's first level is looked at: at 100,000 releases
/// walking the 340,000 entries of the output took 1.5 s. This is for a build
/// whose inputs are known untouched (by their stats); a file changed by hand
/// deeper in the output is put right by the next build that renders.
pub fn current_files(out: &Path, input_key: &str) -> Option<Vec<String>> {
    let paths = built_from(out, input_key)?;
    let mut top: Vec<&str> = paths
        .iter()
        .map(|p| p.split('/').next().unwrap_or(p))
        .chain([MARKER])
        .collect();
    top.sort_unstable();
    top.dedup();
    let mut on_disk = Vec::with_capacity(top.len());
    for e in fs::read_dir(out).ok()? {
        on_disk.push(e.ok()?.file_name().into_string().ok()?);
    }
    on_disk.sort_unstable();
    (on_disk.len() == top.len() && on_disk.iter().zip(&top).all(|(a, b)| a == b)).then_some(paths)
}

/// What a publish did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PublishStats {
    /// Files whose bytes are new or changed.
    pub written: usize,
    /// Files kept as they were.
    pub unchanged: usize,
    /// Files of the old output that the new one no longer has.
    pub removed: usize,
}

/// Checks that `out` is a folder we may replace.
pub fn check_output_dir(out: &Path, root: &Path, force: bool) -> Result<(), PublishError> {
    let unsafe_ = |why: &str| PublishError::Unsafe {
        path: out.to_path_buf(),
        why: why.to_string(),
    };
    let abs = absolute(out);
    let root_abs = absolute(root);
    // Compare both as written and with links resolved, so `/tmp/link-to-home`
    // is the home folder too.
    let real = fs::canonicalize(&abs).ok();
    let is = |other: &Path| {
        abs == absolute(other)
            || real
                .as_ref()
                .is_some_and(|r| fs::canonicalize(other).is_ok_and(|o| &o == r))
    };
    if abs.parent().is_none() || real.as_ref().is_some_and(|r| r.parent().is_none()) {
        return Err(unsafe_("it is the file-system root"));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty())
        && is(Path::new(&home))
    {
        return Err(unsafe_("it is the home folder"));
    }
    let holds_root = |r: &Path, o: &Path| r == o || r.starts_with(o);
    if holds_root(&root_abs, &abs)
        || real
            .as_ref()
            .is_some_and(|r| fs::canonicalize(root).is_ok_and(|ro| holds_root(&ro, r)))
    {
        return Err(unsafe_("it is (or contains) the site's root folder"));
    }
    if abs.join("content").exists() || abs.join("themes").exists() || abs.join("site.toml").exists()
    {
        return Err(unsafe_("it holds content/, themes/ or site.toml"));
    }
    if !abs.exists() {
        return Ok(());
    }
    // Even with --force: the swap would move the file aside and never delete it.
    if !abs.is_dir() {
        return Err(unsafe_("it is a file, not a folder"));
    }
    if force {
        return Ok(());
    }
    let mut entries = fs::read_dir(&abs).map_err(io_err(&abs))?;
    let empty = entries.next().is_none();
    if !empty && !abs.join(MARKER).exists() {
        return Err(unsafe_(
            "it holds files that no build of impala-awards wrote (pass --force to replace them)",
        ));
    }
    Ok(())
}

/// Makes `p` absolute without touching the file system (no symlink resolution needed).
pub(crate) fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Refuses paths that could leave the output folder.
fn safe_relative(path: &str) -> Result<PathBuf, PublishError> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && !path.contains('\\')
        && !path.contains('\0')
        && p.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(p.to_path_buf())
    } else {
        Err(PublishError::BadPath(path.to_string()))
    }
}

/// The paths of the site in `out` when it was built from inputs whose key is
/// `input_key` and still holds exactly the files it was built with; `None` otherwise.
///
/// Output is a pure function of the inputs, so a build whose input key is
/// unchanged has nothing to render.
pub fn up_to_date(out: &Path, input_key: &str) -> Option<Vec<String>> {
    let paths = built_from(out, input_key)?;
    // One walk (file types come with the directory entries) instead of a
    // stat per file: the output must hold exactly the listed regular files.
    let mut on_disk: Vec<String> = Vec::with_capacity(paths.len() + 1);
    for e in walkdir::WalkDir::new(out).min_depth(1) {
        let e = e.ok()?;
        if e.file_type().is_dir() {
            continue;
        }
        if !e.file_type().is_file() {
            return None;
        }
        let rel = e.path().strip_prefix(out).ok()?;
        if rel == Path::new(MARKER) {
            continue;
        }
        on_disk.push(rel.to_str()?.replace(std::path::MAIN_SEPARATOR, "/"));
    }
    on_disk.sort_unstable();
    let mut listed: Vec<&str> = paths.iter().map(String::as_str).collect();
    listed.sort_unstable();
    (on_disk.len() == listed.len() && on_disk.iter().zip(&listed).all(|(a, b)| a == b))
        .then_some(paths)
}

/// One publish in progress: files go into a buffer folder beside the output
/// as they are made ([`Stager::put`], from any thread), and
/// [`Stager::finish`] swaps the buffer in. The output is untouched until then.
///
/// The previous site is kept beside the output as `.<name>.prev` and brought
/// up to date in place (only changed files are written, removed ones deleted),
/// then swapped in: deleting or copying the whole tree each build would cost
/// more than rendering it.
pub struct Stager {
    out: PathBuf,
    /// `.<name>.prev`, the buffer kept between builds.
    prev: PathBuf,
    /// The folder being filled: `prev`, or a fresh `.<name>.staging-<pid>`.
    dir: PathBuf,
    /// The buffer was made by this publish: it holds only what `put` wrote.
    fresh: bool,
    /// What the buffer held, by its manifest (empty after an interrupted build).
    old: Manifest,
    /// Every file put so far.
    entries: std::sync::Mutex<Vec<Entry>>,
    /// The folders made so far in a fresh buffer (relative, '/'-separated):
    /// a file's folder is made before its first file instead of after a
    /// failed open (one per release folder, 100,000 at 100k).
    made: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Stager {
    /// Prepares the buffer for a publish to `out`.
    pub fn begin(out: &Path) -> Result<Stager, PublishError> {
        let out = absolute(out);
        let parent = out.parent().ok_or_else(|| PublishError::Unsafe {
            path: out.clone(),
            why: "it has no parent folder".into(),
        })?;
        fs::create_dir_all(parent).map_err(io_err(parent))?;
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into());
        clean_stale_staging(parent, &name);
        let prev = parent.join(format!(".{name}.prev"));
        let dir = if is_ours(&prev) {
            prev.clone()
        } else {
            parent.join(format!(".{name}.staging-{}", std::process::id()))
        };
        // A buffer made just now holds only what this build writes: no stats, no sweep.
        let fresh = !dir.exists();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let old = if dir.join(MARKER).is_file() {
            read_manifest(&dir)
        } else {
            Manifest::new()
        };
        // From here until the new manifest is written the buffer is "partial":
        // an interrupted build leaves it so, and the next one trusts no file in it.
        let partial = dir.join(PARTIAL);
        fs::write(&partial, "").map_err(io_err(&partial))?;
        let _ = fs::remove_file(dir.join(MARKER));
        Ok(Stager {
            out,
            prev,
            dir,
            fresh,
            old,
            entries: std::sync::Mutex::new(Vec::new()),
            made: std::sync::Mutex::new(std::collections::HashSet::new()),
        })
    }

    /// Adds one file of the new site (its path relative to the output, '/'-separated).
    pub fn put(&self, path: &str, bytes: &[u8]) -> Result<(), PublishError> {
        self.put_parts(path, &[bytes])
    }

    /// [`Stager::put`] for a file made of `parts`, in order, which are
    /// written one after another instead of being joined first.
    pub fn put_parts(&self, path: &str, parts: &[&[u8]]) -> Result<(), PublishError> {
        let rel = safe_relative(path)?;
        let hash = hash_parts(parts);
        let len = parts.iter().map(|p| p.len() as u64).sum::<u64>();
        let dest = self.dir.join(&rel);
        let keep = if self.fresh {
            false
        } else if self.old.is_empty() {
            match parts {
                [bytes] => same_bytes(&dest, bytes),
                _ => same_bytes(&dest, &parts.concat()),
            }
        } else {
            self.old.get(path) == Some(&hash)
                && fs::symlink_metadata(&dest).is_ok_and(|m| m.is_file() && m.len() == len)
        };
        if !keep {
            // Never write through a link someone placed in the buffer.
            if !self.fresh && fs::symlink_metadata(&dest).is_ok_and(|m| !m.is_file()) {
                let _ = fs::remove_file(&dest);
            }
            if self.fresh {
                self.make_folder_of(path)?;
            }
            write_creating_parents(&dest, parts)?;
        }
        self.listed(path, hash, len);
        Ok(())
    }

    /// Makes the folder of `path` (already checked) in a fresh buffer, once.
    fn make_folder_of(&self, path: &str) -> Result<(), PublishError> {
        let Some((folder, _)) = path.rsplit_once('/') else {
            return Ok(());
        };
        let made = || {
            self.made
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if made().contains(folder) {
            return Ok(());
        }
        // Two threads may make the same folder at once: both succeed.
        let dir = self.dir.join(folder);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        made().insert(folder.to_string());
        Ok(())
    }

    /// Lists a file the buffer now holds in the new site's manifest.
    fn listed(&self, path: &str, hash: String, len: u64) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Entry {
                path: path.to_string(),
                hash,
                len,
            });
    }

    /// Adds a file of the published site unchanged, for a build that renders
    /// only what an edit touched: `hash` is its hash in the published
    /// manifest. The buffer's copy stays when the buffer's manifest has the
    /// same hash; otherwise the file is read from the output, checked against
    /// `hash` (a file edited by hand there is an error: the caller renders
    /// the whole site instead) and written to the buffer.
    pub fn carry(&self, path: &str, hash: &str) -> Result<(), PublishError> {
        let rel = safe_relative(path)?;
        let dest = self.dir.join(&rel);
        let buffered = (!self.fresh && self.old.get(path).map(String::as_str) == Some(hash))
            .then(|| fs::symlink_metadata(&dest).ok())
            .flatten()
            .filter(fs::Metadata::is_file);
        let len = match buffered {
            Some(m) => m.len(),
            None => {
                let src = self.out.join(&rel);
                let differs = || PublishError::Unsafe {
                    path: src.clone(),
                    why: "it differs from what the last build wrote".into(),
                };
                if !fs::symlink_metadata(&src).is_ok_and(|m| m.is_file()) {
                    return Err(differs());
                }
                let bytes = fs::read(&src).map_err(io_err(&src))?;
                if hash_parts(&[&bytes]) != hash {
                    return Err(differs());
                }
                if !self.fresh && fs::symlink_metadata(&dest).is_ok_and(|m| !m.is_file()) {
                    let _ = fs::remove_file(&dest);
                }
                write_creating_parents(&dest, &[&bytes])?;
                bytes.len() as u64
            }
        };
        self.listed(path, hash.to_string(), len);
        Ok(())
    }

    /// Gives up: the output stays as it was. A fresh buffer is removed; the
    /// kept one stays marked partial, and the next build redoes it.
    pub fn abort(self) {
        if self.dir != self.prev {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }

    /// Completes the buffer and swaps it in, unless the output already holds
    /// exactly these files.
    pub fn finish(self, keys: Keys<'_>) -> Result<PublishStats, PublishError> {
        let mut entries = std::mem::take(
            &mut *self
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        entries.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        crate::timings::mark("publish: entries sorted");
        if let Some(w) = entries.windows(2).find(|w| w[0].path == w[1].path) {
            let path = w[0].path.clone();
            self.abort();
            return Err(PublishError::Duplicate(path));
        }
        match self.complete(&entries, keys) {
            Ok(stats) => Ok(stats),
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    fn complete(&self, entries: &[Entry], keys: Keys<'_>) -> Result<PublishStats, PublishError> {
        let new_paths: std::collections::HashSet<&str> =
            entries.iter().map(|e| e.path.as_str()).collect();
        for p in self.old.keys() {
            if !new_paths.contains(p.as_str())
                && let Ok(rel) = safe_relative(p)
            {
                let _ = fs::remove_file(self.dir.join(&rel));
                remove_empty_parents(&self.dir, &rel);
            }
        }
        crate::timings::mark("publish: old files removed");
        // Anything in the buffer that the new site does not have (a partial run,
        // a stray file, a link) goes, so the buffer holds exactly the new site.
        if !self.fresh && (self.old.is_empty() || count_entries(&self.dir) != entries.len() + 1) {
            sweep(&self.dir, &new_paths);
        }
        crate::timings::mark("publish: buffer counted");
        let text = manifest_text(entries, keys);
        let marker = self.dir.join(MARKER);
        fs::write(&marker, &text).map_err(io_err(&marker))?;
        let _ = fs::remove_file(self.dir.join(PARTIAL));
        crate::timings::mark("publish: manifest written");

        let published = read_manifest(&self.out);
        crate::timings::mark("publish: published manifest read");
        let changed = entries
            .iter()
            .filter(|e| published.get(&e.path) != Some(&e.hash))
            .count();
        let stats = PublishStats {
            written: changed,
            unchanged: entries.len() - changed,
            removed: published
                .keys()
                .filter(|p| !new_paths.contains(p.as_str()))
                .count(),
        };
        // Nothing changed: leave the output alone (the common case in `serve`
        // and CI), but only when it holds exactly those files: anything added
        // by hand (or a file swapped for a link) makes a swap that removes it.
        if changed == 0
            && stats.removed == 0
            && self.out.is_dir()
            && published.len() == entries.len()
            && count_entries(&self.out) == entries.len() + 1
            && entries.iter().all(|e| {
                fs::symlink_metadata(self.out.join(&e.path))
                    .is_ok_and(|m| m.is_file() && m.len() == e.len)
            })
        {
            // Record the new keys so the next build can skip rendering.
            if fs::read_to_string(self.out.join(MARKER)).ok().as_deref() != Some(text.as_str()) {
                let tmp = self.out.join(format!("{MARKER}.tmp"));
                let marker = self.out.join(MARKER);
                fs::write(&tmp, &text).map_err(io_err(&tmp))?;
                fs::rename(&tmp, &marker).map_err(io_err(&marker))?;
            }
            return Ok(stats);
        }
        swap(&self.dir, &self.out)?;
        crate::timings::mark("publish: swapped");
        // The buffer now holds the old site (or nothing): keep it as the next
        // build's buffer under the `.prev` name.
        if self.dir != self.prev && self.dir.exists() {
            if self.prev.exists() {
                let _ = fs::remove_dir_all(&self.prev);
            }
            if fs::rename(&self.dir, &self.prev).is_err() {
                let _ = fs::remove_dir_all(&self.dir);
            }
        }
        Ok(stats)
    }
}

impl crate::render::Sink for Stager {
    fn put(&self, path: &str, bytes: Vec<u8>) -> Result<(), Box<crate::diagnostics::Diagnostic>> {
        crate::render::Sink::put_parts(self, path, &[&bytes])
    }

    fn put_parts(
        &self,
        path: &str,
        parts: &[&[u8]],
    ) -> Result<(), Box<crate::diagnostics::Diagnostic>> {
        Stager::put_parts(self, path, parts).map_err(|e| {
            Box::new(
                crate::diagnostics::Diagnostic::error("output", e.to_string())
                    .note("the previous output was left as it was"),
            )
        })
    }
}

/// Hex digits of a manifest's hash.
const HASH_HEX_LEN: usize = 32;

/// The hash of `parts` joined, as the manifest records it (hex). It only
/// tells a file that changed from one that did not, against the build's own
/// earlier output, so a fast non-cryptographic 128-bit hash does. Every
/// byte of the site passes through it (200 MB at 10,000 releases): BLAKE3
/// was 3% of a cold build's samples, XXH3 is under 0.5%.
fn hash_parts(parts: &[&[u8]]) -> String {
    let digest = if let [bytes] = parts {
        xxhash_rust::xxh3::xxh3_128(bytes)
    } else {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for p in parts {
            hasher.update(p);
        }
        hasher.digest128()
    };
    format!("{digest:032x}")
}

/// Writes `parts`, one after another, to `dest`, making its folder on the
/// first file written there.
fn write_creating_parents(dest: &Path, parts: &[&[u8]]) -> Result<(), PublishError> {
    match write_parts(dest, parts) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = dest.parent() {
                fs::create_dir_all(dir).map_err(io_err(dir))?;
            }
            write_parts(dest, parts).map_err(io_err(dest))
        }
        r => r.map_err(io_err(dest)),
    }
}

fn write_parts(dest: &Path, parts: &[&[u8]]) -> io::Result<()> {
    if let [bytes] = parts {
        return fs::write(dest, bytes);
    }
    let mut w = io::BufWriter::with_capacity(256 * 1024, fs::File::create(dest)?);
    for p in parts {
        io::Write::write_all(&mut w, p)?;
    }
    io::Write::flush(&mut w)
}

/// Removes from `dir` every file, link and empty folder not in `keep`.
fn sweep(dir: &Path, keep: &std::collections::HashSet<&str>) {
    for e in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .contents_first(true)
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(rel) = e.path().strip_prefix(dir) else {
            continue;
        };
        if rel == Path::new(PARTIAL) {
            continue;
        }
        if e.file_type().is_dir() {
            let _ = fs::remove_dir(e.path());
        } else {
            let listed = rel
                .to_str()
                .map(|r| r.replace(std::path::MAIN_SEPARATOR, "/"))
                .is_some_and(|r| keep.contains(r.as_str()));
            if !listed || e.path_is_symlink() {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Name of the marker while a buffer is being updated.
const PARTIAL: &str = ".impala-awards-partial";

/// Whether `dir` is a buffer a build of ours wrote (complete or interrupted).
fn is_ours(dir: &Path) -> bool {
    dir.join(MARKER).is_file() || dir.join(PARTIAL).is_file()
}

/// Files and links below `dir` (not following links), folders not counted.
/// Folders are read on every core: an edit's build counts its buffer's
/// 100,000 release folders after everything else is done.
fn count_entries(dir: &Path) -> usize {
    use rayon::prelude::*;
    let Ok(listed) = fs::read_dir(dir) else {
        return 0;
    };
    let listed: Vec<fs::DirEntry> = listed.filter_map(Result::ok).collect();
    listed
        .par_iter()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => count_entries(&e.path()),
            Ok(_) => 1,
            Err(_) => 0,
        })
        .sum()
}

/// Removes staging folders left by a build that was killed: only folders named
/// exactly as [`Stager::begin`] names them (`.<name>.staging-<pid>`, or `<pid>.old`)
/// whose process is gone, so a running build's staging and an editor's own
/// files beside the output are left alone.
fn clean_stale_staging(parent: &Path, name: &str) {
    let prefix = format!(".{name}.staging-");
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.strip_suffix(".old").unwrap_or(rest);
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && (pid == std::process::id() || !process_alive(pid)) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Whether a process with this id exists (it may belong to another user).
#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    false
}

/// Removes the now-empty folders above a deleted file, up to `root`.
fn remove_empty_parents(root: &Path, rel: &Path) {
    let mut cur = rel.parent();
    while let Some(p) = cur {
        if p.as_os_str().is_empty() || fs::remove_dir(root.join(p)).is_err() {
            break;
        }
        cur = p.parent();
    }
}

fn same_bytes(path: &Path, bytes: &[u8]) -> bool {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_file() && m.len() == bytes.len() as u64 => {
            fs::read(path).is_ok_and(|old| old == bytes)
        }
        _ => false,
    }
}

/// Puts `staging` at `out`; afterwards `staging` holds the old output (if any).
fn swap(staging: &Path, out: &Path) -> Result<(), PublishError> {
    if !out.exists() {
        return fs::rename(staging, out).map_err(io_err(out));
    }
    #[cfg(target_os = "linux")]
    {
        if exchange(staging, out).is_ok() {
            return Ok(());
        }
    }
    // Fallback: two renames, with a brief moment where `out` is absent.
    let mut aside = OsString::from(staging.as_os_str());
    aside.push(".old");
    let aside = PathBuf::from(aside);
    fs::rename(out, &aside).map_err(io_err(out))?;
    if let Err(e) = fs::rename(staging, out) {
        let _ = fs::rename(&aside, out);
        return Err(io_err(out)(e));
    }
    fs::rename(&aside, staging).map_err(io_err(staging))
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both pointers are valid NUL-terminated paths for the duration of the call.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escaping_paths() {
        assert!(safe_relative("a/b.html").is_ok());
        for bad in [
            "../x",
            "/etc/passwd",
            "a/../../x",
            "a\\..\\x",
            "",
            "./a/../..",
        ] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_file_in_parts_hashes_as_its_bytes_joined() {
        let page = b"<html><head></head><body><table>rows</table></body></html>";
        let whole = hash_parts(&[page]);
        assert_eq!(whole.len(), HASH_HEX_LEN);
        assert_eq!(
            hash_parts(&[&page[..12], b"", &page[12..40], &page[40..]]),
            whole
        );
        assert_ne!(hash_parts(&[&page[..page.len() - 1]]), whole);
    }

    #[test]
    fn manifest_lines_of_another_hash_are_not_read() {
        let blake3 = "a".repeat(64);
        let ours = hash_parts(&[b"x"]);
        let text = format!("# header\n{blake3} old.html\n{ours} new.html\n");
        let files: Vec<(String, String)> = manifest_files(&text).collect();
        assert_eq!(files, vec![("new.html".to_string(), ours)]);
    }
}
