#!/usr/bin/env bash
# Benchmark of `pricewatch ingest` (release) on hostile pages, pushed to
# Kinesis on moto. Two shapes:
# - a products page whose table (ROWS rows) sits between two MiB of one
#   kind of markup the table reader must skip without rescanning —
#   `<script></script>`, `<style></style>`, `<!-- -->` or a quoted
#   attribute holding `>` (before the reader scanned these in linear time,
#   one MiB of script tags took 88 s, debug build);
# - the same page with one more row whose cell is a MiB of `<`: `<1`
#   repeated, then `</td>` (`<` that starts no markup), or `<a` or
#   `<a x="y>" ` repeated to the end of the page (a tag that never closes).
#   The reader once looked for a `>` after every `<`: a MiB of `<a` took
#   225 s and of `<1` 35 s (release, `ingest --dry-run`).
# Goal: under 5 s each, the page's parse well under 1 s.
# Reports wall time per kind of `ingest --dry-run` (read, parse, archive
# to a temporary file and batch, nothing sent: the reader's cost) and of
# the whole run (fetch from disk, parse, archive and push the snapshot,
# both pages), median of ROUNDS.
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

kinds=(script style comment attribute lt-text open-tag open-quoted)
# hostile_page KIND VARIANT: the products page of that variant (its prices
# moved, so every run pushes a new snapshot) with a MiB of KIND's markup
# before the table and one after, or in a cell of one more row.
hostile_page() {
    "$bin/pricewatch-fixtures" --rows "$rows" --variant "$2" --out "$work/pages"
    "$VENV/bin/python" - "$work/pages/product_data.html" "$1" "$work/$1.html" <<'PY'
import sys
page_path, kind, out_path = sys.argv[1:]
around = {
    "script": "<script></script>",
    "style": "<style></style>",
    "comment": "<!-- -->",
    "attribute": '<td title="x>">',
}
in_cell = {"lt-text": "<1", "open-tag": "<a", "open-quoted": '<a x="y>" '}
page = open(page_path, encoding="utf-8").read()
unit = around.get(kind) or in_cell[kind]
filler = unit * ((1 << 20) // len(unit))
if kind in around:
    start, end = page.index("<table"), page.index("</table>") + len("</table>")
    page = page[:start] + filler + page[start:end] + filler + page[end:]
else:
    rows_end = page.index("</tbody>")
    if kind == "lt-text":
        page = page[:rows_end] + "<tr><td>" + filler + "</td></tr>" + page[rows_end:]
    else:
        # The page ends inside the tag.
        page = page[:rows_end] + "<tr><td>" + filler
with open(out_path, "w", encoding="utf-8") as out:
    out.write(page)
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
        "$bin/pricewatch" --quiet --env local ingest --dry-run \
            --products "$work/$kind.html" --vendors "$work/pages/vendor_data.html" >/dev/null || true
        dry_finished=$(date +%s.%N)
        dry="$(awk -v a="$started" -v b="$dry_finished" 'BEGIN {printf "%.3f", b - a}')"
        started=$(date +%s.%N)
        outcome=0
        "$bin/pricewatch" --quiet --output json --env local ingest \
            --products "$work/$kind.html" --vendors "$work/pages/vendor_data.html" \
            > "$work/out.json" || outcome=$?
        finished=$(date +%s.%N)
        result="$("$VENV/bin/python" -c 'import json, sys; r = json.load(open(sys.argv[1]))[0]; print(r["outcome"], r["rows"], "rows", r["error"] or "")' "$work/out.json")"
        echo "$kind $(awk -v a="$started" -v b="$finished" 'BEGIN {printf "%.3f", b - a}') $dry exit=$outcome $result" >> "$results"
    done
    log "round $round of $rounds done"
done
stop_moto

median() { grep "^$1 " "$results" | awk -v f="$2" '{print $f}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-12s %8s %9s %8s  %s\n' "markup" "size" "dry-run s" "wall s" "outcome (products)"
for kind in "${kinds[@]}"; do
    size="$(du -k "$work/$kind.html" | awk '{printf "%.1f MiB", $1 / 1024}')"
    printf '%-12s %8s %9s %8s  %s\n' "$kind" "$size" "$(median "$kind" 3)" "$(median "$kind" 2)" \
        "$(grep "^$kind " "$results" | tail -1 | cut -d' ' -f4-)"
done
printf 'median of %s rounds, %s table rows; goal: under 5 s each\n' "$rounds" "$rows"
