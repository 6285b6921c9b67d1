"""The app_activity toolset against the sandbox, in both protocol eras: list_app_activity, list_audit_log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import (
    SANDBOX_BASE_URL,
    call,
    call_error,
    error_text,
    own_task_client,
    requests_log,
)
from tests.tools.tool_helpers import (
    failure as full_failure,
)
from wrike_mcp.config import Settings
from wrike_mcp.server import WrikeMCPServer, create_server
from wrike_mcp.tools import app_activity
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.audit_log import AUDIT_OPERATIONS
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

REFERENCE_JSON = Path(__file__).parent.parent / "data" / "wrike-api-v4-reference-2020.json"
APP_TOOLS = {"list_app_activity", "list_audit_log"}


async def failure(client: Client, tool: str, **arguments: Any) -> str:
    """A tool error's first line without the SDK's "Error executing tool x: " prefix; it must be short."""
    line = (await call_error(client, tool, **arguments)).removeprefix(f"Error executing tool {tool}: ")
    assert len(line) < 200, line
    return line


def email(name: str) -> str:
    first, last = name.lower().split()
    return f"{first}.{last}@northwind.example"


async def raw_audit_log(sandbox_http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every audit-log event straight from the sandbox (paged), for comparisons."""
    query = {key: json.dumps(value) if not isinstance(value, str) else value for key, value in params.items()}
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page_query = {**query, "pageSize": "1000", **({"nextPageToken": token} if token else {})}
        response = await sandbox_http.get(
            "/api/v4/audit_log",
            params=page_query,
            headers={"Authorization": "Bearer wrike-sandbox-token"},
        )
        response.raise_for_status()
        body = response.json()
        events.extend(body["data"])
        token = body.get("nextPageToken")
        if not token or not body["data"]:
            return events


