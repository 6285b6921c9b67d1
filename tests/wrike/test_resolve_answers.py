"""What the resolvers answer at their edges, against the sandbox's seed: each refusal in full (what was not
found, the closest names with their ids, what to give or which tool lists the choices), the requests a
reference costs (a permalink one, a title named lately none), several tasks read together, and the workflow
a status group falls back to."""

from __future__ import annotations

from collections.abc import Awaitable

import httpx
import pytest

from tests.wrike.wrike_helpers import FakeClock, MakeClient, add_fault, api_requests
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.errors import BadReference, ReferenceNotFound
from wrike_mcp.wrike.models import CustomStatus, Workflow
from wrike_mcp.wrike.resolve import Resolver, _workflow_or_standard, legacy_id_from_permalink


async def refusal(call: Awaitable[object]) -> str:
    with pytest.raises(BadReference) as caught:
        await call
    return str(caught.value)


async def ids_by_title(client: WrikeClient, path: str) -> dict[str, str]:
    return {str(item["title"]): str(item["id"]) for item in await client.get(path)}


# ---- people ----------------------------------------------------------------------------------------


async def test_a_person_not_found_is_told_what_to_give_and_the_closest_name(resolver: Resolver) -> None:
    ben = await resolver.person_id("Ben Carter")
    assert await refusal(resolver.person_id(" \u200b")) == (
        "person '' not found; give me, an email, a name or a contact id"
    )
    assert await refusal(resolver.person_id("Nobody Here")) == (
        "person 'Nobody Here' not found; find_people lists people by name or email"
    )
    assert await refusal(resolver.person_id("Ben Carterr")) == (
        f"person 'Ben Carterr' not found; closest: Ben Carter <ben.carter@northwind.example> (id {ben}); "
        "find_people lists people by name or email"
    )
    assert (await refusal(resolver.person_id("ben.carterr@northwind.example"))).splitlines() == [
        f"person 'ben.carterr@northwind.example' not found; closest: Ben Carter <ben.carter@northwind.example> "
        f"(id {ben})",
        "find_people lists people by name or email",
    ]


async def test_an_unknown_address_on_the_accounts_domain_is_close_to_nobody(resolver: Resolver) -> None:
    # every seeded address ends in @northwind.example: that shared part made all of them near matches
    assert await refusal(resolver.person_id("nobody@northwind.example")) == (
        "person 'nobody@northwind.example' not found; find_people lists people by name or email"
    )
    ben = await resolver.person_id("Ben Carter")
    assert (await refusal(resolver.person_id("ben.carter@northwind.exmaple"))).splitlines() == [
        f"person 'ben.carter@northwind.exmaple' not found; closest: Ben Carter <ben.carter@northwind.example> "
        f"(id {ben})",
        "find_people lists people by name or email",
    ]


async def test_an_ambiguous_person_is_listed_with_emails(resolver: Resolver) -> None:
    taylor, turner = await resolver.person_id("Sam Taylor"), await resolver.person_id("Sam Turner")
    assert (await refusal(resolver.person_id("sam"))).splitlines() == [
        "person 'sam' is ambiguous (2 matches): pass one of these ids or a more specific name",
        f"- Sam Taylor <sam.taylor@northwind.example> (id {taylor})",
        f"- Sam Turner <sam.turner@northwind.example> (id {turner})",
    ]


async def test_groups_widen_the_people_a_name_may_mean_without_losing_people(resolver: Resolver) -> None:
    ben = await resolver.person_id("Ben Carter")
    assert await resolver.person_id("Ben Carter", include_groups=True) == ben
    assert await resolver.person_ids(["Ben Carter", ben, " ben.carter@northwind.example "]) == [ben]


async def test_an_id_shaped_name_wrike_does_not_know_is_not_taken_as_an_id(
    resolver: Resolver, control: httpx.AsyncClient
) -> None:
    assert (await refusal(resolver.person_id("KUAAAAZZ"))).startswith("person 'KUAAAAZZ' not found")
    before = len(await api_requests(control, "GET", "/api/v4/contacts/"))
    await refusal(resolver.person_id("Nobody Here"))  # not id-shaped: no lookup by id
    assert len(await api_requests(control, "GET", "/api/v4/contacts/")) == before


