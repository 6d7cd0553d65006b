//! Stage timings for profiling a build: set `IMPALA_TIMINGS=1` and each stage
//! prints when it ends, counted from the first mark, with the process's
//! resident memory then (Linux only; memory is where large builds hurt).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

/// Heap bytes live, and the most since the last mark: counted only by the
/// binary's `heapstats` allocator, zero otherwise.
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts `n` bytes allocated (for a counting global allocator).
pub fn heap_grew(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

/// Counts `n` bytes freed (for a counting global allocator).
pub fn heap_shrank(n: usize) {
    LIVE.fetch_sub(n, Ordering::Relaxed);
}

/// Prints `what` with the time since the first mark, when `IMPALA_TIMINGS` is set.
pub fn mark(what: &str) {
    let start = START.get_or_init(|| {
        let t = std::env::var_os("IMPALA_TIMINGS").map(|_| Instant::now())?;
        if LIVE.load(Ordering::Relaxed) > 0 {
            // Counted heap: also sample it between marks, where peaks hide.
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    let peak = PEAK.load(Ordering::Relaxed);
                    eprintln!(
                        "heap: {:>8.1?} {:>5} MiB (peak {:>5} MiB)",
                        t.elapsed(),
                        LIVE.load(Ordering::Relaxed) >> 20,
                        peak >> 20
                    );
                }
            });
        }
        Some(t)
    });
    if let Some(t) = start {
        let rss = resident_mib()
            .map(|m| format!("{m:>6} MiB"))
            .unwrap_or_default();
        let live = LIVE.load(Ordering::Relaxed);
        let heap = if live == 0 {
            String::new()
        } else {
            let peak = PEAK.swap(live, Ordering::Relaxed);
            format!(" heap {:>5} MiB, peak {:>5} MiB", live >> 20, peak >> 20)
        };
        // Milliseconds throughout: `{:?}` of a Duration drops to a tenth of
        // a second past one second, too coarse for the stages of a rebuild.
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        eprintln!("timings: {ms:>9.1} ms {rss}{heap} {what}");
    }
}

/// Resident set size in MiB, from `/proc/self/statm` (pages of 4 KiB).
fn resident_mib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / (1024 * 1024))
}
