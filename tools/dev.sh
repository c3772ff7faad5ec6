#!/usr/bin/env bash
# Developer entry points for the returns_management addon.
#
#   tools/dev.sh serve          install the addon with demo data and run Odoo on :8069
#   tools/dev.sh test [SPEC..]  run the addon's tests (incl. browser tours) on a fresh database
#   tools/dev.sh check-log LOG  re-read a saved test log and print the verdict
#
# Environment:
#   PYTHON             interpreter to use (default: python3); when it cannot import
#                      Odoo 18, Odoo is set up in .odoo-env/ (tools/odoo_setup.py)
#   ODOO_GIT, ODOO_REF Odoo repository (URL or local path) and branch or commit
#                      for that set-up (default: github.com/odoo/odoo, 18.0)
#   ODOO_SRC           an existing Odoo 18 source tree to use instead of a clone
#   RETURNS_DB         database used by `serve` (default: returns_demo)
#   RETURNS_HTTP_PORT  port used by `serve` (default: 8069)
#   PG* variables      PostgreSQL connection (PGHOST, PGPORT, PGUSER, PGPASSWORD, ...)
#
# Odoo is always started with `--config=/dev/null`: a personal ~/.odoorc cannot
# disable demo data, redirect the log or change the addons path behind our back.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON=returns_management
PYTHON="${PYTHON:-python3}"
CHROME_BINARIES=(google-chrome chromium chromium-browser google-chrome-stable)

# Lines of Odoo 18's log that the test verdict relies on (see check_log).
# odoo/service/server.py, ThreadedServer.run(): "<report> when loading database <db>"
# where <report> is OdooTestResult.__str__ (odoo/tests/result.py).
RE_SUMMARY=' odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests when loading database '
# odoo/tests/result.py, OdooTestResult.addSkip(): "skipped <Class.method> : <reason>" at INFO.
RE_SKIP='^[0-9-]+ [0-9:,]+ [0-9]+ INFO [^ ]+ [^ ]+: skipped '
# Any ERROR or CRITICAL record (format from odoo/netsvc.py: time pid level db logger: msg).
RE_ERROR='^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) '
# web_tour/static/src/tour_service/tour_automatic.js, onComplete: "║ TOUR <name> SUCCEEDED ║",
# logged by ChromeBrowser._handle_console (odoo/tests/common.py).
RE_TOUR_OK='TOUR [^ ]+ SUCCEEDED'
# tools/concurrency_check.py: one line per race between two real transactions.
RE_RACE_PASS='^CONCURRENCY PASS '
RE_RACE_FAIL='^CONCURRENCY FAIL '
# tools/tests/test_odoo_setup.py: one line per test of the Odoo set-up logic.
RE_SETUP_PASS='^SETUP PASS '
RE_SETUP_FAIL='^SETUP FAIL '

log() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'dev.sh: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -u postgres "$@")
    fi
}

# --- prerequisites -------------------------------------------------------------

ensure_odoo() { # sets PYTHON to an interpreter that imports Odoo 18, set up if needed
    command -v "$PYTHON" >/dev/null || die "no Python interpreter '$PYTHON' (set PYTHON=/path/to/python3)"
    local python
    python="$("$PYTHON" "$ROOT/tools/odoo_setup.py" | tail -n 1)" && [ -n "$python" ] ||
        die "Odoo 18 is not available (the reason is above)"
    PYTHON="$python"
    export PYTHON
}

can_install_packages() {
    command -v apt-get >/dev/null && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }
}

apt_install() { # $@ = Debian packages
    log "Installing $* (apt-get, about a minute)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
        { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } ||
        die "apt-get install $* failed: install it yourself, then retry"
}

pg_ready() {
    pg_isready -q >/dev/null 2>&1
}

start_postgres() {
    log "PostgreSQL is not running: starting it"
    if command -v pg_lsclusters >/dev/null && command -v pg_ctlcluster >/dev/null; then
        local version name _port status _rest
        while read -r version name _port status _rest; do
            [ "$status" = online ] || as_root pg_ctlcluster "$version" "$name" start
        done < <(pg_lsclusters --no-header)
    elif command -v service >/dev/null; then
        as_root service postgresql start
    else
        die "cannot start PostgreSQL on this machine: start it yourself, then retry"
    fi
    local _
    for _ in $(seq 30); do
        pg_ready && return 0
        sleep 1
    done
    die "PostgreSQL did not become ready (pg_isready)"
}