async def audit_requests(sandbox_http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [r for r in await requests_log(sandbox_http) if "/audit_log" in str(r.get("path"))]


async def wrike_requests(sandbox_http: httpx.AsyncClient) -> int:
    return len([r for r in await requests_log(sandbox_http) if str(r.get("path", "")).startswith("/api/v4")])


# ---- list_app_activity ---------------------------------------------------------------------------------


async def test_app_activity_has_one_row_per_app_with_the_panel_columns(mcp: Client) -> None:
    result = await call(mcp, "list_app_activity")
    rows = {row["name"]: row for row in result["items"]}
    assert set(rows) >= {"Slack Sync", "Zapier Bridge", "Reporting Bot"}
    assert result["total"] == len(result["items"])
    # the columns the API cannot tell are said once, in the description: not in every answer and row
    assert "notes" not in result and "unknown_columns" not in result
    tool = next(t for t in (await mcp.list_tools()).tools if t.name == "list_app_activity")
    described = " ".join((tool.description or "").split())
    assert "Who created an app and whether it has a permanent token the API cannot tell" in described
    assert result["events_scanned"] >= 13

    slack = rows["Slack Sync"]
    assert slack["client_id"] == "slk7Q2mVx9"
    # never invented: no guess and no token value for the columns the API cannot tell
    assert not {"created_by", "permanent_access_token"} & set(slack)
    assert slack["authorized_user_count"] == 3
    assert {u["name"] for u in slack["authorized_users"]} == {"Ann Lee", "Chloe Martin", "Emma Rossi"}
    assert {u["email"] for u in slack["authorized_users"]} == {
        email("Ann Lee"),
        email("Chloe Martin"),
        email("Emma Rossi"),
    }
    assert all(u["id"] for u in slack["authorized_users"])
    assert slack["last_oauth_activity"]["event"] == "revoked"
    assert slack["last_oauth_activity"]["user"]["name"] == "Diego Alvarez"
    assert (slack["grants"], slack["revocations"]) == (4, 1)

    zapier = rows["Zapier Bridge"]
    assert zapier["authorized_user_count"] == 0 and "authorized_users" not in zapier
    assert zapier["last_oauth_activity"]["event"] == "revoked"
    assert zapier["last_oauth_activity"]["user"]["name"] == "Ben Carter"

    bot = rows["Reporting Bot"]
    assert bot["authorized_user_count"] == 2
    assert {u["name"] for u in bot["authorized_users"]} == {"Ann Lee", "Hana Sato"}
    last = bot["last_oauth_activity"]
    assert last["user"]["email"] == email("Julia Novak")
    assert datetime.fromisoformat(last["date"]) < datetime.now(UTC)


async def test_app_activity_matches_the_raw_audit_log(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    events = await raw_audit_log(sandbox_http, operations=["Oauth2AccessGranted", "Oauth2AccessRevoked"])
    result = await call(mcp, "list_app_activity")
    assert result["events_scanned"] == len(events)
    latest: dict[str, dict[str, Any]] = {}
    for event in sorted(events, key=lambda e: e["eventDate"]):
        latest[event["objectId"]] = event
    for row in result["items"]:
        event = latest[row["client_id"]]
        assert row["last_oauth_activity"]["date"] == event["eventDate"]
        assert row["name"] == event["objectName"]


async def test_app_filter_by_name_part_or_client_id(mcp: Client) -> None:
    by_name = await call(mcp, "list_app_activity", app="slack")
    assert [row["name"] for row in by_name["items"]] == ["Slack Sync"]
    by_id = await call(mcp, "list_app_activity", app="zpb4Hn8cLw")
    assert [row["name"] for row in by_id["items"]] == ["Zapier Bridge"]
    exact = await call(mcp, "list_app_activity", app="  REPORTING bot ")
    assert [row["client_id"] for row in exact["items"]] == ["rpt3Kd5sYe"]


async def test_unknown_app_lists_the_apps_seen(mcp: Client) -> None:
    error = await failure(mcp, "list_app_activity", app="Jira Cloud")
    assert error.startswith("no API app 'Jira Cloud'")
    assert "Slack Sync" in error and len(error) < 200


async def test_since_narrows_the_events_and_says_so(mcp: Client) -> None:
    since = (datetime.now(UTC) - timedelta(days=25)).date().isoformat()
    result = await call(mcp, "list_app_activity", since=since)
    rows = {row["name"]: row for row in result["items"]}
    assert "Slack Sync" not in rows  # its latest event is 30 days old
    assert rows["Zapier Bridge"]["revocations"] == 2 and rows["Zapier Bridge"]["grants"] == 0
    assert result["since"] == f"{since}T00:00:00Z"
    assert any("since" in note for note in result["notes"])
    until = (datetime.now(UTC) - timedelta(days=100)).date().isoformat()
    early = await call(mcp, "list_app_activity", until=until)
    assert early["items"] == []
    assert early["total"] == 0


async def test_progress_over_many_pages(
    mcp: Client, monkeypatch: pytest.MonkeyPatch, sandbox_http: httpx.AsyncClient
) -> None:
    full = await call(mcp, "list_app_activity")
    earlier = len(await audit_requests(sandbox_http))
    monkeypatch.setattr(app_activity, "APP_SCAN_PAGE_SIZE", 2)
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    result = await mcp.call_tool("list_app_activity", {}, progress_callback=on_progress)
    assert not result.is_error
    assert result.structured_content == full
    pages = -(-full["events_scanned"] // 2)
    assert len(seen) == pages
    assert [value for value, _, _ in seen] == sorted(value for value, _, _ in seen)
    assert seen[-1][0] == full["events_scanned"]
    sizes = {r["query"].get("pageSize") for r in (await audit_requests(sandbox_http))[earlier:]}
    assert sizes == {"2"}


async def test_scan_cap_is_reported_not_silent(mcp: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_activity, "APP_SCAN_PAGE_SIZE", 2)
    monkeypatch.setattr(app_activity, "APP_SCAN_MAX_PAGES", 2)
    result = await call(mcp, "list_app_activity")
    assert result["incomplete"] is True
    assert result["events_scanned"] == 4
    assert "notes" not in result  # `incomplete` says it, once


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"since": "2026-02-30"}, "since '2026-02-30' is not a real date"),
        ({"until": "2025-13-01"}, "until '2025-13-01' is not a real date"),
        ({"since": "last tuesday"}, "since 'last tuesday' is not a date"),
        ({"since": "   "}, "since is empty"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "since (2026-03-02 00:00) is after until"),
        ({"app": "   "}, "app is blank"),
    ],
)
async def test_app_activity_bad_input_is_refused_before_wrike(
    mcp: Client, sandbox_http: httpx.AsyncClient, arguments: dict[str, Any], expected: str
) -> None:
    before = await wrike_requests(sandbox_http)
    error = await failure(mcp, "list_app_activity", **arguments)
    assert expected in error and len(error) < 200
    assert await wrike_requests(sandbox_http) == before


