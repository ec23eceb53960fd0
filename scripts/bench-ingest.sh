#!/usr/bin/env bash
# Benchmark of the ingestor against the prototype's approach: the same
# generated 10,000-row products page (and the vendors page) served on
# loopback, pushed to Kinesis on moto (a) by `pricewatch ingest` and (b) by
# pandas.read_html + boto3 put_records. Reports wall time and peak RSS of
# each (median of ROUNDS) and the ratios.
#   scripts/bench-ingest.sh [ROWS] [ROUNDS]   (defaults 10000, 3)
#
# `scripts/bench-ingest.sh memory` measures instead how peak RSS grows with
# the page (issue: flat memory): a real ingest on moto of a 10,000-row and
# then a 50,000-row products page, checking on the stream that every row
# arrived, and `ingest --dry-run` of 10,000- and 1,000,000-row pages (moto
# slows down past a few hundred thousand records, so the million is
# measured without it). Exits 1 when a figure misses its bound:
# 50k ≤ 1.5 × 10k on moto; dry run 1M ≤ 2 × 10k and < 64 MiB.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
mode=compare
if [[ "${1:-}" == memory ]]; then
    mode=memory
    shift
fi
rows="${1:-10000}"
rounds="${2:-3}"

ensure_venv
if [[ "$mode" == compare ]]; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-bench.txt
fi
log "building pricewatch (release)"
cargo build --release --quiet --bin pricewatch --bin pricewatch-fixtures
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release"

work="$(mktemp -d)"
server_pid=""
trap 'stop_moto; [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
"$bin/pricewatch-fixtures" --rows "$rows" --out "$work/pages"
page_port="$(free_port)"
"$VENV/bin/python" -m http.server "$page_port" --bind 127.0.0.1 --directory "$work/pages" >/dev/null 2>&1 &
server_pid=$!
placeholder_artifacts "$work/artifacts"

