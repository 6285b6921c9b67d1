"""Dependencies and blueprints created since Wrike's 2025-07 id change have ids of up to 256 letters, digits
and `-_:.=` (wrike-api-notes §4.8). The sandbox seeds both kinds; the tools taking dependency and blueprint
references take them, in both protocol eras."""

from __future__ import annotations

import re

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import api_calls, call, call_error
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.tools import blueprints

CLASSIC = re.compile(r"^[A-Z0-9]{16}$")
NEW_FORMAT = re.compile(r"^[A-Za-z0-9\-_:.=]{1,256}$")
Q3 = "Marketing/Campaigns/Q3 Launch"


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blueprints, "POLL_DELAYS", (0.01,))


def _new_format(ident: str) -> bool:
    return bool(NEW_FORMAT.match(ident)) and not CLASSIC.match(ident) and bool(re.search(r"[:.=]", ident))


def test_the_seed_has_both_kinds(sandbox_state: SandboxState) -> None:
    for table in (sandbox_state.dependencies, sandbox_state.blueprints):
        kinds = {_new_format(ident) for ident in table}
        assert kinds == {True, False}, "classic and new-format ids side by side"


async def test_a_new_format_dependency_is_shown_and_removed(
    mcp: Client, sandbox_state: SandboxState, sandbox_http: httpx.AsyncClient
) -> None:
    link = next(d for d in sandbox_state.dependencies.values() if _new_format(d.id))
    shown = await call(mcp, "get_task", task=link.successor_id)  # its links are read by the new id
    assert link.predecessor_id in str(shown)
    removed = await call(
        mcp, "remove_dependency", predecessor=link.predecessor_id, successor=link.successor_id
    )
    assert removed["removed"] is True and link.id not in sandbox_state.dependencies
    assert (await api_calls(sandbox_http))[-1] == ("DELETE", f"/api/v4/dependencies/{link.id}")


async def test_a_dependency_added_now_gets_a_new_format_id(mcp: Client, sandbox_state: SandboxState) -> None:
    tasks = [t for t in sandbox_state.tasks.values() if not t.deleted and t.dates.type == "Planned"]
    linked = {(d.predecessor_id, d.successor_id) for d in sandbox_state.dependencies.values()}
    first, then = next(
        (a, b)
        for a in tasks
        for b in tasks
        if a.id != b.id
        and (a.id, b.id) not in linked
        and (b.id, a.id) not in linked
        and a.parent_ids == b.parent_ids
    )
    added = await call(mcp, "add_dependency", predecessor=first.id, successor=then.id)
    assert _new_format(added["id"]) and added["id"] in sandbox_state.dependencies


async def test_a_new_format_blueprint_is_listed_and_launched(
    mcp: Client, sandbox_state: SandboxState
) -> None:
    bug = next(b for b in sandbox_state.blueprints.values() if b.title == "Bug report")
    assert _new_format(bug.id)
    listed = await call(mcp, "list_blueprints", kind="task")
    assert bug.id in {item["id"] for item in listed["items"]}
    launched = await call(mcp, "launch_blueprint", blueprint=bug.id, parent=Q3, title="Bug: new ids")
    assert launched["status"] == "completed"
    assert any(t.title == "Bug: new ids" for t in sandbox_state.tasks.values())


async def test_a_long_unknown_new_format_reference_is_not_found_not_refused(mcp: Client) -> None:
    long_id = ("w:blueprint.Z9-_" * 16)[:255] + "="
    assert len(long_id) == 256 and NEW_FORMAT.match(long_id)
    message = await call_error(mcp, "launch_blueprint", blueprint=long_id, parent=Q3, title="Never")
    assert "not found" in message.lower() or "no blueprint" in message.lower(), message
    other = long_id[:-2] + ".="
    dependency_message = await call_error(mcp, "remove_dependency", predecessor=long_id, successor=other)
    assert "not found" in dependency_message.lower(), dependency_message
