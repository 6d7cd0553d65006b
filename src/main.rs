//! The `impala-awards` command line.

mod cli;

/// glibc's allocator spent a sixth of a 10k build growing and trimming its
/// heap (sysmalloc, page faults); mimalloc keeps freed pages for reuse.
#[cfg(not(feature = "heapstats"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// With `--features heapstats`, every allocation is counted so that
/// `IMPALA_TIMINGS` marks show the bytes live and the peak since the previous
/// mark: resident memory alone cannot tell what mimalloc keeps from what is used.
#[cfg(feature = "heapstats")]
#[global_allocator]
static GLOBAL: Counting = Counting;

#[cfg(feature = "heapstats")]
struct Counting;

#[cfg(feature = "heapstats")]
// SAFETY: forwards to mimalloc unchanged; only counts the sizes.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        impala_awards::timings::heap_grew(l.size());
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { mimalloc::MiMalloc.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        impala_awards::timings::heap_shrank(l.size());
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        impala_awards::timings::heap_grew(l.size());
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, new: usize) -> *mut u8 {
        impala_awards::timings::heap_shrank(l.size());
        impala_awards::timings::heap_grew(new);
        // SAFETY: as above.
        unsafe { mimalloc::MiMalloc.realloc(p, l, new) }
    }
}

fn main() -> std::process::ExitCode {
    no_transparent_huge_pages();
    sooner_purge();
    cli::main()
}

/// mimalloc (v3) returns freed memory to the system 1 s after it is freed;
/// 100 ms (what `MIMALLOC_PURGE_DELAY=100` does; setting that variable still
/// decides instead) kept a 100k build's peak resident memory 5–10% lower
/// (five alternating pairs: 943–1,029 → 907–926 MB; 10k 175–200 → 154–171
/// MB) for about 1.5 s more system time at 100k, its wall time within noise.
fn sooner_purge() {
    // `mi_option_purge_delay` of mimalloc.h (v3), which libmimalloc-sys does not name.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's integer options; any value is valid.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 100) }
    }
}

/// Transparent huge pages off for this process (what `MIMALLOC_ALLOW_THP=0`
/// does; setting that variable still decides instead). With them the kernel
/// backs each fresh 2 MiB of the heap with a huge page, zeroed whole at the
/// first touch, used or not: without them a 100k build's peak resident memory
/// fell 7% (1,545 → 1,435 MiB; 10k 325 → 260 MiB), its time the same.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes integers only and sets a flag of
        // this process; a kernel without it returns an error, ignored.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}
