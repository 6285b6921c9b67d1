"""Arguments the published inputSchema rules out are refused before any Wrike request, even where pydantic
alone would take them: an explicit null for an optional argument, a string for a boolean or a number."""

from __future__ import annotations

from typing import Any

import httpx
from mcp import Client

from tests.tools.tool_helpers import call, refused_up_front


async def test_explicit_null_for_an_optional_argument_is_refused(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    # what the published schema says: the argument is a string, and omitting it is how to say "none"
    assert tools["search_tasks"].input_schema["properties"]["cursor"] == {
        "type": "string",
        "description": "from next_cursor",
    }
    for tool, arguments in (
        ("search_tasks", {"cursor": None}),
        ("update_task", {"task": "Draft launch announcement", "title": "Renamed", "description": None}),
        ("list_custom_fields", {"query": None}),
    ):
        message = await refused_up_front(mcp, sandbox_http, tool, **arguments)
        name = next(key for key, value in arguments.items() if value is None)
        assert message.endswith(
            f"invalid argument {name}: null is not a value here: leave the argument out"
        ), message


async def test_a_boolean_takes_only_true_or_false(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    for value in ("0", "false", 0, 1):
        message = await refused_up_front(mcp, sandbox_http, "list_workflows", include_hidden=value)
        assert message.endswith("invalid argument include_hidden: must be true or false"), message
    shown: dict[str, Any] = await call(mcp, "list_workflows", include_hidden=True)
    assert shown["items"]


async def test_a_number_takes_no_text(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    for tool, arguments in (
        ("find_people", {"limit": "1"}),
        ("search_tasks", {"limit": "25"}),
        ("log_time", {"task": "Draft launch announcement", "hours": "1.5"}),
        ("find_people", {"limit": True}),
    ):
        message = await refused_up_front(mcp, sandbox_http, tool, **arguments)
        name = next(key for key in arguments if key in ("limit", "hours"))
        assert message.endswith(f"invalid argument {name}: must be a number"), message
    found: dict[str, Any] = await call(mcp, "find_people", query="Ann", limit=1)
    assert [item["name"] for item in found["items"]] == ["Ann Lee"]


async def test_a_null_inside_a_custom_field_map_still_clears_it(mcp: Client, sandbox_state: Any) -> None:
    """The check is on the arguments themselves: in custom_fields' values, null means "clear"."""
    task = next(t for t in sandbox_state.tasks.values() if not t.deleted and t.custom_fields)
    field = sandbox_state.custom_fields[next(iter(task.custom_fields))]
    await call(mcp, "update_task", task=task.id, custom_fields={field.title: None})
    assert field.id not in task.custom_fields
