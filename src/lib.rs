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
