#!/usr/bin/env bash
# Benchmark of `refresh` against the DAG's critical path, on PostgreSQL with
# a generated history of 100,000 product rows (200 snapshots × 500 offers)
# and 2,000 vendor rows, written straight into the stream landing tables.
# 1. Each model's solo time: `refresh --parallelism 1`, median of ROUNDS.
# 2. Critical path: the slowest dependency chain of those solo times.
# 3. Wall time of `refresh` at PARALLELISM, median of ROUNDS.
# Prints both and their ratio (goal ≤ 1.1). Silver and gold are refreshed;
# bronze is refreshed once before (it is the stream load, not the DAG).
#   scripts/bench-refresh.sh [ROUNDS] [PARALLELISM]   (defaults 3, 4)
#
# With `incremental` first: the refresh after ONE new snapshot against the
# length of the history before it (500-row products pages, 10-row vendor
# pages, one snapshot every 5 minutes), next to `refresh --full` on the same
# data. For each history length: the history is written and refreshed
# fully, then ROUNDS times one more snapshot arrives and is refreshed
# (median reported); silver and gold are refreshed, bronze (PostgreSQL's
# stand-in for the stream load) is timed on its own.
#   scripts/bench-refresh.sh incremental [ROUNDS] [HISTORY...]   (defaults 3; 20 220)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
mode=dag
if [[ "${1:-}" == incremental ]]; then
    mode=incremental
    shift
fi
rounds="${1:-3}"
parallelism="${2:-4}"

if [[ "$mode" == dag ]]; then ensure_venv; fi  # incremental mode summarizes with python3
ensure_postgres
# BENCH_PROFILE=dev uses the debug build: the time is PostgreSQL's either way.
profile="${BENCH_PROFILE:-release}"
log "building pricewatch ($profile)"
cargo build --profile "$profile" --quiet --bin pricewatch
bin="${CARGO_TARGET_DIR:-$ROOT/target}/$([[ "$profile" == dev ]] && echo debug || echo "$profile")"
work="$(mktemp -d)"
trap 'stop_postgres; rm -rf "$work"' EXIT
start_postgres
pw() { "$bin/pricewatch" --env local "$@"; }

pw sql apply >&2
pw render --out "$work/rendered" >/dev/null