async def test_a_group_is_listed_by_name_alone_and_an_unknown_id_has_no_name(resolver: Resolver) -> None:
    team = await resolver.person_id("Marketing Team", include_groups=True)
    assert await refusal(resolver.person_id("Marketing Teem", include_groups=True)) == (
        f"person 'Marketing Teem' not found; closest: Marketing Team (id {team}); "
        "find_people lists people by name or email"
    )
    assert await resolver.person_name("KUAAAAZZ") is None


async def test_filtered_contact_queries_are_kept_whatever_the_order_of_their_filters(
    resolver: Resolver, control: httpx.AsyncClient
) -> None:
    me = await resolver.contacts_where({"me": True, "deleted": False})
    assert [contact.name for contact in me] == ["Ann Lee"]  # the sandbox's user
    assert await resolver.contacts_where({"deleted": False, "me": True}) == me
    assert len(await api_requests(control, "GET", "/api/v4/contacts")) == 1
    everyone = await resolver.contacts_where({"deleted": False})
    assert len(everyone) > 1 and me[0] in everyone  # another query: another answer, not the one kept


# ---- spaces ----------------------------------------------------------------------------------------


async def test_a_space_not_found_lists_the_spaces(client: WrikeClient, resolver: Resolver) -> None:
    spaces = await ids_by_title(client, "/spaces")
    assert await refusal(resolver.space_id("Finance")) == (
        "space 'Finance' not found; spaces: Engineering, Marketing, Operations"
    )
    assert await refusal(resolver.space_id("Marketting")) == (
        f"space 'Marketting' not found; closest: Marketing (id {spaces['Marketing']}); "
        "spaces: Engineering, Marketing, Operations"
    )


async def test_a_space_by_its_permalink_costs_one_request(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    spaces = await ids_by_title(client, "/spaces")
    marketing = await client.get_one(f"/folders/{spaces['Marketing']}")
    await resolver.folder_tree()
    before = len(await api_requests(control, "GET", "/api/v4/"))
    assert await resolver.space_id(str(marketing["permalink"])) == spaces["Marketing"]
    asked = (await api_requests(control, "GET", "/api/v4/"))[before:]
    assert [(entry["path"], entry["query"]) for entry in asked] == [
        ("/api/v4/folders", {"permalink": marketing["permalink"]})
    ]
    assert await resolver.space_id(f"/{spaces['Engineering']}/") == spaces["Engineering"]


# ---- tasks -----------------------------------------------------------------------------------------


async def test_a_task_reference_that_cannot_be_one_says_what_to_give(resolver: Resolver) -> None:
    assert await refusal(resolver.task_id("  ")) == (
        "task '' not found; give an id, a permalink or the task's title"
    )
    assert await refusal(resolver.task_id("https://example.com/task/1")) == (
        "task 'https://example.com/task/1' not found; only Wrike links such as "
        "https://www.wrike.com/open.htm?id=123 are understood"
    )
    assert await refusal(resolver.task_id("https://www.wrike.com/open.htm?id=999999")) == (
        "task 'https://www.wrike.com/open.htm?id=999999' not found; no task has this permalink "
        "(it may be a folder or deleted)"
    )


async def test_a_title_not_found_names_the_closest_task_and_where_it_lies(
    client: WrikeClient, resolver: Resolver
) -> None:
    draft = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]["id"]
    assert (await refusal(resolver.task_id("launch announcement"))).splitlines() == [
        f"task 'launch announcement' not found; closest: Draft launch announcement in "
        f"Marketing/Campaigns/Q3 Launch (id {draft})",
        "a title must be exact; search_tasks finds tasks by words in the title",
    ]


async def test_an_ambiguous_title_lists_each_task_with_its_place(resolver: Resolver) -> None:
    lines = (await refusal(resolver.task_id("weekly sync notes"))).splitlines()
    assert lines[0] == (
        "task 'weekly sync notes' is ambiguous (2 matches): pass one of these ids or a more specific name"
    )
    assert sorted(line.partition(" (id ")[0] for line in lines[1:]) == [
        "- Weekly sync notes in Engineering/Platform/API Revamp",
        "- Weekly sync notes in Marketing/Campaigns/Spring Campaign",
    ]


