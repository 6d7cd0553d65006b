//! Publishing a build, rendering only what an edit touched when that can be
//! told.
//!
//! Each good build keeps beside its output (`.<name>.deps`) the
//! [`deps::Summary`] of the records it was built from, with the keys of its
//! context (program, options, build date, theme and static files) and of its
//! output. The next build, when its context is the same and the output is still
//! the one summarised, asks [`deps::plan`] (the rules `serve` uses) what the
//! edit touches: with an answer, it renders only those files and carries every
//! other file of the published site over unchanged. Anything the rules cannot
//! vouch for (a label, page or site.toml edit, a record added or removed, a
//! page appearing or going) renders the whole site, as does anything
//! unexpected on the way (a published file that differs from its manifest).

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::deps::{self, Plan, Scope, Summary};
use crate::diagnostics::Diagnostic;
use crate::output::{self, Keys, PublishError, PublishStats, Stager};
use crate::site::{BuildOptions, Checked, render_into};

/// What a build leaves for the next one to render incrementally (written
/// through [`record_bytes`], which borrows what it writes).
#[derive(Deserialize)]
struct Record {
    magic: String,
    /// The build's context key.
    context: String,
    /// The input key of the site it published.
    output: String,
    summary: Summary,
}

const MAGIC: &str = "impala-awards-deps-v4";

/// The record is postcard, not JSON: at 100,000 releases it is read before
/// and written after every incremental build, and JSON took 0.6 s each way.
fn read_record(path: &Path) -> Option<Record> {
    let bytes = std::fs::read(path).ok()?;
    postcard::from_bytes::<Record>(&bytes)
        .ok()
        .filter(|r| r.magic == MAGIC)
}

/// The record's bytes: `None` without a context, an input key or a summary
/// (the next build then renders everything).
fn record_bytes(
    context: Option<&str>,
    keys: Keys<'_>,
    summary: Option<&Summary>,
) -> Option<Vec<u8>> {
    let (context, output, summary) = (context?, keys.input?, summary?);
    #[derive(Serialize)]
    struct RecordRef<'a> {
        magic: &'a str,
        context: &'a str,
        output: &'a str,
        summary: &'a Summary,
    }
    postcard::to_stdvec(&RecordRef {
        magic: MAGIC,
        context,
        output,
        summary,
    })
    .ok()
}

/// The record bytes a thread made (none if it panicked: the next build
/// then renders everything).
fn joined(pending: std::thread::JoinHandle<Option<Vec<u8>>>) -> Option<Vec<u8>> {
    pending.join().ok().flatten()
}

/// Writes the record, or removes a stale one; a failure only costs the next
/// build its shortcut.
fn write_record(path: Option<&Path>, bytes: Option<&[u8]>) {
    if let Some(path) = path {
        crate::site::write_or_remove(path, bytes);
    }
}

fn output_error(e: PublishError) -> Diagnostic {
    Diagnostic::error("output", e.to_string()).note("the previous output was left as it was")
}

/// The files of a published site and how the publish went.
pub type Published = (Vec<String>, PublishStats);

