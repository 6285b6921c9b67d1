#!/usr/bin/env bash
# `make conformance`: run the MCP conformance suite (server mode, every scenario) against
# `wrike-mcp serve --sandbox --transport http` (stateful) with the baseline in
# conformance/expected-failures.yml. Exit 0 only when exactly the listed scenarios fail:
# a new failure or a listed scenario that now passes (stale entry) both fail the run.
# CONFORMANCE_OUT=dir keeps the per-scenario checks.json files.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

BASELINE="$ROOT/conformance/expected-failures.yml"
[ -f "$BASELINE" ] || die "$BASELINE is missing"
OUT="${CONFORMANCE_OUT:-$WORK/results}"
mkdir -p "$OUT"
STARTED=$SECONDS

PORT="$(free_port)"
start_server "$PORT"
say "conformance $CONFORMANCE on Node $(node --version) against $SERVER_URL"
set +e
npx -y "$CONFORMANCE" server --url "$SERVER_URL" --suite all --expected-failures "$BASELINE" -o "$OUT" \
    </dev/null >"$WORK/conformance.log" 2>&1
RC=$?
set -e
stop_server
cat "$WORK/conformance.log"

# One line per scenario from the checks.json files, so CI logs say what passed and what failed.
"$PY" - "$OUT" "$BASELINE" <<'PYEOF' || true
import json, pathlib, re, sys
out, baseline = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).read_text()
expected = set(re.findall(r"^\s*-\s*([\w-]+)", baseline, re.M))
rows = {}
for checks in sorted(out.glob("server-*/checks.json")):
    match = re.fullmatch(r"server-(.+)-\d{4}-\d\d-\d\dT[\d-]+Z", checks.parent.name)
    name = match.group(1) if match else checks.parent.name
    try:
        results = json.loads(checks.read_text())
    except ValueError:
        continue
    failed = [c for c in results if c.get("status") == "FAILURE"]
    rows[name] = ("FAIL", failed[0].get("errorMessage") or failed[0].get("name", "")) if failed else ("pass", "")
if rows:
    print("\nscenario summary (FAIL* = listed in expected-failures.yml):")
    for name, (status, why) in sorted(rows.items(), key=lambda kv: (kv[1][0] != "pass", kv[0])):
        mark = "*" if status == "FAIL" and name in expected else " "
        print(f"  {status}{mark} {name}" + (f"  -- {why[:150]}" if why else ""))
    print(f"  {sum(s == 'pass' for s, _ in rows.values())} of {len(rows)} scenarios pass")
PYEOF

if [ "$RC" -ne 0 ]; then
    echo "--- server log (last lines) ---" >&2
    tail -n 15 "$SERVER_LOG" >&2 || true
    die "conformance exited $RC: a scenario regressed or a baseline entry is stale (see above)"
fi
say "OK in $((SECONDS - STARTED)) s"
