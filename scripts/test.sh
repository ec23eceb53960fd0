#!/usr/bin/env bash
# The README's test command. On a fresh machine it installs what it needs
# (project-local .venv with cfn-lint, sqlfluff, moto, actionlint and zizmor; checkov
# in .venv-checkov; PostgreSQL and Chromium from Debian packages), then
# runs, failing on the first problem:
#   1. cargo fmt --check and clippy -D warnings; actionlint over the workflows;
#      the two Lambdas' dependencies; the module graph of every crate (and
#      no command importing another); zizmor (offline): no finding of
#      medium severity or worse
#   2. render every env (and dev of a copy that declares one more source);
#      cfn-lint must report 0 errors on every template
#      (and the CI role template), checkov 0 failed checks (suppressions only
#      in template metadata, each justified and listed in docs/security.md),
#      and sqlfluff 0 unparsable statements in the Redshift SQL
#   3. cargo test (unit, CLI, snapshot, moto/PostgreSQL integration and
#      headless-Chromium tests, the report site judged by html-validate,
#      axe-core and scripts/site-check.mjs; with CI set, a missing service
#      or validator fails the run)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

ensure_venv
ensure_checkov
ensure_postgres
ensure_chromium
export PRICEWATCH_VENV="$VENV"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The workspace unifies features (the CLI turns on ops' backfill and
# bootstrap); the operator Lambda is built without them, so it is linted
# (and its ops compiled) as it ships too.
cargo clippy -p pricewatch-lambda-operator --quiet -- -D warnings
log "actionlint on .github/workflows"
"$VENV/bin/actionlint" .github/workflows/*.yml
log "zizmor (offline) on .github/workflows"
# Medium and worse fail the run; an ignore needs a `# zizmor: ignore[rule]`
# comment on the line, with the reason next to it.
if ! "$VENV/bin/zizmor" --offline --min-severity medium --no-progress --quiet .github/workflows; then
    echo "zizmor found workflow problems of medium severity or worse (see above)" >&2
    exit 1
fi

log "building the workspace (the CLI, both Lambdas: the tests run them)"
cargo build --workspace --quiet
log "the ingest Lambda links only the AWS SDKs it calls"
heavy="$(cargo tree -p pricewatch-lambda-ingest -e normal --prefix none | grep -E '^aws-sdk-(quicksight|cloudformation|redshiftdata) ' || true)"
if [[ -n "$heavy" ]]; then
    echo "pricewatch-lambda-ingest depends on: $heavy" >&2
    exit 1
fi
log "the operator Lambda links only the AWS SDKs the cycle calls"
# The cycle reads the warehouse stack (CloudFormation), runs SQL (Data API),
# publishes check metrics (CloudWatch), refreshes SPICE (QuickSight) and, in
# `local`, loads the streams (Kinesis); S3 (backfill), Redshift Serverless
# and Secrets Manager (bootstrap) are the CLI's alone.
heavy="$(cargo tree -p pricewatch-lambda-operator -e normal --prefix none | grep -E '^aws-sdk-(s3|secretsmanager|redshiftserverless) ' || true)"
if [[ -n "$heavy" ]]; then
    echo "pricewatch-lambda-operator depends on: $heavy" >&2
    exit 1
fi
log "no import cycle between the top-level modules of any crate"
python3 scripts/module-cycles.py
pricewatch="${CARGO_TARGET_DIR:-$ROOT/target}/debug/pricewatch"
out="$ROOT/build/test-render"
rm -rf "$out"
mapfile -t envs < <(ls environments/*.yaml | xargs -n1 basename | sed 's/\.yaml$//' | grep -vx defaults)
for env in "${envs[@]}"; do
    "$pricewatch" --quiet --env "$env" render --out "$out/$env" >/dev/null
done
# A source declared only in the env files gets generated models and a
# stream: render dev of a copy that declares one, so cfn-lint, checkov and
# sqlfluff judge the generated templates and Redshift SQL too. The copy's
# dev also has every kind of alarm subscription (e-mail, HTTPS, Slack
# through AWS Chatbot), which no env file sets today.
generated_project="$(mktemp -d)"
cp -r environments templates sql "$generated_project/"
python3 - "$generated_project/environments/defaults.yaml" "$generated_project/environments/dev.yaml" <<'PY'
import sys
path, dev = sys.argv[1], sys.argv[2]
dev_text = open(dev).read()
subscriptions = """alarms:
  page:
    email: [pricewatch-dev@electroworld.example]
    https: [https://events.example.com/sns/pricewatch]
    chatbot:
      - {workspace_id: T0123ABCD, channel_id: C0456EFGH}
  ticket:
    https: [https://events.example.com/sns/tickets]
    chatbot:
      - {workspace_id: T0123ABCD, channel_id: C0789IJKL}
"""
start = dev_text.index("alarms:\n")
end = dev_text.index("\n\n", start)
open(dev, "w").write(dev_text[:start] + subscriptions + dev_text[end + 1:])
text = open(path).read()
declared = """  prices:
    url: https://example.com/prices.html
    key: [item, vendor]
    columns:
      item: {header: Item, type: text, required: true}
      vendor: {header: Vendor, type: text, required: true}
      price: {header: Unit Price, type: decimal, required: true}
      units: {header: Units, type: integer}
"""
assert "\nsources:\n" in text, "defaults.yaml declares its sources under sources:"
open(path, "w").write(text.replace("\nsources:\n", "\nsources:\n" + declared, 1))
PY
"$pricewatch" --quiet --project-dir "$generated_project" --env dev render --out "$out/dev-with-a-declared-source" >/dev/null
rm -rf "$generated_project"

log "cfn-lint on ${#envs[@]} envs' templates"
set +e
"$VENV/bin/cfn-lint" --format parseable -- "$out"/*/stacks/*.yaml templates/ci/*.yaml
lint_status=$?
set -e
# cfn-lint's exit code is a bit mask: 2 = errors (1 = fatal), 4 = warnings, 8 = info.
if (( lint_status & 3 )); then
    echo "cfn-lint found errors (exit $lint_status)" >&2
    exit 1
fi
log "cfn-lint: 0 errors in $(ls "$out"/*/stacks/*.yaml templates/ci/*.yaml | wc -l) templates"

log "checkov on ${#envs[@]} envs' templates and the CI role template"
# One directory: checkov writes one JSON document per -d.
mkdir -p "$out/ci"
cp templates/ci/*.yaml "$out/ci/"
checkov_report="$out/checkov.json"
set +e
"$CHECKOV_VENV/bin/checkov" --quiet --skip-download --framework cloudformation \
    --output json -d "$out" > "$checkov_report" 2>/dev/null
set -e
"$CHECKOV_VENV/bin/python" - "$checkov_report" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
runs = report if isinstance(report, list) else [report]
summary = {k: sum(r["summary"][k] for r in runs) for k in ("passed", "failed", "skipped", "parsing_errors")}
for run in runs:
    for check in run.get("results", {}).get("failed_checks", []):
        print(f'{check["file_path"]}: {check["resource"]}: {check["check_id"]} {check["check_name"]}', file=sys.stderr)
if summary["failed"] or summary["parsing_errors"] or not summary["passed"]:
    sys.exit(f"checkov: {summary}")
print(f"==> checkov: {summary['passed']} passed, 0 failed, {summary['skipped']} suppressed (docs/security.md)", file=sys.stderr)
PY

log "sqlfluff parse (dialect redshift)"
parsed=0
for env in "${envs[@]}" dev-with-a-declared-source; do
    grep -q '"dialect": "redshift"' "$out/$env/manifest.json" || continue
    report="$out/$env/sqlfluff-parse.txt"
    set +e
    "$VENV/bin/sqlfluff" parse --dialect redshift "$out/$env/sql" > "$report" 2>&1
    parse_status=$?
    set -e
    unparsable=$(grep -cE "\|\s+unparsable:" "$report" || true)
    if (( parse_status != 0 || unparsable != 0 )); then
        grep -A3 "parsing violations" "$report" >&2 || true
        echo "sqlfluff: env $env has $unparsable unparsable sections (exit $parse_status); see $report" >&2
        exit 1
    fi
    parsed=$((parsed + $(ls "$out/$env/sql"/*.sql | wc -l)))
done
(( parsed > 0 )) || { echo "sqlfluff: no Redshift env was rendered" >&2; exit 1; }
log "sqlfluff: 0 unparsable statements in $parsed Redshift SQL files"

# --- report website validators (issue #23) ---------------------------------
# html-validate, axe-core (@axe-core/cli) and scripts/site-check.mjs judge the
# site and the catalog inside cargo test (tests/it/report_local.rs builds them
# from two snapshots and a check run); with CI set a missing validator fails.
ensure_site_validators
export PRICEWATCH_NODE_MODULES="$ROOT/node_modules"
log "site validators: node $(node --version), $(node_modules/.bin/html-validate --version), axe-core $(node -p 'require("./node_modules/axe-core/package.json").version'), $("$CHROMEDRIVER" --version | cut -d' ' -f1-2)"
# --- end report website validators -------------------------------------------

log "cargo test"
cargo test --workspace --quiet
