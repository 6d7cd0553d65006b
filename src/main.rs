//! The `impala-awards` command line.

mod cli;

/// glibc's allocator spent a sixth of a 10k build growing and trimming its
/// heap (sysmalloc, page faults); mimalloc keeps freed pages for reuse.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
