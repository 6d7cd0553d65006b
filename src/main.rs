//! The `impala-awards` command line.

mod cli;

/// glibc's allocator spent a sixth of a 10k build growing and trimming its
/// heap (sysmalloc, page faults); mimalloc keeps freed pages for reuse.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (mimalloc.h); the
/// crate's constants name the options of mimalloc 2's numbering.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// A one-shot build keeps the memory it frees for its own later
/// allocations instead of returning it to the system after mimalloc's
/// default second: a 10k build re-faulted freed pages 6,000–15,000 times
/// (the kernel zeroing each, 8% of the build's CPU) against 900 without
/// purging, for 5% more peak memory. `serve`, which idles between builds,
/// keeps the default.
fn keep_freed_memory() {
    // SAFETY: sets a process-wide option; mimalloc reads it on each purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

fn main() -> std::process::ExitCode {
    cli::main()
}
