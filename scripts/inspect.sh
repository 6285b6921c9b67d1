#!/usr/bin/env bash
# `make inspect`: drive wrike-mcp with the real MCP Inspector CLI (a third-party client) against the
# built-in sandbox, over stdio and over streamable HTTP, and assert on what it sees.
#   - tools/list shows the expected tools, each with a title and its toolset in _meta
#   - tools/call search_tasks finds a known seed task (exit 0)
#   - tools/call get_task on an unknown id is a tool error: the Inspector exits 5 (isError, G10)
#   - resources/read wrike://me and prompts/list (stdio)
# Needs only Python's .venv and npm; Node 22 is installed into ./.node22 on first use.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# What the assertions look for (the sandbox's seed data and the tool surface of DESIGN.md §3).
# The default list (toolsets off by default and destructive tools without a way to confirm are left out).
EXPECTED_TOOLS="get_me enable_toolsets list_folders get_folder create_folder update_folder list_projects
create_project update_project whats_changed search_tasks get_task create_task update_task my_work add_comment
update_comment list_approvals list_timelogs log_time update_timelog time_report find_people list_workflows
list_custom_fields"
SEARCH_ARGS='{"text": "launch checklist"}'
SEED_TASK_TITLE="Finalize launch checklist"
UNKNOWN_TASK_ID="IEAAAAAAKQZZZZZZ"
SEED_USER="Ann Lee"  # the sandbox token's user
EXPECTED_PROMPTS="triage_tasks project_status_report"

STARTED=$SECONDS
N=0

# inspector NAME TARGET... -- runs the Inspector CLI; stdout/stderr land in $WORK/NAME.{out,err},
# the exit code in $RC.
inspector() {
    local name=$1
    shift
    N=$((N + 1))
    set +e
    npx -y "$INSPECTOR" --cli "$@" --format json >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
    RC=$?
    set -e
}

show() {  # dump a run's output for a failure message
    echo "--- $1: stdout ---" >&2
    head -c 4000 "$WORK/$1.out" >&2 || true
    echo >&2
    echo "--- $1: stderr ---" >&2
    tail -n 40 "$WORK/$1.err" >&2 || true
}

expect_ok() {  # NAME DESCRIPTION
    [ "$RC" -eq 0 ] || { show "$1"; die "$2: the Inspector exited $RC, expected 0"; }
}

check_tools_list() {  # NAME
    "$PY" - "$WORK/$1.out" "$EXPECTED_TOOLS" <<'PYEOF' || { show "$1"; die "$1: tools/list assertions failed"; }
import json, sys
path, expected = sys.argv[1], sys.argv[2].split()
try:
    doc = json.load(open(path))
except ValueError as exc:
    sys.exit(f"tools/list output is not JSON: {exc}")
tools = doc.get("tools") if isinstance(doc, dict) else None
if tools is None and isinstance(doc, dict):  # tolerate an envelope around the result
    tools = (doc.get("result") or {}).get("tools")
if not isinstance(tools, list):
    sys.exit("no 'tools' list in the tools/list output")
names = {tool.get("name") for tool in tools}
missing = [name for name in expected if name not in names]
if missing:
    sys.exit(f"tools missing from tools/list: {', '.join(missing)} (got: {', '.join(sorted(map(str, names)))})")
problems = []
for tool in tools:
    if not tool.get("title"):
        problems.append(f"{tool['name']}: no title")
    if not isinstance(tool.get("inputSchema"), dict):
        problems.append(f"{tool['name']}: no inputSchema")
    if "wrike-mcp/toolset" not in (tool.get("_meta") or {}):
        problems.append(f"{tool['name']}: no _meta['wrike-mcp/toolset']")
    if "readOnlyHint" not in (tool.get("annotations") or {}):
        problems.append(f"{tool['name']}: no readOnlyHint annotation")
if problems:
    sys.exit("tool metadata problems: " + "; ".join(problems))
print(f"  {len(tools)} tools listed, all {len(expected)} expected present")
PYEOF
}

