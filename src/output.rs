//! Atomic publishing: the output folder holds the whole old site or the whole new one.
//!
//! A build writes into a staging folder beside the output, then swaps the two
//! (one `renameat2(RENAME_EXCHANGE)` on Linux). Files whose bytes did not
//! change are hard-linked from the old output, so they keep their inode and
//! modification time and deploy tools see only what changed.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use thiserror::Error;

use crate::render::OutFile;

/// Name of the file that marks a folder as written by this tool.
pub const MARKER: &str = ".impala-awards-output";

/// Why the output could not be published. The old output is untouched in every case.
#[derive(Debug, Error)]
pub enum PublishError {
    #[error("refusing to write to `{path}`: {why}")]
    Unsafe { path: PathBuf, why: String },
    #[error("a file path escapes the output folder: `{0}`")]
    BadPath(String),
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

/// The marker file holds a manifest: one `<blake3 hex> <path>` line per file
/// of the last build, so the next build knows what changed without reading
/// the old files back.
type Manifest = std::collections::HashMap<String, String>;

fn read_manifest(out: &Path) -> Manifest {
    let Ok(text) = fs::read_to_string(out.join(MARKER)) else {
        return Manifest::new();
    };
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(h, _)| h.len() == 64)
        .map(|(h, p)| (p.to_string(), h.to_string()))
        .collect()
}

