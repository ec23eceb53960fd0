#!/usr/bin/env bash
# The SQL steps of .github/workflows/promote.yml. ALLOW_REPLACE (the
# workflow's allow_replace input: stream-backed models, schema.name,
# space-separated) arrives in the environment, is checked, and becomes
# `--allow-replace` flags for both steps, so the plan the reviewers approve
# is the plan the deploy job applies.
#   promote-sql.sh plan    `sql apply --dry-run`, printed and put on the
#                          run's summary page even when it is refused (exit 1)
#   promote-sql.sh apply   `sql apply`
#   PRICEWATCH_BIN   the binary [dist/pricewatch]
# Exit code: pricewatch's; 2 for an allow_replace word that is no model name.
set -euo pipefail

bin="${PRICEWATCH_BIN:-dist/pricewatch}"
# The words of ALLOW_REPLACE are split but never globbed (`bronze.*` is
# refused, not matched against the files here).
set -f
args=()
for model in ${ALLOW_REPLACE:-}; do
    if [[ ! "$model" =~ ^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$ ]]; then
        echo "allow_replace: \`$model\` is not a model name (schema.name)" >&2
        exit 2
    fi
    args+=(--allow-replace "$model")
done

case "${1:-}" in
    plan)
        set +e
        "$bin" --no-progress sql apply --dry-run "${args[@]}" > sql-plan.txt
        status=$?
        set -e
        cat sql-plan.txt
        if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
            {
                echo "### SQL plan for ${PRICEWATCH_ENV:-?} (exit ${status})"
                echo '```'
                cat sql-plan.txt
                echo '```'
            } >> "$GITHUB_STEP_SUMMARY"
        fi
        exit "$status"
        ;;
    apply)
        exec "$bin" --no-progress sql apply "${args[@]}"
        ;;
    *)
        echo "usage: promote-sql.sh plan|apply" >&2
        exit 2
        ;;
esac
