"""A write the sandbox refuses changes nothing: routes check every parameter before the backend changes anything."""

from __future__ import annotations

import copy

import httpx

from tests.sandbox.sandbox_helpers import folder_id, task_id
from wrike_mcp.sandbox import SandboxState


async def test_a_task_update_with_bad_metadata_changes_nothing(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    task = state.tasks[task_id(state, "Draft launch announcement")]
    before = copy.deepcopy(task)
    refused = await api.put(
        f"/tasks/{task.id}",
        json={"title": "Renamed", "importance": "Low", "metadata": [{"key": "team", "value": 3}]},
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_parameter"
    assert "metadata.value" in refused.json()["errorDescription"]
    assert task == before


async def test_a_folder_update_with_bad_metadata_changes_nothing(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    folder = state.folders[folder_id(state, "Marketing/Campaigns/Q3 Launch")]
    before = copy.deepcopy(folder)
    refused = await api.put(
        f"/folders/{folder.id}",
        json={"title": "Renamed", "description": "new", "metadata": [{"value": "no key"}]},
    )
    assert refused.status_code == 400
    assert "metadata.key" in refused.json()["errorDescription"]
    assert folder == before


async def test_metadata_entries_apply_in_order_and_null_removes(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    task = state.tasks[task_id(state, "Draft launch announcement")]
    entries = [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}, {"key": "a", "value": None}]
    updated = await api.put(f"/tasks/{task.id}", json={"metadata": entries})
    assert updated.status_code == 200
    assert updated.json()["data"][0]["metadata"] == [{"key": "b", "value": "2"}]