# measure NAME COMMAND...: prints "NAME seconds peak_rss_kib".
measure() {
    local name="$1"; shift
    "$VENV/bin/python" - "$name" "$@" <<'PY'
import resource, subprocess, sys, time
name, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
elapsed = time.perf_counter() - start
print(name, f"{elapsed:.3f}", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

if [[ "$mode" == memory ]]; then
    for n in 50000 1000000; do
        "$bin/pricewatch-fixtures" --rows "$n" --out "$work/pages/p$n"
    done
    results="$work/memory.txt"
    mib() { echo "scale=1; $1 / 1024" | bc -l; }
    page() { echo "http://127.0.0.1:$page_port/$1/product_data.html"; }
    vendors="http://127.0.0.1:$page_port/vendor_data.html"
    start_moto "$work"
    export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
    "$bin/pricewatch" --quiet --env local deploy --yes --artifacts "$work/artifacts" >/dev/null
    # ingest N PAGE: a real ingest on moto; checks every row reached the stream.
    ingest() {
        local n="$1" url="$2"
        "$VENV/bin/python" - "$n" "$bin/pricewatch" "$url" "$vendors" "$AWS_ENDPOINT_URL" <<'PY' >> "$results"
import json, resource, subprocess, sys, boto3
n, pricewatch, products, vendors, endpoint = sys.argv[1:]
out = subprocess.run([pricewatch, "--quiet", "--env", "local", "--output", "json", "ingest",
                      "--products", products, "--vendors", vendors],
                     check=True, capture_output=True, text=True).stdout
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
report = next(r for r in json.loads(out) if r["source"] == "products")
assert report["outcome"] == "pushed" and report["rows"] == int(n), report
kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
stream = "pricewatch-local-products"
rows = set()
for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
    it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        got = kinesis.get_records(ShardIterator=it, Limit=10000)
        for r in got["Records"]:
            p = json.loads(r["Data"])
            if p.get("record_type") == "row" and p.get("snapshot_id") == report["snapshot_id"]:
                rows.add(int(p["row_number"]))
        it = got.get("NextShardIterator") if got["Records"] else None
assert rows == set(range(1, int(n) + 1)), f"{len(rows)} of {n} rows arrived"
print("moto", n, rss, len(rows))
PY
    }
    ingest 10000 "$(page .)"
    ingest 50000 "$(page p50000)"
    stop_moto
    for n in 10000 1000000; do
        url="$(page .)"; [[ "$n" == 10000 ]] || url="$(page "p$n")"
        measure "dry-run-$n" "$bin/pricewatch" --quiet --env local ingest --dry-run \
            --products "$url" --vendors "$vendors" >> "$results"
    done
    moto10=$(awk '$1=="moto" && $2==10000 {print $3}' "$results")
    moto50=$(awk '$1=="moto" && $2==50000 {print $3}' "$results")
    dry10=$(awk '$1=="dry-run-10000" {print $3}' "$results")
    dry1m=$(awk '$1=="dry-run-1000000" {print $3}' "$results")
    wall() { awk -v n="$1" '$1==n {print $2}' "$results"; }
    printf '%-38s %14s %8s\n' "products page" "peak RSS MiB" "wall s"
    printf '%-38s %14s %8s\n' "10,000 rows, ingest on moto" "$(mib "$moto10")" "-"
    printf '%-38s %14s %8s\n' "50,000 rows, ingest on moto" "$(mib "$moto50")" "-"
    printf '%-38s %14s %8s\n' "10,000 rows, ingest --dry-run" "$(mib "$dry10")" "$(wall dry-run-10000)"
    printf '%-38s %14s %8s\n' "1,000,000 rows, ingest --dry-run" "$(mib "$dry1m")" "$(wall dry-run-1000000)"
    printf 'every row arrived on the stream (10,000 and 50,000); 50k/10k on moto %.2fx (bound 1.5x); dry run 1M/10k %.2fx (bound 2x, and < 64 MiB)\n' \
        "$(echo "$moto50 / $moto10" | bc -l)" "$(echo "$dry1m / $dry10" | bc -l)"
    ok=$(echo "$moto50 <= 1.5 * $moto10 && $dry1m <= 2 * $dry10 && $dry1m < 64 * 1024" | bc -l)
    [[ "$ok" == 1 ]] || { echo "a bound was missed" >&2; exit 1; }
    exit 0
fi

products="http://127.0.0.1:$page_port/product_data.html"
vendors="http://127.0.0.1:$page_port/vendor_data.html"
results="$work/results.txt"
for round in $(seq "$rounds"); do
    start_moto "$work"
    export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
    "$bin/pricewatch" --quiet --env local deploy --yes --artifacts "$work/artifacts" >/dev/null
    measure pricewatch "$bin/pricewatch" --quiet --env local ingest --products "$products" --vendors "$vendors" >> "$results"
    measure pandas-boto3 "$VENV/bin/python" scripts/bench_ingest_baseline.py "$AWS_ENDPOINT_URL" \
        "$products" "$vendors" pricewatch-local-products pricewatch-local-vendors >> "$results"
    stop_moto
    log "round $round of $rounds done"
done

median() { grep "^$1 " "$results" | awk "{print \$$2}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pw_s=$(median pricewatch 2); pw_kb=$(median pricewatch 3)
pd_s=$(median pandas-boto3 2); pd_kb=$(median pandas-boto3 3)
printf '%-14s %10s %14s\n' "ingest of" "wall s" "peak RSS MiB"
printf '%-14s %10s %14.1f\n' "pricewatch" "$pw_s" "$(echo "$pw_kb / 1024" | bc -l)"
printf '%-14s %10s %14.1f\n' "pandas+boto3" "$pd_s" "$(echo "$pd_kb / 1024" | bc -l)"
printf 'pandas+boto3 / pricewatch: %.1fx wall time, %.1fx peak RSS (%s product rows, median of %s)\n' \
    "$(echo "$pd_s / $pw_s" | bc -l)" "$(echo "$pd_kb / $pw_kb" | bc -l)" "$rows" "$rounds"
