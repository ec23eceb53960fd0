#!/usr/bin/env bash
# Builds the two Lambdas for the provided.al2023 runtime (x86_64, linked
# against glibc 2.34 with cargo-zigbuild + ziglang from PyPI) and puts them
# at build/artifacts/{ingest,operator}-lambda/bootstrap, where `pricewatch
# deploy` packs each into a deterministic zip under a content-addressed key
# (the operator's zip also carries environments/, sql/ and templates/).
#   scripts/build-lambda.sh           build
#   scripts/build-lambda.sh --verify  rebuild the crate from scratch and check
#                                     that the zip's sha256 is the same
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_venv
ensure_lambda_tools
export PATH="$VENV/bin:$PATH"
target=x86_64-unknown-linux-gnu
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
# Source paths end up in the binary (panic locations): make them independent
# of where the clone and the cargo registry live.
export RUSTFLAGS="--remap-path-prefix=$ROOT=/pricewatch --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"

lambdas=(ingest operator)

build() {
    for lambda in "${lambdas[@]}"; do
        # One package per build: features are not unified with the other
        # Lambda's, so each links only the AWS SDKs it calls.
        log "cargo zigbuild --release -p pricewatch-lambda-$lambda --target $target.2.34"
        cargo zigbuild --release --quiet -p "pricewatch-lambda-$lambda" --target "$target.2.34"
        install -D -m 0755 "$target_dir/$target/release/pricewatch-$lambda" "build/artifacts/$lambda-lambda/bootstrap"
    done
}

zip_sha() {
    # The remapping is for the Lambda only: host builds keep their cache.
    env -u RUSTFLAGS cargo run --quiet --bin pricewatch -- --quiet --env local --output json package \
        | "$VENV/bin/python" -c 'import json,sys; print(" ".join(a["artifact"] + "=" + a["sha256"] for a in json.load(sys.stdin)))'
}

build
first="$(zip_sha)"
log "zip sha256: $first"
if [[ "${1:-}" == "--verify" ]]; then
    cargo clean --quiet --release --target "$target" -p pricewatch-lambda-ingest -p pricewatch-lambda-operator
    for lambda in "${lambdas[@]}"; do rm -rf "build/artifacts/$lambda-lambda"; done
    build
    second="$(zip_sha)"
    if [[ "$first" != "$second" ]]; then
        echo "not reproducible: $first then $second" >&2
        exit 1
    fi
    log "reproducible: the rebuilt zip has the same sha256"
fi
echo "build/artifacts/{ingest,operator}-lambda/bootstrap ($first)"
