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
    cli::main()
}
