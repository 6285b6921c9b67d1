#!/usr/bin/env bash
# `make run`: wrike-mcp over streamable HTTP (default: against the built-in sandbox), after printing
# how to point the MCP Inspector and Claude Desktop at it. PORT and RUN_FLAGS come from make.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${PORT:-8000}"
RUN_FLAGS="${RUN_FLAGS---sandbox}"
WRIKE_MCP="$ROOT/.venv/bin/wrike-mcp"
URL="http://127.0.0.1:$PORT/mcp"
INSPECTOR="@modelcontextprotocol/inspector@2.12.0"

cat <<INFO
wrike-mcp: streamable HTTP on $URL  (wrike-mcp serve $RUN_FLAGS --transport http --port $PORT)

MCP Inspector (needs Node >= 22.19; \`PATH="\$(scripts/node22.sh):\$PATH"\` provides one):
  CLI:  npx $INSPECTOR --cli $URL --method tools/list
        npx $INSPECTOR --cli $URL --method tools/call --tool-name get_me
  UI:   npx $INSPECTOR --transport http --server-url $URL

Claude Desktop (stdio; it starts the server itself): add to claude_desktop_config.json
  {
    "mcpServers": {
      "wrike": {
        "command": "$WRIKE_MCP",
        "args": ["serve", "--sandbox"]
      }
    }
  }
  For a real account drop "--sandbox" and add  "env": {"WRIKE_ACCESS_TOKEN": "<token>"}.
  More client configs: configs/ (VS Code, Cursor, .env.example).

Ctrl-C stops the server.
INFO
# shellcheck disable=SC2086  # RUN_FLAGS is a list of flags
exec "$WRIKE_MCP" serve $RUN_FLAGS --transport http --host 127.0.0.1 --port "$PORT"
