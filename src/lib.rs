//! `impala-awards`: the static site generator of the IMPALA European Sales Awards.
//!
//! One build runs in one direction: load ([`records::load`]) → check
//! ([`check`]) → index ([`index`]) → render ([`render`]) → write ([`output`]).

pub mod check;
pub mod config;
pub mod deps;
pub mod diagnostics;
pub mod incremental;
pub mod index;
pub mod iso;
pub mod new;
pub mod output;
pub mod records;
pub mod render;
pub mod schema;
pub mod serve;
pub mod site;
pub mod slug;
pub mod synth;
pub mod tiers;
pub mod timings;

/// What the unit tests of several modules share.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::Path;

    /// A copy of `tests/fixtures/valid` in a new temporary folder.
    pub fn valid_fixture() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid");
        for entry in walkdir::WalkDir::new(&from) {
            let entry = entry.expect("walk the fixture");
            let to = dir
                .path()
                .join(entry.path().strip_prefix(&from).expect("inside"));
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&to).expect("create folder");
            } else {
                std::fs::copy(entry.path(), &to).expect("copy file");
            }
        }
        dir
    }
}
