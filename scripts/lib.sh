# Shared set-up for the README's commands (sourced, not run): installs what
# pricewatch's scripts need on a fresh machine, idempotently.
#   ensure_venv      project-local .venv with the pinned Python tools
#   ensure_checkov   checkov in its own .venv-checkov (its pins clash with moto's)
#   ensure_postgres  PostgreSQL server binaries (Debian package) if absent
#   ensure_chromium  Debian's Chromium (the report's browser test) if absent
#   ensure_site_validators  the report's validators: html-validate and
#                    @axe-core/cli from package-lock.json (node_modules), and
#                    Debian's chromium-driver (exported as CHROMEDRIVER);
#                    never a browser download
#   start_postgres / stop_postgres / psql_local  a throwaway local cluster

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

log() { printf '==> %s\n' "$*" >&2; }

# A venv at $1 with requirements $2 pinned by constraints $3; reinstalled
# only when those files change.
ensure_pinned_venv() {
    local venv="$1" requirements="$2" constraints="$3"
    local stamp="$venv/.requirements.sha256"
    local want
    want="$(cat "$requirements" "$constraints" | sha256sum | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    log "installing $(grep -v '^#' "$requirements" | cut -d= -f1 | xargs) into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" -c "$constraints"
    echo "$want" > "$stamp"
}

ensure_venv() {
    ensure_pinned_venv "$VENV" "$ROOT/scripts/requirements.txt" "$ROOT/scripts/constraints.txt"
}

CHECKOV_VENV="$ROOT/.venv-checkov"

ensure_checkov() {
    ensure_pinned_venv "$CHECKOV_VENV" "$ROOT/scripts/requirements-checkov.txt" \
        "$ROOT/scripts/constraints-checkov.txt"
}

postgres_bin_dir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

# apt_install PACKAGE...: Debian packages, with sudo when not root.
apt_install() {
    local sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_postgres() {
    if postgres_bin_dir >/dev/null; then
        return 0
    fi
    log "installing PostgreSQL from Debian packages"
    apt_install postgresql
    postgres_bin_dir >/dev/null || { echo "PostgreSQL installation failed: no initdb under /usr/lib/postgresql" >&2; return 1; }
}

# The browsers the integration tests look for (tests/it/support/mod.rs,
# chromium()), in their order.
BROWSERS=(/usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome)

ensure_chromium() {
    local browser
    for browser in "${BROWSERS[@]}"; do
        [[ -x "$browser" ]] && return 0
    done
    log "installing Chromium from Debian packages (the report's browser test)"
    apt_install chromium
    [[ -x /usr/bin/chromium ]] || { echo "Chromium installation failed: no /usr/bin/chromium" >&2; return 1; }
}


# Node.js 20.19 or later (html-validate 10 needs it) and the npm packages of
# package-lock.json in node_modules, reinstalled only when the lock file
# changes. No package may fetch a browser or driver: install scripts are
# off (the `chromedriver` package @axe-core/cli pulls in would download
# one) and Selenium gets Debian's chromedriver by path.
# Exports CHROMEDRIVER (the driver of the browser ensure_chromium found):
# Debian's, or the one GitHub's runners ship beside their Chrome.
ensure_site_validators() {
    ensure_chromium
    if [[ -z "${CHROMEDRIVER:-}" ]]; then
        if [[ ! -x /usr/bin/chromium && -n "${CHROMEWEBDRIVER:-}" && -x "$CHROMEWEBDRIVER/chromedriver" ]]; then
            CHROMEDRIVER="$CHROMEWEBDRIVER/chromedriver"
        else
            CHROMEDRIVER=/usr/bin/chromedriver
            if [[ ! -x "$CHROMEDRIVER" ]]; then
                log "installing chromium-driver from Debian packages (the report's validators)"
                apt_install chromium-driver
                [[ -x "$CHROMEDRIVER" ]] || { echo "chromium-driver installation failed: no $CHROMEDRIVER" >&2; return 1; }
            fi
        fi
    fi
    export CHROMEDRIVER
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        log "installing Node.js and npm from Debian packages (the report's validators)"
        apt_install nodejs npm
    fi
    if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
        echo "Node.js $(node --version) is too old for html-validate: install Node.js 20.19 or later" >&2
        return 1
    fi
    local stamp="$ROOT/node_modules/.package-lock.sha256"
    local want
    want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    log "installing html-validate and @axe-core/cli into node_modules (npm ci)"
    (cd "$ROOT" && CHROMEDRIVER_SKIP_DOWNLOAD=true npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
}

# start_postgres: a throwaway cluster on a free loopback port (trust auth,
# user and database `pricewatch`), run as the postgres user when root since
# initdb refuses root. Exports PRICEWATCH_DATABASE_URL; stop_postgres ends it.
start_postgres() {
    PG_BIN="$(postgres_bin_dir)"
    PG_DIR="$(mktemp -d)"
    PG_AS=()
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres:postgres "$PG_DIR"
        PG_AS=(runuser -u postgres --)
    fi
    PG_PORT="$(free_port)"
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U pricewatch --auth=trust -E UTF8 --no-sync \
        >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -F" start >/dev/null \
        || { cat "$PG_DIR/server.log" >&2; return 1; }
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U pricewatch pricewatch
    export PRICEWATCH_DATABASE_URL="postgres://pricewatch@127.0.0.1:$PG_PORT/pricewatch"
}

stop_postgres() {
    [[ -n "${PG_DIR:-}" ]] || return 0
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}

# psql_local SQL: runs a query on the cluster start_postgres started.
psql_local() {
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U pricewatch -d pricewatch -P pager=off -c "$1"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_moto DIR: moto_server on a free loopback port, recording requests to
# DIR/recording.jsonl; sets MOTO_PORT and MOTO_PID. Stop it with stop_moto.
start_moto() {
    MOTO_PORT="$(free_port)"
    MOTO_RECORDER_FILEPATH="$1/recording.jsonl" \
        "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$1/moto.log" 2>&1 &
    MOTO_PID=$!
    local tries=0
    until "$VENV/bin/python" -c "import socket,sys; socket.create_connection(('127.0.0.1', $MOTO_PORT), 1)" 2>/dev/null; do
        tries=$((tries + 1))
        if (( tries > 100 )); then
            echo "moto did not start; see $1/moto.log" >&2
            return 1
        fi
        sleep 0.2
    done
}

stop_moto() {
    [[ -n "${MOTO_PID:-}" ]] && kill "$MOTO_PID" 2>/dev/null && wait "$MOTO_PID" 2>/dev/null
    MOTO_PID=""
}

ensure_lambda_tools() {
    if [[ -x "$VENV/bin/cargo-zigbuild" && -x "$VENV/bin/python-zig" ]]; then
        return 0
    fi
    log "installing cargo-zigbuild and ziglang into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements-lambda.txt"
}

# placeholder_artifacts DIR: a stand-in bootstrap per Lambda, for deploys to
# moto, which stores Lambda code but never runs it.
placeholder_artifacts() {
    local lambda
    for lambda in ingest operator; do
        mkdir -p "$1/$lambda-lambda"
        printf '#!/bin/sh\n' > "$1/$lambda-lambda/bootstrap"
    done
}
