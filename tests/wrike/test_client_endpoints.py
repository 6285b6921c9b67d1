"""Every endpoint family the tools use, against the sandbox, parsed into the models."""

from __future__ import annotations

from datetime import date

import pytest

from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.errors import ResourceNotFound
from wrike_mcp.wrike.models import (
    Account,
    AuditLogEvent,
    Comment,
    Contact,
    CustomField,
    Dependency,
    Folder,
    IdMapping,
    Space,
    Task,
    Timelog,
    Workflow,
)


async def test_contacts_and_me(client: WrikeClient) -> None:
    contacts = [Contact.model_validate(item) for item in await client.get("/contacts")]
    names = {c.name for c in contacts}
    assert {"Ann Lee", "Ben Carter", "Sam Taylor", "Sam Turner"} <= names
    me = Contact.model_validate(await client.get_one("/contacts", {"me": True}))
    assert me.name == "Ann Lee" and me.email
    ids = [c.id for c in contacts[:3]]
    assert [c["id"] for c in await client.get_many("/contacts/{ids}", list(reversed(ids)))] == ids[::-1]


async def test_account(client: WrikeClient) -> None:
    account = Account.model_validate(await client.get_one("/account"))
    assert account.name and account.root_folder_id and account.recycle_bin_id


async def test_spaces_and_folders(client: WrikeClient) -> None:
    spaces = [Space.model_validate(item) for item in await client.get("/spaces")]
    assert {"Marketing", "Engineering", "Operations"} <= {s.title for s in spaces}
    tree = [Folder.model_validate(item) for item in await client.get("/folders")]
    titles = {f.title for f in tree}
    assert {"Campaigns", "Q3 Launch", "API Revamp"} <= titles
    q3 = next(f for f in tree if f.title == "Q3 Launch")
    full = Folder.model_validate(await client.get_one(f"/folders/{q3.id}"))
    assert full.project is not None and full.project.owner_ids
    assert full.permalink and full.workflow_id
    children = await client.get(f"/folders/{q3.id}/folders")
    assert children
    marketing = next(s for s in spaces if s.title == "Marketing")
    assert await client.get(f"/spaces/{marketing.id}/folders")


async def test_task_crud_and_recycle_bin(client: WrikeClient) -> None:
    tree = await client.get("/folders")
    q3 = next(f for f in tree if f["title"] == "Q3 Launch")
    created = Task.model_validate(
        (
            await client.post(
                f"/folders/{q3['id']}/tasks",
                {
                    "title": "Client test task",
                    "description": "<p>made by the client tests</p>",
                    "importance": "High",
                    "dates": {"type": "Planned", "start": "2026-01-05", "due": "2026-01-09"},
                },
            )
        )[0]
    )
    assert created.title == "Client test task" and created.importance == "High"
    assert created.dates is not None and created.dates.due and created.dates.due.startswith("2026-01-09")
    assert q3["id"] in created.parent_ids

    me = await client.get_one("/contacts", {"me": True})
    changes = {"title": "Renamed", "addResponsibles": [me["id"]]}
    updated = Task.model_validate((await client.put(f"/tasks/{created.id}", changes))[0])
    assert updated.title == "Renamed" and me["id"] in updated.responsible_ids

    fetched = Task.model_validate(await client.get_one(f"/tasks/{created.id}"))
    assert fetched.title == "Renamed" and fetched.permalink

    deleted = Task.model_validate((await client.delete(f"/tasks/{created.id}"))[0])
    assert deleted.scope == "RbTask"
    listed = await client.get(f"/folders/{q3['id']}/tasks")
    assert created.id not in {t["id"] for t in listed}
    restored = Task.model_validate((await client.put(f"/tasks/{created.id}", {"restore": True}))[0])
    assert restored.scope == "WsTask"


