"""Permalinks (`open.htm?id=`) resolve through Wrike's documented exact-match `permalink` filter on
`GET /tasks` and `GET /folders`, for items with short (2025) and classic ids alike; `GET /ids` converts the
number only when the filter finds nothing. In both protocol eras, with the request log checked."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import call, requests_log
from wrike_mcp.sandbox import SandboxState

SHORT = re.compile(r"^[A-Za-z0-9_-]{12}$")
CLASSIC = re.compile(r"^[A-Z0-9]{16}$")


def live_task(state: SandboxState, pattern: re.Pattern[str], *, subtask: bool = False) -> Any:
    return next(
        t
        for t in state.tasks.values()
        if not t.deleted and pattern.match(t.id) and bool(t.super_task_ids) == subtask
    )


def live_folder(state: SandboxState, pattern: re.Pattern[str]) -> Any:
    return next(
        f
        for f in state.folders.values()
        if not f.deleted and f.space is None and f.project is None and pattern.match(f.id) and f.parent_ids
    )


def lookups(log: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The requests that turned a permalink into an id: permalink filters and /ids conversions."""
    return [
        (str(e["path"]).removeprefix("/api/v4"), e["query"])
        for e in log
        if "permalink" in e["query"] or str(e["path"]).endswith("/ids")
    ]


@pytest.mark.parametrize("shape", [SHORT, CLASSIC], ids=["short", "classic"])
async def test_task_permalinks_resolve_by_the_permalink_filter(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState, shape: re.Pattern[str]
) -> None:
    for subtask in (False, True):
        task = live_task(sandbox_state, shape, subtask=subtask)
        before = len(await requests_log(sandbox_http))
        got = await call(mcp, "get_task", task=task.permalink)
        assert got["id"] == task.id and got["title"] == task.title
        made = lookups((await requests_log(sandbox_http))[before:])
        # One filtered query, subtasks included (Wrike leaves them out of account-wide queries by default).
        assert made == [("/tasks", {"permalink": task.permalink, "subTasks": "true"})]


@pytest.mark.parametrize("shape", [SHORT, CLASSIC], ids=["short", "classic"])
async def test_folder_permalinks_resolve_by_the_permalink_filter(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState, shape: re.Pattern[str]
) -> None:
    folder = live_folder(sandbox_state, shape)
    before = len(await requests_log(sandbox_http))
    got = await call(mcp, "get_folder", folder=folder.permalink)
    assert got["id"] == folder.id
    assert lookups((await requests_log(sandbox_http))[before:]) == [
        ("/folders", {"permalink": folder.permalink})
    ]


async def test_a_bare_permalink_number_and_a_regional_link_use_the_same_filter(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    task = live_task(sandbox_state, SHORT)
    number = task.permalink.rsplit("=", 1)[1]
    for ref in (number, f"https://app-eu.wrike.com/open.htm?id={number}"):
        before = len(await requests_log(sandbox_http))
        assert (await call(mcp, "get_task", task=ref))["id"] == task.id
        made = lookups((await requests_log(sandbox_http))[before:])
        assert made == [("/tasks", {"permalink": task.permalink, "subTasks": "true"})]


async def test_ids_converts_the_number_only_when_the_filter_finds_nothing(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    task = live_task(sandbox_state, CLASSIC)
    # A Wrike that refuses the filter once (as an account without it might): the number goes through /ids.
    fault = {"method": "GET", "path": "/api/v4/tasks", "status": 400, "times": 1}
    assert (await sandbox_http.post("/_sandbox/faults", json=fault)).status_code == 200
    before = len(await requests_log(sandbox_http))
    assert (await call(mcp, "get_task", task=task.permalink))["id"] == task.id
    made = lookups((await requests_log(sandbox_http))[before:])
    number = task.permalink.rsplit("=", 1)[1]
    assert [path for path, _ in made] == ["/tasks", "/ids"]
    assert made[1][1]["type"] == "ApiV2Task" and number in str(made[1][1]["ids"])


async def test_a_subtask_s_title_is_looked_up_with_subtasks_said_out_loud(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    """Whether account-wide GET /tasks includes subtasks by default is undocumented: the title lookup asks."""
    titles = [t.title for t in sandbox_state.tasks.values() if not t.deleted]
    sub = next(t for t in sandbox_state.tasks.values() if t.super_task_ids and titles.count(t.title) == 1)
    before = len(await requests_log(sandbox_http))
    assert (await call(mcp, "get_task", task=sub.title))["id"] == sub.id
    searches = [e for e in (await requests_log(sandbox_http))[before:] if e["path"] == "/api/v4/tasks"]
    assert [(e["query"]["title"], e["query"]["subTasks"]) for e in searches] == [(sub.title, "true")]