pg_query() { # $1 = SQL on database postgres; prints the unaligned result
    psql -X -q -d postgres -tA -c "$1"
}

ensure_pg_role() {
    local user is_super
    user="$(id -un)"
    is_super="$(pg_query 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user' 2>/dev/null || true)"
    [ "$is_super" = t ] && return 0
    if [ "$user" = postgres ]; then
        die "do not run Odoo as the 'postgres' OS user (Odoo refuses it)"
    fi
    log "Giving OS user '$user' a PostgreSQL superuser role"
    if [ -z "$is_super" ]; then
        as_postgres createuser -s "$user" ||
            die "could not create the role: run  sudo -u postgres createuser -s $user"
    else
        as_postgres psql -X -q -d postgres -c "ALTER ROLE \"$user\" SUPERUSER" ||
            die "could not grant superuser: run  sudo -u postgres psql -c 'ALTER ROLE \"$user\" SUPERUSER'"
    fi
}

ensure_postgres() {
    local tool
    if ! command -v pg_isready >/dev/null; then
        can_install_packages ||
            die "PostgreSQL is not installed: install it (e.g. sudo apt-get install -y postgresql), then retry"
        log "PostgreSQL is not installed"
        apt_install postgresql
    fi
    for tool in psql pg_isready dropdb; do
        command -v "$tool" >/dev/null ||
            die "PostgreSQL tool '$tool' not found: install PostgreSQL, e.g. apt-get install -y postgresql"
    done
    pg_ready || start_postgres
    ensure_pg_role
}

pip_install() {
    log "Installing Python requirements (requirements.txt)"
    PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install --quiet --disable-pip-version-check \
        -r "$ROOT/requirements.txt" ||
        die "pip install failed (on Debian's own python, PIP_BREAK_SYSTEM_PACKAGES=1 may be needed)"
}

find_chrome() {
    local bin
    for bin in "${CHROME_BINARIES[@]}"; do
        command -v "$bin" && return 0
    done
    return 1
}

check_browser_deps() {
    if ! find_chrome >/dev/null && can_install_packages; then
        log "No Chrome/Chromium for the browser tours"
        apt_install chromium
    fi
    find_chrome >/dev/null ||
        die "no Chrome/Chromium on PATH (${CHROME_BINARIES[*]}): Odoo would SKIP the browser tours. Install it, e.g. apt-get install -y chromium"
    "$PYTHON" -c 'import websocket' 2>/dev/null ||
        die "python package websocket-client missing: Odoo would SKIP the browser tours. Run: $PYTHON -m pip install websocket-client"
}

# --- databases -----------------------------------------------------------------

check_db_name() {
    [[ "$1" =~ ^[A-Za-z0-9_][A-Za-z0-9_-]*$ ]] || die "invalid database name '$1'"
}

