#!/usr/bin/env bash
# The on-call command of .github/workflows/operate.yml: turns the dispatch
# inputs into one pricewatch invocation, runs it, and puts its output on the
# run's summary page. Inputs arrive in the environment (never interpolated
# into the workflow's shell), and TARGET is checked before use.
#   COMMAND   status | status --detect-drift | run | refresh | check |
#             explain-check | dashboard refresh | ingest | backfill |
#             deploy --recover
#   TARGET    explain-check: a check name; refresh/check: models or checks
#             for --select (space-separated); backfill: any of a source name
#             (`products`, `vendors`, ...), `since=TIME`, `until=TIME`, `dry-run` (TIME: a UTC
#             date or date and time, or an age like 7d); otherwise empty
#   PRICEWATCH_ENV   the env (pricewatch reads it like --env)
#   PRICEWATCH_BIN   the binary [dist/pricewatch]
# Exit code: pricewatch's; 2 for inputs that do not fit the command.
set -euo pipefail

bin="${PRICEWATCH_BIN:-dist/pricewatch}"
target="${TARGET:-}"
# TARGET's words are split but never globbed against the files here.
set -f

usage() {
    echo "operate: $*" >&2
    exit 2
}

# Names of models (schema.name, optionally with a trailing +) and checks.
selectors() {
    local word
    for word in $target; do
        [[ "$word" =~ ^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?\+?$ ]] \
            || usage "TARGET \`$word\` is not a model (schema.name[+]) or check name"
        args+=(--select "$word")
    done
}

# backfill's TARGET words: a source, a window bound, or dry-run.
backfill_words() {
    local word time='([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?Z?)?|[0-9]+[mhd])'
    for word in $target; do
        if [[ "$word" =~ ^[a-z][a-z0-9_]*$ ]]; then
            args+=(--source "$word")
        elif [[ "$word" =~ ^(since|until)=$time$ ]]; then
            args+=("--${word%%=*}" "${word#*=}")
        elif [[ "$word" == dry-run ]]; then
            args+=(--dry-run)
        else
            usage "backfill TARGET \`$word\` is not a source name, since=TIME, until=TIME or dry-run"
        fi
    done
}

args=()
case "${COMMAND:-}" in
    status | run | ingest)
        [[ -z "$target" ]] || usage "\`$COMMAND\` takes no target (got \`$target\`)"
        args=("$COMMAND")
        ;;
    "status --detect-drift")
        [[ -z "$target" ]] || usage "\`$COMMAND\` takes no target (got \`$target\`)"
        args=(status --detect-drift)
        ;;
    "dashboard refresh")
        [[ -z "$target" ]] || usage "\`$COMMAND\` takes no target (got \`$target\`)"
        args=(dashboard refresh)
        ;;
    refresh)
        args=(refresh)
        selectors
        ;;
    check)
        args=(check --junit checks.xml)
        selectors
        ;;
    backfill)
        args=(backfill)
        backfill_words
        ;;
    explain-check)
        [[ "$target" =~ ^[a-z_][a-z0-9_]*$ ]] \
            || usage "explain-check needs TARGET = one check name (got \`$target\`)"
        args=(explain-check "$target")
        ;;
    "deploy --recover")
        [[ -z "$target" ]] || usage "\`$COMMAND\` takes no target (got \`$target\`)"
        args=(deploy --recover --yes)
        ;;
    *)
        usage "unknown command \`${COMMAND:-}\`"
        ;;
esac

set +e
"$bin" --no-progress "${args[@]}" > result.txt
status=$?
set -e
cat result.txt
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    {
        echo "### pricewatch ${args[*]} on ${PRICEWATCH_ENV:-?} (exit ${status})"
        echo '```'
        cat result.txt
        echo '```'
    } >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