@pytest.mark.parametrize(
    "arguments",
    [{"app": "x" * 100_000}, {"app": ""}, {"since": 20260101}, {"until": ["2026-01-01"]}, {"app": {"id": 1}}],
)
async def test_app_activity_schema_violations(
    mcp: Client, sandbox_http: httpx.AsyncClient, arguments: dict[str, Any]
) -> None:
    before = await wrike_requests(sandbox_http)
    result = await mcp.call_tool("list_app_activity", arguments)
    assert result.is_error
    assert await wrike_requests(sandbox_http) == before


# ---- scopes --------------------------------------------------------------------------------------------


async def test_not_offered_without_the_audit_scope(make_server: Callable[..., WrikeMCPServer]) -> None:
    for granted in ({"wsReadWrite"}, {"wsReadOnly"}, {"Default", "amReadOnlyWorkflow"}):
        server = make_server(granted_scopes=frozenset(granted))
        async with Client(server) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
        assert names and not names & APP_TOOLS, granted
    server = make_server(granted_scopes=frozenset({"wsReadOnly", "amReadOnlyAuditLog"}))
    async with Client(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert names >= APP_TOOLS


@pytest.fixture(params=["wrike-sandbox-noaudit", "wrike-sandbox-readonly"])
async def unscoped_mcp(request: pytest.FixtureRequest, sandbox_app: Any) -> AsyncIterator[Client]:
    """A server whose (permanent) token lacks amReadOnlyAuditLog: the tools are offered, Wrike says 403."""
    client = WrikeClient(
        StaticTokenSource(request.param),
        base_url=SANDBOX_BASE_URL,
        transport=httpx.ASGITransport(app=sandbox_app),
    )
    async with client:
        settings = Settings(base_url=SANDBOX_BASE_URL, toolsets=["all"])
        server = create_server(settings, StaticContext(WrikeContext(settings, client, mode="sandbox")))
        async with own_task_client(server) as mcp_client:
            yield mcp_client


@pytest.mark.parametrize("tool", sorted(APP_TOOLS))
async def test_wrike_403_leads_with_wrikes_description(unscoped_mcp: Client, tool: str) -> None:
    error = (await call_error(unscoped_mcp, tool)).removeprefix(f"Error executing tool {tool}: ")
    # the token's scopes are unknown: Wrike's own description (here naming the scope) comes first, and
    # wrike-mcp blames no scope of its own
    assert error.startswith("The access token has none of the scopes") and "amReadOnlyAuditLog" in error
    assert "(Wrike 403 not_allowed)" in error and "granted scopes lack" not in error


async def test_wrike_403_names_the_scope_the_grant_really_lacks(sandbox_app: Any) -> None:
    client = WrikeClient(
        StaticTokenSource("wrike-sandbox-noaudit", scopes=frozenset({"Default"})),
        base_url=SANDBOX_BASE_URL,
        transport=httpx.ASGITransport(app=sandbox_app),
    )
    async with client:
        settings = Settings(base_url=SANDBOX_BASE_URL, toolsets=["all"])
        server = create_server(settings, StaticContext(WrikeContext(settings, client, mode="sandbox")))
        async with own_task_client(server) as mcp_client:
            result = await mcp_client.call_tool("list_audit_log", {})
    assert result.is_error
    unwrapped = " ".join(error_text(result).replace(" …\n", " ").split())  # a long first line wraps
    assert "the granted scopes lack amReadOnlyAuditLog for list_audit_log; grant it to the token" in unwrapped


# ---- list_audit_log ------------------------------------------------------------------------------------


async def test_audit_log_pages_through_everything_without_gaps(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    everything = await raw_audit_log(sandbox_http)
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        page = await call(mcp, "list_audit_log", limit=7, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 7
        ids.extend(item["id"] for item in page["items"])
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert len(ids) == len(set(ids)) == len(everything)
    assert set(ids) == {event["id"] for event in everything}


async def test_audit_log_item_shape(mcp: Client, sandbox_state: Any) -> None:
    [event] = [e for e in sandbox_state.audit if e.operation == "GroupMemberAdded"]
    page = await call(mcp, "list_audit_log", operations=["GroupMemberAdded"], detail="full")
    [item] = page["items"]
    assert item["id"] == event.id and item["operation"] == "GroupMemberAdded"
    assert item["user"]["name"] == "Ann Lee" and item["user_email"] == email("Ann Lee")
    assert item["object_type"] == "Group" and item["object"]["name"] == "Marketing Team"
    assert item["date"].endswith("Z") and item["ip_address"] == event.ip_address
    assert item["details"] == event.details and "memberId" in item["details"]
    if "total" in page:
        assert page["total"] == 1
    assert "next_cursor" not in page
    # concise (the default): who did what to which object, when; email, IP and details on request
    concise = await call(mcp, "list_audit_log", operations=["GroupMemberAdded"])
    [brief] = concise["items"]
    assert brief == {key: item[key] for key in ("id", "date", "operation", "user", "object_type", "object")}


async def test_operations_filter_case_insensitive(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    page = await call(mcp, "list_audit_log", operations=["userfaillogin", "UserFailLogin"])
    assert len(page["items"]) == 4
    assert {item["operation"] for item in page["items"]} == {"UserFailLogin"}
    [request] = (await audit_requests(sandbox_http))[-1:]
    assert "UserFailLogin" in json.dumps(request["query"])


async def test_an_operation_or_object_type_pasted_with_an_invisible_character_is_wrikes_name(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    """Names compare one way everywhere (wrike/text.py `fold`): a zero-width space does not make another name."""
    page = await call(
        mcp,
        "list_audit_log",
        operations=["User\u200bFailLogin"],
        object_type="\u200buser",
        since="2020-01-01",
    )
    assert page["items"] and {item["operation"] for item in page["items"]} == {"UserFailLogin"}
    [request] = (await audit_requests(sandbox_http))[-1:]
    assert json.loads(request["query"]["operations"]) == ["UserFailLogin"]
    assert request["query"]["objectType"] == "User"


async def test_users_filter_by_name_email_and_me(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    everything = await raw_audit_log(sandbox_http)
    diego = [e for e in everything if e["userEmail"] == email("Diego Alvarez")]
    by_name = await call(mcp, "list_audit_log", users=["Diego Alvarez"], limit=1000)
    assert {item["id"] for item in by_name["items"]} == {e["id"] for e in diego}
    assert all(item["user"]["name"] == "Diego Alvarez" for item in by_name["items"])
    assert by_name["total"] == len(diego)  # Wrike filters, so its count is the filtered count
    by_email = await call(mcp, "list_audit_log", users=[email("Diego Alvarez").upper()], limit=1000)
    assert {item["id"] for item in by_email["items"]} == {e["id"] for e in diego}
    mine = await call(mcp, "list_audit_log", users=["me"], operations=["TaskStatusChanged"])
    assert len(mine["items"]) == 6
    both = await call(mcp, "list_audit_log", users=["Diego Alvarez", "Ben Carter"], limit=1000)
    assert {item["user"]["name"] for item in both["items"]} == {"Diego Alvarez", "Ben Carter"}
    [request] = (await audit_requests(sandbox_http))[-1:]
    assert "users" in request["query"]  # filtered by Wrike, not by reading the whole log


async def test_users_filter_pages_with_a_cursor(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    everything = await raw_audit_log(sandbox_http)
    expected = {e["id"] for e in everything if e["userEmail"] == email("Ann Lee")}
    assert len(expected) > 3
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    for _ in range(50):
        arguments: dict[str, Any] = {"users": ["Ann Lee"], "limit": 3}
        if cursor:
            arguments["cursor"] = cursor
        page = await call(mcp, "list_audit_log", **arguments)
        sizes.append(len(page["items"]))
        seen.extend(item["id"] for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and set(seen) == expected
    full, rest = divmod(len(expected), 3)
    assert sizes == [3] * full + ([rest] if rest else [])  # every page full but the last


async def test_date_range(mcp: Client) -> None:
    now = datetime.now(UTC)
    since = (now - timedelta(days=10)).date()
    until = (now - timedelta(days=3)).date()
    page = await call(mcp, "list_audit_log", since=since.isoformat(), until=until.isoformat(), limit=1000)
    assert page["items"]
    for item in page["items"]:
        day = datetime.fromisoformat(item["date"]).date()
        assert since <= day <= until
    moment = await call(mcp, "list_audit_log", since=f"{since.isoformat()}T12:00:00+02:00", limit=1000)
    assert all(datetime.fromisoformat(item["date"]) >= datetime.fromisoformat(f"{since}T10:00:00+00:00")
               for item in moment["items"])  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"operations": ["task delete"]},
            "unknown audit-log operation 'task delete': did you mean TaskDeleted",
        ),
        ({"operations": ["Nonsense"]}, "unknown audit-log operation 'Nonsense'"),
        ({"operations": ["TASK_CREATED"]}, "did you mean TaskCreated"),
        ({"object_type": "Tsk", "operations": ["TaskCreated"], "since": "2026-01-01"}, "did you mean Task"),
        ({"object_type": "Task", "since": "2026-01-01"}, "add operations (e.g. operations=[TaskArchived"),
        (
            {"object_type": "Comment", "since": "2026-01-01"},
            "operations=[TaskCommentChanged, TaskCommentDeleted]",
        ),
        ({"object_type": "Task", "operations": ["TaskCreated"]}, "add since or until: object_ids needs"),
        ({"object_ids": ["IEAAAAAAKQAAAAAB"]}, "add object_type: object_ids needs object_type"),
        ({"since": "2026-04-31"}, "since '2026-04-31' is not a real date"),
        ({"until": "31/12/2026"}, "until '31/12/2026' is not a date"),
        ({"cursor": "not-a-cursor"}, "cursor is not valid"),
        ({"users": ["   "]}, "person '' not found; give me, an email"),
    ],
)
async def test_audit_log_bad_input_is_refused_before_wrike(
    mcp: Client, sandbox_http: httpx.AsyncClient, arguments: dict[str, Any], expected: str
) -> None:
    before = await wrike_requests(sandbox_http)
    error = await failure(mcp, "list_audit_log", **arguments)
    assert expected in error and len(error) < 200
    assert await wrike_requests(sandbox_http) == before


@pytest.mark.parametrize(
    "arguments",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "ten"},
        {"operations": "UserLoggedIn"},
        {"operations": ["x" * 100_000]},
        {"users": ["y" * 100_000]},
        {"users": "Ann Lee"},
        {"users": [f"person{n}@example.com" for n in range(11)]},
        {"object_ids": [f"IEAAAAAAKQAAAA{n:02d}" for n in range(11)]},
        {"object_type": "T" * 100},
        {"cursor": "z" * 100_000},
    ],
)
async def test_audit_log_schema_violations(
    mcp: Client, sandbox_http: httpx.AsyncClient, arguments: dict[str, Any]
) -> None:
    before = await wrike_requests(sandbox_http)
    result = await mcp.call_tool("list_audit_log", arguments)
    assert result.is_error
    assert await wrike_requests(sandbox_http) == before


async def test_ambiguous_and_unknown_people(mcp: Client) -> None:
    assert "ambiguous" in await failure(mcp, "list_audit_log", users=["Sam"])
    result = await mcp.call_tool("list_audit_log", {"users": ["Sam"]})
    candidates = error_text(result)  # listed on the lines after the first
    assert "Sam Taylor" in candidates and "Sam Turner" in candidates
    error = await failure(mcp, "list_audit_log", users=["Ann Lee", "Nobody Atall"])
    assert "not found" in error


async def test_cursor_keeps_its_filters(mcp: Client) -> None:
    first = await call(mcp, "list_audit_log", operations=["UserLoggedIn"], limit=5)
    cursor = first["next_cursor"]
    same = await call(mcp, "list_audit_log", cursor=cursor, limit=5)
    assert {item["operation"] for item in same["items"]} == {"UserLoggedIn"}
    repeated = await call(mcp, "list_audit_log", cursor=cursor, operations=["UserLoggedIn"], limit=5)
    assert repeated["items"] == same["items"]
    error = await failure(mcp, "list_audit_log", cursor=cursor, operations=["TaskDeleted"])
    assert error.startswith("cursor belongs to a different query")


async def test_untrusted_text_is_cleaned(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    ann = next(c for c in sandbox_state.contacts.values() if c.first_name == "Ann")
    sandbox_state.record_audit(
        "TaskDeleted",
        ann,
        "Task",
        "Evil\u200b\u202etitle",
        "IEAAAAAAAAAAAAAA",
        {"note": "a\u2066b" + "c" * 5000},
    )
    page = await call(mcp, "list_audit_log", operations=["TaskDeleted"], limit=1000, detail="full")
    [item] = [i for i in page["items"] if i["object"]["id"] == "IEAAAAAAAAAAAAAA"]
    assert item["object"]["name"] == "Eviltitle"
    assert item["details"]["note"].startswith("abccc") and len(item["details"]["note"]) <= 301


def test_operations_are_wrikes_2026_list_and_keep_the_2020_one() -> None:
    assert len(AUDIT_OPERATIONS) == 157 and "TaskCreated" in AUDIT_OPERATIONS
    data = json.loads(REFERENCE_JSON.read_text())
    for model in data["models"]:
        for body in model.values():
            for param in body.get("params") or []:
                if param["name"] == "operations" and "Enum:" in (param.get("comment") or ""):
                    names = [name.strip() for name in param["comment"].split("Enum:")[1].split(",")]
                    assert set(names) <= set(AUDIT_OPERATIONS)
                    assert all(app_activity.OPERATION_NAME.fullmatch(name) for name in AUDIT_OPERATIONS)
                    return
    pytest.fail("no operations enum in the reference")


# ---- 2026 operations and filters -----------------------------------------------------------------------


async def test_task_created_is_found(mcp: Client, sandbox_state: Any) -> None:
    created = await call(mcp, "create_task", folder="Marketing/Campaigns/Q3 Launch", title="Audit trail test")
    page = await call(mcp, "list_audit_log", operations=["taskcreated"])
    [item] = page["items"]
    assert item["operation"] == "TaskCreated" and item["object_type"] == "Task"
    assert item["object"] == {"id": created["id"], "name": "Audit trail test"}
    assert item["user"]["name"] == "Ann Lee"
    assert "notes" not in page  # a known name needs no remark


async def test_an_unknown_camel_case_operation_is_passed_on_with_suggestions(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    page = await call(mcp, "list_audit_log", operations=["TaskDelete", "UserFailLogin"])
    [request] = (await audit_requests(sandbox_http))[-1:]
    assert json.loads(request["query"]["operations"]) == ["TaskDelete", "UserFailLogin"]  # sent as given
    assert {item["operation"] for item in page["items"]} == {"UserFailLogin"}  # Wrike matched the known one
    [note] = page["notes"]
    assert note.startswith("TaskDelete is not among the 157 audit-log operations") and "TaskDeleted" in note
    follow = await call(mcp, "list_audit_log", operations=["TaskDelete", "UserFailLogin"], limit=1)
    more = await call(mcp, "list_audit_log", cursor=follow["next_cursor"], limit=1)
    assert more["notes"] == [note]  # the remark stays with the query


async def test_wrike_refusing_an_unknown_operation_gets_the_suggestion(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    fault = {
        "path": "/api/v4/audit_log",
        "status": 400,
        "error": "invalid_parameter",
        "description": "Parameter 'operations' value is invalid",
    }
    assert (await sandbox_http.post("/_sandbox/faults", json=fault)).status_code < 300
    error = await failure(mcp, "list_audit_log", operations=["TaskRestord"])
    assert "TaskRestord: did you mean TaskRestored" in error


async def test_object_type_and_ids_filter(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    since = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
    operations = ["TaskStatusChanged", "UserLoggedIn", "Oauth2AccessGranted"]
    everything = await call(mcp, "list_audit_log", operations=operations, since=since, limit=1000)
    assert {item["object_type"] for item in everything["items"]} == {"Task", "User", "Oauth2Client"}
    tasks = await call(
        mcp, "list_audit_log", operations=operations, since=since, object_type="task", limit=1000
    )
    assert tasks["items"] and {item["object_type"] for item in tasks["items"]} == {"Task"}
    assert tasks["total"] == len([i for i in everything["items"] if i["object_type"] == "Task"])
    [request] = (await audit_requests(sandbox_http))[-1:]
    assert request["query"]["objectType"] == "Task"
    one = tasks["items"][0]["object"]["id"]
    picked = await call(
        mcp, "list_audit_log", operations=operations, since=since, object_type="Task", object_ids=[one]
    )
    assert picked["items"] and {item["object"]["id"] for item in picked["items"]} == {one}


async def test_audit_log_states_its_rules_together_at_the_first_refusal(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    rules = (
        "object_ids needs object_type, and object_type needs operations and since or until (Wrike's rules)"
    )
    first, text = await full_failure(mcp, "list_audit_log", object_type="comment")
    assert first == (
        "Error executing tool list_audit_log: add operations (e.g. operations=[TaskCommentChanged, TaskCommentDeleted]) and since or until:"
    )
    assert text.splitlines()[1] == rules
    # a bad value and a broken rule are refused in one answer, not one call each
    first, text = await full_failure(mcp, "list_audit_log", object_type="Tsk", since="2026-04-31")
    assert first.startswith(
        "Error executing tool list_audit_log: unknown object_type 'Tsk': did you mean Task?; since '2026-04-31'"
    )
    assert "add operations" in text and rules in " ".join(text.split())
    assert await wrike_requests(sandbox_http) == 0


async def test_a_refused_audit_page_size_falls_back_once_and_answers_the_same(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    """The 2026 description gives the audit log's pageSize no range: a Wrike refusing 1000 gets 100 instead,
    the same answer, and only the first refusal costs a request."""
    apps = await call(mcp, "list_app_activity")
    events = await call(mcp, "list_audit_log", limit=500)
    assert events["items"] and apps["events_scanned"]
    assert len(events["items"]) == min(500, len(sandbox_state.audit))
    assert (await sandbox_http.post("/_sandbox/audit_log", json={"max_page_size": 100})).status_code == 200
    earlier = len(await audit_requests(sandbox_http))
    assert await call(mcp, "list_app_activity") == apps
    assert await call(mcp, "list_audit_log", limit=500) == events
    made = [(r["query"].get("pageSize"), r["status"]) for r in (await audit_requests(sandbox_http))[earlier:]]
    assert made[:2] == [("1000", 400), ("100", 200)]  # refused once, then the fallback
    assert all(size == "100" and status == 200 for size, status in made[2:])
    assert len(made) > 2  # list_audit_log went on at 100 without asking 500 first
