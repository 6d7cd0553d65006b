//! Stage timings for profiling a build: set `IMPALA_TIMINGS=1` and each stage
//! prints when it ends, counted from the first mark, with the process's
//! resident memory then (Linux only; memory is where large builds hurt).

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

/// Prints `what` with the time since the first mark, when `IMPALA_TIMINGS` is set.
pub fn mark(what: &str) {
    let start = START.get_or_init(|| std::env::var_os("IMPALA_TIMINGS").map(|_| Instant::now()));
    if let Some(t) = start {
        let rss = resident_mib()
            .map(|m| format!("{m:>6} MiB"))
            .unwrap_or_default();
        eprintln!("timings: {:>8.1?} {rss} {what}", t.elapsed());
    }
}

/// Resident set size in MiB, from `/proc/self/statm` (pages of 4 KiB).
fn resident_mib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / (1024 * 1024))
}
