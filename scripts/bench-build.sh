#!/usr/bin/env bash
# Benchmark of the whole CI job (scripts/test.sh: fmt, clippy, workflow and
# template validators, build, every test) from a clean cargo target dir, as a
# fresh CI machine runs it once its tools are installed. Run it once first
# (or point PRICEWATCH_VENV at a venv) so pip, npm and apt installs are not
# timed. Prints CPU time (user + system), wall time and peak memory; CPU time
# is the figure to compare when the machine is also busy with other work.
#   scripts/bench-build.sh [CHECKOUT]   (default: this checkout)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
checkout="$(cd "${1:-$ROOT}" && pwd)"
if [[ ! -x /usr/bin/time ]]; then
    log "needs GNU time at /usr/bin/time (Debian package time)"
    exit 1
fi
target="$(mktemp -d)"
timings="$(mktemp)"
trap 'rm -rf "$target" "$timings"' EXIT
log "scripts/test.sh in $checkout with an empty target dir $target"
status=0
(cd "$checkout" && CARGO_TARGET_DIR="$target" /usr/bin/time -v -o "$timings" bash scripts/test.sh >&2) || status=$?
user="$(awk -F': ' '/User time/ {print $2}' "$timings")"
sys="$(awk -F': ' '/System time/ {print $2}' "$timings")"
wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$timings")"
rss="$(awk -F': ' '/Maximum resident/ {print $2}' "$timings")"
printf 'checkout %s (%s)\n' "$checkout" "$(git -C "$checkout" rev-parse --short HEAD)"
printf 'cpu      %s s (user %s s, system %s s)\n' "$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.0f", u + s}')" "$user" "$sys"
printf 'wall     %s\n' "$wall"
printf 'peak rss %d MiB\n' "$((rss / 1024))"
if [[ $status -ne 0 ]]; then
    log "scripts/test.sh failed (exit $status): these figures are of a failed run"
    exit 1
fi
