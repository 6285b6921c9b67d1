"""The resolvers against the sandbox's seed: every reference kind, ambiguity, not found and the caches."""

from __future__ import annotations

import anyio
import httpx
import pytest

from tests.wrike.wrike_helpers import FakeClock, MakeClient, add_fault, api_requests
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.errors import AmbiguousReference, ReferenceNotFound
from wrike_mcp.wrike.models import Comment, Contact, CustomField, Folder, Space, Task
from wrike_mcp.wrike.resolve import Resolver, legacy_id_from_permalink


async def folder_by_title(client: WrikeClient, title: str) -> dict[str, object]:
    return next(f for f in await client.get("/folders") if f["title"] == title)


def test_permalink_parsing() -> None:
    assert legacy_id_from_permalink("https://www.wrike.com/open.htm?id=123") == "123"
    assert legacy_id_from_permalink("https://app-eu.wrike.com/open.htm?id=42&x=1") == "42"
    assert legacy_id_from_permalink("www.wrike.com/open.htm?id=7") == "7"
    assert legacy_id_from_permalink("  98765 ") == "98765"
    assert legacy_id_from_permalink("https://evil.example/open.htm?id=123") is None
    assert legacy_id_from_permalink("https://www.wrike.com/open.htm?id=abc") is None
    assert legacy_id_from_permalink("Draft launch announcement") is None


# ---- tasks -----------------------------------------------------------------------------------------


async def test_task_by_id_permalink_number_and_title(client: WrikeClient, resolver: Resolver) -> None:
    task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]
    full = await client.get_one(f"/tasks/{task['id']}")
    before = client.request_count
    assert await resolver.task_id(task["id"]) == task["id"]
    assert client.request_count == before  # a classic id needs no lookup
    assert await resolver.task_id(full["permalink"]) == task["id"]
    assert await resolver.task_id(full["permalink"].rsplit("=", 1)[1]) == task["id"]
    assert await resolver.task_id("  Draft launch  announcement ") == task["id"]
    assert await resolver.task_id("draft LAUNCH announcement") == task["id"]  # exact title, any case
    with pytest.raises(ReferenceNotFound, match="title must be exact"):
        await resolver.task_id("launch announcement")  # contained in the title, but not the title


async def test_task_by_short_id_and_its_permalink(client: WrikeClient, resolver: Resolver) -> None:
    task = (await client.get("/tasks", {"title": "Finalize launch checklist"}))[0]
    assert len(task["id"]) == 12 and not task["id"].isupper()  # a 2025-style id in the seed
    assert await resolver.task_id(task["id"]) == task["id"]
    assert await resolver.task_id(task["permalink"]) == task["id"]