db_exists() {
    [ "$(pg_query "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}

addon_installed() {
    [ "$(psql -X -q -d "$1" -tA -c \
        "SELECT state FROM ir_module_module WHERE name = '$ADDON'" 2>/dev/null)" = installed ]
}

drop_db() {
    dropdb --if-exists --force "$1" 2>/dev/null || dropdb --if-exists "$1" || true
}

odoo() {
    "$PYTHON" -m odoo --config=/dev/null --addons-path="$ROOT" "$@"
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- serve ---------------------------------------------------------------------

install_demo_db() { # $1 = database, $2 = "new" if this run creates it
    log "Installing $ADDON with demo data into database '$1'"
    odoo -d "$1" -i "$ADDON" --stop-after-init && return 0
    if [ "${2:-}" = new ]; then
        drop_db "$1"
        die "installing $ADDON failed (database '$1' dropped so the next run starts clean)"
    fi
    die "installing $ADDON into the existing database '$1' failed"
}

cmd_serve() {
    local db="${RETURNS_DB:-returns_demo}" port="${RETURNS_HTTP_PORT:-8069}"
    check_db_name "$db"
    ensure_odoo
    ensure_postgres
    pip_install
    if ! db_exists "$db"; then
        install_demo_db "$db" new
    elif ! addon_installed "$db"; then
        log "Database '$db' exists without $ADDON"
        install_demo_db "$db"
    else
        log "Database '$db' already has $ADDON (to start over: dropdb $db)"
    fi
    log "Returns app at http://localhost:$port  (login: admin / password: admin). Ctrl-C stops."
    odoo -d "$db" --http-port="$port" --db-filter="^$db\$"
}

# --- test ----------------------------------------------------------------------

count_tour_calls() { # start_tour( calls in the addon's tests, comments and defs excluded
    local files=("$ROOT/$ADDON"/tests/*.py)
    [ -e "${files[0]}" ] || {
        echo 0
        return
    }
    { grep -hE '^[^#]*\bstart_tour\(' "${files[@]}" || true; } | { grep -cvE '^\s*def ' || true; }
}

test_tags() { # default: the whole addon; ":Class.method" args narrow it, other args are raw specs
    local spec tags=() include=0
    for spec in "$@"; do
        case "$spec" in
        :* | .*) tags+=("/$ADDON$spec") include=1 ;;
        -*) tags+=("$spec") ;;
        *) tags+=("$spec") include=1 ;;
        esac
    done
    [ "$include" -eq 1 ] || tags=("/$ADDON" "${tags[@]}")
    local IFS=,
    echo "${tags[*]}"
}

count_lines() { # $1 = ERE, $2 = file
    grep -cE "$1" "$2" || true
}

# Reads an Odoo test log and prints the reasons for failure plus the closing
# line "N passed, N failed". Returns non-zero if the run is not a clean pass.
check_log() { # $1 = log, $2 = Odoo exit code, $3 = tours expected
    local log=$1 odoo_rc=$2 tours_expected=$3
    local summary failures=0 errors=0 total=0 skipped error_lines tours_ok
    local passed failed problems=()

    summary="$(grep -E "$RE_SUMMARY" "$log" | tail -n 1 || true)"
    skipped="$(count_lines "$RE_SKIP" "$log")"
    error_lines="$(count_lines "$RE_ERROR" "$log")"
    tours_ok="$(count_lines "$RE_TOUR_OK" "$log")"

    if [ -n "$summary" ]; then
        read -r failures errors total < <(sed -E \
            's/.*: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests when loading database.*/\1 \2 \3/' \
            <<<"$summary")
    fi
    local races_passed races_failed setup_passed setup_failed
    races_passed="$(count_lines "$RE_RACE_PASS" "$log")"
    races_failed="$(count_lines "$RE_RACE_FAIL" "$log")"
    setup_passed="$(count_lines "$RE_SETUP_PASS" "$log")"
    setup_failed="$(count_lines "$RE_SETUP_FAIL" "$log")"
    failed=$((failures + errors))
    passed=$((total - failed - skipped))
    [ "$passed" -ge 0 ] || passed=0
    passed=$((passed + races_passed + setup_passed))
    failed=$((failed + races_failed + setup_failed))

    if [ -z "$summary" ] || [ "$total" -eq 0 ]; then
        problems+=("no test ran (no summary line or 0 tests): did $ADDON fail to install?")
        passed=0 failed=1
    fi
    [ "$odoo_rc" -eq 0 ] || problems+=("Odoo exited with code $odoo_rc")
    [ "$((failures + errors))" -eq 0 ] || problems+=("$failures test(s) failed, $errors test(s) raised an error")
    [ "$error_lines" -eq 0 ] || problems+=("$error_lines ERROR/CRITICAL log line(s)")
    [ "$races_failed" -eq 0 ] || problems+=("$races_failed concurrency check(s) failed")
    [ "$setup_failed" -eq 0 ] || problems+=("$setup_failed set-up test(s) failed")
    [ "$skipped" -eq 0 ] || problems+=("$skipped test(s) skipped (a skipped tour means no browser or no websocket-client)")
    [ "$tours_ok" -ge "$tours_expected" ] ||
        problems+=("$tours_ok 'TOUR ... SUCCEEDED' line(s) for $tours_expected start_tour() call(s)")

    if [ "$error_lines" -gt 0 ]; then
        echo "First ERROR/CRITICAL lines:"
        grep -E "$RE_ERROR" "$log" | head -n 5 | cut -c1-300 | sed 's/^/  /'
    fi
    local problem
    for problem in "${problems[@]}"; do
        echo "FAIL: $problem"
    done
    echo "tests run: $total, skipped: $skipped, tours succeeded: $tours_ok/$tours_expected," \
        "concurrency checks passed: $races_passed/$((races_passed + races_failed)),"\
        "set-up tests passed: $setup_passed/$((setup_passed + setup_failed))"
    echo "$passed passed, $failed failed"
    [ "${#problems[@]}" -eq 0 ]
}

cmd_test() {
    ensure_odoo
    ensure_postgres
    pip_install
    check_browser_deps

    local db="returns_test_$$" tags tours_expected port
    tags="$(test_tags "$@")"
    tours_expected="$(count_tour_calls)"
    if [ "$#" -gt 0 ]; then
        tours_expected=0 # a filtered run may leave tours out on purpose
    fi
    port="$(free_port)"
    TEST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/returns_test.XXXXXX")"
    TEST_DB="$db"
    local log="$TEST_TMP/odoo-test.log"
    trap cleanup_test EXIT
    trap 'exit 130' INT TERM

    log "Database $db, test tags $tags, port $port"
    log "Log: $log"
    local rc=0 setup_pid=""
    if [ "$#" -eq 0 ]; then
        # the Odoo set-up logic, on a fake Odoo repository (no network), beside
        # the Odoo tests so that the run takes no longer
        "$PYTHON" "$ROOT/tools/tests/test_odoo_setup.py" >"$TEST_TMP/setup-tests.log" 2>&1 &
        setup_pid=$!
    fi
    # stock_delivery and mrp too: tests check carriers and kits on returns;
    # base_automation: tests run the approval actions from automation rules
    # (the addon itself depends on none of them)
    odoo -d "$db" -i "$ADDON,stock_delivery,mrp,base_automation" --test-enable --test-tags "$tags" --stop-after-init \
        --log-level=test --http-port="$port" --workers=0 --max-cron-threads=0 \
        --data-dir="$TEST_TMP/data" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}

    if [ "$#" -eq 0 ] && [ "$rc" -eq 0 ]; then
        log "Concurrency checks (two real transactions per race)"
        "$PYTHON" "$ROOT/tools/concurrency_check.py" --db "$db" --addons-path "$ROOT" \
            2>&1 | tee -a "$log" || true
    fi

    if [ -n "$setup_pid" ]; then
        wait "$setup_pid" || grep -q "$RE_SETUP_FAIL" "$TEST_TMP/setup-tests.log" ||
            echo "SETUP FAIL tools/tests/test_odoo_setup.py ended with an error" >>"$TEST_TMP/setup-tests.log"
        log "Set-up tests (tools/tests/test_odoo_setup.py)"
        tee -a "$log" <"$TEST_TMP/setup-tests.log"
    fi
    echo "Log kept at $log"
    check_log "$log" "$rc" "$tours_expected"
}

# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup_test() {
    drop_db "$TEST_DB"
    rm -rf "$TEST_TMP/data"
}

cmd_check_log() { # $1 = log file, [$2 = Odoo exit code]
    [ -f "${1:-}" ] || die "usage: tools/dev.sh check-log LOGFILE [ODOO_EXIT_CODE]"
    check_log "$1" "${2:-0}" "$(count_tour_calls)"
}

main() {
    local cmd="${1:-}"
    [ "$#" -eq 0 ] || shift
    case "$cmd" in
    serve) cmd_serve "$@" ;;
    test) cmd_test "$@" ;;
    check-log) cmd_check_log "$@" ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 64
        ;;
    esac
}

# On one line: bash reads the script as it runs, so an edit during a run is harmless.
main "$@"; exit