/// Renders `checked` into `output` and publishes it: only the files an edit
/// touched when the record in `deps_file` allows it, else every file.
/// `context` is the build's context key (`None`: no incremental build, no
/// record). Returns the site's file paths, sorted.
pub fn publish(
    checked: &Checked,
    opts: &BuildOptions,
    output: &Path,
    search_cache: Option<&Path>,
    deps_file: Option<&Path>,
    context: Option<&str>,
    keys: Keys<'_>,
) -> Result<Published, Vec<Diagnostic>> {
    let old = deps_file
        .and_then(read_record)
        .filter(|r| Some(r.context.as_str()) == context);
    crate::timings::mark("record read");
    let published = old.as_ref().and_then(|old| {
        let site = output::published(output)?;
        (site.input.as_deref() == Some(old.output.as_str())).then_some(site.files)
    });
    // The record for the next build, once its summary has been made.
    let mut record = None;
    if let (Some(old), Some(files)) = (old, &published) {
        let summary = Summary::of(checked);
        crate::timings::mark("summary");
        let plan = summary
            .as_ref()
            .map(|new| deps::plan(&old.summary, new, &BTreeSet::new()));
        // Both summaries go before the render's peak, the new one as the
        // record's bytes: at 100,000 releases each is 170 MB in memory (36 MB
        // as bytes). On a thread of their own (0.7 s at 100,000 releases):
        // the index the render starts with leaves a core idle, and the record
        // is written only at the end.
        let (context, input) = (context.map(str::to_owned), keys.input.map(str::to_owned));
        record = Some(std::thread::spawn(move || {
            drop(old);
            let input = Keys {
                input: input.as_deref(),
            };
            let bytes = record_bytes(context.as_deref(), input, summary.as_ref());
            drop(summary);
            bytes
        }));
        if let Some(Plan::Partial(scope)) = plan
            && let Some(staged) = partial(checked, opts, output, search_cache, &scope, files)
        {
            let (stager, paths) = staged?;
            return finish(stager, paths, keys, || {
                write_record(deps_file, record.and_then(joined).as_deref());
            });
        }
    }
    // Files go to the staging folder as they render; the output is swapped
    // only once every one of them is there.
    let stager = Stager::begin(output).map_err(|e| vec![output_error(e)])?;
    let base_url = opts.base_url.as_deref();
    std::thread::scope(|s| {
        // Without an old record to compare with, the summary is made beside
        // the render, on a thread of its own, and kept as the record's bytes
        // (36 MB at 100,000 releases; the summary itself, 170 MB, is dropped
        // at once). Made after the render, it was a second of one core
        // working alone at the end of a 100k build.
        let cold = record.is_none().then(|| {
            s.spawn(|| {
                let summary = Summary::of(checked);
                crate::timings::mark("summary of the build");
                record_bytes(context, keys, summary.as_ref())
            })
        });
        let paths = match render_into(
            checked,
            &opts.root,
            base_url,
            search_cache,
            &stager,
            None,
            None,
        ) {
            Ok(paths) => paths,
            Err(ds) => {
                stager.abort();
                return Err(ds);
            }
        };
        crate::timings::mark("rendered and written");
        finish(stager, paths, keys, || {
            let bytes = match record {
                Some(pending) => joined(pending),
                None => cold.and_then(|c| c.join().ok().flatten()),
            };
            write_record(deps_file, bytes.as_deref());
        })
    })
}

/// Swaps the staged site in while `record` writes the record for the next
/// build (its bytes made beside the render, waited for here if not done).
/// Should the swap fail, the record names a site that is not the published
/// one, and no build uses it.
fn finish(
    stager: Stager,
    paths: Vec<String>,
    keys: Keys<'_>,
    record: impl FnOnce() + Send,
) -> Result<Published, Vec<Diagnostic>> {
    std::thread::scope(|s| {
        s.spawn(|| {
            record();
            crate::timings::mark("record written");
        });
        stager.finish(keys)
    })
    .map(|stats| (paths, stats))
    .map_err(|e| vec![output_error(e)])
}

/// A site in its buffer, not yet swapped in, and its paths.
type Staged = (Stager, Vec<String>);

/// Renders the files `scope` accepts and carries the other files of the
/// published site (`files`: path and hash) over; returns the staged site and
/// its paths, sorted. `None` when a published file cannot be carried: the
/// caller renders everything.
fn partial(
    checked: &Checked,
    opts: &BuildOptions,
    output: &Path,
    search_cache: Option<&Path>,
    scope: &Scope,
    files: &[(String, String)],
) -> Option<Result<Staged, Vec<Diagnostic>>> {
    let stager = Stager::begin(output).ok()?;
    let only = |p: &str| scope.accepts(p);
    let base_url = opts.base_url.as_deref();
    let rendered = match render_into(
        checked,
        &opts.root,
        base_url,
        search_cache,
        &stager,
        Some(&only),
        None,
    ) {
        Ok(paths) => paths,
        Err(ds) => {
            stager.abort();
            return Some(Err(ds));
        }
    };
    crate::timings::mark("partial render");
    let carried: Vec<&(String, String)> = files.iter().filter(|(p, _)| !only(p)).collect();
    if !carried.par_iter().all(|(p, h)| stager.carry(p, h).is_ok()) {
        stager.abort();
        return None;
    }
    crate::timings::mark("unchanged files carried");
    let mut paths = rendered;
    paths.extend(carried.iter().map(|(p, _)| p.clone()));
    paths.sort_unstable();
    Some(Ok((stager, paths)))
}