async def test_exact_title_is_checked_over_wrikes_contains_filter(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    """Wrike's title filter is a contains match: it narrows the scan, the exact title is checked locally."""
    folder = (await client.get("/folders", {"title": "Q4 Hiring"}))[0]["id"]
    plan = (await client.post(f"/folders/{folder}/tasks", {"title": "Launch plan"}))[0]["id"]
    with pytest.raises(ReferenceNotFound, match="title must be exact"):
        await resolver.task_id("Launch")  # "Launch plan" and the seed's "… launch …" tasks contain it
    launch = (await client.post(f"/folders/{folder}/tasks", {"title": "Launch"}))[0]["id"]
    assert await resolver.task_id("launch") == launch
    assert await resolver.task_id("Launch plan") == plan
    scans = [r for r in await api_requests(control, "GET", "/api/v4/tasks") if r["path"] == "/api/v4/tasks"]
    assert scans and all("title" in str(r["query"]) for r in scans)  # narrowed by Wrike, never a full scan


async def test_task_title_ambiguity_lists_paths(resolver: Resolver) -> None:
    with pytest.raises(AmbiguousReference) as caught:
        await resolver.task_id("Weekly sync notes")
    labels = [label for _, label in caught.value.candidates]
    assert len(labels) == 2
    assert any("Marketing/Campaigns/Spring Campaign" in label for label in labels)
    assert any("Engineering/Platform/API Revamp" in label for label in labels)
    assert "ambiguous" in str(caught.value)


async def test_task_not_found(resolver: Resolver) -> None:
    with pytest.raises(ReferenceNotFound):
        await resolver.task_id("No such task anywhere")
    with pytest.raises(ReferenceNotFound):
        await resolver.task_id("https://www.wrike.com/open.htm?id=1")
    with pytest.raises(ReferenceNotFound):
        await resolver.task_id("https://example.com/task/1")
    with pytest.raises(ReferenceNotFound):
        await resolver.task_id("")


# ---- folders, projects, spaces ---------------------------------------------------------------------


async def test_folder_paths_titles_and_shortcuts(client: WrikeClient, resolver: Resolver) -> None:
    q3 = await folder_by_title(client, "Q3 Launch")
    for ref in (
        "Marketing/Campaigns/Q3 Launch",
        "marketing/campaigns/q3 launch/",
        "Campaigns/Q3 Launch",
        "Marketing/Q3 Launch",
        "Q3 Launch",
        q3["id"],
    ):
        assert await resolver.folder_id(str(ref)) == q3["id"], ref
    assert await resolver.folder_id("Q3 Launch", project_only=True) == q3["id"]
    assert await resolver.folder_path(str(q3["id"])) == "Marketing/Campaigns/Q3 Launch"


async def test_folder_by_permalink(client: WrikeClient, resolver: Resolver) -> None:
    q3 = await folder_by_title(client, "Q3 Launch")
    full = await client.get_one(f"/folders/{q3['id']}")
    assert await resolver.folder_id(full["permalink"]) == q3["id"]


async def test_folder_ambiguity_lists_full_paths(resolver: Resolver) -> None:
    with pytest.raises(AmbiguousReference) as caught:
        await resolver.folder_id("Planning")
    assert sorted(label for _, label in caught.value.candidates) == [
        "Engineering/Planning",
        "Marketing/Planning",
    ]
    assert await resolver.folder_id("Marketing/Planning") != await resolver.folder_id("Engineering/Planning")


async def test_folder_not_found_and_project_only(resolver: Resolver) -> None:
    with pytest.raises(ReferenceNotFound):
        await resolver.folder_id("Marketing/Nowhere")
    with pytest.raises(ReferenceNotFound):
        await resolver.folder_id("Campaigns", project_only=True)
    with pytest.raises(ReferenceNotFound) as caught:
        await resolver.folder_id("Marketing/Campaigns", project_only=True)
    assert str(caught.value).startswith("project 'Marketing/Campaigns' not found")


async def test_spaces(client: WrikeClient, resolver: Resolver) -> None:
    spaces = {s["title"]: s["id"] for s in await client.get("/spaces")}
    assert await resolver.space_id("marketing") == spaces["Marketing"]
    assert await resolver.space_id(spaces["Engineering"]) == spaces["Engineering"]
    with pytest.raises(ReferenceNotFound) as caught:
        await resolver.space_id("Finance")
    assert "Operations" in str(caught.value)
    api_revamp = await resolver.folder_id("API Revamp")
    assert await resolver.space_of(api_revamp) == spaces["Engineering"]
    assert await resolver.folder_id("Marketing") == spaces["Marketing"]


# ---- people ----------------------------------------------------------------------------------------


async def test_people(resolver: Resolver) -> None:
    ann = await resolver.person_id("me")
    assert await resolver.person_name(ann) == "Ann Lee"
    ben = await resolver.person_id("Ben Carter")
    assert await resolver.person_id("BEN.CARTER@northwind.example") == ben
    assert await resolver.person_id(ben) == ben
    assert await resolver.person_name(ben) == "Ben Carter"
    chloe = await resolver.person_id("chloe")
    assert await resolver.person_name(chloe) == "Chloe Martin"
    assert await resolver.person_name(await resolver.person_id("Taylor")) == "Sam Taylor"
    assert await resolver.person_name(await resolver.person_id("alvar")) == "Diego Alvarez"


async def test_ambiguous_person_lists_emails(resolver: Resolver) -> None:
    with pytest.raises(AmbiguousReference) as caught:
        await resolver.person_id("Sam")
    labels = sorted(label for _, label in caught.value.candidates)
    assert labels == [
        "Sam Taylor <sam.taylor@northwind.example>",
        "Sam Turner <sam.turner@northwind.example>",
    ]


async def test_deactivated_people_and_groups(resolver: Resolver) -> None:
    with pytest.raises(ReferenceNotFound):
        await resolver.person_id("Old Contractor")
    old = await resolver.person_id("old.contractor@northwind.example")
    assert await resolver.person_id(old) == old
    with pytest.raises(ReferenceNotFound):
        await resolver.person_id("Marketing Team")
    team = await resolver.person_id("Marketing Team", include_groups=True)
    assert await resolver.person_name(team) == "Marketing Team"
    with pytest.raises(ReferenceNotFound):
        await resolver.person_id("Nobody Here")


# ---- statuses --------------------------------------------------------------------------------------


async def test_status_groups_and_custom_statuses(resolver: Resolver) -> None:
    # a group is the default status of that group in the standard workflow when no workflow is given
    default = next(w for w in await resolver.workflows() if w.standard)
    completed_id, group = await resolver.custom_status("completed")
    assert group == "Completed" and completed_id == next(
        s.id for s in default.custom_statuses if s.group == "Completed" and s.standard
    )
    assert (await resolver.custom_status("Deferred"))[1] == "Deferred"
    in_review, group = await resolver.custom_status("in review")
    assert in_review and group == "Active"
    on_hold = await resolver.custom_status("On Hold")
    assert on_hold[1] == "Deferred"
    found = await resolver.status_by_id(in_review)
    assert found is not None and found[1].name == "Software Development"


async def test_status_ambiguous_across_workflows(client: WrikeClient, resolver: Resolver) -> None:
    with pytest.raises(AmbiguousReference) as caught:
        await resolver.custom_status("In Progress")
    labels = " | ".join(label for _, label in caught.value.candidates)
    assert "Software Development" in labels and "Default Workflow" in labels

    workflows = {w.name: w for w in await resolver.workflows()}
    software = workflows["Software Development"]
    status_id, group = await resolver.custom_status("In Progress", workflow_id=software.id)
    assert group == "Active" and status_id in {s.id for s in software.custom_statuses}

    api_revamp = await resolver.folder_id("API Revamp")
    assert await resolver.custom_status("in progress", folder_id=api_revamp) == (status_id, group)
    workflow = await resolver.workflow_of_status(status_id)
    assert workflow is not None and workflow.id == software.id


async def test_status_group_is_the_default_status_of_the_tasks_workflow(resolver: Resolver) -> None:
    software = next(w for w in await resolver.workflows() if w.name == "Software Development")
    done, group = await resolver.custom_status("Completed", workflow_id=software.id)
    assert group == "Completed" and done == next(s.id for s in software.custom_statuses if s.name == "Done")
    api_revamp = await resolver.folder_id("API Revamp")  # its tasks follow Software Development
    assert await resolver.custom_status("cancelled", folder_id=api_revamp) == (
        next(s.id for s in software.custom_statuses if s.name == "Won't Fix"),
        "Cancelled",
    )


async def test_status_not_found_names_the_choices(resolver: Resolver) -> None:
    software = next(w for w in await resolver.workflows() if w.name == "Software Development")
    with pytest.raises(ReferenceNotFound) as caught:
        await resolver.custom_status("On Hold", workflow_id=software.id)
    assert "Won't Fix" in str(caught.value)


async def test_custom_fields(resolver: Resolver) -> None:
    fields = await resolver.custom_fields()
    assert fields
    assert await resolver.custom_field_id(fields[0].title.upper()) == fields[0].id
    with pytest.raises(ReferenceNotFound):
        await resolver.custom_field_id("no such field")


# ---- caching ---------------------------------------------------------------------------------------


async def test_lookups_are_cached_for_the_ttl(client: WrikeClient) -> None:
    clock = FakeClock()
    resolver = Resolver(client, ttl=60, clock=clock)
    await resolver.person_id("Ben Carter")
    await resolver.folder_id("Q3 Launch")
    await resolver.custom_status("In Review")
    warm = client.request_count
    await resolver.person_id("chloe")
    await resolver.person_name(await resolver.person_id("Diego Alvarez"))
    await resolver.folder_id("Marketing/Planning")
    await resolver.folder_path(await resolver.folder_id("API Revamp"))
    await resolver.custom_status("Done")
    assert client.request_count == warm  # all from the caches

    clock.now += 61
    await resolver.person_id("chloe")
    assert client.request_count == warm + 1  # contacts fetched again after the TTL


async def test_a_write_empties_only_the_cache_of_its_kind(client: WrikeClient, resolver: Resolver) -> None:
    ben = await resolver.person_id("Ben Carter")
    await resolver.person_id("me")
    await resolver.folder_id("Q3 Launch")
    await resolver.custom_status("In Review")
    await resolver.custom_field_id("Channel")
    warm = client.request_count
    task = await client.get_one(f"/tasks/{await resolver.task_id('Draft launch announcement')}", model=Task)
    resolver.written(task)  # a task is in no cached list
    resolver.written(Comment(id="IEAAB2CDIMAAAAAA", text="hi"))
    await resolver.person_id("Ben Carter")
    await resolver.folder_id("Q3 Launch")
    await resolver.custom_status("In Review")
    await resolver.custom_field_id("Channel")
    assert client.request_count == warm + 2  # only the task's title lookup and the task itself

    resolver.written(Contact(id=ben))
    assert await resolver.person_id("me") != ben
    await resolver.person_id("Ben Carter")
    await resolver.folder_id("Q3 Launch")
    await resolver.custom_status("In Review")
    assert client.request_count == warm + 4  # `me` and the contacts, nothing else

    resolver.written(CustomField(id="IEAAB2CDJUAAAAAA"))
    await resolver.custom_field_id("Channel")
    await resolver.custom_status("In Review")
    assert client.request_count == warm + 5  # the custom fields only

    resolver.written((await resolver.workflows())[0])
    await resolver.custom_status("In Review")
    await resolver.custom_field_id("Channel")
    assert client.request_count == warm + 6  # the workflows only

    resolver.written(Space(id=await resolver.space_id("Marketing")))
    await resolver.folder_id("Q3 Launch")
    await resolver.custom_status("In Review")
    assert client.request_count == warm + 8  # the spaces and the tree that holds them


async def test_concurrent_cold_lookups_share_one_fetch(client: WrikeClient) -> None:
    resolver = Resolver(client)
    results: list[str] = []

    async def look(name: str) -> None:
        results.append(await resolver.person_id(name))

    before = client.request_count
    async with anyio.create_task_group() as tasks:
        for name in ["Ben Carter", "chloe", "Diego Alvarez", "Taylor"] * 5:
            tasks.start_soon(look, name)
    assert len(results) == 20
    assert client.request_count == before + 1


async def test_folder_created_after_the_tree_was_cached(make_client: MakeClient, resolver: Resolver) -> None:
    planning = await resolver.folder_id("Marketing/Planning")
    someone_else = make_client()  # a write the resolver's own client did not make, so no hook told it
    created = (await someone_else.post(f"/folders/{planning}/folders", {"title": "Offsite"}))[0]
    assert await resolver.folder_id(created["id"]) == created["id"]  # not in the cached tree: asked Wrike
    with pytest.raises(ReferenceNotFound):
        await resolver.folder_id(created["id"], project_only=True)
    with pytest.raises(ReferenceNotFound):
        await resolver.folder_id("Marketing/Planning/Offsite")  # paths come from the cached tree
    resolver.forget_folder_tree()
    assert await resolver.folder_id("Marketing/Planning/Offsite") == created["id"]


async def test_a_folder_write_during_a_read_of_the_tree_is_not_lost(
    client: WrikeClient, control: httpx.AsyncClient, resolver: Resolver
) -> None:
    planning = await resolver.folder_id("Marketing/Planning")
    created = (await client.post(f"/folders/{planning}/folders", {"title": "Offsite"}, model=Folder))[0]
    resolver.forget_folder_tree()
    await add_fault(control, method="GET", path="/api/v4/folders", times=1, delay_ms=300)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(resolver.folder_tree)  # a read that may or may not see the new folder
        await anyio.sleep(0.1)
        resolver.written(created)
    before = client.request_count
    assert await resolver.folder_id("Marketing/Planning/Offsite") == created.id
    assert client.request_count == before + 1  # that read was not kept: the tree was read again


async def test_a_folder_write_goes_into_the_cached_tree(client: WrikeClient, resolver: Resolver) -> None:
    planning = await resolver.folder_id("Marketing/Planning")
    launch = await resolver.folder_id("Marketing/Campaigns/Q3 Launch")
    before = client.request_count
    created = (await client.post(f"/folders/{planning}/folders", {"title": "Offsite"}, model=Folder))[0]
    resolver.written(created)
    assert await resolver.folder_id("Marketing/Planning/Offsite") == created.id
    assert planning in (await resolver.folder_tree()).parents[created.id]

    moved = await client.put(
        f"/folders/{created.id}",
        {"title": "Retreat", "addParents": [launch], "removeParents": [planning]},
        model=Folder,
    )
    resolver.written(moved[0])
    assert await resolver.folder_path(created.id) == "Marketing/Campaigns/Q3 Launch/Retreat"
    tree = await resolver.folder_tree()
    assert created.id in tree.nodes[launch].child_ids
    assert created.id not in tree.nodes[planning].child_ids
    with pytest.raises(ReferenceNotFound):
        await resolver.folder_id("Marketing/Planning/Offsite")

    deleted = await client.delete(f"/folders/{created.id}")
    resolver.written(Folder.model_validate(deleted[0]))  # now in the Recycle Bin: out of the tree
    assert created.id not in tree.nodes and created.id not in tree.nodes[launch].child_ids
    assert client.request_count == before + 3  # the three writes; the tree was never read again
