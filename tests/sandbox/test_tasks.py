"""Task queries, paging, by-id reads, writes, status consistency, recycle bin, subtasks, dependencies."""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx

from tests.sandbox.sandbox_helpers import contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.sandbox.state import Task


async def test_seed_guarantees(api: httpx.AsyncClient, state: SandboxState) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    diego = contact_id(state, "Diego Alvarez")
    today = date.today()
    overdue = (
        await api.get(
            f"/folders/{q3}/tasks",
            params={
                "responsibles": diego,
                "status": "Active",
                "dueDate": json.dumps({"end": str(today - timedelta(days=1))}),
            },
        )
    ).json()["data"]
    assert len(overdue) >= 3
    assert len((await api.get("/tasks", params={"title": "Draft launch announcement"})).json()["data"]) == 1
    weekly = [t for t in state.tasks.values() if t.title == "Weekly sync notes"]
    assert len(weekly) == 2 and weekly[0].parent_ids != weekly[1].parent_ids
    for sam in ("Sam Taylor", "Sam Turner"):
        assert (await api.get("/tasks", params={"responsibles": f'["{contact_id(state, sam)}"]'})).json()[
            "data"
        ]
    assert len(state.tasks) >= 300
    assert {t.status for t in state.tasks.values()} == {"Active", "Completed", "Deferred", "Cancelled"}
    assert any("\u200b" in t.description for t in state.tasks.values())
    assert any("Ignore previous instructions" in t.description for t in state.tasks.values())


async def test_compact_list_and_fields(api: httpx.AsyncClient) -> None:
    compact = (await api.get("/tasks", params={"limit": "5"})).json()["data"]
    assert len(compact) == 5
    assert all("description" not in t and "responsibleIds" not in t for t in compact)
    assert {"id", "title", "status", "importance", "dates", "scope", "customStatusId", "permalink"} <= set(
        compact[0]
    )
    extended = (
        await api.get("/tasks", params={"limit": "5", "fields": '["responsibleIds","description"]'})
    ).json()
    assert all("responsibleIds" in t and "description" in t for t in extended["data"])


async def test_default_sort_is_updated_desc(api: httpx.AsyncClient) -> None:
    tasks = (await api.get("/tasks")).json()["data"]
    stamps = [t["updatedDate"] for t in tasks]
    assert stamps == sorted(stamps, reverse=True)
    by_title = (await api.get("/tasks", params={"sortField": "Title"})).json()["data"]
    titles = [t["title"].casefold() for t in by_title]
    assert titles == sorted(titles)
    by_due = (await api.get("/tasks", params={"sortField": "DueDate", "sortOrder": "Desc"})).json()["data"]
    dues = [t["dates"]["due"] for t in by_due if "due" in t["dates"]]
    assert dues == sorted(dues, reverse=True) and "due" not in by_due[-1]["dates"]


async def test_status_filter_forms(api: httpx.AsyncClient, state: SandboxState) -> None:
    live = [t for t in state.tasks.values() if not t.deleted]
    expected = sum(1 for t in live if t.status in ("Completed", "Cancelled"))
    for value in ('["Completed","Cancelled"]', "Completed,Cancelled"):
        assert len((await api.get("/tasks", params={"status": value})).json()["data"]) == expected
    bare = (await api.get("/tasks", params={"status": "Deferred"})).json()["data"]
    assert bare and all(t["status"] == "Deferred" for t in bare)


