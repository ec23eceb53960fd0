#!/usr/bin/env bash
# The README's first command: runs pricewatch for real on the `local` env —
# no AWS account. On a fresh machine it installs what it needs (project
# .venv with moto; PostgreSQL from Debian packages if absent), starts moto
# and PostgreSQL on 127.0.0.1, builds pricewatch and both Lambdas (for the
# host: moto stores Lambda code but never runs it), serves generated vendor
# pages on 127.0.0.1, then runs the real commands:
#   validate → deploy → sql apply → ingest → run (refresh → check → dashboard import)
#   → the page changes over the day (4 more snapshots, an outlier in the
#     last) → ingest + refresh each → check → explain-check
#   → dashboard publish (QuickSight on moto) → dashboard publish again (no change)
#   → ingest (unchanged: only the run's heartbeat is sent)
#   → sql apply (nothing to change) → plan (nothing to do) → status
#   → docs (data catalog) → report (the results website, kept in build/local/)
# prints a short summary of the gold results, and stops everything it
# started, also on failure or Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_venv
ensure_postgres
log "building pricewatch and the two Lambdas"
cargo build --quiet --workspace --bins
bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug"

work="$(mktemp -d)"
# moto stores Lambda code but never runs it: the demo packs these host
# builds from a folder of its own. For AWS, scripts/build-lambda.sh builds
# the provided.al2023 binaries into build/artifacts/ (a longer, release
# cross-build), which this leaves alone.
artifacts="$work/artifacts"
for lambda in ingest operator; do
    install -D -m 0755 "$bin/pricewatch-$lambda" "$artifacts/$lambda-lambda/bootstrap"
done
server_pid=""
cleanup() {
    stop_moto
    stop_postgres
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_moto "$work"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
log "moto (AWS APIs) on $AWS_ENDPOINT_URL"
start_postgres
log "PostgreSQL (the local warehouse) on 127.0.0.1:$PG_PORT"
pages() { "$bin/pricewatch-fixtures" --rows 400 --broken 0.05 --out "$work/pages" "$@"; }
pages
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
pw --env local deploy --yes --artifacts "$artifacts"
pw --env local sql apply
pw --env local ingest --products "$products" --vendors "$vendors"
# One operational cycle, as the operator Lambda runs it on schedule.
pw --env local run
for variant in 1 2 3 4; do
    # Snapshot ids carry the second they were taken: keep snapshots apart.
    sleep 1
    if [[ "$variant" == 4 ]]; then
        log "the vendor changes prices again — a few by mistake (3×)"
        pages --variant "$variant" --spikes
    else
        log "the vendor changes some prices"
        pages --variant "$variant"
    fi
    pw --env local ingest --products "$products" --vendors "$vendors"
    pw --env local refresh
done
# The outliers of the last snapshot are what the checks are for: a failed
# check is reported (exit 1), not the end of the demo.
check_status=0
pw --env local check || check_status=$?
(( check_status <= 1 )) || exit "$check_status"
pw --env local explain-check products_quarantine_ratio --limit 5
pw --env local dashboard publish
pw --env local dashboard publish
pw --env local ingest --products "$products" --vendors "$vendors"
pw --env local sql apply
pw --env local plan --detailed-exitcode --artifacts "$artifacts"
pw --env local status
pw --env local docs
pw --env local report

printf '\n== What the warehouse says (gold models) ==\n'
printf '\nBiggest price moves in the last snapshot (gold.price_evolution):\n'
psql_local "SELECT item, vendor, previous_price, sale_price, price_change_pct AS pct
            FROM gold.price_evolution WHERE price_change_pct IS NOT NULL
            AND observed_at = (SELECT MAX(observed_at) FROM gold.price_evolution)
            ORDER BY ABS(price_change_pct) DESC, item LIMIT 5"
printf 'Vendor scorecard (gold.vendor_scorecard):\n'
psql_local "SELECT vendor, items, avg_price, in_stock_ratio, shipping_cost, review_score, feedback_count
            FROM gold.vendor_scorecard ORDER BY vendor"
printf 'Recommended prices (gold.price_recommendations, one row per rule):\n'
psql_local "SELECT DISTINCT ON (rule) rule, item, category, lowest_price, median_price, recommended_price
            FROM gold.price_recommendations ORDER BY rule, item"
printf 'Price anomalies (gold.price_anomalies):\n'
psql_local "SELECT item, vendor, sale_price, median_price, robust_z
            FROM gold.price_anomalies ORDER BY ABS(robust_z) DESC, item LIMIT 5"
printf 'Item clusters (gold.item_clusters, k-means after each refresh):\n'
psql_local "SELECT cluster, label, COUNT(*) AS items, STRING_AGG(item, ', ' ORDER BY item) AS which
            FROM gold.item_clusters GROUP BY cluster, label ORDER BY cluster"
printf 'Check results, last run (pricewatch_meta.check_results):\n'
psql_local "SELECT status, COUNT(*) AS checks, STRING_AGG(check_name, ', ' ORDER BY check_name) AS which
            FROM pricewatch_meta.check_results
            WHERE run_id = (SELECT MAX(run_id) FROM pricewatch_meta.check_results) GROUP BY status"
printf 'Quarantined rows by reason (silver.quarantine):\n'
psql_local "SELECT source, reason, COUNT(*) AS rows FROM silver.quarantine GROUP BY source, reason ORDER BY rows DESC"

cat <<SUMMARY
Demo done: 6 stacks deployed on moto (the operator Lambda among them); five product snapshots and their
vendor snapshots pushed through Kinesis into PostgreSQL, typed, validated
(bad rows quarantined with a reason) and refreshed into gold; the
data-quality checks ran (metrics to CloudWatch on moto, history in
pricewatch_meta.check_results; the last check exited $check_status); the
QuickSight data source, data sets and dashboard were published on moto and
a second publish changed nothing it could compare; an unchanged page sent
only its heartbeat, and re-running sql apply and plan found nothing to do.
Everything started here is stopped now.

Open the results website: $ROOT/build/local/report/index.html
and the data catalog:     $ROOT/build/local/docs/catalog.html
SUMMARY
