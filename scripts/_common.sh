# Shared helpers for scripts/inspect.sh and scripts/conformance.sh (sourced, not run).
# Sets: ROOT, PY, WRIKE_MCP, WORK (a temp dir removed on exit), HOME (inside WORK, per G11),
#       PATH (Node >= 22 first), npm_config_cache (inside the repo: ./.node22/npm-cache).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
WRIKE_MCP="${WRIKE_MCP:-$ROOT/.venv/bin/wrike-mcp}"
INSPECTOR="${INSPECTOR:-@modelcontextprotocol/inspector@2.12.0}"
CONFORMANCE="${CONFORMANCE:-@modelcontextprotocol/conformance@0.1.16}"

SCRIPT_NAME="$(basename "$0" .sh)"
say() { echo "[$SCRIPT_NAME] $*" >&2; }
die() { echo "[$SCRIPT_NAME] FAIL: $*" >&2; exit 1; }

[ -x "$WRIKE_MCP" ] || die "$WRIKE_MCP not found: run 'make install' (or any make target) first"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/wrike-mcp-$SCRIPT_NAME.XXXXXX")"
SERVER_PID=""
cleanup() {
    local rc=$?
    stop_server
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Node >= 22 (G1), npm's and npx's cache inside the repo, a throwaway HOME for ~/.mcp-inspector (G11).
NODE_BIN="$("$ROOT/scripts/node22.sh")" || die "could not provide Node >= 22 (see messages above)"
export PATH="$NODE_BIN:$PATH"
export npm_config_cache="${npm_config_cache:-$ROOT/.node22/npm-cache}"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export HOME="$WORK/home"
mkdir -p "$HOME"
unset MCP_CATALOG_PATH MCP_CLIENT_CONFIG_PATH
# The sandbox needs no credentials; make sure a developer's real ones never reach these runs.
unset WRIKE_ACCESS_TOKEN WRIKE_CLIENT_ID WRIKE_CLIENT_SECRET WRIKE_BASE_URL WRIKE_HOST

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server PORT [extra serve flags...]: the MCP server over streamable HTTP against the sandbox,
# started exactly as `make run` starts it (scripts/run.sh), so CI proves the quick start too.
start_server() {
    local port=$1
    shift
    SERVER_LOG="$WORK/server-$port.log"
    PORT="$port" RUN_FLAGS="--sandbox $*" "$ROOT/scripts/run.sh" </dev/null >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    SERVER_URL="http://127.0.0.1:$port/mcp"
    local deadline=$((SECONDS + ${SERVER_START_TIMEOUT:-60}))
    until "$PY" - "$SERVER_URL" <<'PYEOF'
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass  # any HTTP answer (a GET without a session is 400/406) means it is serving
except OSError:
    sys.exit(1)
PYEOF
    do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            SERVER_PID=""
            tail -n 40 "$SERVER_LOG" >&2 || true
            die "the HTTP server exited before answering on $SERVER_URL (log above)"
        fi
        [ "$SECONDS" -lt "$deadline" ] || { tail -n 40 "$SERVER_LOG" >&2; die "no answer on $SERVER_URL"; }
        sleep 0.3
    done
    say "server up on $SERVER_URL (pid $SERVER_PID)"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    local i
    for i in $(seq 50); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