async def test_other_filters(api: httpx.AsyncClient, state: SandboxState) -> None:
    high = (await api.get("/tasks", params={"importance": "High"})).json()["data"]
    assert high and all(t["importance"] == "High" for t in high)
    title = (await api.get("/tasks", params={"title": "Draft launch announcement"})).json()["data"]
    assert [t["title"] for t in title] == ["Draft launch announcement"]
    milestones = (await api.get("/tasks", params={"type": "Milestone"})).json()["data"]
    assert milestones and all(t["dates"]["type"] == "Milestone" for t in milestones)
    task = state.tasks[task_id(state, "Draft launch announcement")]
    by_link = (await api.get("/tasks", params={"permalink": task.permalink})).json()["data"]
    assert [t["id"] for t in by_link] == [task.id]
    author = contact_id(state, "Ben Carter")
    authored = (await api.get("/tasks", params={"authors": author, "fields": '["authorIds"]'})).json()["data"]
    assert authored and all(t["authorIds"] == [author] for t in authored)
    review = next(s.id for w in state.workflows.values() for s in w.statuses if s.name == "In Review")
    in_review = (await api.get("/tasks", params={"customStatuses": f'["{review}"]'})).json()["data"]
    assert in_review and all(t["customStatusId"] == review for t in in_review)
    budget = next(f.id for f in state.custom_fields.values() if f.title == "Budget")
    rich = await api.get(
        "/tasks",
        params={"customField": json.dumps({"id": budget, "comparator": "GreaterThan", "value": "5000"})},
    )
    assert rich.json()["data"]
    week = (date.today() - timedelta(days=7)).isoformat() + "T00:00:00Z"
    recent = (await api.get("/tasks", params={"updatedDate": json.dumps({"start": week})})).json()["data"]
    assert all(t["updatedDate"] >= week for t in recent)