async def test_a_permalink_costs_one_request_even_for_a_subtask(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    subtask = (await client.get("/tasks", {"title": "Collect product quotes", "subTasks": True}))[0]
    full = await client.get_one(f"/tasks/{subtask['id']}")
    legacy = str(full["permalink"]).rsplit("=", 1)[1]
    before = len(await api_requests(control, "GET", "/api/v4/"))
    assert await resolver.task_id(legacy) == subtask["id"]
    asked = (await api_requests(control, "GET", "/api/v4/"))[before:]
    assert [entry["path"] for entry in asked] == ["/api/v4/tasks"]  # the permalink filter, no /ids conversion
    # account-wide task queries leave subtasks out unless asked: the filter asks for them
    assert asked[0]["query"] == {
        "permalink": f"https://www.wrike.com/open.htm?id={legacy}",
        "subTasks": "true",
    }


async def test_a_refused_permalink_filter_falls_back_to_converting_the_number(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    """Items older than Wrike's id change are found through GET /ids when the permalink filter finds nothing."""
    draft = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]["id"]
    draft_legacy = str((await client.get_one(f"/tasks/{draft}"))["permalink"]).rsplit("=", 1)[1]
    marketing = await resolver.space_id("Marketing")
    space_link = str((await client.get_one(f"/folders/{marketing}"))["permalink"])
    await add_fault(control, method="GET", path="/api/v4/tasks", status=400, error="invalid_parameter")
    await add_fault(
        control, method="GET", path="/api/v4/folders", status=400, error="invalid_parameter", times=2
    )
    assert await resolver.task_id(draft_legacy) == draft
    assert await resolver.space_id(space_link) == marketing
    assert await resolver.folder_id(space_link) == marketing
    conversions = await api_requests(control, "GET", "/api/v4/ids")
    space_legacy = space_link.rsplit("=", 1)[1]
    assert [entry["query"] for entry in conversions] == [
        {"type": "ApiV2Task", "ids": f'["{draft_legacy}"]'},
        {"type": "ApiV2Folder", "ids": f'["{space_legacy}"]'},
        {"type": "ApiV2Folder", "ids": f'["{space_legacy}"]'},
    ]


async def test_a_title_named_lately_costs_no_search_until_the_ttl_has_passed(
    client: WrikeClient, control: httpx.AsyncClient
) -> None:
    clock = FakeClock()
    resolver = Resolver(client, ttl=60, clock=clock)
    draft = await resolver.task_id("Draft launch announcement")

    async def searches() -> int:
        return len(
            [r for r in await api_requests(control, "GET", "/api/v4/tasks") if r["path"] == "/api/v4/tasks"]
        )

    searched = await searches()
    clock.now += 59.9
    assert await resolver.task_id("draft launch  ANNOUNCEMENT") == draft
    assert resolver.task_id_at_hand("Draft launch announcement") == draft
    assert await searches() == searched
    clock.now += 0.1  # exactly the TTL: forgotten
    assert resolver.task_id_at_hand("Draft launch announcement") is None
    assert await resolver.task_id("Draft launch announcement") == draft
    assert await searches() == searched + 1


async def test_several_tasks_are_read_together_once_each(client: WrikeClient, resolver: Resolver) -> None:
    draft = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]
    checklist = (await client.get("/tasks", {"title": "Finalize launch checklist"}))[0]
    found = await resolver.tasks(
        [" draft launch announcement ", checklist["id"], draft["id"], checklist["id"]]
    )
    assert [task.id for task in found] == [draft["id"], checklist["id"]]
    assert [task.title for task in found] == ["Draft launch announcement", "Finalize launch checklist"]


