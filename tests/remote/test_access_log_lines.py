"""The access log's lines (remote/access_log.py): one JSON object per tool call, nothing else on the line,
to the configured file or to stderr, and never arguments or results (a ToolCall holds none)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wrike_mcp.calls import ToolCall
from wrike_mcp.remote.access_log import access_logger, configure_access_log, log_tool_call

CALL = ToolCall(
    at=1_800_000_000.0,
    user="ACC1/USER1",
    client="client-1",
    tool="search_tasks",
    outcome="ok",
    seconds=0.12345,
    wrike_requests=2,
)


@pytest.fixture(autouse=True)
def restore_logger() -> Iterator[None]:
    handlers, level, propagate = access_logger.handlers[:], access_logger.level, access_logger.propagate
    try:
        yield
    finally:
        for handler in access_logger.handlers:
            handler.close()
        access_logger.handlers[:] = handlers
        access_logger.setLevel(level)
        access_logger.propagate = propagate


def test_one_json_line_per_call_in_the_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "access.log"
    configure_access_log(path)
    configure_access_log(path)  # configured again (a second app in one process): still one line per call
    before = datetime.now(UTC)
    log_tool_call(CALL)
    log_tool_call(replace(CALL, user=None, outcome="error", seconds=2.0))
    after = datetime.now(UTC)
    first, second = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    logged_at = datetime.fromisoformat(first.pop("time"))
    assert before - timedelta(milliseconds=1) <= logged_at <= after
    assert logged_at.utcoffset() == timedelta(0)
    assert first == {
        "user": "ACC1/USER1",
        "client": "client-1",
        "tool": "search_tasks",
        "outcome": "ok",
        "duration_ms": 123.5,
        "wrike_requests": 2,
    }
    assert (second["user"], second["outcome"], second["duration_ms"]) == (None, "error", 2000.0)
    assert caplog.records == []  # not propagated to the application's own log


def test_time_has_milliseconds(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    configure_access_log(path)
    log_tool_call(CALL)
    stamp = json.loads(path.read_text(encoding="utf-8"))["time"]
    assert len(stamp) == len("2026-12-05T03:30:00.123+00:00")
    assert stamp.endswith("+00:00")


def test_without_a_file_the_lines_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_access_log(None)
    log_tool_call(CALL)
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert json.loads(line)["tool"] == "search_tasks"
