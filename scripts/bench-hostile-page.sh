#!/usr/bin/env bash
# Benchmark of `pricewatch ingest` (release) on hostile pages: a products
# page whose table (ROWS rows) sits between two MiB of one kind of markup
# the table reader must skip without rescanning — `<script></script>`,
# `<style></style>`, `<!-- -->` or a quoted attribute holding `>` — pushed
# to Kinesis on moto. Before the reader scanned in linear time, one MiB of
# script tags took 88 s (debug build). Goal: under 5 s each.
# Reports wall time per kind (the whole run: fetch from disk, parse, archive
# and push the snapshot, both pages), median of ROUNDS.
#   scripts/bench-hostile-page.sh [ROWS] [ROUNDS]   (defaults 100, 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
rows="${1:-100}"
rounds="${2:-3}"

ensure_venv
log "building pricewatch (release)"
cargo build --release --quiet --bin pricewatch --bin pricewatch-fixtures
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release"

work="$(mktemp -d)"
trap 'stop_moto; rm -rf "$work"' EXIT
placeholder_artifacts "$work/artifacts"

kinds=(script style comment attribute)
# hostile_page KIND VARIANT: the products page of that variant (its prices
# moved, so every run pushes a new snapshot) with a MiB of KIND's markup
# before the table and one after.
hostile_page() {
    "$bin/pricewatch-fixtures" --rows "$rows" --variant "$2" --out "$work/pages"
    "$VENV/bin/python" - "$work/pages/product_data.html" "$1" "$work/$1.html" <<'PY'
import sys
page_path, kind, out_path = sys.argv[1:]
unit = {
    "script": "<script></script>",
    "style": "<style></style>",
    "comment": "<!-- -->",
    "attribute": '<td title="x>">',
}[kind]
page = open(page_path, encoding="utf-8").read()
start, end = page.index("<table"), page.index("</table>") + len("</table>")
filler = unit * ((1 << 20) // len(unit))
with open(out_path, "w", encoding="utf-8") as out:
    out.write(page[:start] + filler + page[start:end] + filler + page[end:])
PY
}

results="$work/results.txt"
start_moto "$work"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
"$bin/pricewatch" --quiet --env local deploy --yes --artifacts "$work/artifacts" >/dev/null
variant=0
for round in $(seq "$rounds"); do
    for kind in "${kinds[@]}"; do
        variant=$((variant + 1))
        hostile_page "$kind" "$variant"
        started=$(date +%s.%N)
        outcome=0
        "$bin/pricewatch" --quiet --output json --env local ingest \
            --products "$work/$kind.html" --vendors "$work/pages/vendor_data.html" \
            > "$work/out.json" || outcome=$?
        finished=$(date +%s.%N)
        result="$("$VENV/bin/python" -c 'import json, sys; r = json.load(open(sys.argv[1]))[0]; print(r["outcome"], r["rows"], "rows", r["error"] or "")' "$work/out.json")"
        echo "$kind $(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.3f", b - a}') exit=$outcome $result" >> "$results"
    done
    log "round $round of $rounds done"
done
stop_moto

printf '%-10s %8s %8s  %s\n' "markup" "size" "wall s" "outcome (products)"
for kind in "${kinds[@]}"; do
    median="$(grep "^$kind " "$results" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
    size="$(du -k "$work/$kind.html" | awk '{printf "%.1f MiB", $1 / 1024}')"
    printf '%-10s %8s %8s  %s\n' "$kind" "$size" "$median" "$(grep "^$kind " "$results" | tail -1 | cut -d' ' -f3-)"
done
printf 'median of %s rounds, %s table rows; goal: under 5 s each\n' "$rounds" "$rows"
