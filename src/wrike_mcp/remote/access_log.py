"""The access log of tool calls: one JSON line each (time, user, client, tool, outcome, duration, Wrike
requests). Never arguments, results or tokens. The same records go to the audit trail (remote/audit.py)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from wrike_mcp.calls import ToolCall

access_logger = logging.getLogger("wrike_mcp.access")


def configure_access_log(path: Path | None) -> None:
    """JSON lines to `path`, or to stderr; the lines are the message, nothing else."""
    handler: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_logger.handlers[:] = [handler]
    access_logger.setLevel(logging.INFO)
    access_logger.propagate = False


def log_tool_call(call: ToolCall) -> None:
    access_logger.info(
        json.dumps(
            {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "user": call.user,
                "client": call.client,
                "tool": call.tool,
                "outcome": call.outcome,
                "duration_ms": round(call.seconds * 1000, 1),
                "wrike_requests": call.wrike_requests,
            }
        )
    )
