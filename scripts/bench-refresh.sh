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
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
rounds="${1:-3}"
parallelism="${2:-4}"

ensure_venv
ensure_postgres
log "building pricewatch (release)"
cargo build --release --quiet --bin pricewatch
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release"
work="$(mktemp -d)"
trap 'stop_postgres; rm -rf "$work"' EXIT
start_postgres
pw() { "$bin/pricewatch" --env local "$@"; }

pw sql apply >&2
pw render --out "$work/rendered" >/dev/null
log "generating 100,000 product rows and 2,000 vendor rows"
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
    FROM generate_series(0, 199) AS s, generate_series(0, 499) AS r,
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
    FROM generate_series(0, 199) AS s, generate_series(0, 9) AS v,
         LATERAL (SELECT TIMESTAMP '2026-11-01 00:00:00' + s * INTERVAL '5 minutes') AS t(ts)
) AS g;
REFRESH MATERIALIZED VIEW bronze.products;
REFRESH MATERIALIZED VIEW bronze.vendors;
ANALYZE;" >&2

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
