"""Tool schemas as clients see them (`tools/list` through an MCP client), pinned in snapshot files.

One file per tool in tests/tools/snapshots/<tool>.json, for the full default server (allow_delete=True), plus
`_tool_names_by_grant.json`: which tools each scope grant offers. A missing, extra or different file fails.
Regenerate after an intended change with:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/tools/test_schemas.py

and review the diff: every schema change is an API change for the models using the server.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools.inputs import (
    DATE_PHRASE,
    FOLDER_PHRASE,
    FOLDERS_PHRASE,
    INSTANT_PHRASE,
    PEOPLE_PHRASE,
    PERSON_PHRASE,
    PLACE_PHRASE,
    SPACE_PHRASE,
    TASK_PHRASE,
    TASKS_PHRASE,
)
from wrike_mcp.tools.registry import (
    META_SCOPES,
    META_TOOLSET,
    OFF_BY_DEFAULT,
    ToolFilter,
    all_tools,
    declared_spec,
    result_schema,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
GRANTS_FILE = SNAPSHOTS / "_tool_names_by_grant.json"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
HOW_TO_UPDATE = "run `UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/tools/test_schemas.py` and review the diff"

# Grants to pin: the demo tokens' and the usual OAuth choices ("unknown": a permanent token, no WRIKE_SCOPES).
GRANTS: dict[str, frozenset[str] | None] = {
    "unknown": None,
    "Default": frozenset({"Default"}),
    "wsReadWrite": frozenset({"wsReadWrite"}),
    "wsReadOnly": frozenset({"wsReadOnly"}),
    "wsReadOnly,amReadOnlyAuditLog": frozenset({"wsReadOnly", "amReadOnlyAuditLog"}),
    "amReadOnlyAuditLog": frozenset({"amReadOnlyAuditLog"}),
}

WRITE_KINDS = {"create_", "update_", "delete_", "add_", "log_"}

# `tools/list` of the default server (allow_delete=True), in estimated tokens (compact JSON bytes / 4). Every
# conversation of every user pays it before the first word, so it is a headline figure: raise it only
# deliberately. Issue 12's ceiling, kept by issue 24 with every tool reachable: toolsets few conversations need
# are off by default, one switch away (registry.OFF_BY_DEFAULT; bench/bench_tools_list.py measures both lists).
# Length limits are enforced but not published (tools/schemas.py).
TOKEN_BUDGET = 7_500


def snapshot_of(tool: Tool) -> dict[str, Any]:
    """What a client sees of a tool, in a stable, reviewable shape, plus the schema of its results.

    The result schema is published only with --output-schemas, but it is the contract of every result, so a
    change to it must be as deliberate as a change to what `tools/list` shows.
    """
    wire = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {
        "name": wire["name"],
        "title": wire.get("title"),
        "description": wire.get("description"),
        "inputSchema": wire.get("inputSchema"),
        "outputSchema": wire.get("outputSchema"),
        "annotations": wire.get("annotations"),
        "_meta": wire.get("_meta"),
        "resultSchema": result_schema(declared_spec(wire["name"])),
    }


def render(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


async def listed_tools(client: Client) -> dict[str, Tool]:
    return {tool.name: tool for tool in (await client.list_tools()).tools}


def snapshot_names() -> set[str]:
    return {path.stem for path in SNAPSHOTS.glob("*.json") if not path.name.startswith("_")}


async def test_tool_snapshots(mcp: Client) -> None:
    tools = await listed_tools(mcp)
    assert tools, "the default server offers tools"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        for stale in snapshot_names() - set(tools):
            (SNAPSHOTS / f"{stale}.json").unlink()
        for name, tool in tools.items():
            (SNAPSHOTS / f"{name}.json").write_text(render(snapshot_of(tool)), encoding="utf-8")
    missing = sorted(set(tools) - snapshot_names())
    extra = sorted(snapshot_names() - set(tools))
    assert not missing, f"no snapshot for {missing}: {HOW_TO_UPDATE}"
    assert not extra, f"snapshots for tools the server does not offer: {extra}: {HOW_TO_UPDATE}"
    changed = [
        name
        for name, tool in tools.items()
        if (SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8") != render(snapshot_of(tool))
    ]
    for name in changed:  # show the first difference in full
        assert json.loads((SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8")) == snapshot_of(
            tools[name]
        ), f"{name} changed: {HOW_TO_UPDATE}"
    assert not changed, f"{changed} changed: {HOW_TO_UPDATE}"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_tools_list_fits_its_token_budget(
    make_server: Callable[..., WrikeMCPServer], mode: str
) -> None:
    # as `wrike-mcp serve` starts by default (toolsets off by default stay off), with delete_task offered
    async with Client(make_server(allow_delete=True, toolsets=None), mode=mode) as client:
        listed = (await client.list_tools()).tools
    tools = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]
    size = len(json.dumps({"tools": tools}, separators=(",", ":")))
    tokens = size / 4
    assert tokens <= TOKEN_BUDGET, (
        f"tools/list is {size} bytes ≈ {tokens:.0f} tokens, over the budget of {TOKEN_BUDGET} tokens "
        f"({TOKEN_BUDGET * 4} bytes): tighten descriptions, or leave a toolset few conversations need off by "
        "default (registry.OFF_BY_DEFAULT, docs/TOOLSETS.md)"
    )


def type_lists(schema: Any, where: str) -> list[str]:
    """Where a schema says `type` with a list: some clients (Gemini's function declarations) refuse those."""
    if isinstance(schema, list):
        return [found for i, item in enumerate(schema) for found in type_lists(item, f"{where}[{i}]")]
    if not isinstance(schema, dict):
        return []
    here = [where] if isinstance(schema.get("type"), list) else []
    return here + [found for key, value in schema.items() for found in type_lists(value, f"{where}.{key}")]


async def test_no_input_schema_gives_a_type_list(mcp: Client) -> None:
    tools = (await mcp.list_tools()).tools
    assert [found for tool in tools for found in type_lists(tool.input_schema, tool.name)] == []


async def test_every_registered_tool_is_offered_by_the_full_server(mcp: Client) -> None:
    assert set(await listed_tools(mcp)) == {spec.name for spec in all_tools()}


async def test_tool_names_by_grant(make_server: Callable[..., WrikeMCPServer]) -> None:
    by_grant: dict[str, list[str]] = {}
    for label, granted in GRANTS.items():
        async with Client(make_server(granted_scopes=granted, allow_delete=True)) as client:
            # sorted: a grant's list is compared as a set of names
            by_grant[label] = sorted(await listed_tools(client))
    if UPDATE:
        GRANTS_FILE.write_text(render(by_grant), encoding="utf-8")
    assert GRANTS_FILE.exists(), HOW_TO_UPDATE
    assert json.loads(GRANTS_FILE.read_text(encoding="utf-8")) == by_grant, HOW_TO_UPDATE

    specs = {spec.name: spec for spec in all_tools()}
    read_only = set(by_grant["wsReadOnly"])
    assert read_only and all(specs[name].read_only for name in read_only)
    assert not read_only & {"list_app_activity", "list_audit_log"}
    assert set(by_grant["Default"]) == set(by_grant["wsReadWrite"])
    assert {n for n in by_grant["wsReadWrite"] if any(n.startswith(k) for k in WRITE_KINDS)}
    assert set(by_grant["amReadOnlyAuditLog"]) == {"list_app_activity", "list_audit_log", "enable_toolsets"}
    assert set(by_grant["unknown"]) == set(specs)


async def test_every_tool_is_fully_described(mcp: Client) -> None:
    for name, tool in (await listed_tools(mcp)).items():
        assert tool.title, name
        assert tool.description and len(tool.description) >= 40, name
        assert name == name.lower() and "_" in name and not name.startswith("wrike_"), name
        properties = tool.input_schema.get("properties", {})
        undescribed = [prop for prop, schema in properties.items() if not schema.get("description")]
        assert not undescribed, f"{name}: no description on {undescribed}"
        assert tool.output_schema is None, f"{name}: outputSchema is published only with --output-schemas"
        hints = tool.annotations
        assert hints is not None, name
        for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            assert isinstance(getattr(hints, hint), bool), f"{name}: {hint} not set explicitly"
        assert not (hints.read_only_hint and hints.destructive_hint), name
        meta = tool.meta or {}
        assert isinstance(meta.get(META_TOOLSET), str) and meta[META_TOOLSET], name
        # every tool reaching Wrike names its scopes; enable_toolsets only switches what the session is offered
        assert isinstance(meta.get(META_SCOPES), list), name
        assert meta[META_SCOPES] or name == "enable_toolsets", name


async def test_annotations_match_the_registry(mcp: Client) -> None:
    specs = {spec.name: spec for spec in all_tools()}
    for name, tool in (await listed_tools(mcp)).items():
        spec = specs[name]
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is spec.read_only
        assert tool.annotations.destructive_hint is (spec.kind == "destructive")
        assert (tool.meta or {})[META_SCOPES] == list(spec.scopes)
        assert (tool.meta or {})[META_TOOLSET] == spec.toolset


# ---- filters -------------------------------------------------------------------------------------------


async def names_for(make_server: Callable[..., WrikeMCPServer], **settings: Any) -> set[str]:
    async with Client(make_server(allow_delete=True, **settings)) as client:
        return set(await listed_tools(client))


async def test_read_only_filter(make_server: Callable[..., WrikeMCPServer]) -> None:
    names = await names_for(make_server, read_only=True)
    specs = {spec.name: spec for spec in all_tools()}
    assert names == {name for name, spec in specs.items() if spec.read_only}
    assert "list_app_activity" in names and "get_me" in names


async def test_toolsets_filter(make_server: Callable[..., WrikeMCPServer]) -> None:
    names = await names_for(make_server, toolsets="app_activity,context")
    assert names == {"list_app_activity", "list_audit_log", "get_me", "enable_toolsets"}
    assert await names_for(make_server, toolsets=["app_activity"]) == {"list_app_activity", "list_audit_log"}


async def test_tools_and_exclude_filters(make_server: Callable[..., WrikeMCPServer]) -> None:
    assert await names_for(make_server, tools="get_me,list_audit_log") == {"get_me", "list_audit_log"}
    everything = {spec.name for spec in all_tools()}
    assert await names_for(make_server, exclude_tools="list_audit_log,get_me") == everything - {
        "list_audit_log",
        "get_me",
    }
    combined = await names_for(
        make_server, toolsets="app_activity", exclude_tools="list_audit_log", read_only=True
    )
    assert combined == {"list_app_activity"}


async def test_filters_and_grants_combine(make_server: Callable[..., WrikeMCPServer]) -> None:
    names = await names_for(
        make_server, toolsets="app_activity,context", granted_scopes=frozenset({"wsReadOnly"})
    )
    assert names == {"get_me", "enable_toolsets"}


def test_unknown_filter_names_are_reported() -> None:
    problems = ToolFilter(toolsets=frozenset({"nope"}), exclude_tools=frozenset({"get_mee"})).validate_names()
    assert problems == ["unknown toolset 'nope'", "unknown tool 'get_mee'"]
    assert ToolFilter(toolsets=frozenset({"default", "all", "app_activity"})).validate_names() == []


@pytest.mark.parametrize("allow_delete", [False, True])
async def test_delete_needs_elicitation_or_allow_delete(
    make_server: Callable[..., WrikeMCPServer], allow_delete: bool
) -> None:
    assert "delete_task" in {spec.name for spec in all_tools()}
    async with Client(make_server(allow_delete=allow_delete), mode="legacy") as client:
        names = set(await listed_tools(client))
    assert ("delete_task" in names) is allow_delete


async def test_output_schemas_are_published_on_request(make_server: Callable[..., WrikeMCPServer]) -> None:
    async with Client(make_server(allow_delete=True, output_schemas=True), mode="legacy") as client:
        tools = await listed_tools(client)
        for name, tool in tools.items():
            assert tool.output_schema == result_schema(declared_spec(name)), name
            assert tool.output_schema.get("type") == "object", name
            properties = tool.output_schema.get("properties", {}).values()
            assert not any("title" in prop for prop in properties), f"{name}: auto titles left in"
        # results still validate against the published schema
        result = await client.call_tool("search_tasks", {"folder": "Q3 Launch", "limit": 3})
        assert not result.is_error and result.structured_content


# ---- every reference and date parameter stands on its own ------------------------------------------------
# A model often never sees the server's instructions: a parameter taking a reference says in its own
# description what it accepts, in the one phrase of its kind (tools/inputs.py), and a date says its format.

TASK = (TASK_PHRASE,)
FOLDER = (FOLDER_PHRASE,)
PERSON = (PERSON_PHRASE,)
PEOPLE = (PEOPLE_PHRASE,)
REFERENCE_PHRASES: dict[str, tuple[str, ...]] = {
    "task": TASK,
    "parent_task": TASK,
    "predecessor": TASK,
    "successor": TASK,
    "tasks": (TASKS_PHRASE,),
    "folder": FOLDER,
    "project": FOLDER,
    "within": FOLDER,
    "parent": FOLDER,
    "move_to": FOLDER,
    "place": FOLDER,
    "add_parents": (FOLDERS_PHRASE,),
    "remove_parents": (FOLDERS_PHRASE,),
    "space": (SPACE_PHRASE,),
    "person": PERSON,
    "assignee": PERSON,
    "author": PERSON,
    "owner": PERSON,
    "approver": PERSON,
    "pending_approver": PERSON,
    "assignees": PEOPLE,
    "add_assignees": PEOPLE,
    "remove_assignees": PEOPLE,
    "owners": PEOPLE,
    "add_owners": PEOPLE,
    "remove_owners": PEOPLE,
    "followers": PEOPLE,
    "add_followers": PEOPLE,
    "approvers": PEOPLE,
    "users": PEOPLE,
}
# Where a place may also be a space or a task, the description says so in that kind's phrase as well.
ALSO: dict[tuple[str, str], tuple[str, ...]] = {
    ("create_folder", "parent"): (PLACE_PHRASE,),
    ("create_project", "parent"): (PLACE_PHRASE,),
    ("list_folders", "parent"): (PLACE_PHRASE,),
    ("list_projects", "within"): (PLACE_PHRASE,),
    ("whats_changed", "place"): (PLACE_PHRASE,),
    ("launch_blueprint", "parent"): (TASK_PHRASE,),
}
# A nested argument described once, by the tool (always listed with it: same toolset) that takes the same
# names as its own parameters: bulk_update_tasks' `where` takes search_tasks' filters.
DESCRIBED_BY = {("bulk_update_tasks", "where"): "search_tasks"}
DATE_NAME = re.compile(r"(^|_)(date|since|until|after|before|from|to)$")
DATE_FORMATS = (DATE_PHRASE, INSTANT_PHRASE, "YYYY-MM-DD")


def parameters(schema: dict[str, Any], where: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, name, schema) of every property, those of nested objects too unless DESCRIBED_BY a tool of
    their own."""
    found = []
    for name, prop in (schema.get("properties") or {}).items():
        found.append((where, name, prop))
        if (where.partition(".")[0], name) not in DESCRIBED_BY:
            found += parameters(prop, f"{where}.{name}")
    return found


def is_string(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "string":
        return True
    items = schema.get("items")
    return isinstance(items, dict) and items.get("type") == "string"


def missing_phrases(tools: list[Tool]) -> list[str]:
    """A line per reference parameter lacking its phrase and per date parameter not saying its format."""
    problems = []
    for tool in tools:
        for where, name, prop in parameters(tool.input_schema, tool.name):
            description = prop.get("description", "")
            wanted = REFERENCE_PHRASES.get(name, ()) + ALSO.get((tool.name, name), ())
            problems += [
                f"{where}.{name}: lacks {phrase!r}" for phrase in wanted if phrase not in description
            ]
            if (
                name not in REFERENCE_PHRASES
                and DATE_NAME.search(name)
                and is_string(prop)
                and not any(f in description for f in DATE_FORMATS)
            ):
                problems.append(f"{where}.{name}: a date without its format")
    return problems


async def test_every_reference_and_date_parameter_says_what_it_takes(mcp: Client) -> None:
    tools = (await mcp.list_tools()).tools
    assert missing_phrases(tools) == []
    # the check bites: the same list with one phrase taken out is caught
    get_task = next(tool for tool in tools if tool.name == "get_task")
    crippled = get_task.model_copy(deep=True)
    crippled.input_schema["properties"]["task"]["description"] = "the task"
    assert missing_phrases([crippled]) == ["get_task.task: lacks 'task: title, permalink or id'"]


async def test_a_nested_argument_described_elsewhere_takes_that_tools_parameters(mcp: Client) -> None:
    tools = await listed_tools(mcp)
    for (tool, argument), describer in DESCRIBED_BY.items():
        nested = tools[tool].input_schema["properties"][argument]["properties"]
        own = tools[describer].input_schema["properties"]
        assert nested and set(nested) <= set(own), f"{tool}.{argument} takes what {describer} does not"
        assert all(nested[name].get("type") == own[name].get("type") for name in nested)
        assert describer in argument_description(tools[tool], argument)
        # listed whenever the tool is: the same toolset, or one on by default
        describer_toolset = (tools[describer].meta or {})[META_TOOLSET]
        assert (
            describer_toolset == (tools[tool].meta or {})[META_TOOLSET]
            or describer_toolset not in OFF_BY_DEFAULT
        )


def argument_description(tool: Tool, argument: str) -> str:
    return str(tool.input_schema["properties"][argument].get("description", ""))


async def test_every_status_enum_offers_the_groups_workflows_sort_statuses_into(
    mcp: Client, sandbox_state: Any
) -> None:
    """A status parameter lists Wrike's four groups: those the emulator's workflows file their statuses under
    (the sandbox keeps its own list, so a group renamed or dropped on one side fails here)."""
    groups = {status.group for workflow in sandbox_state.workflows.values() for status in workflow.statuses}
    status_enums = [
        enum
        for tool in (await mcp.list_tools()).tools
        for enum in enums_in(tool.input_schema)
        if "Active" in enum
    ]
    assert len(groups) == 4
    assert status_enums and all(sorted(enum) == sorted(groups) for enum in status_enums)


def enums_in(schema: Any) -> list[list[Any]]:
    if isinstance(schema, dict):
        own = [schema["enum"]] if "enum" in schema else []
        return own + [enum for value in schema.values() for enum in enums_in(value)]
    if isinstance(schema, list):
        return [enum for item in schema for enum in enums_in(item)]
    return []


async def test_no_input_schema_needs_a_reference_followed(mcp: Client) -> None:
    """Nested models are written in place: some clients cannot follow `$ref`."""
    for tool in (await mcp.list_tools()).tools:
        text = json.dumps(tool.input_schema)
        assert "$ref" not in text and "$defs" not in text, tool.name
