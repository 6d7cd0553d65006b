//! One build: load → check → index → render → write.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::check;
use crate::diagnostics::{Diagnostic, Sources};
use crate::index::Index;
use crate::output::{self, PublishStats};
use crate::records::load::{LoadCache, Loaded, load, load_reusing};
use crate::render::{self, OutFile, Theme};

/// A loaded and checked tree.
pub struct Checked {
    pub loaded: Loaded,
    /// Every problem, parse and rule alike.
    pub diags: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }

    /// Number of awards loaded.
    pub fn awards(&self) -> usize {
        self.loaded.releases.iter().map(|r| r.awards.len()).sum()
    }
}

/// Loads `root` and runs every check, with `today` as the build date.
pub fn load_and_check(root: &Path, today: NaiveDate) -> Checked {
    checked(load(root), today)
}

/// [`load_and_check`] reusing the files of the last load that have not
/// changed (see [`load_reusing`]).
pub fn load_and_check_reusing(
    root: &Path,
    today: NaiveDate,
    cache: &mut LoadCache,
    changed: Option<&std::collections::BTreeSet<PathBuf>>,
) -> Checked {
    checked(load_reusing(root, cache, changed), today)
}

fn checked(mut loaded: Loaded, today: NaiveDate) -> Checked {
    crate::timings::mark("load");
    let mut diags = std::mem::take(&mut loaded.diags);
    if let Some(config) = &loaded.config {
        diags.extend(check::check(&loaded, config, today));
    }
    Checked { loaded, diags }
}

/// Settings of one build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    /// Defaults to `<root>/public`.
    pub output: Option<PathBuf>,
    /// Overrides `base_url` of site.toml.
    pub base_url: Option<String>,
    /// Replace an output folder that holds files we did not write.
    pub force: bool,
    /// Treat warnings as errors.
    pub deny_warnings: bool,
    pub today: NaiveDate,
}

/// What a build did.
pub struct BuildReport {
    pub diags: Vec<Diagnostic>,
    pub sources: Sources,
    pub releases: usize,
    pub awards: usize,
    pub labels: usize,
    /// HTML pages written (files ending in index.html, plus 404.html).
    pub pages: usize,
    pub files: usize,
    /// `None` when nothing was published.
    pub publish: Option<PublishStats>,
    pub elapsed: Duration,
    pub output: PathBuf,
}

impl BuildReport {
    /// Whether the site was published.
    pub fn ok(&self) -> bool {
        self.publish.is_some()
    }
}

