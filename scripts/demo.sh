#!/usr/bin/env bash
# The README's first command: runs pricewatch for real on the `local` env —
# no AWS account. On a fresh machine it installs what it needs (project
# .venv with moto; cargo-zigbuild + ziglang for the Lambda), starts moto on
# 127.0.0.1, builds pricewatch and the ingest Lambda, serves generated vendor
# pages on 127.0.0.1, then runs the real commands:
#   validate → deploy → ingest → (page changes) ingest → ingest (unchanged)
#   → plan (nothing to do) → status
# and stops everything it started, also on failure or Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_venv
log "building pricewatch"
cargo build --quiet --bin pricewatch --bin pricewatch-fixtures
bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
bash scripts/build-lambda.sh

work="$(mktemp -d)"
server_pid=""
cleanup() {
    stop_moto
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_moto "$work"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
log "moto (AWS APIs) on $AWS_ENDPOINT_URL"
"$bin/pricewatch-fixtures" --rows 400 --broken 0.05 --out "$work/pages"
page_port="$(free_port)"
"$VENV/bin/python" -m http.server "$page_port" --bind 127.0.0.1 --directory "$work/pages" >/dev/null 2>&1 &
server_pid=$!
products="http://127.0.0.1:$page_port/product_data.html"
vendors="http://127.0.0.1:$page_port/vendor_data.html"
log "vendor pages on http://127.0.0.1:$page_port/"

pw() {
    printf '\n$ pricewatch %s\n' "$*"
    "$bin/pricewatch" "$@"
}

pw validate --all-envs
pw --env local deploy --yes
pw --env local ingest --products "$products" --vendors "$vendors"
log "the vendor changes some prices"
"$bin/pricewatch-fixtures" --rows 400 --broken 0.05 --variant 1 --out "$work/pages"
pw --env local ingest --products "$products" --vendors "$vendors"
pw --env local ingest --products "$products" --vendors "$vendors"
pw --env local plan --detailed-exitcode
pw --env local status

cat <<SUMMARY

Demo done: 5 stacks deployed on moto, two product snapshots and one vendor
snapshot pushed to Kinesis (every row, bad ones included, for the warehouse
to type or quarantine), an unchanged page pushed nothing, and a re-plan
found nothing to do. Everything started here is stopped now.
SUMMARY