# generate FIRST LAST: the products and vendors records of snapshots FIRST..LAST.
generate() {
    psql_local "
INSERT INTO pricewatch_meta.kinesis_products
SELECT 'shardId-000000000000', LPAD((s * 1000 + r)::text, 20, '0'), payload->>'item', ts,
       payload::text, payload
FROM (
    SELECT s, r, ts, jsonb_build_object(
        'source', 'products',
        'snapshot_id', TO_CHAR(ts, 'YYYYMMDD\"T\"HH24MISS\"Z\"') || '-' || LPAD(TO_HEX(s), 8, '0'),
        'fetched_at', TO_CHAR(ts, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
        'row_number', r,
        'item', 'Item ' || (r / 4),
        'category', (ARRAY['Laptops', 'Cameras', 'Phones', 'Headphones', 'Monitors'])[1 + (r / 4) % 5],
        'vendor', 'Vendor ' || (r % 4 + (r / 4) % 7),
        'sale_price', '\$' || TO_CHAR(100 + (r / 4) * 3 + ((s * 7919 + r * 104729) % 1000) / 100.0, 'FM999990.00'),
        'stock_status', (ARRAY['In Stock', 'Out of Stock', 'Limited Stock'])[1 + (s + r) % 3]
    ) AS payload
    FROM generate_series($1, $2) AS s, generate_series(0, 499) AS r,
         LATERAL (SELECT TIMESTAMP '2026-11-01 00:00:00' + s * INTERVAL '5 minutes') AS t(ts)
) AS g;
INSERT INTO pricewatch_meta.kinesis_vendors
SELECT 'shardId-000000000000', LPAD((s * 1000 + v)::text, 20, '0'), payload->>'vendor_name', ts,
       payload::text, payload
FROM (
    SELECT s, v, ts, jsonb_build_object(
        'source', 'vendors',
        'snapshot_id', TO_CHAR(ts, 'YYYYMMDD\"T\"HH24MISS\"Z\"') || '-' || LPAD(TO_HEX(s), 8, '0'),
        'fetched_at', TO_CHAR(ts, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
        'row_number', v,
        'vendor_name', 'Vendor ' || v,
        'shipping_cost', CASE WHEN v % 3 = 0 THEN 'Free' ELSE '\$' || (v + 2) || '.50' END,
        'review_score', ((v * 7 + s) % 50) / 10.0,
        'feedback_count', (100 + v * 37 + s)::text
    ) AS payload
    FROM generate_series($1, $2) AS s, generate_series(0, 9) AS v,
         LATERAL (SELECT TIMESTAMP '2026-11-01 00:00:00' + s * INTERVAL '5 minutes') AS t(ts)
) AS g;
REFRESH MATERIALIZED VIEW bronze.products;
REFRESH MATERIALIZED VIEW bronze.vendors;
ANALYZE;" >&2
}

if [[ "$mode" == incremental ]]; then
    shift || true
    histories=("${@:-}")
    [[ -n "${histories[0]}" ]] || histories=(20 220)
    # Everything but bronze: silver.snapshots+ is every silver and gold model
    # except silver.ingest_runs.
    select=(--select silver.snapshots+ --select silver.ingest_runs)
    for history in "${histories[@]}"; do
        log "history of $history snapshots: writing and refreshing it fully"
        psql_local "TRUNCATE pricewatch_meta.kinesis_products, pricewatch_meta.kinesis_vendors;" >&2
        generate 0 $((history - 1))
        pw --output json refresh "${select[@]}" --full > /dev/null
        for round in $(seq "$rounds"); do
            snapshot=$((history + round - 1))
            log "history $history, round $round/$rounds: one more snapshot"
            generate "$snapshot" "$snapshot" 2> "$work/bronze-$history-$round.log" >/dev/null
            start=$(date +%s.%N)
            psql_local "REFRESH MATERIALIZED VIEW bronze.products; REFRESH MATERIALIZED VIEW bronze.vendors;" >/dev/null
            echo "$start $(date +%s.%N)" > "$work/bronze-$history-$round.time"
            pw --output json refresh "${select[@]}" > "$work/incremental-$history-$round.json"
        done
        log "history $history: refresh --full on the same data"
        pw --output json refresh "${select[@]}" --full > "$work/full-$history.json"
    done
    python3 - "$work" "$rounds" "${histories[@]}" <<'PY'
import json, statistics, sys
work, rounds, histories = sys.argv[1], int(sys.argv[2]), [int(h) for h in sys.argv[3:]]
manifest = json.load(open(f"{work}/rendered/manifest.json"))
kind = {m["model"]: m["materialized"] for m in manifest["sql"] if m["model"]}
def load(path):
    run = json.load(open(path))
    bad = [m["model"] for m in run["models"] if m["status"] != "refreshed"]
    assert not bad, f"{path}: not refreshed: {bad}"
    return run
def split(run):
    inc = sum(m["seconds"] for m in run["models"] if kind[m["model"]] == "incremental")
    return inc, sum(m["seconds"] for m in run["models"]) - inc
rows = []
for h in histories:
    runs = [load(f"{work}/incremental-{h}-{r}.json") for r in range(1, rounds + 1)]
    full = load(f"{work}/full-{h}.json")
    bronze = statistics.median(
        float(b) - float(a) for a, b in (open(f"{work}/bronze-{h}-{r}.time").read().split() for r in range(1, rounds + 1)))
    wall = statistics.median(r["seconds"] for r in runs)
    inc_models = statistics.median(split(r)[0] for r in runs)
    full_models = statistics.median(split(r)[1] for r in runs)
    rows.append((h, wall, full["seconds"], inc_models, full_models, split(full)[0], bronze))
print("history = snapshots before the new one; seconds are medians of", rounds, "rounds (solo model times summed per kind)")
print(f"{'history':>8} {'refresh':>9} {'--full':>9} {'ratio':>6} {'incr. models':>13} {'full-recompute models':>22} {'incr. models --full':>20} {'bronze (PG load)':>17}")
for h, wall, full, inc, rest, inc_full, bronze in rows:
    print(f"{h:>8} {wall:>9.3f} {full:>9.3f} {wall / full:>6.2f} {inc:>13.3f} {rest:>22.3f} {inc_full:>20.3f} {bronze:>17.3f}")
h = histories[-1]
per_model = {}
for r in range(1, rounds + 1):
    for m in load(f"{work}/incremental-{h}-{r}.json")["models"]:
        per_model.setdefault(m["model"], []).append(m["seconds"])
full_models = {m["model"]: m["seconds"] for m in load(f"{work}/full-{h}.json")["models"]}
print(f"per model, history {h}: after one new snapshot (median) / --full")
for name, times in sorted(per_model.items(), key=lambda kv: -statistics.median(kv[1])):
    print(f"  {name:<28} {kind[name]:<18} {statistics.median(times):>7.3f} {full_models[name]:>7.3f}")
if len(rows) > 1:
    first, last = rows[0], rows[-1]
    print(f"refresh after one new snapshot, history {last[0] + 1} vs {first[0] + 1} snapshots: {last[1] / first[1]:.2f}× (goal ≤ 1.5)")
    print(f"  incremental models alone: {last[3] / first[3]:.2f}×; full-recompute models: {last[4] / first[4]:.2f}×")
PY
    exit 0
fi

log "generating 100,000 product rows and 2,000 vendor rows"
generate 0 199

select=(--select silver.products_validated+ --select silver.vendors_validated+)
for round in $(seq "$rounds"); do
    log "round $round/$rounds: solo (--parallelism 1), then --parallelism $parallelism"
    pw --output json refresh "${select[@]}" --parallelism 1 > "$work/solo-$round.json"
    pw --output json refresh "${select[@]}" --parallelism "$parallelism" > "$work/parallel-$round.json"
done

"$VENV/bin/python" - "$work" "$rounds" "$parallelism" <<'PY'
import json, statistics, sys
from functools import lru_cache
work, rounds, parallelism = sys.argv[1], int(sys.argv[2]), sys.argv[3]
manifest = json.load(open(f"{work}/rendered/manifest.json"))
deps = {m["model"]: m["depends_on"] for m in manifest["sql"] if m["model"]}
runs = lambda kind: [json.load(open(f"{work}/{kind}-{i}.json")) for i in range(1, rounds + 1)]
solo_runs, parallel_runs = runs("solo"), runs("parallel")
for run in solo_runs + parallel_runs:
    bad = [m["model"] for m in run["models"] if m["status"] != "refreshed"]
    assert not bad, f"not refreshed: {bad}"
solo = {name: statistics.median(m["seconds"] for r in solo_runs for m in r["models"] if m["model"] == name)
        for name in (m["model"] for m in solo_runs[0]["models"])}

@lru_cache(maxsize=None)
def finish(model):
    """Earliest finish of `model` with unlimited parallelism: its solo time after its slowest upstream."""
    upstream = [finish(d) for d in deps[model] if d in solo]
    return solo[model] + max(upstream, default=(0.0, []))[0], \
        max(upstream, default=(0.0, []))[1] + [model]

critical, chain = max(finish(m) for m in solo)
serial = statistics.median(r["seconds"] for r in solo_runs)
wall = statistics.median(r["seconds"] for r in parallel_runs)
print(f"models refreshed:        {len(solo)}")
print(f"serial (1 at once):      {serial:.3f} s")
print(f"critical path:           {critical:.3f} s  ({' → '.join(chain)})")
print(f"refresh ({parallelism} at once):     {wall:.3f} s")
print(f"refresh / critical path: {wall / critical:.2f}×  (goal ≤ 1.10)")
PY