check_search_result() {  # NAME
    "$PY" - "$WORK/$1.out" "$SEED_TASK_TITLE" <<'PYEOF' || { show "$1"; die "$1: search_tasks did not return the seed task"; }
import json, sys
path, title = sys.argv[1], sys.argv[2]
doc = json.load(open(path))
doc = doc.get("result", doc)  # --format json wraps the CallToolResult in {"result": ...}
if doc.get("isError"):
    sys.exit("the result is an error")
if title not in json.dumps(doc.get("structuredContent"), ensure_ascii=False):
    sys.exit(f"structuredContent lacks the seed task {title!r}")
if title not in json.dumps(doc.get("content"), ensure_ascii=False):
    sys.exit(f"the text content lacks the seed task {title!r}")
print(f"  found {title!r}")
PYEOF
}

expect_tool_error() {  # NAME
    if [ "$RC" -ne 5 ]; then
        show "$1"
        die "$1: get_task on an unknown id: the Inspector exited $RC, expected 5 (tool returned isError)"
    fi
    grep -qi "not found" "$WORK/$1.out" "$WORK/$1.err" \
        || { show "$1"; die "$1: the tool error does not say 'not found'"; }
    echo "  tool error reported (exit 5, 'not found')"
}

STDIO=("$WRIKE_MCP" serve --sandbox)

say "Inspector $INSPECTOR on Node $(node --version); stdio: ${STDIO[*]}"
inspector stdio-list "${STDIO[@]}" --method tools/list
expect_ok stdio-list "stdio tools/list"
check_tools_list stdio-list

inspector stdio-search "${STDIO[@]}" --method tools/call --tool-name search_tasks --tool-args-json "$SEARCH_ARGS"
expect_ok stdio-search "stdio tools/call search_tasks"
check_search_result stdio-search

inspector stdio-missing "${STDIO[@]}" --method tools/call --tool-name get_task \
    --tool-arg "task=$UNKNOWN_TASK_ID"
expect_tool_error stdio-missing

inspector stdio-me "${STDIO[@]}" --method resources/read --uri wrike://me
expect_ok stdio-me "stdio resources/read wrike://me"
grep -q "$SEED_USER" "$WORK/stdio-me.out" || { show stdio-me; die "resources/read wrike://me lacks $SEED_USER"; }
echo "  wrike://me is $SEED_USER"

inspector stdio-prompts "${STDIO[@]}" --method prompts/list
expect_ok stdio-prompts "stdio prompts/list"
for prompt in $EXPECTED_PROMPTS; do
    grep -q "\"$prompt\"" "$WORK/stdio-prompts.out" || { show stdio-prompts; die "prompts/list lacks $prompt"; }
done
echo "  prompts: $EXPECTED_PROMPTS"

PORT="$(free_port)"
start_server "$PORT"
say "HTTP: $SERVER_URL"
inspector http-list "$SERVER_URL" --method tools/list
expect_ok http-list "HTTP tools/list"
check_tools_list http-list

inspector http-search "$SERVER_URL" --method tools/call --tool-name search_tasks --tool-args-json "$SEARCH_ARGS"
expect_ok http-search "HTTP tools/call search_tasks"
check_search_result http-search

# The sessionless 2026-07-28 era over the same endpoint.
inspector http-modern "$SERVER_URL" --protocol-era modern --method tools/call --tool-name search_tasks \
    --tool-args-json "$SEARCH_ARGS"
expect_ok http-modern "HTTP (protocol era 2026-07-28) tools/call search_tasks"
check_search_result http-modern

inspector http-missing "$SERVER_URL" --method tools/call --tool-name get_task --tool-arg "task=$UNKNOWN_TASK_ID"
expect_tool_error http-missing
stop_server

say "OK: $N Inspector runs passed in $((SECONDS - STARTED)) s"