/// Whether a folder named in site.toml is a folder inside the site root:
/// relative, below the root and without `..`, so that `static_dir = "/"` or
/// `"."` cannot copy the disk (or the site and its output) into the site.
pub fn inside_site(dir: &Path) -> bool {
    dir.components().any(|c| matches!(c, Component::Normal(_)))
        && dir
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn outside_site(key: &str, dir: &Path) -> Diagnostic {
    Diagnostic::error(
        "unsafe-path",
        format!(
            "`{key}` must name a folder inside the site, not `{}`",
            dir.display()
        ),
    )
    .in_file(Path::new(crate::config::CONFIG_FILE))
    .help(format!(
        "write a path relative to the site's root folder, without `..`, e.g. `{key} = \"{}\"`",
        if key == "theme" {
            "themes/custom"
        } else {
            "static"
        }
    ))
}

/// Renders the site into memory: every file, nothing written.
pub fn render(
    checked: &Checked,
    root: &Path,
    base_url: Option<&str>,
) -> Result<Vec<OutFile>, Vec<Diagnostic>> {
    let sink = render::Collect::default();
    render_into(checked, root, base_url, None, &sink, None, None)?;
    Ok(sink.into_files())
}

/// Renders into memory only the files `only` accepts (and no sitemap): what
/// `serve` needs after an edit that touches a few pages. `memo`: see
/// [`render::render_site`].
pub fn render_only(
    checked: &Checked,
    root: &Path,
    base_url: Option<&str>,
    search_cache: Option<&Path>,
    only: &(dyn Fn(&str) -> bool + Sync),
    memo: Option<&mut render::RowMemo>,
) -> Result<Vec<OutFile>, Vec<Diagnostic>> {
    let sink = render::Collect::default();
    render_into(
        checked,
        root,
        base_url,
        search_cache,
        &sink,
        Some(only),
        memo,
    )?;
    Ok(sink.into_files())
}

/// Renders the site into `sink`, keeping the search index in `search_cache`
/// between builds; returns the paths of the files, sorted. With `only`, just
/// the files it accepts (see [`render::Only`]); `memo`: see
/// [`render::render_site`].
pub fn render_into(
    checked: &Checked,
    root: &Path,
    base_url: Option<&str>,
    search_cache: Option<&Path>,
    sink: &dyn render::Sink,
    only: render::Only<'_>,
    memo: Option<&mut render::RowMemo>,
) -> Result<Vec<String>, Vec<Diagnostic>> {
    let loaded = &checked.loaded;
    let Some(config) = &loaded.config else {
        return Err(Vec::new());
    };
    let unsafe_dirs: Vec<Diagnostic> =
        [("theme", &config.theme), ("static_dir", &config.static_dir)]
            .into_iter()
            .filter_map(|(key, dir)| Some((key, dir.as_deref()?)))
            .filter(|(_, dir)| !inside_site(dir))
            .map(|(key, dir)| outside_site(key, dir))
            .collect();
    if !unsafe_dirs.is_empty() {
        return Err(unsafe_dirs);
    }
    let theme = Theme::load(root, config.theme.as_deref())?;
    crate::timings::mark("theme");
    let index = Index::build(config, &loaded.labels, &loaded.releases, &loaded.pages);
    crate::timings::mark("index");
    let base_url = base_url.map_or_else(
        || config.base_url.clone(),
        crate::config::normalise_base_url,
    );
    let mut paths = render::render_site(&index, &theme, &base_url, search_cache, sink, only, memo)?;
    if let Some(dir) = &config.static_dir {
        let mut diags = Vec::new();
        for (p, rel) in render::theme::list_files(&root.join(dir), root) {
            if only.is_some_and(|f| !f(&rel)) {
                continue;
            }
            if paths.binary_search(&rel).is_ok() {
                diags.push(
                    Diagnostic::error(
                        "static-conflict",
                        format!("static file `{rel}` would replace a page the site generates"),
                    )
                    .in_file(&dir.join(&rel))
                    .help("rename or remove the static file"),
                );
                continue;
            }
            match std::fs::read(&p) {
                Ok(bytes) => match sink.put(&rel, bytes) {
                    Ok(()) => paths.push(rel),
                    Err(d) => diags.push(*d),
                },
                Err(e) => diags.push(
                    Diagnostic::error("unreadable", format!("cannot read static file: {e}"))
                        .in_file(&dir.join(&rel)),
                ),
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        paths.sort_unstable();
    }
    Ok(paths)
}

/// An output inside the static or theme folder would be copied into the next
/// build's output, and that one into the next, growing every time.
fn output_in_copied_folder(output: &Path, root: &Path, checked: &Checked) -> Option<Diagnostic> {
    let config = checked.loaded.config.as_ref()?;
    let out = output::absolute(output);
    [("static_dir", &config.static_dir), ("theme", &config.theme)]
        .into_iter()
        .filter_map(|(key, dir)| Some((key, dir.as_deref()?)))
        // A folder outside the site is reported by `render`, with its own message.
        .filter(|(_, dir)| inside_site(dir))
        .find(|(_, dir)| out.starts_with(output::absolute(&root.join(dir))))
        .map(|(key, dir)| {
            Diagnostic::error(
                "output",
                format!(
                    "refusing to write to `{}`: it is inside `{key}` (`{}`), whose files every build copies",
                    output.display(),
                    dir.display()
                ),
            )
            .help("write the site outside that folder, e.g. `--output public`")
        })
}

/// What identifies this program's build: its version, path, size and
/// modification time. Reading and hashing the 80 MB binary instead cost
/// 150 ms of every build; any rebuild of it changes its mtime and size.
fn program_identity() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!(
        "{} {} {} {}.{:09}\0",
        env!("CARGO_PKG_VERSION"),
        exe.display(),
        meta.len(),
        mtime.as_secs(),
        mtime.subsec_nanos()
    ))
}

/// Adds what a build depends on besides its input files: the program, the
/// base URL option and the build date.
fn hash_program_and_options(h: &mut blake3::Hasher, opts: &BuildOptions) -> Option<()> {
    h.update(program_identity()?.as_bytes());
    let base = opts
        .base_url
        .as_deref()
        .map(crate::config::normalise_base_url)
        .unwrap_or_default();
    h.update(format!("{base}\0{}\0", opts.today).as_bytes());
    Some(())
}

/// A hash of what a build's output depends on besides its records and
/// site.toml: this program, the options, the build date, and the theme's and
/// static folder's files (read at render time). `None` when one cannot be read.
fn context_key(checked: &Checked, opts: &BuildOptions) -> Option<String> {
    let mut h = blake3::Hasher::new();
    hash_program_and_options(&mut h, opts)?;
    let config = checked.loaded.config.as_ref()?;
    for dir in [&config.theme, &config.static_dir].into_iter().flatten() {
        // `static_dir = "/"` would hash the whole disk; the render refuses it.
        if !inside_site(dir) {
            return None;
        }
        for (full, rel) in render::theme::list_files(&opts.root.join(dir), &opts.root) {
            h.update(rel.as_bytes());
            h.update(b"\0");
            h.update(&std::fs::read(full).ok()?);
        }
    }
    Some(h.finalize().to_hex().to_string())
}

/// A hash of everything a build's output depends on: its context (see
/// [`context_key`]) and every input file.
fn input_key(checked: &Checked, context: &str) -> String {
    use rayon::prelude::*;
    let mut inputs = checked.loaded.sources.paths();
    inputs.par_sort_unstable();
    // Each file hashed on its own, on every core, then the hashes in order:
    // one hasher fed 100,000 small files took 0.3 s.
    let files: Vec<blake3::Hash> = inputs
        .par_iter()
        .map(|p| {
            let mut h = blake3::Hasher::new();
            h.update(p.to_string_lossy().as_bytes());
            h.update(b"\0");
            h.update(checked.loaded.sources.get(p).unwrap_or("").as_bytes());
            h.finalize()
        })
        .collect();
    let mut h = blake3::Hasher::new();
    h.update(b"impala-awards inputs v2\0");
    h.update(context.as_bytes());
    h.update(b"\0");
    for f in &files {
        h.update(f.as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// Inputs changed less than this long before a build may change again within
/// the same file-system timestamp: their stats prove nothing (git's "racy" files).
const RACY: Duration = Duration::from_secs(2);

/// A hash of the file stats (size, times, inode) of every input, the program,
/// the options and the build date: equal keys mean inputs untouched since the
/// build that recorded it, without reading them. `None` when an input cannot
/// be listed, is outside the site, or changed too recently to tell (see [`RACY`]).
fn stat_key(opts: &BuildOptions, started: std::time::SystemTime) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let root = &opts.root;
    let cfg = root.join(crate::config::CONFIG_FILE);
    let text = std::fs::read_to_string(&cfg).ok()?;
    let mut diags = Vec::new();
    let config = crate::config::parse(&text, Path::new(crate::config::CONFIG_FILE), &mut diags)?;
    if !diags.is_empty() {
        return None;
    }
    let mut h = blake3::Hasher::new();
    h.update(b"impala-awards stat v2\0");
    hash_program_and_options(&mut h, opts)?;
    let newest_allowed = started.checked_sub(RACY)?;
    let mut dirs: Vec<&Path> = vec![Path::new("content")];
    for dir in [&config.theme, &config.static_dir].into_iter().flatten() {
        if !inside_site(dir) {
            return None;
        }
        dirs.push(dir);
    }
    // Fixed-width fields, not text: formatting 100,000 stamps was a third of
    // this function's serial part.
    let stamp = |h: &mut blake3::Hasher, rel: &[u8], m: &std::fs::Metadata| -> Option<()> {
        let changed = m.modified().ok()?.max(
            std::time::UNIX_EPOCH
                + Duration::new(
                    u64::try_from(m.ctime()).ok()?,
                    u32::try_from(m.ctime_nsec()).ok()?,
                ),
        );
        if changed > newest_allowed {
            return None;
        }
        h.update(&(rel.len() as u64).to_le_bytes());
        h.update(rel);
        h.update(&[u8::from(m.file_type().is_dir())]);
        for v in [
            m.len(),
            m.ino(),
            m.mtime() as u64,
            m.mtime_nsec() as u64,
            m.ctime() as u64,
            m.ctime_nsec() as u64,
        ] {
            h.update(&v.to_le_bytes());
        }
        Some(())
    };
    stamp(
        &mut h,
        crate::config::CONFIG_FILE.as_bytes(),
        &std::fs::metadata(&cfg).ok()?,
    )?;
    let root_len = root.as_os_str().len();
    for dir in dirs {
        let full = root.join(dir);
        h.update(b"dir\0");
        h.update(dir.as_os_str().as_encoded_bytes());
        if !full.exists() {
            continue;
        }
        let top = std::fs::symlink_metadata(&full).ok()?;
        if top.file_type().is_symlink() {
            return None;
        }
        let mut entries = vec![(full.clone(), top)];
        stat_tree(&full, &mut entries)?;
        for (p, m) in &entries {
            // Every path was joined onto `root`: what follows it is the
            // path inside the site.
            let rel = p.as_os_str().as_encoded_bytes().get(root_len..)?;
            stamp(&mut h, rel, m)?;
        }
    }
    Some(h.finalize().to_hex().to_string())
}

/// Appends every entry below `dir` with its own stats (links not followed),
/// depth first, each folder's entries by name; `None` on a link or anything
/// unreadable. A folder's entries are stat-ed on every core, and folders
/// are walked on every core.
fn stat_tree(dir: &Path, out: &mut Vec<(PathBuf, std::fs::Metadata)>) -> Option<()> {
    use rayon::prelude::*;
    let mut listed: Vec<std::fs::DirEntry> = std::fs::read_dir(dir)
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    listed.sort_by_cached_key(std::fs::DirEntry::file_name);
    // A link proves nothing by its own stats (the loader follows it).
    let stats: Vec<(PathBuf, std::fs::Metadata)> = listed
        .par_iter()
        .map(|e| {
            let m = e.metadata().ok()?;
            (!m.file_type().is_symlink()).then(|| (e.path(), m))
        })
        .collect::<Option<_>>()?;
    let below: Vec<Vec<(PathBuf, std::fs::Metadata)>> = stats
        .par_iter()
        .map(|(p, m)| {
            let mut v = Vec::new();
            if m.is_dir() {
                stat_tree(p, &mut v)?;
            }
            Some(v)
        })
        .collect::<Option<_>>()?;
    for (entry, inside) in stats.into_iter().zip(below) {
        out.push(entry);
        out.extend(inside);
    }
    Some(())
}

/// What a build records beside its output (`.<name>.stat`) for the next one:
/// the stat key of its inputs, the input key of the site it published, and
/// what it reported. Kept out of the output so that stays a pure function of
/// the inputs' bytes.
struct StatRecord {
    stat: String,
    input: String,
    releases: usize,
    awards: usize,
    labels: usize,
}

const STAT_MAGIC: &str = "impala-awards-stat-v1";

fn read_stat_record(path: &Path) -> Option<StatRecord> {
    let text = std::fs::read_to_string(path).ok()?;
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [STAT_MAGIC, stat, input, releases, awards, labels] = parts[..] else {
        return None;
    };
    Some(StatRecord {
        stat: stat.to_string(),
        input: input.to_string(),
        releases: releases.parse().ok()?,
        awards: awards.parse().ok()?,
        labels: labels.parse().ok()?,
    })
}

/// Writes the record, or removes a stale one; a failure only costs the next
/// build its shortcut.
fn write_stat_record(path: Option<&Path>, record: Option<&StatRecord>) {
    let Some(path) = path else { return };
    let text = record.map(|r| {
        format!(
            "{STAT_MAGIC} {} {} {} {} {}\n",
            r.stat, r.input, r.releases, r.awards, r.labels
        )
    });
    write_or_remove(path, text.as_ref().map(String::as_bytes));
}

/// Replaces the file at `path` with `bytes` at once (through a temporary file
/// beside it), or removes it when `bytes` is `None` or cannot be written: for
/// the records a build keeps for the next one, which a failure only costs
/// their shortcut.
pub(crate) fn write_or_remove(path: &Path, bytes: Option<&[u8]>) {
    let tmp = path.with_extension("tmp");
    let written = bytes
        .is_some_and(|b| std::fs::write(&tmp, b).is_ok() && std::fs::rename(&tmp, path).is_ok());
    if !written {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(path);
    }
}

/// A hidden file beside the output: `.<name>.<what>` (`.public.search-cache`).
fn beside_output(output: &Path, what: &str) -> Option<PathBuf> {
    let name = output.file_name()?.to_string_lossy();
    Some(output.with_file_name(format!(".{name}.{what}")))
}

/// HTML pages among a site's files: every `index.html`, and `404.html`.
fn count_pages(paths: &[String]) -> usize {
    paths
        .iter()
        .filter(|p| p.ends_with("index.html") || *p == "404.html")
        .count()
}

/// Runs a whole build. The output is replaced only when there is no error.
pub fn build(opts: &BuildOptions) -> BuildReport {
    let start = Instant::now();
    crate::timings::mark("build");
    let output = opts
        .output
        .clone()
        .unwrap_or_else(|| opts.root.join("public"));
    let started = std::time::SystemTime::now();
    // Stat-ing 100,000 records takes 0.3-0.5 s: beside the load, unless the
    // output says it may spare the load altogether.
    let stat_job = {
        let opts = opts.clone();
        std::thread::spawn(move || stat_key(&opts, started))
    };
    let mut stat_job = Some(stat_job);
    let mut stat = None;
    let stat_file = beside_output(&output, "stat");
    let recorded = stat_file.as_deref().and_then(read_stat_record);
    if recorded.is_some() {
        stat = stat_job.take().and_then(|j| j.join().ok().flatten());
        crate::timings::mark("stat key");
    }
    // Inputs untouched since the last build (by their stats): nothing to read.
    if let Some(rec) = &recorded
        && stat.as_deref() == Some(rec.stat.as_str())
        && let Some(paths) = output::current_files(&output, &rec.input)
    {
        return BuildReport {
            diags: Vec::new(),
            sources: Sources::default(),
            releases: rec.releases,
            awards: rec.awards,
            labels: rec.labels,
            pages: count_pages(&paths),
            files: paths.len(),
            publish: Some(PublishStats {
                written: 0,
                unchanged: paths.len(),
                removed: 0,
            }),
            elapsed: start.elapsed(),
            output,
        };
    }
    let checked = load_and_check(&opts.root, opts.today);
    crate::timings::mark("load+check");
    let mut report = BuildReport {
        diags: Vec::new(),
        sources: Sources::default(),
        releases: checked.loaded.releases.len(),
        awards: checked.awards(),
        labels: checked.loaded.labels.len(),
        pages: 0,
        files: 0,
        publish: None,
        elapsed: Duration::ZERO,
        output: output.clone(),
    };
    let blocked = checked.has_errors()
        || (opts.deny_warnings && !checked.diags.is_empty())
        || checked.loaded.config.is_none();
    if !blocked {
        if let Err(e) = output::check_output_dir(&output, &opts.root, opts.force) {
            report
                .diags
                .push(Diagnostic::error("output", e.to_string()));
        } else if let Some(d) = output_in_copied_folder(&output, &opts.root, &checked) {
            report.diags.push(d);
        } else {
            let context = context_key(&checked, opts);
            let key = context.as_deref().map(|c| input_key(&checked, c));
            crate::timings::mark("input key");
            // Only a build that reports nothing may be skipped by its stats
            // next time: a skipped build prints no diagnostics.
            if let Some(j) = stat_job.take() {
                stat = j.join().ok().flatten();
            }
            let record = match (stat, &key) {
                (Some(stat), Some(input)) if checked.diags.is_empty() => Some(StatRecord {
                    stat,
                    input: input.clone(),
                    releases: report.releases,
                    awards: report.awards,
                    labels: report.labels,
                }),
                _ => None,
            };
            let keys = output::Keys {
                input: key.as_deref(),
            };
            if let Some(paths) = key.as_deref().and_then(|k| output::up_to_date(&output, k)) {
                // Same bytes, new stats (files touched or checked out again).
                write_stat_record(stat_file.as_deref(), record.as_ref());
                report.pages = count_pages(&paths);
                report.files = paths.len();
                report.publish = Some(PublishStats {
                    written: 0,
                    unchanged: paths.len(),
                    removed: 0,
                });
                let Checked { loaded, diags } = checked;
                report.diags = diags;
                report.sources = loaded.sources;
                report.elapsed = start.elapsed();
                return report;
            }
            let cache = beside_output(&output, "search-cache");
            let deps_file = beside_output(&output, "deps");
            match crate::incremental::publish(
                &checked,
                opts,
                &output,
                cache.as_deref(),
                deps_file.as_deref(),
                context.as_deref(),
                keys,
            ) {
                Ok((paths, stats)) => {
                    report.pages = count_pages(&paths);
                    report.files = paths.len();
                    write_stat_record(stat_file.as_deref(), record.as_ref());
                    report.publish = Some(stats);
                    crate::timings::mark("published");
                }
                Err(ds) => report.diags.extend(ds),
            }
        }
    }
    let Checked { loaded, diags } = checked;
    let mut all = diags;
    all.append(&mut report.diags);
    report.diags = all;
    report.sources = loaded.sources;
    if report.diags.iter().any(|d| d.code.starts_with("template")) {
        // Template problems point into the theme's files: show their lines too.
        let theme_dir = loaded.config.as_ref().and_then(|c| c.theme.as_deref());
        report
            .sources
            .extend(render::theme::template_sources(&opts.root, theme_dir));
    }
    report.elapsed = start.elapsed();
    report
}
