#!/usr/bin/env bash
# Benchmark of the deploy engine on moto (env local): for a first deploy, a
# no-op deploy and a plan, the number of AWS calls (counted by moto's
# recorder, per action) and the wall time. Results go to stdout as a table.
#   scripts/bench-deploy.sh [ROUNDS]   (default 3 rounds; median wall time)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
rounds="${1:-3}"

ensure_venv
log "building pricewatch (release)"
cargo build --release --quiet
pricewatch="${CARGO_TARGET_DIR:-$ROOT/target}/release/pricewatch"

work="$(mktemp -d)"
trap 'stop_moto; rm -rf "$work"' EXIT
# moto stores Lambda code but never runs it: any bootstrap will do here.
placeholder_artifacts "$work/artifacts"

# measure NAME ARGS...: runs pricewatch, prints "NAME seconds calls breakdown".
measure() {
    local name="$1"; shift
    curl_moto() { "$VENV/bin/python" - "$@" <<'PY'
import json, sys, urllib.request, base64, collections
port, action = sys.argv[1], sys.argv[2]
url = f"http://127.0.0.1:{port}/moto-api/recorder/{action}"
method = "GET" if action == "download-recording" else "POST"
body = urllib.request.urlopen(urllib.request.Request(url, method=method, data=None if method == "GET" else b"")).read().decode()
if action == "download-recording":
    counts = collections.Counter()
    for line in body.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        target = entry["headers"].get("X-Amz-Target")
        if target:
            counts[target.split(".")[-1]] += 1
            continue
        raw = entry.get("body") or ""
        text = base64.b64decode(raw).decode(errors="replace") if entry.get("body_encoded") else raw
        fields = dict(p.split("=", 1) for p in (text + "&" + entry["url"].partition("?")[2]).split("&") if "=" in p)
        # REST calls (S3) have no Action: count them by method.
        counts[fields.get("Action", "s3:" + entry["method"])] += 1
    total = sum(counts.values())
    print(total, " ".join(f"{k}={v}" for k, v in sorted(counts.items())))
PY
    }
    curl_moto "$MOTO_PORT" reset-recording
    curl_moto "$MOTO_PORT" start-recording
    local start end
    start=$(date +%s.%N)
    AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" "$pricewatch" --quiet --env local "$@" >/dev/null
    end=$(date +%s.%N)
    curl_moto "$MOTO_PORT" stop-recording
    local recorded
    recorded="$(curl_moto "$MOTO_PORT" download-recording)"
    printf '%s %.2f %s\n' "$name" "$(echo "$end - $start" | bc -l)" "$recorded"
}

results="$work/results.txt"
for round in $(seq "$rounds"); do
    start_moto "$work"
    measure first-deploy deploy --yes --artifacts "$work/artifacts" >> "$results"
    measure noop-deploy deploy --yes --artifacts "$work/artifacts" >> "$results"
    measure plan plan --artifacts "$work/artifacts" >> "$results"
    stop_moto
    log "round $round of $rounds done"
done

printf '%-13s %9s %6s  %s\n' "operation" "median s" "calls" "calls per action (last round)"
for op in first-deploy noop-deploy plan; do
    median=$(grep "^$op " "$results" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    last=$(grep "^$op " "$results" | tail -n 1)
    calls=$(echo "$last" | awk '{print $3}')
    breakdown=$(echo "$last" | cut -d' ' -f4-)
    printf '%-13s %9s %6s  %s\n' "$op" "$median" "$calls" "$breakdown"
done