async def test_a_one_word_title_among_several_tasks_is_found_when_the_ids_read_refuses_it(
    client: WrikeClient, resolver: Resolver
) -> None:
    hiring = (await client.get("/folders", {"title": "Q4 Hiring"}))[0]["id"]
    checklist = (await client.post(f"/folders/{hiring}/tasks", {"title": "Checklist"}))[0]["id"]
    draft = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]["id"]
    found = await resolver.tasks(["Checklist", draft, "checklist"])
    assert [(task.id, task.title) for task in found] == [
        (checklist, "Checklist"),
        (draft, "Draft launch announcement"),
    ]


async def test_the_task_id_at_hand_is_an_id_or_a_title_named_lately_never_a_number(
    client: WrikeClient, resolver: Resolver
) -> None:
    short = (await client.get("/tasks", {"title": "Finalize launch checklist"}))[0]["id"]
    assert resolver.task_id_at_hand(f" {short} ") == short
    assert resolver.task_id_at_hand("IEAAB2CDKQAAAAAE") == "IEAAB2CDKQAAAAAE"
    assert resolver.task_id_at_hand("520000028") is None  # a legacy number: converted, not read as an id
    assert resolver.task_id_at_hand("Finalize launch checklist") is None
    await resolver.task_id("Finalize launch checklist")
    assert resolver.task_id_at_hand("finalize LAUNCH checklist") == short


async def test_a_task_given_by_title_or_id_is_read_with_the_fields_asked(
    client: WrikeClient, resolver: Resolver
) -> None:
    draft = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]["id"]
    by_title = await resolver.task("Draft launch announcement", fields=["description"])
    assert by_title.id == draft and by_title.description and "Q3 launch" in by_title.description
    assert (await resolver.task(f"  {draft} ")).id == draft


# ---- folders and projects --------------------------------------------------------------------------


async def test_a_folder_reference_that_cannot_be_one_says_what_to_give(resolver: Resolver) -> None:
    assert await refusal(resolver.folder_id(" / ")) == (
        "folder '' not found; give an id, a permalink or a path such as Space/Folder"
    )
    assert await refusal(resolver.folder_id("", project_only=True)) == (
        "project '' not found; give an id, a permalink or a path such as Space/Project"
    )
    assert await refusal(resolver.folder_id("https://example.com/x")) == (
        "folder 'https://example.com/x' not found; only Wrike links such as "
        "https://www.wrike.com/open.htm?id=123 are understood"
    )
    assert await refusal(resolver.folder_id("https://www.wrike.com/open.htm?id=999999")) == (
        "folder 'https://www.wrike.com/open.htm?id=999999' not found; no folder or project has this permalink"
    )


async def test_a_folder_title_not_found_names_the_closest_path(
    client: WrikeClient, resolver: Resolver
) -> None:
    campaigns = await resolver.folder_id("Marketing/Campaigns")
    assert await refusal(resolver.folder_id("Campaings")) == (
        f"folder 'Campaings' not found; closest: Marketing/Campaigns (id {campaigns}); list_folders shows the tree"
    )


async def test_a_folder_is_not_a_project(client: WrikeClient, resolver: Resolver) -> None:
    campaigns = await resolver.folder_id("Marketing/Campaigns")
    full = await client.get_one(f"/folders/{campaigns}")
    assert await refusal(resolver.folder_id(str(full["permalink"]), project_only=True)) == (
        f"project {full['permalink']!r} not found; Marketing/Campaigns is a folder, not a project"
    )
    assert await refusal(resolver.folder_id(campaigns, project_only=True)) == (
        f"project {campaigns!r} not found; Marketing/Campaigns is a folder, not a project"
    )


# ---- custom fields and statuses --------------------------------------------------------------------


async def test_a_custom_field_not_found_names_the_closest_and_the_tool_listing_them(
    resolver: Resolver,
) -> None:
    channel = await resolver.custom_field_id("channel")
    assert await resolver.custom_field_id(f" {channel} ") == channel
    assert await refusal(resolver.custom_field_id("Chanel")) == (
        f"custom field 'Chanel' not found; closest: Channel (DropDown) (id {channel}); "
        "list_custom_fields lists them"
    )