async def test_paging_to_the_end(api: httpx.AsyncClient, state: SandboxState) -> None:
    total = sum(1 for t in state.tasks.values() if not t.deleted)
    seen: list[str] = []
    params: dict[str, str] = {"pageSize": "100", "fields": '["responsibleIds"]'}
    pages = 0
    while True:
        body = (await api.get("/tasks", params=params)).json()
        pages += 1
        assert body["responseSize"] == total
        assert all("responsibleIds" in t for t in body["data"])
        seen += [t["id"] for t in body["data"]]
        if "nextPageToken" not in body:
            break
        # The token alone determines the query: other parameters are ignored.
        params = {"nextPageToken": body["nextPageToken"], "status": "Cancelled"}
    assert pages == -(-total // 100)
    assert len(seen) == len(set(seen)) == total
    bad = await api.get("/tasks", params={"nextPageToken": "nonsense"})
    assert "nextPageToken" in bad.json()["errorDescription"]


async def test_thousand_task_cap(api: httpx.AsyncClient, state: SandboxState) -> None:
    template = next(iter(state.tasks.values()))
    for n in range(800):
        clone = Task(
            id=f"IEAAB2CDKQX{n:05d}",
            legacy_id=900000000 + n,
            title=f"Bulk {n}",
            parent_ids=list(template.parent_ids),
            author_id=template.author_id,
            created=template.created,
            updated=template.updated,
            custom_status_id=template.custom_status_id,
        )
        state.tasks[clone.id] = clone
    assert len((await api.get("/tasks")).json()["data"]) == 1000
    paged = (await api.get("/tasks", params={"pageSize": "1000"})).json()
    assert paged["responseSize"] > 1000 and "nextPageToken" in paged


async def test_folder_and_space_scopes(api: httpx.AsyncClient, state: SandboxState) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    direct = (await api.get(f"/folders/{q3}/tasks", params={"descendants": "false"})).json()["data"]
    with_subtasks = (await api.get(f"/folders/{q3}/tasks", params={"subTasks": "true"})).json()["data"]
    titles = {t["title"] for t in with_subtasks}
    assert "Collect product quotes" in titles and "Collect product quotes" not in {t["title"] for t in direct}
    space = folder_id(state, "Marketing")
    in_space = (await api.get(f"/spaces/{space}/tasks")).json()["data"]
    assert "Draft launch announcement" in {t["title"] for t in in_space}
    assert "Fix crash on login" not in {t["title"] for t in in_space}


async def test_get_by_ids_full_model(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Draft launch announcement")
    full = (await api.get(f"/tasks/{task}")).json()["data"][0]
    for name in (
        "description",
        "briefDescription",
        "parentIds",
        "responsibleIds",
        "authorIds",
        "followerIds",
        "subTaskIds",
        "superTaskIds",
        "dependencyIds",
        "customFields",
        "sharedIds",
        "superParentIds",
    ):
        assert name in full, name
    assert len(full["subTaskIds"]) == 3 and "attachmentCount" not in full
    extra = (await api.get(f"/tasks/{task}", params={"fields": '["attachmentCount","recurrent"]'})).json()[
        "data"
    ][0]
    # The seed attaches launch-brief.md and press-contacts.csv to this task.
    assert extra["attachmentCount"] == 2 and extra["recurrent"] is False
    sub = (await api.get(f"/tasks/{full['subTaskIds'][0]}")).json()["data"][0]
    assert sub["superTaskIds"] == [task] and sub["superParentIds"] == [
        folder_id(state, "Marketing/Campaigns/Q3 Launch")
    ]


async def test_create_task_full(api: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Engineering/Platform/API Revamp")
    sam = contact_id(state, "Sam Turner")
    points = next(f.id for f in state.custom_fields.values() if f.title == "Story Points")
    parent = task_id(state, "Weekly sync notes")
    created = await api.post(
        f"/folders/{folder}/tasks",
        json={
            "title": "Write API changelog",
            "description": "<p>List every change</p>",
            "importance": "High",
            "dates": {"start": "2030-01-07", "due": "2030-01-11T15:00:00"},
            "responsibles": [sam],
            "follow": True,
            "customFields": [{"id": points, "value": "5"}],
            "metadata": [{"key": "source", "value": "test"}],
            "superTasks": [parent],
        },
    )
    task = created.json()["data"][0]
    software = next(w for w in state.workflows.values() if w.name == "Software Development")
    assert task["customStatusId"] == software.default_status("Active").id
    assert task["dates"] == {
        "type": "Planned",
        "duration": 2400,
        "start": "2030-01-07T09:00:00",
        "due": "2030-01-11T15:00:00",
        "workOnWeekends": False,
    }
    assert task["responsibleIds"] == [sam] and task["followedByMe"] is True
    assert task["customFields"] == [{"id": points, "value": "5"}] and task["superTaskIds"] == [parent]
    assert task["authorIds"] == ["KUAAAAAB"] and task["parentIds"] == [folder]
    assert task["permalink"].startswith("https://www.wrike.com/open.htm?id=")


async def test_create_task_validation(api: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    done = next(s for w in state.workflows.values() for s in w.statuses if s.name == "Done")
    for body, name in [
        ({"title": ""}, "title"),
        ({"title": "x", "status": "Active", "customStatus": done.id}, "status"),
        ({"title": "x", "customStatus": "IEAAB2CDJMZZZZZZ"}, "customStatus"),
        ({"title": "x", "responsibles": ["KUAZZZZZ"]}, "responsibles"),
        ({"title": "x", "dates": {"start": "2030-01-05", "due": "2030-01-01"}}, "dates.due"),
        ({"title": "x", "dates": {"due": "tomorrow"}}, "dates.due"),
        ({"title": "x", "customFields": [{"id": "nope", "value": "1"}]}, "customFields"),
        ({"title": "x", "superTasks": ["IEAAB2CDKQZZZZZZ"]}, "superTasks"),
    ]:
        response = await api.post(f"/folders/{folder}/tasks", json=body)
        assert response.status_code == 400, body
        assert f"'{name}'" in response.json()["errorDescription"], (body, response.json())


async def test_status_and_custom_status_stay_consistent(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Fix crash on login")  # in Mobile App: Software Development workflow
    statuses = {
        s.name: s for w in state.workflows.values() if w.name == "Software Development" for s in w.statuses
    }
    done = (await api.put(f"/tasks/{task}", json={"customStatus": statuses["Done"].id})).json()["data"][0]
    assert done["status"] == "Completed" and "completedDate" in done
    blocked = (await api.put(f"/tasks/{task}", data={"status": "Deferred"})).json()["data"][0]
    assert blocked["customStatusId"] == statuses["Blocked"].id and "completedDate" not in blocked
    active = (await api.put(f"/tasks/{task}", data={"status": "Active"})).json()["data"][0]
    assert active["customStatusId"] == statuses["Backlog"].id


async def test_update_deltas(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Draft launch announcement")
    chloe, sam = contact_id(state, "Chloe Martin"), contact_id(state, "Sam Taylor")
    planning = folder_id(state, "Marketing/Planning")
    updated = await api.put(
        f"/tasks/{task}",
        data={
            "addResponsibles": f'["{sam}"]',
            "removeResponsibles": f'["{chloe}"]',
            "addParents": f'["{planning}"]',
            "title": "Draft launch announcement v2",
            "importance": "Low",
            "dates": '{"due": "2031-02-03"}',
        },
    )
    body = updated.json()["data"][0]
    assert sam in body["responsibleIds"] and chloe not in body["responsibleIds"]
    assert planning in body["parentIds"] and body["importance"] == "Low"
    assert body["dates"]["due"] == "2031-02-03T17:00:00" and body["dates"]["type"] == "Planned"
    unchanged = await api.put(f"/tasks/{task}", json={"title": "Nope", "addSuperTasks": [task]})
    assert unchanged.status_code == 400
    assert state.tasks[task].title == "Draft launch announcement v2"  # a refused update changes nothing


async def test_delete_and_restore(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Draft launch announcement")
    subtasks = state.sub_task_ids(task)
    deleted = (await api.delete(f"/tasks/{task}")).json()["data"][0]
    assert deleted["scope"] == "RbTask"
    assert not (await api.get("/tasks", params={"title": "Draft launch announcement"})).json()["data"]
    assert all(state.tasks[s].deleted for s in subtasks)
    assert (await api.get(f"/tasks/{task}")).json()["data"][0]["scope"] == "RbTask"
    in_bin = (await api.get("/folders/IEAAB2CDI7777776/tasks")).json()["data"]
    assert task in [t["id"] for t in in_bin]
    assert (await api.delete(f"/tasks/{task}")).json()["error"] == "invalid_request"
    restored = (await api.put(f"/tasks/{task}", data={"restore": "true"})).json()["data"][0]
    assert restored["scope"] == "WsTask" and not any(state.tasks[s].deleted for s in subtasks)
    assert (await api.get("/tasks", params={"title": "Draft launch announcement"})).json()["data"]


async def test_dependencies(api: httpx.AsyncClient, state: SandboxState) -> None:
    with_dependency = next(t for t in state.tasks.values() if state.dependency_ids(t.id))
    listed = (await api.get(f"/tasks/{with_dependency.id}/dependencies")).json()
    assert listed["kind"] == "dependencies"
    dependency = listed["data"][0]
    assert with_dependency.id in (dependency["predecessorId"], dependency["successorId"])
    assert (await api.get(f"/dependencies/{dependency['id']}")).json()["data"] == [dependency]
    a, b = task_id(state, "Book launch venue"), task_id(state, "Approve press kit")
    made = await api.post(
        f"/tasks/{a}/dependencies", data={"predecessorId": b, "relationType": "FinishToStart"}
    )
    assert made.json()["data"][0]["successorId"] == a
    full = (await api.get(f"/tasks/{a}")).json()["data"][0]
    assert made.json()["data"][0]["id"] in full["dependencyIds"]


async def test_title_filter_is_a_contains_match_ignoring_case(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    """ver154: "Title filter, contains match" (the 2020 reference said exact); case: [assumption]."""
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    expected = {
        "Finalize launch checklist", "Book launch venue", "Draft launch announcement",
    }  # fmt: skip
    for path in ("/tasks", f"/folders/{q3}/tasks", f"/spaces/{folder_id(state, 'Marketing')}/tasks"):
        found = (await api.get(path, params={"title": "LAUNCH"})).json()["data"]
        titles = {t["title"] for t in found}
        assert expected <= titles, path
        assert all("launch" in title.casefold() for title in titles), path
    deleted = next(t for t in state.tasks.values() if t.deleted)
    found = (await api.get("/tasks", params={"title": deleted.title})).json()["data"]
    assert deleted.id not in {t["id"] for t in found}  # the Recycle Bin stays out of normal queries


async def test_folder_and_space_title_filters(api: httpx.AsyncClient, state: SandboxState) -> None:
    planning = (await api.get("/folders", params={"title": "plan"})).json()
    assert planning["kind"] == "folders"
    assert sorted(f["title"] for f in planning["data"]) == ["Planning", "Planning"]
    marketing = folder_id(state, "Marketing")
    below = (await api.get(f"/folders/{marketing}/folders", params={"title": "LAUNCH"})).json()["data"]
    assert sorted(f["title"] for f in below) == ["Launch Assets", "Q3 Launch"]
    in_space = (await api.get(f"/spaces/{marketing}/folders", params={"title": "campaign"})).json()["data"]
    assert sorted(f["title"] for f in in_space) == ["Campaigns", "Spring Campaign"]
    spaces = (await api.get("/spaces", params={"title": "OPER"})).json()["data"]
    assert [s["title"] for s in spaces] == ["Operations"]
    for path in ("/folders", "/spaces"):
        blank = (await api.get(path, params={"title": " "})).json()
        assert blank["error"] == "invalid_parameter", path  # "accepts non-blank values only"


async def test_restoring_a_task_brings_back_it_and_its_subtasks_deleted_with_it(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    parent = task_id(state, "Draft launch announcement")
    early, *others = state.sub_task_ids(parent)
    await api.delete(f"/tasks/{early}")  # one subtask goes first, on its own
    await api.delete(f"/tasks/{parent}")
    assert all(state.tasks[t].deleted for t in [parent, early, *others])
    restored = (await api.put(f"/tasks/{parent}", data={"restore": "true"})).json()["data"][0]
    assert restored["scope"] == "WsTask" and sorted(restored["subTaskIds"]) == sorted(others)
    assert state.tasks[early].deleted  # deleted by an earlier DELETE: it stays in the Recycle Bin


async def test_restore_brings_back_what_was_asked_not_the_whole_delete(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    assets = folder_id(state, "Marketing/Campaigns/Q3 Launch/Launch Assets")
    venue, press = task_id(state, "Book launch venue"), task_id(state, "Approve press kit")
    await api.delete(f"/folders/{q3}")
    assert all(state.tasks[t].deleted for t in (venue, press)) and state.folders[assets].deleted

    one = (await api.put(f"/tasks/{venue}", data={"restore": "true"})).json()["data"][0]
    assert one["scope"] == "WsTask"
    assert one["parentIds"] == ["IEAAB2CDI7777777"]  # its folder is still in the Recycle Bin: the root
    assert state.tasks[press].deleted and state.folders[q3].deleted and state.folders[assets].deleted

    sub = (await api.put(f"/folders/{assets}", data={"restore": "true"})).json()["data"][0]
    assert sub["scope"] == "WsFolder" and sub["parentIds"] == ["IEAAB2CDI7777777"]
    assert state.folders[q3].deleted and state.tasks[press].deleted
    assets_tasks = [t for t in state.tasks.values() if assets in t.parent_ids]
    assert assets_tasks and not any(t.deleted for t in assets_tasks)

    whole = (await api.put(f"/folders/{q3}", data={"restore": "true"})).json()["data"][0]
    assert whole["scope"] == "WsFolder" and not state.tasks[press].deleted
    titles = {t["title"] for t in (await api.get(f"/folders/{q3}/tasks")).json()["data"]}
    assert "Approve press kit" in titles and "Book launch venue" not in titles  # restored elsewhere before
