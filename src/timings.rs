//! Stage timings for profiling a build: set `IMPALA_TIMINGS=1` and each stage
//! prints when it ends, counted from the first mark.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

/// Prints `what` with the time since the first mark, when `IMPALA_TIMINGS` is set.
pub fn mark(what: &str) {
    let start = START.get_or_init(|| std::env::var_os("IMPALA_TIMINGS").map(|_| Instant::now()));
    if let Some(t) = start {
        eprintln!("timings: {:>8.1?} {what}", t.elapsed());
    }
}
