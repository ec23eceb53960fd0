#!/usr/bin/env bash
# Benchmark of the ingestor against the prototype's approach: the same
# generated 10,000-row products page (and the vendors page) served on
# loopback, pushed to Kinesis on moto (a) by `pricewatch ingest` and (b) by
# pandas.read_html + boto3 put_records. Reports wall time and peak RSS of
# each (median of ROUNDS) and the ratios.
#   scripts/bench-ingest.sh [ROWS] [ROUNDS]   (defaults 10000, 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
rows="${1:-10000}"
rounds="${2:-3}"

ensure_venv
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-bench.txt
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
for lambda in ingest operator; do   # moto never runs them
    mkdir -p "$work/artifacts/$lambda-lambda"
    printf '#!/bin/sh\n' > "$work/artifacts/$lambda-lambda/bootstrap"
done

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