async def test_a_status_not_found_lists_the_task_statuses(resolver: Resolver) -> None:
    # the two task workflows' visible statuses (Default Workflow, Software Development); the project
    # workflow's are not a task's choices
    assert (await refusal(resolver.custom_status("Waiting on"))).splitlines() == [
        "status 'Waiting on' not found",
        "status groups: Active, Completed, Deferred, Cancelled; statuses: Backlog, Blocked, Cancelled, "
        "Completed, Done, In Progress, In Review, New, On Hold, QA, Won't Fix",
    ]


async def test_an_unknown_workflow_falls_back_to_the_standard_one(resolver: Resolver) -> None:
    standard = next(w for w in await resolver.workflows() if w.standard)
    completed = next(s.id for s in standard.custom_statuses if s.group == "Completed" and s.standard)
    assert await resolver.custom_status("Completed", workflow_id="IEAAAAAAK4ZZZZZZ") == (
        completed,
        "Completed",
    )


async def test_a_status_named_in_an_unknown_workflow_is_looked_up_in_all(resolver: Resolver) -> None:
    in_review = next(
        s.id for w in await resolver.workflows() for s in w.custom_statuses if s.name == "In Review"
    )
    assert await resolver.custom_status("in review", workflow_id="IEAAAAAAK4ZZZZZZ") == (in_review, "Active")


def test_without_a_standard_workflow_the_only_one_is_taken_and_otherwise_none_is_guessed() -> None:
    only = Workflow(id="WF-ONLY", name="Only", custom_statuses=[CustomStatus(id="S1", name="Open")])
    other = Workflow(id="WF-OTHER", name="Other")
    standard = Workflow(id="WF-STD", name="Standard", standard=True)
    assert _workflow_or_standard([only], None) is only
    assert _workflow_or_standard([only], "WF-GONE") is only
    assert _workflow_or_standard([only, standard], "WF-GONE") is standard
    assert _workflow_or_standard([only, other, standard], "WF-OTHER") is other
    with pytest.raises(ReferenceNotFound) as caught:
        _workflow_or_standard([only, other], "WF-GONE")
    assert str(caught.value) == "workflow 'WF-GONE' not found; name a custom status instead (list_workflows)"
    with pytest.raises(ReferenceNotFound) as caught:
        _workflow_or_standard([], None)
    assert str(caught.value) == "workflow 'standard' not found; name a custom status instead (list_workflows)"


# ---- reading tasks, paths and kinds ----------------------------------------------------------------


async def test_reading_a_task_costs_one_request_and_a_permalink_one_more(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    short = (await client.get("/tasks", {"title": "Finalize launch checklist"}))[0]["id"]
    draft = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]["id"]
    legacy = str((await client.get_one(f"/tasks/{draft}"))["permalink"]).rsplit("=", 1)[1]

    async def cost(ref: str, expected: str) -> int:
        before = len(await api_requests(control, "GET", "/api/v4/"))
        assert (await resolver.task(ref)).id == expected, ref
        return len(await api_requests(control, "GET", "/api/v4/")) - before

    assert await cost("Draft launch announcement", draft) == 1  # the title search answers the task
    assert await cost("draft launch announcement", draft) == 1  # named lately: read by id
    assert await cost(short, short) == 1
    assert await cost("IEAAB2CDKQAAAAAE", "IEAAB2CDKQAAAAAE") == 1
    assert await cost(legacy, draft) == 2  # the permalink filter, then the read


