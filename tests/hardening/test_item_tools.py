"""Attachments, approvals and dependencies under bad input and upstream faults (the live sandbox).

Bad input is refused with a short, actionable first line before any write (most before any request at all);
an upload is a write like any other: sent once, an ambiguous failure reported as an unknown outcome; a file
download is a read: retried within its bounds.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client

from tests.hardening.helpers import (
    FIRST_LINE_MAX,
    MAX_RETRIES,
    add_fault,
    control,
    first_line,
    make_client,
    make_server,
    requests_to,
    text_of,
)
from wrike_mcp.sandbox.serve import BackgroundSandbox

WRITES = ("POST", "PUT", "DELETE")


@dataclass(frozen=True)
class Case:
    id: str
    tool: str
    arguments: dict[str, Any]
    expected: str  # in the first line
    requests: bool = False  # whether it may read Wrike before refusing (never write)


def ids(sandbox: BackgroundSandbox) -> dict[str, str]:
    state = sandbox.app.state.sandbox
    tasks = {t.title: t.id for t in state.tasks.values() if not t.deleted}
    files = {a.name: a.id for a in state.attachments.values()}
    return {
        "press": tasks["Approve press kit"],
        "venue": tasks["Book launch venue"],
        "png": files["login-screen.png"],
    }


TEN_MB = base64.b64encode(b"\0" * (10 * 1024 * 1024)).decode()
CASES = [
    Case(
        "I01-attachment-10MB",
        "add_attachment",
        {"task": "{venue}", "name": "big.bin", "base64": TEN_MB},
        "limited to 5 MB",
    ),
    Case(
        "I02-attachment-path-in-name",
        "add_attachment",
        {"task": "{venue}", "name": "../../etc/passwd", "text": "x"},
        "bare file name",
    ),
    Case(
        "I03-attachment-header-injection",
        "add_attachment",
        {"task": "{venue}", "name": "a.txt\r\nX-Injected: 1", "text": "x"},
        "control or invisible characters",
    ),
    Case(
        "I04-attachment-text-and-base64",
        "add_attachment",
        {"task": "{venue}", "name": "a.txt", "text": "x", "base64": "eA=="},
        "exactly one of text or base64",
    ),
    Case(
        "I05-read-binary",
        "read_attachment",
        {"attachment": "{png}"},
        "is not a text file",
        requests=True,
    ),
    Case(
        "I06-read-path-as-id",
        "read_attachment",
        {"attachment": "../tasks"},
        "attachment",
    ),
    Case(
        "I07-dependency-on-itself",
        "add_dependency",
        {"predecessor": "{press}", "successor": "{press}"},
        "cannot depend on itself",
    ),
    Case(
        "I08-no-dependency-to-remove",
        "remove_dependency",
        {"predecessor": "{venue}", "successor": "{press}"},
        "does not depend on task",
        requests=True,
    ),
    Case(
        "I09-approvals-task-and-folder",
        "list_approvals",
        {"task": "{press}", "folder": "Marketing"},
        "not both",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_bad_input_is_refused_before_any_write(case: Case, sandbox: BackgroundSandbox) -> None:
    known = ids(sandbox)
    arguments = {
        key: value.format(**known) if isinstance(value, str) and value.startswith("{") else value
        for key, value in case.arguments.items()
    }
    async with make_client(sandbox) as wrike, Client(make_server(wrike)) as client:
        control(sandbox, "DELETE", "requests")
        result = await client.call_tool(case.tool, arguments)
    assert result.is_error, text_of(result)
    line = first_line(result)
    assert case.expected in line and len(line) < FIRST_LINE_MAX, line
    logged = [e for e in control(sandbox, "GET", "requests") if "/api/v4" in e["path"]]
    assert not [e for e in logged if e["method"] in WRITES], logged
    if not case.requests:
        assert logged == [], logged
    assert not [e for e in logged if e["path"].endswith("/download")], "a download before the checks"


async def test_an_upload_that_fails_ambiguously_is_sent_once(sandbox: BackgroundSandbox) -> None:
    venue = ids(sandbox)["venue"]
    path = f"/api/v4/tasks/{venue}/attachments"
    async with make_client(sandbox) as wrike, Client(make_server(wrike)) as client:
        add_fault(sandbox, method="POST", path=path, status=502, apply=True, times=10)
        result = await client.call_tool(
            "add_attachment", {"task": venue, "name": "venue.txt", "text": "Hall A"}
        )
    line = first_line(result)
    assert result.is_error and "outcome unknown: POST" in line and len(line) < FIRST_LINE_MAX, line
    assert len(requests_to(sandbox, "POST", path)) == 1, "an upload must reach Wrike exactly once"
    names = [a.name for a in sandbox.app.state.sandbox.attachments.values()]
    assert names.count("venue.txt") == 1  # applied once, never repeated


async def test_a_download_is_retried_like_any_read(sandbox: BackgroundSandbox) -> None:
    state = sandbox.app.state.sandbox
    brief = next(a for a in state.attachments.values() if a.name == "launch-brief.md")
    path = f"/api/v4/attachments/{brief.id}/download"
    async with make_client(sandbox) as wrike, Client(make_server(wrike)) as client:
        add_fault(sandbox, method="GET", path=path, status=503, times=1)
        result = await client.call_tool("read_attachment", {"attachment": brief.id})
        assert not result.is_error, text_of(result)
        control(sandbox, "DELETE", "requests")
        add_fault(sandbox, method="GET", path=path, status=503, times=10)
        failed = await client.call_tool("read_attachment", {"attachment": brief.id})
    assert failed.is_error and "server error (503)" in first_line(failed)
    assert len(requests_to(sandbox, "GET", path)) == MAX_RETRIES + 1
