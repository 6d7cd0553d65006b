#!/usr/bin/env bash
# Fuzzes the loader and every check (fuzz_targets/load_release.rs) for a bounded
# time, on the stable toolchain: `-s none` needs no sanitizer, hence no nightly.
#
#   fuzz/run.sh [SECONDS]        (default: $FUZZ_SECONDS or 60)
#
# A crash is saved under fuzz/artifacts/load_release/; reproduce it with
#   cargo fuzz run load_release -s none -a fuzz/artifacts/load_release/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-${FUZZ_SECONDS:-60}}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
# libFuzzer itself is C++, built by libfuzzer-sys with the system's compiler.
if ! command -v c++ >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq g++
fi

# The main crate's dependencies at the versions its own lock file pins; cargo
# adds libfuzzer-sys and its few dependencies to this copy.
cp Cargo.lock fuzz/Cargo.lock

# The corpus (ignored by git) starts from the committed seeds: the fixture's
# records and the hostile corpus.
corpus=fuzz/corpus/load_release
mkdir -p "$corpus"
for seed in fuzz/seeds/load_release/*; do
  [ -e "$corpus/$(basename "$seed")" ] || cp "$seed" "$corpus/"
done

# -a: debug assertions and overflow checks, so an arithmetic overflow is a crash.
cargo fuzz run load_release -s none -a -- \
  -max_total_time="$secs" -dict=fuzz/load_release.dict \
  -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
