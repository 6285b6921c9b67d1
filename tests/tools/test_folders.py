"""The `folders` toolset against the sandbox, in both protocol eras: list_folders (the spaces at the top),
get_folder (task counts, comments), create_folder — results, the sandbox's state after writes, and bad input refused before any Wrike call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from mcp import Client

from tests.tools.tool_helpers import BIG, api_calls, call, call_error, failure, refused_up_front, state_folder

# ---- tool declarations ---------------------------------------------------------------------------------


async def test_tools_are_declared_with_toolset_scopes_and_hints(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    for name in ("list_folders", "get_folder"):
        tool = tools[name]
        assert tool.title and tool.description
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.meta is not None
        assert tool.meta["wrike-mcp/toolset"] == "folders"
        assert tool.meta["wrike-mcp/scopes"] == ["wsReadOnly"]
    create = tools["create_folder"]
    assert create.annotations is not None
    assert create.annotations.read_only_hint is False and create.annotations.destructive_hint is False
    assert create.meta is not None and create.meta["wrike-mcp/scopes"] == ["wsReadWrite"]
    for name in ("list_folders", "get_folder", "create_folder"):
        for prop, schema in tools[name].input_schema["properties"].items():
            assert schema.get("description"), f"{name}.{prop} has no description"


# ---- the spaces: list_folders at the top (list_spaces until 0.x) ---------------------------------------


async def test_list_folders_top_level_gives_the_spaces_with_access_type(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    result = await call(mcp, "list_folders")
    by_title = {item["title"]: item for item in result["items"]}
    assert set(by_title) == {"Marketing", "Engineering", "Operations"}
    assert result["total"] == 3
    assert by_title["Engineering"]["access_type"] == "Private"
    assert by_title["Marketing"]["access_type"] == "Public"
    assert all(item["id"] for item in result["items"])
    assert not any(item.get("archived") for item in result["items"])


async def test_list_folders_include_archived_adds_the_archived_spaces(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    operations = state_folder(sandbox_state, "Operations")
    operations.space.archived = True
    spaces = [f for f in sandbox_state.folders.values() if f.space is not None and not f.deleted]
    result = await call(mcp, "list_folders", include_archived=True)
    shown = {item["id"]: item for item in result["items"]}
    assert set(shown) == {space.id for space in spaces}
    assert shown[operations.id]["archived"] is True and shown[operations.id]["kind"] == "space"
    assert shown[operations.id]["access_type"] == operations.space.access_type
    assert [item["title"] for item in result["items"] if item.get("archived")] == ["Operations"]
    assert ("GET", "/api/v4/spaces") in await api_calls(sandbox_http)
    assert "top level" in await refused_up_front(
        mcp, sandbox_http, "list_folders", parent="Marketing", include_archived=True
    )


async def test_list_folders_rejects_wrong_type(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    await refused_up_front(mcp, sandbox_http, "list_folders", include_archived="sometimes")


# ---- list_folders --------------------------------------------------------------------------------------


async def test_list_folders_top_level_is_the_spaces(mcp: Client) -> None:
    result = await call(mcp, "list_folders")
    assert "parent" not in result
    assert [item["kind"] for item in result["items"]] == ["space"] * 3
    assert {item["title"] for item in result["items"]} == {"Marketing", "Engineering", "Operations"}
    marketing = next(item for item in result["items"] if item["title"] == "Marketing")
    assert marketing["child_count"] == 3  # Campaigns, Planning, Content
    assert "children" not in marketing  # depth 1


async def test_list_folders_tree_depth(mcp: Client) -> None:
    result = await call(mcp, "list_folders", parent="Marketing", depth=2)
    assert result["parent"]["name"] == "Marketing"
    campaigns = next(item for item in result["items"] if item["title"] == "Campaigns")
    assert campaigns["kind"] == "folder"
    kids = {child["title"]: child for child in campaigns["children"]}
    assert set(kids) == {"Spring Campaign", "Q3 Launch", "Holiday Promo"}
    assert kids["Q3 Launch"]["kind"] == "project"
    assert kids["Q3 Launch"]["status"] == "Planning"
    assert kids["Q3 Launch"]["child_count"] == 1  # Launch Assets, below the requested depth
    assert "children" not in kids["Q3 Launch"]
    assert result["total"] == 3 + 3 + 1 + 1  # Campaigns, Planning, Content + their children
    assert "path" not in campaigns


async def test_list_folders_flat_pages_with_paths(mcp: Client, sandbox_state: Any) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    total = None
    for _ in range(20):
        args: dict[str, Any] = {"parent": "Engineering", "depth": 3, "layout": "flat", "limit": 3}
        if cursor:
            args["cursor"] = cursor
        page = await call(mcp, "list_folders", **args)
        assert len(page["items"]) <= 3
        total = page["total"]
        seen.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    paths = [item["path"] for item in seen]
    assert len(paths) == len(set(paths)) == total
    assert "Engineering/Platform/API Revamp/Backend" in paths
    assert "Engineering/Old Experiments" not in paths  # in the Recycle Bin
    expected = [
        f
        for f in sandbox_state.folders.values()
        if not f.deleted
        and f.id in sandbox_state.descendant_folder_ids(state_folder(sandbox_state, "Engineering").id)
    ]
    assert total == len(expected)


async def test_list_folders_projects_only(mcp: Client) -> None:
    flat = await call(mcp, "list_folders", parent="Marketing", depth=3, projects_only=True, layout="flat")
    assert {item["kind"] for item in flat["items"]} == {"project"}
    assert {item["path"] for item in flat["items"]} == {
        "Marketing/Campaigns/Spring Campaign",
        "Marketing/Campaigns/Q3 Launch",
        "Marketing/Campaigns/Holiday Promo",
        "Marketing/Planning/Brand Refresh",
        "Marketing/Content/Blog Calendar",
    }
    tree = await call(mcp, "list_folders", parent="Marketing", depth=2, projects_only=True)
    campaigns = next(item for item in tree["items"] if item["title"] == "Campaigns")
    assert {child["kind"] for child in campaigns["children"]} == {"project"}


async def test_list_folders_parent_by_id_and_permalink(mcp: Client, sandbox_state: Any) -> None:
    campaigns = state_folder(sandbox_state, "Marketing/Campaigns")
    by_id = await call(mcp, "list_folders", parent=campaigns.id)
    by_link = await call(mcp, "list_folders", parent=campaigns.permalink)
    assert by_id == by_link
    assert by_id["parent"] == {"id": campaigns.id, "name": "Marketing/Campaigns"}


async def test_list_folders_ambiguous_parent_lists_candidates(mcp: Client) -> None:
    first, text = await failure(mcp, "list_folders", parent="Planning")
    assert "ambiguous" in first
    assert "Marketing/Planning" in text and "Engineering/Planning" in text


async def test_list_folders_unknown_parent(mcp: Client) -> None:
    message = await call_error(mcp, "list_folders", parent="Marketing/Nowhere")
    assert "not found" in message and "Marketing/Nowhere" in message


async def test_list_folders_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    cases: list[Any] = [
        {"depth": 0},
        {"depth": 4},
        {"depth": "deep"},
        {"layout": "grid"},
        {"parent": BIG},
        {"limit": 0},
        {"cursor": "not-a-cursor", "layout": "flat"},
        {"cursor": "abc"},  # cursor without the flat layout
    ]
    for arguments in cases:
        await refused_up_front(mcp, sandbox_http, "list_folders", **arguments)


async def test_list_folders_cursor_of_another_query_is_refused(mcp: Client) -> None:
    page = await call(mcp, "list_folders", parent="Engineering", depth=3, layout="flat", limit=2)
    message = await call_error(
        mcp, "list_folders", parent="Marketing", depth=3, layout="flat", limit=2, cursor=page["next_cursor"]
    )
    assert "cursor" in message


# ---- get_folder ----------------------------------------------------------------------------------------


async def test_get_folder_project_by_path(mcp: Client, sandbox_state: Any) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    result = await call(mcp, "get_folder", folder="Marketing/Campaigns/Q3 Launch")
    assert result["id"] == q3.id
    assert result["kind"] == "project"
    assert result["path"] == "Marketing/Campaigns/Q3 Launch"
    assert result["permalink"] == q3.permalink
    assert result["space"]["name"] == "Marketing"
    assert result["description"].startswith("Launch plan for the Q3 release.")
    assert "- Messaging" in result["description"] and "<" not in result["description"]
    assert "truncated" not in result
    project = result["project"]
    assert (project["status"], project["status_group"]) == ("Planning", "Active")
    assert project["workflow"] == "Default Project Workflow"
    assert [owner["name"] for owner in project["owners"]] == ["Chloe Martin"]
    assert project["start_date"] == q3.project.start_date
    assert project["end_date"] == q3.project.end_date
    assert result["children"] == [
        {
            "id": state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch/Launch Assets").id,
            "title": "Launch Assets",
            "kind": "folder",
        }
    ]
    assert result["workflow"]["name"]


async def test_get_folder_by_permalink_and_id_agree(mcp: Client, sandbox_state: Any) -> None:
    api = state_folder(sandbox_state, "Engineering/Platform/API Revamp")
    by_link = await call(mcp, "get_folder", folder=api.permalink)
    by_id = await call(mcp, "get_folder", folder=api.id)
    assert by_link == by_id
    assert by_id["workflow"]["name"] == "Software Development"
    assert {child["title"] for child in by_id["children"]} == {"Backend", "Frontend"}


async def test_get_folder_space_and_plain_folder(mcp: Client) -> None:
    space = await call(mcp, "get_folder", folder="Marketing")
    assert space["kind"] == "space"
    assert {child["title"] for child in space["children"]} == {"Campaigns", "Planning", "Content"}
    assert space["child_count"] == 3
    folder = await call(mcp, "get_folder", folder="Marketing/Campaigns")
    assert folder["kind"] == "folder" and "project" not in folder


async def test_get_folder_long_description_is_cut_and_flagged(mcp: Client, sandbox_state: Any) -> None:
    folder = state_folder(sandbox_state, "Operations/Office Move")
    folder.description = "<p>" + "word " * 3000 + "</p>"
    result = await call(mcp, "get_folder", folder=folder.id)
    assert result["truncated"] is True
    assert len(result["description"]) <= 4001


async def test_get_folder_strips_invisible_characters(mcp: Client, sandbox_state: Any) -> None:
    folder = state_folder(sandbox_state, "Operations/Office Move")
    folder.description = "<p>Check\u200b the\u202e budget\u2066 now\ufeff.</p>"
    result = await call(mcp, "get_folder", folder=folder.id)
    assert result["description"] == "Check the budget now."


async def test_get_folder_custom_fields_by_name(mcp: Client, sandbox_state: Any) -> None:
    folder = state_folder(sandbox_state, "Operations/Office Move")
    by_title = {f.title: f for f in sandbox_state.custom_fields.values()}
    folder.custom_fields = {by_title["Budget"].id: "12000", by_title["Channel"].id: "Email"}
    result = await call(mcp, "get_folder", folder="Operations/Office Move")
    values = {item["name"]: item for item in result["custom_fields"]}
    assert values["Budget"]["value"] == "12000" and values["Budget"]["type"] == "Currency"
    assert values["Channel"]["value"] == "Email"


async def test_get_folder_ambiguous_and_unknown(mcp: Client) -> None:
    first, text = await failure(mcp, "get_folder", folder="Planning")
    assert "ambiguous" in first and "Engineering/Planning" in text
    unknown = await call_error(mcp, "get_folder", folder="Nowhere At All")
    assert "not found" in unknown
    missing_link = await call_error(mcp, "get_folder", folder="https://www.wrike.com/open.htm?id=1")
    assert "not found" in missing_link


async def test_get_folder_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    cases: list[Any] = ["", BIG, 42]
    for folder in cases:
        await refused_up_front(mcp, sandbox_http, "get_folder", folder=folder)


# ---- create_folder -------------------------------------------------------------------------------------


async def test_create_folder_writes_and_shows_up(mcp: Client, sandbox_state: Any) -> None:
    result = await call(
        mcp,
        "create_folder",
        parent="Marketing/Campaigns",
        title="  Autumn   Ideas ",
        description="First line\nSecond <b>line</b> & more",
    )
    assert result["title"] == "Autumn Ideas"
    assert result["path"] == "Marketing/Campaigns/Autumn Ideas"
    assert result["parent"]["name"] == "Marketing/Campaigns"
    created = sandbox_state.folders[result["id"]]
    assert created.title == "Autumn Ideas"
    assert created.project is None
    assert created.parent_ids == [state_folder(sandbox_state, "Marketing/Campaigns").id]
    assert created.description == "First line<br>Second &lt;b&gt;line&lt;/b&gt; &amp; more"
    assert result["permalink"] == created.permalink
    # The cached tree was refreshed: the new folder is listed and reachable by path at once.
    listed = await call(mcp, "list_folders", parent="Marketing/Campaigns")
    assert "Autumn Ideas" in {item["title"] for item in listed["items"]}
    details = await call(mcp, "get_folder", folder="Marketing/Campaigns/Autumn Ideas")
    assert details["description"] == "First line\nSecond <b>line</b> & more"


async def test_create_folder_in_a_space(mcp: Client, sandbox_state: Any) -> None:
    result = await call(mcp, "create_folder", parent="Operations", title="Facilities")
    assert result["path"] == "Operations/Facilities"
    assert sandbox_state.folders[result["id"]].parent_ids == [state_folder(sandbox_state, "Operations").id]


async def test_create_folder_bad_input(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    cases: list[Any] = [
        {"parent": "Marketing", "title": ""},
        {"parent": "Marketing", "title": "   "},
        {"parent": "Marketing", "title": BIG},
        {"parent": "Marketing", "title": "ok", "description": BIG},
        {"parent": "", "title": "ok"},
        {"parent": BIG, "title": "ok"},
        {"parent": "Marketing", "title": ["a list"]},
        {"title": "no parent"},
    ]
    for arguments in cases:
        before = len(sandbox_state.folders)
        await refused_up_front(mcp, sandbox_http, "create_folder", **arguments)
        assert len(sandbox_state.folders) == before


async def test_create_folder_ambiguous_parent_creates_nothing(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    before = len(sandbox_state.folders)
    first, text = await failure(mcp, "create_folder", parent="Planning", title="Q1 Plan")
    assert "ambiguous" in first and "Marketing/Planning" in text
    assert len(sandbox_state.folders) == before
    assert not [call for call in await api_calls(sandbox_http) if call[0] == "POST"]


async def test_create_folder_forbidden_names_the_scope(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    fault = {
        "method": "POST",
        "path": "/api/v4/folders/*",
        "status": 403,
        "error": "access_forbidden",
        "description": "Access forbidden",
    }
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    message = await call_error(mcp, "create_folder", parent="Marketing", title="Nope")
    message = message.removeprefix("Error executing tool create_folder: ")
    # Wrike's description first; the permanent token's scopes are unknown, so the scope is a suspect too
    assert message.startswith("Access forbidden (Wrike 403 access_forbidden): check your permissions")
    assert "wsReadWrite" in message


# ---- get_folder: a folder's or project's comments (list_comments read only a task's) -------------------


async def test_get_folder_pages_a_projects_comments(mcp: Client, sandbox_state: Any) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    ann = next(c for c in sandbox_state.contacts.values() if c.first_name == "Ann")
    for minutes, text in enumerate(("<p>Kickoff moved to Monday</p>", "<p>Budget approved</p>")):
        comment = sandbox_state.add_comment(ann, text, folder_id=q3.id)
        comment.created += timedelta(minutes=minutes)  # one a minute after the other: a clear newest
    expected = sorted(
        (c for c in sandbox_state.comments.values() if c.folder_id == q3.id),
        key=lambda c: (c.created, c.id),
        reverse=True,
    )
    assert expected
    first = await call(mcp, "get_folder", folder="Marketing/Campaigns/Q3 Launch", include_comments=1)
    assert first["comments_total"] == len(expected)
    assert first["comments"][0]["id"] == expected[0].id
    seen = [c["id"] for c in first["comments"]]
    cursor = first.get("comments_next_cursor")
    while cursor:
        page = await call(
            mcp,
            "get_folder",
            folder="Marketing/Campaigns/Q3 Launch",
            include_comments=1,
            comments_cursor=cursor,
        )
        seen += [c["id"] for c in page["comments"]]
        cursor = page.get("comments_next_cursor")
    assert seen == [c.id for c in expected]


async def test_get_folder_refuses_comments_of_a_space(mcp: Client) -> None:
    assert "spaces have no comments" in await call_error(
        mcp, "get_folder", folder="Marketing", include_comments=3
    )


async def test_get_folder_counts_a_spaces_tasks_when_asked(mcp: Client, sandbox_state: Any) -> None:
    marketing = state_folder(sandbox_state, "Marketing")
    scope = {marketing.id, *sandbox_state.descendant_folder_ids(marketing.id)}
    tasks = [
        t
        for t in sandbox_state.tasks.values()
        if not t.deleted and (set(t.parent_ids) | set(sandbox_state.super_parent_ids(t))) & scope
    ]
    plain = await call(mcp, "get_folder", folder="Marketing")
    assert plain["kind"] == "space" and "task_counts" not in plain
    counted = await call(mcp, "get_folder", folder="Marketing", task_counts=True)
    assert counted["task_counts"]["counted_tasks"] == len(tasks) > 0
    groups: dict[str, int] = {}
    for task in tasks:
        groups[task.status] = groups.get(task.status, 0) + 1
    assert counted["task_counts"]["by_status_group"] == groups