async def test_a_subtask_is_found_by_title_and_listed_without_a_folder(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    quotes = (await client.get("/tasks", {"title": "Collect product quotes", "subTasks": True}))[0]["id"]
    assert await resolver.task_id("Collect product quotes") == quotes
    searches = [
        r for r in await api_requests(control, "GET", "/api/v4/tasks") if r["path"] == "/api/v4/tasks"
    ]
    assert searches[-1]["query"]["subTasks"] == "true"
    resolver.forget_task_titles()
    # a subtask lies in no folder of its own: it is listed by its title alone
    assert (await refusal(resolver.task_id("product quotes"))).splitlines()[0] == (
        f"task 'product quotes' not found; closest: Collect product quotes (id {quotes})"
    )


async def test_a_path_naming_every_level_below_the_space_wins_over_a_shortcut(
    client: WrikeClient, resolver: Resolver
) -> None:
    hiring = await resolver.folder_id("Operations/Hiring")
    engineering = await resolver.folder_id("Engineering")
    await client.post(f"/folders/{hiring}/folders", {"title": "Campaigns"})
    await client.post(f"/folders/{engineering}/folders", {"title": "Backend"})
    resolver.forget_folder_tree()
    campaigns = await resolver.folder_id("Marketing/Campaigns")
    assert await resolver.folder_id("Campaigns") == campaigns  # Hiring/Campaigns is only a shortcut's match
    backend = await resolver.folder_id("Engineering/Platform/API Revamp/Backend")
    assert await resolver.folder_id("Platform/Backend") == backend
    assert await resolver.folder_id("API Revamp/Backend") == backend
    assert await resolver.folder_path(backend) == "Engineering/Platform/API Revamp/Backend"
    assert await resolver.folder_path("IEAAAAAAI4ZZZZZZ") == "IEAAAAAAI4ZZZZZZ"  # not in the tree: the id


async def test_an_ambiguous_folder_lists_full_paths_in_order(resolver: Resolver) -> None:
    engineering = await resolver.folder_id("Engineering/Planning")
    marketing = await resolver.folder_id("Marketing/Planning")
    assert (await refusal(resolver.folder_id("planning"))).splitlines() == [
        "folder 'planning' is ambiguous (2 matches): pass one of these ids or a more specific name",
        f"- Engineering/Planning (id {engineering})",
        f"- Marketing/Planning (id {marketing})",
    ]


async def test_a_misspelt_path_is_matched_by_paths_and_a_project_hint_says_how_paths_look(
    resolver: Resolver,
) -> None:
    campaigns = await resolver.folder_id("Marketing/Campaigns")
    lines = (await refusal(resolver.folder_id("Marketing/Campaings"))).splitlines()
    assert (
        lines[0] == f"folder 'Marketing/Campaings' not found; closest: Marketing/Campaigns (id {campaigns})"
    )
    assert lines[-1] == "list_folders shows the folder tree; paths look like Space/Folder/Sub"


async def test_a_folder_by_id_is_a_folder_and_a_project_by_id_or_permalink_a_project(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    campaigns = await resolver.folder_id("Marketing/Campaigns")
    q3 = await resolver.folder_id("Q3 Launch")
    assert await resolver.folder_id(campaigns) == campaigns
    assert await resolver.folder_id(q3, project_only=True) == q3
    q3_link = str((await client.get_one(f"/folders/{q3}"))["permalink"])
    before = len(await api_requests(control, "GET", "/api/v4/"))
    assert await resolver.folder_id(q3_link, project_only=True) == q3
    asked = (await api_requests(control, "GET", "/api/v4/"))[before:]
    assert [(entry["path"], entry["query"]) for entry in asked] == [
        ("/api/v4/folders", {"permalink": q3_link})
    ]


async def test_the_cached_contacts_are_offered_only_while_fresh(client: WrikeClient) -> None:
    clock = FakeClock()
    resolver = Resolver(client, ttl=60, clock=clock)
    assert resolver.cached_contacts() is None  # nothing read yet: no request made for it either
    contacts = await resolver.contacts()
    clock.now += 59
    assert resolver.cached_contacts() == contacts
    clock.now += 1
    assert resolver.cached_contacts() is None


def test_permalinks_in_every_form_wrike_gives_and_nothing_else() -> None:
    assert legacy_id_from_permalink("http://www.wrike.com/open.htm?id=5") == "5"
    assert legacy_id_from_permalink("https://www.wrike.com/workspace.htm?acc=7#/inbox?id=77") == "77"
    assert legacy_id_from_permalink("ftp://www.wrike.com/open.htm?id=5") is None
    assert legacy_id_from_permalink("https:///open.htm?id=5") is None  # no host


async def test_a_link_to_anything_but_a_wrike_item_is_refused_as_a_link(resolver: Resolver) -> None:
    for link in ("www.example.com/tasks/1", "WRIKE.com/workspace.htm"):
        assert await refusal(resolver.task_id(link)) == (
            f"task {link!r} not found; only Wrike links such as https://www.wrike.com/open.htm?id=123 are understood"
        )


async def test_a_folder_in_the_recycle_bin_is_no_longer_found(
    client: WrikeClient, resolver: Resolver
) -> None:
    brand = await resolver.folder_id("Brand Refresh")
    q4_hiring = await resolver.folder_id("Q4 Hiring")
    await client.delete(f"/folders/{brand}")
    resolver.forget_folder_tree()
    assert (await refusal(resolver.folder_id("Brand Refresh"))).startswith("folder 'Brand Refresh' not found")
    assert (
        await resolver.folder_id("Q4 Hiring") == q4_hiring
    )  # the folders listed after it are all still there


async def test_a_folder_made_elsewhere_is_read_by_id_and_refused_as_a_project(
    make_client: MakeClient, resolver: Resolver
) -> None:
    campaigns = await resolver.folder_id("Marketing/Campaigns")
    made = (await make_client().post(f"/folders/{campaigns}/folders", {"title": "Xmas Ideas"}))[0]["id"]
    assert await refusal(resolver.folder_id(made, project_only=True)) == (
        f"project {made!r} not found; it is a folder, not a project"
    )
    resolver.forget_folder_tree()
    assert await resolver.folder_id("Xmas Ideas/") == made  # a title starting with X, a trailing slash


async def test_a_title_that_cannot_be_an_id_is_refused_without_asking_wrike(
    resolver: Resolver, control: httpx.AsyncClient
) -> None:
    q3 = await resolver.folder_id("Marketing/Campaigns/Q3 Launch")
    before = len(await api_requests(control, "GET", "/api/v4/folders/"))
    assert (await refusal(resolver.folder_id("Q3 Lanch"))).splitlines() == [
        f"folder 'Q3 Lanch' not found; closest: Marketing/Campaigns/Q3 Launch (id {q3})",
        "list_folders shows the folder tree; paths look like Space/Folder/Sub",
    ]
    assert len(await api_requests(control, "GET", "/api/v4/folders/")) == before


async def test_a_folder_outside_the_tree_lies_in_no_space(resolver: Resolver) -> None:
    assert await resolver.space_of("IEAAAAAAI4ZZZZZZ") is None
    assert await resolver.space_of(await resolver.folder_id("API Revamp")) == await resolver.space_id(
        "Engineering"
    )


async def test_timelog_categories_are_read_once_per_ttl(
    client: WrikeClient, control: httpx.AsyncClient
) -> None:
    clock = FakeClock()
    resolver = Resolver(client, ttl=60, clock=clock)
    categories = await resolver.timelog_categories()
    assert categories and all(category.id for category in categories)
    clock.now += 59
    assert await resolver.timelog_categories() == categories
    assert len(await api_requests(control, "GET", "/api/v4/timelog_categories")) == 1
    clock.now += 1
    await resolver.timelog_categories()
    assert len(await api_requests(control, "GET", "/api/v4/timelog_categories")) == 2


async def test_tasks_given_by_id_are_read_in_one_request(
    client: WrikeClient, resolver: Resolver, control: httpx.AsyncClient
) -> None:
    draft = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]["id"]
    short = (await client.get("/tasks", {"title": "Finalize launch checklist"}))[0]["id"]
    before = len(await api_requests(control, "GET", "/api/v4/"))
    assert [task.id for task in await resolver.tasks([draft, short])] == [draft, short]
    asked = (await api_requests(control, "GET", "/api/v4/"))[before:]
    assert [entry["path"] for entry in asked] == [f"/api/v4/tasks/{draft},{short}"]
    before = len(asked) + before
    assert [task.id for task in await resolver.tasks(["Draft launch announcement", short])] == [draft, short]
    asked = (await api_requests(control, "GET", "/api/v4/"))[before:]
    assert [entry["path"] for entry in asked] == ["/api/v4/tasks", f"/api/v4/tasks/{draft},{short}"]
