"""Helpers for tool tests: calling tools that must succeed or fail, the sandbox's request log, and the
sandbox's state by path. Fixtures are in tests/tools/conftest.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult

from wrike_mcp.server import WrikeMCPServer

SANDBOX_BASE_URL = "http://127.0.0.1:8100/api/v4"


@asynccontextmanager
async def own_task_client(server: WrikeMCPServer, **options: Any) -> AsyncIterator[Client]:
    """An MCP client opened and closed by one task of its own.

    pytest-asyncio runs an async fixture's setup and teardown in different tasks, and the client's anyio
    task group must be exited by the task that entered it.
    """
    ready, stop = asyncio.Event(), asyncio.Event()
    holder: list[Client] = []

    async def hold() -> None:
        async with Client(server, **options) as client:
            holder.append(client)
            ready.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not holder:
        waiter.cancel()
        await task  # raises what went wrong while connecting
    try:
        yield holder[0]
    finally:
        stop.set()
        await task


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, error_text(result)
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


async def call_error(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return the error text's first line."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    return error_text(result).splitlines()[0]


def error_text(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if block.type == "text")


async def requests_log(sandbox_http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """What the sandbox received, oldest first (method, path, query, body, status), from its control plane."""
    response = await sandbox_http.get("/_sandbox/requests")
    response.raise_for_status()
    body = response.json()
    return list(body["requests"] if isinstance(body, dict) else body)


BIG = "x" * 100_000  # a 100 kB argument


async def api_calls(sandbox_http: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path) of every Wrike API request the sandbox received so far."""
    return [
        (str(entry["method"]), str(entry["path"]))
        for entry in await requests_log(sandbox_http)
        if "/api/v4" in str(entry["path"])
    ]


async def requests_made(
    client: Client, sandbox_http: httpx.AsyncClient, tool: str, **arguments: Any
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """The Wrike requests (method, path) one successful call makes, oldest first, and its result."""
    before = len(await api_calls(sandbox_http))
    result = await call(client, tool, **arguments)
    return (await api_calls(sandbox_http))[before:], result


async def warm_requests(
    client: Client, sandbox_http: httpx.AsyncClient, tool: str, **arguments: Any
) -> list[tuple[str, str]]:
    """The Wrike requests a call makes right after the same call (contacts, workflows, the folder tree and
    the titles it read are cached): what each later call of it costs."""
    await call(client, tool, **arguments)
    return (await requests_made(client, sandbox_http, tool, **arguments))[0]


async def refused_up_front(
    client: Client, sandbox_http: httpx.AsyncClient, tool: str, **arguments: Any
) -> str:
    """Call a tool that must fail without reaching Wrike; return its first error line."""
    before = len(await api_calls(sandbox_http))
    message = await call_error(client, tool, **arguments)
    assert len(await api_calls(sandbox_http)) == before, f"{tool} called Wrike for bad input {arguments}"
    assert len(message) < 200, message
    return message


async def failure(client: Client, tool: str, **arguments: Any) -> tuple[str, str]:
    """Call a tool that must fail; return its first error line (short) and the whole text."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    text = error_text(result)
    first = text.splitlines()[0]
    assert len(first) < 200, first
    return first, text


def state_folder(sandbox_state: Any, path: str) -> Any:
    """The sandbox folder at a path of titles."""
    parent: Any = None
    for title in path.split("/"):
        parent = next(
            f
            for f in sandbox_state.folders.values()
            if f.title == title and not f.deleted and (parent is None or parent.id in f.parent_ids)
        )
    return parent


def user_today(sandbox_state: Any) -> date:
    """Today for the sandbox token's user, in their Wrike time zone: what every relative date a tool answers
    counts from. The machine's own date differs for hours each day (Ann Lee lives in New York)."""
    me = sandbox_state.access_tokens["wrike-sandbox-token"].user_id
    return datetime.now(ZoneInfo(sandbox_state.contacts[me].timezone)).date()


def sequential_round_trips(entries: list[dict[str, Any]]) -> int:
    """The longest chain of Wrike requests in the log each sent after the one before it was answered: what a
    user waits for when every request takes the same time (requests sent at once count once)."""
    timed = sorted(
        (e["received_ms"], e["answered_ms"])
        for e in entries
        if "/api/v4" in str(e["path"]) and "answered_ms" in e
    )
    chain: list[int] = []
    for index, (start, _) in enumerate(timed):
        chain.append(1 + max((chain[i] for i in range(index) if timed[i][1] <= start), default=0))
    return max(chain, default=0)


def answering(action: str, confirm: bool = True) -> tuple[list[str], Callable[..., Any]]:
    """An elicitation callback that answers every question with `action` (accept: the `confirm` box as
    given), and the questions it was asked."""
    asked: list[str] = []

    async def callback(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        if action == "accept":
            return ElicitResult(action="accept", content={"confirm": confirm})
        return ElicitResult(action=action)

    return asked, callback


# The three ways a user leaves a destructive call unconfirmed (elicitation answer, the confirm box), and the
# reason its outcome gives after "not deleted: " or "not removed: ".
NOT_CONFIRMED = (
    ("decline", True, "the user declined"),
    ("cancel", True, "the user cancelled the confirmation"),
    ("accept", False, "the user did not confirm"),
)


async def unconfirmed_answers(
    server: WrikeMCPServer, mode: str, tool: str, **arguments: Any
) -> list[tuple[str, dict[str, Any]]]:
    """Call a destructive tool once per way of not confirming it, each from a client that can be asked (it
    must ask exactly once): (the reason its outcome should give, its result) for each."""
    answers = []
    for action, confirm, reason in NOT_CONFIRMED:
        asked, callback = answering(action, confirm)
        async with Client(server, mode=mode, elicitation_callback=callback) as client:
            result = await call(client, tool, **arguments)
        assert len(asked) == 1, asked
        answers.append((reason, result))
    return answers