async def test_tasks_by_id_and_fields(client: WrikeClient) -> None:
    tasks = await client.get("/tasks", {"fields": ["responsibleIds", "parentIds"], "limit": 5})
    assert len(tasks) == 5 and all("responsibleIds" in t for t in tasks)
    by_id = await client.get_many("/tasks/{ids}", [t["id"] for t in tasks])
    assert [t["id"] for t in by_id] == [t["id"] for t in tasks]
    for item in by_id:
        Task.model_validate(item)


async def test_comments(client: WrikeClient) -> None:
    task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]
    before = await client.get(f"/tasks/{task['id']}/comments")
    added = Comment.model_validate(
        (await client.post(f"/tasks/{task['id']}/comments", {"text": "Looks good"}))[0]
    )
    assert added.task_id == task["id"]
    after = [Comment.model_validate(c) for c in await client.get(f"/tasks/{task['id']}/comments")]
    assert len(after) == len(before) + 1
    # [live] Wrike answers a comment's DELETE with an empty data list; a later read finds nothing.
    assert await client.delete(f"/comments/{added.id}") == []
    with pytest.raises(ResourceNotFound):
        await client.get(f"/comments/{added.id}")


async def test_timelogs(client: WrikeClient) -> None:
    task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]
    logged = Timelog.model_validate(
        (
            await client.post(
                f"/tasks/{task['id']}/timelogs",
                {"hours": 1.5, "trackedDate": date.today().isoformat(), "comment": "drafting"},
            )
        )[0]
    )
    assert logged.hours == 1.5 and logged.task_id == task["id"]
    logs = [Timelog.model_validate(t) for t in await client.get(f"/tasks/{task['id']}/timelogs")]
    assert logged.id in {t.id for t in logs}


async def test_workflows_and_custom_fields(client: WrikeClient) -> None:
    workflows = [Workflow.model_validate(w) for w in await client.get("/workflows")]
    software = next(w for w in workflows if w.name == "Software Development")
    assert {"Backlog", "In Progress", "Done"} <= {s.name for s in software.custom_statuses}
    assert all(s.group in ("Active", "Completed", "Deferred", "Cancelled") for s in software.custom_statuses)
    fields = [CustomField.model_validate(f) for f in await client.get("/customfields")]
    assert fields and all(f.title for f in fields)


async def test_legacy_ids(client: WrikeClient) -> None:
    task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]
    full = await client.get_one(f"/tasks/{task['id']}")
    legacy = full["permalink"].rsplit("=", 1)[1]
    mapping = IdMapping.model_validate(await client.get_one("/ids", {"type": "ApiV2Task", "ids": [legacy]}))
    assert mapping.id == task["id"] and str(mapping.api_v2_id) == legacy


async def test_dependencies(client: WrikeClient) -> None:
    tasks = await client.get("/tasks", {"fields": ["dependencyIds"]})
    with_deps = [t for t in tasks if t.get("dependencyIds")]
    assert with_deps, "the seed has dependencies"
    dependency = Dependency.model_validate(
        await client.get_one(f"/dependencies/{with_deps[0]['dependencyIds'][0]}")
    )
    assert dependency.predecessor_id and dependency.successor_id


async def test_audit_log_pages(client: WrikeClient) -> None:
    events = [
        AuditLogEvent.model_validate(item)
        async for page in client.iter_pages("/audit_log", page_size=10)
        for item in page.items
    ]
    assert any(e.operation == "Oauth2AccessGranted" for e in events)
    assert len({e.id for e in events}) == len(events)


async def test_task_paging_to_the_end(client: WrikeClient) -> None:
    pages = [page async for page in client.iter_pages("/tasks", page_size=37)]
    ids = [item["id"] for page in pages for item in page.items]
    assert len(pages) > 1 and pages[-1].next_page_token is None
    assert len(ids) == len(set(ids))
    assert pages[0].response_size == len(ids)
    assert len(ids) == len(await client.get("/tasks"))


async def test_get_one_of_nothing_is_not_found(client: WrikeClient) -> None:
    with pytest.raises(ResourceNotFound):
        await client.get_one("/tasks", {"title": "no task has this title"})
