#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted text — the config loader (env
# files) and the vendor-page table parser — for SECONDS each (default 60):
# proptest-generated inputs (random text, YAML built from pricewatch's keys,
# markup soup, random edits of real files); fails on the first panic and
# prints the input. `cargo test` runs the same targets for 256 cases each.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
PRICEWATCH_FUZZ_SECONDS="$seconds" cargo test --workspace --lib fuzz_ -- --nocapture --test-threads=2