fn manifest_text(files: &[OutFile], hashes: &[String], input_key: Option<&str>) -> String {
    let mut s = String::from("# Written by impala-awards; a build replaces this whole folder.\n");
    if let Some(k) = input_key {
        s.push_str("# input ");
        s.push_str(k);
        s.push('\n');
    }
    for (f, h) in files.iter().zip(hashes) {
        s.push_str(h);
        s.push(' ');
        s.push_str(&f.path);
        s.push('\n');
    }
    s
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

/// Replaces the contents of `out` with `files`, atomically.
pub fn publish(out: &Path, files: &[OutFile]) -> Result<PublishStats, PublishError> {
    publish_keyed(out, files, None)
}

/// The paths of the site in `out` when it was built from inputs whose key is
/// `input_key` and still holds exactly the files it was built with; `None` otherwise.
///
/// Output is a pure function of the inputs, so a build whose input key is
/// unchanged has nothing to render.
pub fn up_to_date(out: &Path, input_key: &str) -> Option<Vec<String>> {
    let text = fs::read_to_string(out.join(MARKER)).ok()?;
    let mut lines = text.lines();
    let _header = lines.next()?;
    if lines.next()? != format!("# input {input_key}") {
        return None;
    }
    let paths: Vec<String> = lines
        .filter_map(|l| l.split_once(' '))
        .map(|(_, p)| p.to_string())
        .collect();
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

/// [`publish`], recording `input_key` (see [`up_to_date`]) in the output.
pub fn publish_keyed(
    out: &Path,
    files: &[OutFile],
    input_key: Option<&str>,
) -> Result<PublishStats, PublishError> {
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
    let hashes: Vec<String> = files
        .par_iter()
        .map(|f| blake3::hash(&f.bytes).to_hex().to_string())
        .collect();
    let manifest = read_manifest(&out);
    // Nothing changed: leave the output alone (the common case in `serve` and CI).
    // Only when the output holds exactly those files: anything added by hand
    // (or a file swapped for a link) makes a full publish that removes it.
    if out.is_dir()
        && manifest.len() == files.len()
        && files
            .iter()
            .zip(&hashes)
            .all(|(f, h)| manifest.get(&f.path) == Some(h))
        && files.iter().all(|f| {
            fs::symlink_metadata(out.join(&f.path))
                .is_ok_and(|m| m.is_file() && m.len() == f.bytes.len() as u64)
        })
        && count_entries(&out) == files.len() + 1
    {
        // Record the new input key so the next build can skip rendering.
        if let Some(k) = input_key
            && up_to_date(&out, k).is_none()
        {
            let tmp = out.join(format!("{MARKER}.tmp"));
            let marker = out.join(MARKER);
            fs::write(&tmp, manifest_text(files, &hashes, input_key)).map_err(io_err(&tmp))?;
            fs::rename(&tmp, &marker).map_err(io_err(&marker))?;
        }
        return Ok(PublishStats {
            written: 0,
            unchanged: files.len(),
            removed: 0,
        });
    }
    // Double buffering: the previous site is kept beside the output as
    // `.<name>.prev` and brought up to date in place (only changed files are
    // written, removed ones deleted), then swapped in. Deleting or copying the
    // whole tree each build would cost more than rendering it.
    let prev = parent.join(format!(".{name}.prev"));
    let staging = if is_ours(&prev) {
        prev
    } else {
        parent.join(format!(".{name}.staging-{}", std::process::id()))
    };
    let mut stats = match stage(&staging, files, &hashes, input_key) {
        Ok(s) => s,
        Err(e) => {
            // A half-updated buffer keeps its "partial" marker and is redone next time.
            if staging.file_name() != Some(std::ffi::OsStr::new(&format!(".{name}.prev"))) {
                let _ = fs::remove_dir_all(&staging);
            }
            return Err(e);
        }
    };
    let new_paths: std::collections::HashSet<&str> =
        files.iter().map(|f| f.path.as_str()).collect();
    let changed = files
        .iter()
        .zip(&hashes)
        .filter(|(f, h)| manifest.get(&f.path) != Some(*h))
        .count();
    stats.written = changed;
    stats.unchanged = files.len() - changed;
    stats.removed = manifest
        .keys()
        .filter(|p| !new_paths.contains(p.as_str()))
        .count();
    swap(&staging, &out)?;
    // `staging` now holds the old site (or nothing): keep it as the next
    // build's buffer under the `.prev` name.
    let prev = parent.join(format!(".{name}.prev"));
    if staging != prev && staging.exists() {
        if prev.exists() {
            let _ = fs::remove_dir_all(&prev);
        }
        if fs::rename(&staging, &prev).is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
    }
    Ok(stats)
}

/// Name of the marker while a buffer is being updated.
const PARTIAL: &str = ".impala-awards-partial";

/// Whether `dir` is a buffer a build of ours wrote (complete or interrupted).
fn is_ours(dir: &Path) -> bool {
    dir.join(MARKER).is_file() || dir.join(PARTIAL).is_file()
}

/// Files and links below `dir` (not following links), folders not counted.
fn count_entries(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .count()
}

/// Removes staging folders left by a build that was killed: only folders named
/// exactly as [`publish`] names them (`.<name>.staging-<pid>`, or `<pid>.old`)
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

/// Brings the buffer `dir` to exactly `files`: writes what its manifest says
/// differs, deletes what is no longer built, and ends with the new manifest.
fn stage(
    dir: &Path,
    files: &[OutFile],
    hashes: &[String],
    input_key: Option<&str>,
) -> Result<PublishStats, PublishError> {
    let rels: Vec<PathBuf> = files
        .iter()
        .map(|f| safe_relative(&f.path))
        .collect::<Result<_, _>>()?;
    // A buffer made just now holds only what this build writes: no sweep needed.
    let fresh = !dir.exists();
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let old = if dir.join(MARKER).is_file() {
        read_manifest(dir)
    } else {
        Manifest::new()
    };
    // From here until the new manifest is written the buffer is "partial":
    // an interrupted build leaves it so, and the next one trusts no file in it.
    let partial = dir.join(PARTIAL);
    fs::write(&partial, "").map_err(io_err(&partial))?;
    let _ = fs::remove_file(dir.join(MARKER));
    let new_paths: std::collections::HashSet<&Path> = rels.iter().map(PathBuf::as_path).collect();
    for p in old.keys() {
        if let Ok(rel) = safe_relative(p)
            && !new_paths.contains(rel.as_path())
        {
            let _ = fs::remove_file(dir.join(&rel));
            remove_empty_parents(dir, &rel);
        }
    }
    let mut dirs: Vec<&Path> = rels.iter().filter_map(|r| r.parent()).collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        let p = dir.join(d);
        fs::create_dir_all(&p).map_err(io_err(&p))?;
    }
    let outcomes: Vec<Result<(), PublishError>> = files
        .par_iter()
        .zip(rels.par_iter())
        .zip(hashes.par_iter())
        .map(|((f, rel), hash)| {
            let dest = dir.join(rel);
            let keep = if fresh {
                false
            } else if old.is_empty() {
                same_bytes(&dest, &f.bytes)
            } else {
                old.get(&f.path) == Some(hash)
                    && fs::symlink_metadata(&dest)
                        .is_ok_and(|m| m.is_file() && m.len() == f.bytes.len() as u64)
            };
            if !keep {
                // Never write through a link someone placed in the buffer.
                if !fresh && fs::symlink_metadata(&dest).is_ok_and(|m| !m.is_file()) {
                    let _ = fs::remove_file(&dest);
                }
                fs::write(&dest, &f.bytes).map_err(io_err(&dest))?;
            }
            Ok(())
        })
        .collect();
    for o in outcomes {
        o?;
    }
    // Anything in the buffer that the new site does not have (a partial run,
    // a stray file, a link) goes, so the buffer holds exactly the new site.
    if !fresh && (old.is_empty() || count_entries(dir) != files.len() + 1) {
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
            } else if !new_paths.contains(rel) || e.path_is_symlink() {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    let marker = dir.join(MARKER);
    fs::write(&marker, manifest_text(files, hashes, input_key)).map_err(io_err(&marker))?;
    let _ = fs::remove_file(&partial);
    Ok(PublishStats::default())
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
}
