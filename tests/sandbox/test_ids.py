"""Both kinds of Wrike id: classic 16-character ones and the short 12-character ones of 2025 and later."""

from __future__ import annotations

import base64
import re

import httpx

from tests.sandbox.sandbox_helpers import folder_id, task_id
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.sandbox.state import Folder, Task

CLASSIC = re.compile(r"^[A-Z0-9]{16}$")
SHORT = re.compile(r"^[A-Za-z0-9_-]{12}$")


def test_the_seed_holds_both_kinds_decided_by_creation_date(state: SandboxState) -> None:
    tasks = list(state.tasks.values())
    short_tasks = [t for t in tasks if SHORT.match(t.id)]
    assert short_tasks and len(short_tasks) < len(tasks)
    assert all(CLASSIC.match(t.id) for t in tasks if t not in short_tasks)
    # Short exactly for what was created after the switch, whatever the kind.
    items: list[Task | Folder] = [*tasks, *state.folders.values()]
    for item in items:
        assert bool(SHORT.match(item.id)) == (item.created >= state.short_ids_since), item.title
    operations = state.folders[folder_id(state, "Operations")]
    project = state.folders[folder_id(state, "Operations/Office Move")]
    marketing = state.folders[folder_id(state, "Marketing")]
    assert SHORT.match(operations.id) and operations.id.startswith("MQAAAAE")
    assert SHORT.match(project.id) and project.project is not None
    assert CLASSIC.match(marketing.id)
    assert all(t.id.startswith("MAAAAAE") for t in short_tasks)


def test_short_ids_carry_the_permalink_number(state: SandboxState) -> None:
    """The samples decode to a kind byte and a 64-bit number; the sandbox puts the legacy id there."""
    task = next(t for t in state.tasks.values() if SHORT.match(t.id))
    raw = base64.urlsafe_b64decode(task.id)
    assert raw[0] == 0x30 and int.from_bytes(raw[1:], "big") == task.legacy_id
    assert task.permalink == f"https://www.wrike.com/open.htm?id={task.legacy_id}"


def test_seed_ids_are_the_same_on_every_reset(state: SandboxState) -> None:
    before = (list(state.tasks), list(state.folders))
    state.reset()
    assert (list(state.tasks), list(state.folders)) == before


async def test_new_tasks_and_folders_get_short_ids_others_stay_classic(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    parent = folder_id(state, "Marketing/Campaigns")
    folder = (await api.post(f"/folders/{parent}/folders", json={"title": "Fresh"})).json()["data"][0]
    task = (await api.post(f"/folders/{folder['id']}/tasks", json={"title": "Fresh task"})).json()["data"][0]
    assert SHORT.match(folder["id"]) and folder["id"].startswith("MQAAAAE")
    assert SHORT.match(task["id"]) and task["id"].startswith("MAAAAAE")
    comment = (await api.post(f"/tasks/{task['id']}/comments", json={"text": "hi"})).json()["data"][0]
    assert CLASSIC.match(comment["id"])  # only tasks, folders and spaces are known to have changed
    read = (await api.get(f"/tasks/{task['id']}")).json()["data"][0]
    assert read["title"] == "Fresh task"
    assert (await api.get(f"/folders/{folder['id']}/tasks")).json()["data"][0]["id"] == task["id"]


async def test_ids_converts_legacy_numbers_of_both_kinds(api: httpx.AsyncClient, state: SandboxState) -> None:
    short = state.tasks[task_id(state, "Finalize launch checklist")]
    classic = state.tasks[task_id(state, "Draft launch announcement")]
    assert SHORT.match(short.id) and CLASSIC.match(classic.id)
    converted = await api.get(
        "/ids", params={"type": "ApiV2Task", "ids": f'["{short.legacy_id}","{classic.legacy_id}"]'}
    )
    assert converted.json()["data"] == [
        {"id": short.id, "apiV2Id": str(short.legacy_id)},
        {"id": classic.id, "apiV2Id": str(classic.legacy_id)},
    ]
    space = state.folders[folder_id(state, "Operations")]
    folders = await api.get("/ids", params={"type": "ApiV2Folder", "ids": f'["{space.legacy_id}"]'})
    assert folders.json()["data"] == [{"id": space.id, "apiV2Id": str(space.legacy_id)}]
