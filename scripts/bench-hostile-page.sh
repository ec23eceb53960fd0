#!/usr/bin/env bash
# Benchmark of `pricewatch ingest` (release) on hostile pages: a products
# page whose table (ROWS rows) sits between two MiB of one kind of markup
# the table reader must skip without rescanning — `<script></script>`,
# `<style></style>`, `<!-- -->` or a quoted attribute holding `>` — pushed
# to Kinesis on moto. Before the reader scanned in linear time, one MiB of
# script tags took 88 s (debug build). Goal: under 5 s each.
# Reports wall time per kind, median of ROUNDS.
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
"$bin/pricewatch-fixtures" --rows "$rows" --out "$work/pages"
for lambda in ingest operator; do   # moto never runs them
    mkdir -p "$work/artifacts/$lambda-lambda"
    printf '#!/bin/sh\n' > "$work/artifacts/$lambda-lambda/bootstrap"
done

kinds=(script style comment attribute)
# One page per kind: a MiB of its markup before the table and one after.
"$VENV/bin/python" - "$work/pages/product_data.html" "$work" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
units = {
    "script": "<script></script>",
    "style": "<style></style>",
    "comment": "<!-- -->",
    "attribute": '<td title="x>">',
}
start, end = page.index("<table"), page.index("</table>") + len("</table>")
for kind, unit in units.items():
    filler = unit * ((1 << 20) // len(unit))
    with open(f"{sys.argv[2]}/{kind}.html", "w", encoding="utf-8") as out:
        out.write(page[:start] + filler + page[start:end] + filler + page[end:])
PY

results="$work/results.txt"
start_moto "$work"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
"$bin/pricewatch" --quiet --env local deploy --yes --artifacts "$work/artifacts" >/dev/null
for round in $(seq "$rounds"); do
    for kind in "${kinds[@]}"; do
        # A new page each round (a comment naming the round): an unchanged
        # page would be skipped after its hash.
        printf '<!-- round %s -->\n' "$round" >> "$work/$kind.html"
        started=$(date +%s.%N)
        outcome=0
        "$bin/pricewatch" --quiet --output json --env local ingest \
            --products "$work/$kind.html" --vendors "$work/pages/vendor_data.html" \
            > "$work/out.json" || outcome=$?
        finished=$(date +%s.%N)
        result="$("$VENV/bin/python" -c 'import json, sys; r = json.load(open(sys.argv[1]))[0]; print(r["outcome"], r["rows"], r["error"] or "")' "$work/out.json")"
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
