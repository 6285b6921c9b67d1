"""`wrike-mcp sandbox --plan team`: what a Team-plan account refuses (403 not_allowed), and that the default
(Enterprise) plan refuses none of it."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import folder_id, task_id
from wrike_mcp.cli import build_parser
from wrike_mcp.sandbox import SandboxConfig, SandboxState

Q3 = "Marketing/Campaigns/Q3 Launch"


def refused_by_plan(response: httpx.Response, words: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == "not_allowed" and words in body["errorDescription"]
    assert "Team plan" in body["errorDescription"]


async def test_team_plan_refuses_status_on_task_create_and_update(
    team: httpx.AsyncClient, team_app: Starlette
) -> None:
    state: SandboxState = team_app.state.sandbox
    folder = folder_id(state, Q3)
    created = await team.post(f"/folders/{folder}/tasks", data={"title": "Plan check", "status": "Completed"})
    refused_by_plan(created, "'status'")
    assert not any(t.title == "Plan check" for t in state.tasks.values())  # nothing was created
    task = task_id(state, "Book launch venue")
    before = state.tasks[task].status
    updated = await team.put(f"/tasks/{task}", data={"status": "Completed"})
    refused_by_plan(updated, "'status'")
    assert state.tasks[task].status == before


async def test_team_plan_accepts_custom_status(team: httpx.AsyncClient, team_app: Starlette) -> None:
    state: SandboxState = team_app.state.sandbox
    task = task_id(state, "Book launch venue")
    completed = state.task_workflow(state.tasks[task]).default_status("Completed")
    updated = await team.put(f"/tasks/{task}", data={"customStatus": completed.id})
    assert updated.status_code == 200 and updated.json()["data"][0]["status"] == "Completed"
    folder = folder_id(state, Q3)
    created = await team.post(f"/folders/{folder}/tasks", data={"title": "Plan check"})
    assert created.status_code == 200


async def test_team_plan_refuses_time_logging_and_account_comments(
    team: httpx.AsyncClient, team_app: Starlette
) -> None:
    state: SandboxState = team_app.state.sandbox
    task = task_id(state, "Book launch venue")
    form = {"hours": "1.5", "trackedDate": state.today.isoformat(), "comment": "venue calls"}
    refused_by_plan(await team.post(f"/tasks/{task}/timelogs", data=form), "Time tracking")
    refused_by_plan(await team.get("/comments"), "comment")
    # what live Wrike still served on such an account: a task's comments, time log reads
    assert (await team.get(f"/tasks/{task}/comments")).status_code == 200
    assert (await team.get(f"/tasks/{task}/timelogs")).status_code == 200
    account = await team.get("/account", params={"fields": '["subscription"]'})
    assert account.json()["data"][0]["subscription"]["type"] == "Team"


async def test_default_plan_allows_all_of_it(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Book launch venue")
    assert (await api.put(f"/tasks/{task}", data={"status": "Completed"})).status_code == 200
    form = {"hours": "1", "trackedDate": state.today.isoformat(), "comment": "venue calls"}
    assert (await api.post(f"/tasks/{task}/timelogs", data=form)).status_code == 200
    assert (await api.get("/comments")).status_code == 200


def test_plan_is_a_cli_flag_and_checked() -> None:
    assert build_parser().parse_args(["sandbox", "--plan", "team"]).plan == "team"
    assert build_parser().parse_args(["sandbox"]).plan == "enterprise"
    with pytest.raises(ValueError, match="unknown sandbox plan"):
        SandboxConfig(plan="free")
