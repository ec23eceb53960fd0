#!/usr/bin/env bash
# Benchmark of `pricewatch backfill`: rebuilding the local warehouse from a
# month of archived snapshots. pricewatch-fixtures writes the archive ingest
# would have written for SNAPSHOTS snapshots of both pages (ROWS product
# rows and the 10-row vendors page each, one snapshot an hour, prices moving
# every time), which is uploaded to the archive bucket on moto. Then, per
# round, a fresh PostgreSQL database gets `sql apply`, and three commands
# are timed: `backfill` (everything loaded), `refresh` (silver and gold
# rebuilt from it) and a second `backfill` (must load nothing). Prints the
# medians, the peak RSS and the archive's size.
#   scripts/bench-backfill.sh [SNAPSHOTS] [ROWS] [ROUNDS]   (defaults 720, 500, 3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
snapshots="${1:-720}"
rows="${2:-500}"
rounds="${3:-3}"

ensure_venv
ensure_postgres
log "building pricewatch (release)"
cargo build --release --quiet --bin pricewatch --bin pricewatch-fixtures
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release"
work="$(mktemp -d)"
trap 'stop_moto; stop_postgres; rm -rf "$work"' EXIT
placeholder_artifacts "$work/artifacts"

log "writing the archive of $snapshots hourly snapshots ($rows product rows each)"
"$bin/pricewatch-fixtures" --rows "$rows" --broken 0.05 --out "$work/pages" \
    --archive-snapshots "$snapshots" --archive-every-minutes 60
objects=$(find "$work/pages/archive" -type f | wc -l)
archive_bytes=$(find "$work/pages/archive" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
largest=$(find "$work/pages/archive/products" -type f -printf '%s\n' | sort -n | tail -1)

start_moto "$work"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
"$bin/pricewatch" --quiet --env local deploy --yes --artifacts "$work/artifacts" >/dev/null
log "uploading $objects archive objects to moto"
"$VENV/bin/python" - "$AWS_ENDPOINT_URL" "$work/pages" <<'PY'
import pathlib, sys, boto3
endpoint, root = sys.argv[1], pathlib.Path(sys.argv[2])
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="local", aws_secret_access_key="local")
for path in sorted((root / "archive").rglob("*.ndjson.gz")):
    s3.put_object(Bucket="pricewatch-local-archive-123456789012",
                  Key=str(path.relative_to(root)), Body=path.read_bytes())
PY
start_postgres
pw() { "$bin/pricewatch" --env local "$@"; }

# measure NAME COMMAND...: runs it (stdout to $work/NAME-ROUND.json) and
# appends "NAME seconds peak_rss_kib" to the results.
results="$work/results.txt"
measure() {
    local name="$1"; shift
    "$VENV/bin/python" - "$name" "$work/$name-$round.json" "$@" >> "$results" <<'PY'
import resource, subprocess, sys, time
name, out, command = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.perf_counter()
with open(out, "w") as stdout:
    subprocess.run(command, check=True, stdout=stdout)
elapsed = time.perf_counter() - start
print(name, f"{elapsed:.3f}", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

for round in $(seq "$rounds"); do
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U pricewatch -d postgres -q \
        -c "DROP DATABASE IF EXISTS pricewatch" -c "CREATE DATABASE pricewatch"
    pw --quiet sql apply >/dev/null
    measure backfill "$bin/pricewatch" --quiet --env local --output json backfill
    measure refresh "$bin/pricewatch" --quiet --env local --output json refresh
    measure again "$bin/pricewatch" --quiet --env local --output json backfill
    log "round $round of $rounds done"
done

"$VENV/bin/python" - "$work" "$rounds" "$results" "$objects" "$archive_bytes" "$largest" "$snapshots" <<'PY'
import json, statistics, sys
work, rounds, results, objects, archive_bytes, largest, snapshots = sys.argv[1:8]
rounds = int(rounds)
lines = [line.split() for line in open(results)]
median = lambda name, col: statistics.median(float(l[col]) for l in lines if l[0] == name)
loaded = json.load(open(f"{work}/backfill-1.json"))
again = [json.load(open(f"{work}/again-{r}.json")) for r in range(1, rounds + 1)]
refreshed = [json.load(open(f"{work}/refresh-{r}.json")) for r in range(1, rounds + 1)]
rows = sum(s["rows_loaded"] for s in loaded["sources"])
loaded_snapshots = sum(s["snapshots_loaded"] for s in loaded["sources"])
assert loaded_snapshots == int(objects), (loaded_snapshots, objects)
assert all(sum(s["rows_loaded"] for s in a["sources"]) == 0 for a in again), "a second backfill loaded rows"
assert all(m["status"] == "refreshed" for r in refreshed for m in r["models"]), "a model did not refresh"
print(f"archive:                  {objects} objects ({snapshots} snapshots of each page), "
      f"{int(archive_bytes) / 1e6:.1f} MB gzip, largest products object {int(largest) / 1e3:.1f} kB")
print(f"rows loaded:              {rows}")
print(f"backfill (fresh db):      {median('backfill', 1):.2f} s  ({rows / median('backfill', 1):.0f} rows/s), "
      f"peak RSS {median('backfill', 2) / 1024:.0f} MiB")
print(f"refresh after it:         {median('refresh', 1):.2f} s")
print(f"second backfill (no-op):  {median('again', 1):.2f} s")
PY
