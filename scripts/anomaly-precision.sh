#!/usr/bin/env bash
# Precision and recall of gold.price_anomalies on the demo's pages, against
# the prices the fixture generator spiked (it names them: --spikes-out).
# Per seed, on a fresh local env (moto + PostgreSQL on loopback): deploy,
# sql apply, then the demo's five snapshots — 400 product rows, 5 % broken
# rows, prices moving in each variant, every 23rd offer at 3× in the last —
# ingested and refreshed; then
#   precision = flagged spikes / flagged prices,
#   recall    = flagged spikes / spiked prices that reached silver,
# for the warehouse's model and, for comparison, for the plain robust
# z-score (no spread floor, no minimum move) over the same price history.
# Prints one row per seed; exits 1 when any precision or recall of the
# model is below 0.9.
#   scripts/anomaly-precision.sh [SEED...]   (default: 7, the demo's seed)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
seeds=("$@")
(( ${#seeds[@]} )) || seeds=(7)

ensure_venv
ensure_postgres
log "building pricewatch and pricewatch-fixtures"
cargo build --quiet --bin pricewatch --bin pricewatch-fixtures
bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    stop_moto
    stop_postgres
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# moto stores Lambda code but never runs it: placeholders are enough.
for lambda in ingest operator; do
    install -D -m 0755 /dev/null "$work/artifacts/$lambda-lambda/bootstrap"
done
page_port="$(free_port)"
mkdir -p "$work/pages"
"$VENV/bin/python" -m http.server "$page_port" --bind 127.0.0.1 --directory "$work/pages" >/dev/null 2>&1 &
server_pid=$!
products="http://127.0.0.1:$page_port/product_data.html"
vendors="http://127.0.0.1:$page_port/vendor_data.html"

pw() { "$bin/pricewatch" --env local --no-progress "$@" >/dev/null; }
# The rows of a query, tab-separated, into a file.
query() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U pricewatch -d pricewatch -At -F $'\t' -c "$1" > "$2"; }

printf 'seed\tspiked\tflagged\thits\tprecision\trecall\tplain_z_flagged\tplain_z_precision\tplain_z_recall\n'
status=0
for seed in "${seeds[@]}"; do
    log "seed $seed: a fresh local env"
    start_moto "$work"
    export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
    start_postgres
    pw deploy --yes --artifacts "$work/artifacts"
    pw sql apply
    for variant in 0 1 2 3 4; do
        extra=()
        [[ "$variant" == 4 ]] && extra=(--spikes --spikes-out "$work/spikes.json")
        "$bin/pricewatch-fixtures" --rows 400 --broken 0.05 --seed "$seed" --variant "$variant" \
            --out "$work/pages" "${extra[@]}"
        pw ingest --products "$products" --vendors "$vendors"
        # Snapshot ids carry the second they were taken: keep them apart.
        sleep 1
    done
    pw refresh
    query "SELECT item, vendor, observed_at FROM gold.price_anomalies" "$work/flagged.tsv"
    query "SELECT item, vendor, observed_at, sale_price FROM gold.price_evolution" "$work/history.tsv"
    "$VENV/bin/python" - "$seed" "$work" <<'PY' || status=1
import json, statistics, sys
seed, work = sys.argv[1], sys.argv[2]

def tsv(name):
    with open(f"{work}/{name}", encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]

history = tsv("history.tsv")
last = max(row[2] for row in history)
spiked = {(s["item"], s["vendor"], last) for s in json.load(open(f"{work}/spikes.json", encoding="utf-8"))}
in_silver = {(r[0], r[1], r[2]) for r in history}
spiked &= in_silver
flagged = {tuple(r) for r in tsv("flagged.tsv")}

# The plain robust z-score (Iglewicz-Hoaglin, MAD; mean absolute deviation
# when MAD is 0) over the same history, flagged above 3.5.
by_offer = {}
for item, vendor, at, price in history:
    by_offer.setdefault((item, vendor), []).append((at, float(price)))
plain = set()
for (item, vendor), points in by_offer.items():
    prices = [p for _, p in points]
    center = statistics.median(prices)
    deviations = [abs(p - center) for p in prices]
    mad = statistics.median(deviations)
    mean = sum(deviations) / len(deviations)
    for at, price in points:
        if mad > 0:
            z = 0.6745 * (price - center) / mad
        elif mean > 0:
            z = (price - center) / (1.2533 * mean)
        else:
            z = 0.0
        if abs(z) > 3.5:
            plain.add((item, vendor, at))

def score(found):
    hits = len(found & spiked)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(spiked) if spiked else 0.0
    return hits, precision, recall

hits, precision, recall = score(flagged)
_, plain_precision, plain_recall = score(plain)
print(f"{seed}\t{len(spiked)}\t{len(flagged)}\t{hits}\t{precision:.3f}\t{recall:.3f}\t"
      f"{len(plain)}\t{plain_precision:.3f}\t{plain_recall:.3f}")
sys.exit(0 if precision >= 0.9 and recall >= 0.9 else 1)
PY
    stop_postgres
    stop_moto
done
exit "$status"
