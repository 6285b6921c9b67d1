"""The `app_activity` toolset: API-app activity and the account's audit log (scope amReadOnlyAuditLog).

Wrike has no public endpoint for its "App activity" panel (Apps & Integrations → API → App activity). The
panel's columns are rebuilt here from the audit log's OAuth events (`Oauth2AccessGranted` and
`Oauth2AccessRevoked` on `Oauth2Client` objects). Two columns cannot be derived from it — who created the
app and whether it has a permanent access token — so they are left out and the tool's description says so
once (not every result, in every row); nothing is invented.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    BAD_CURSOR,
    INSTANT_PHRASE,
    OTHER_QUERY,
    PEOPLE_PHRASE,
    Detail,
    PagePosition,
    checked_together,
    detail_arg,
    page_cursor,
    parse_instant,
    read_page_cursor,
    wrike_range,
    wrike_timestamp,
)
from wrike_mcp.tools.output import Model, Ref, show_title, truncate
from wrike_mcp.tools.pages import audit_log_page, scan_pages, with_page_size
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.wrike.audit_log import (
    AUDIT_FILTER_MAX_IDS,
    AUDIT_LOG_PATH,
    AUDIT_OBJECT_TYPES,
    AUDIT_OPERATIONS,
    AUDIT_PAGE_SIZE,
    AUDIT_PAGE_SIZE_FALLBACK,
)
from wrike_mcp.wrike.errors import InvalidParameter
from wrike_mcp.wrike.models import AuditLogEvent, Contact
from wrike_mcp.wrike.pagination import Page, iterate_pages
from wrike_mcp.wrike.text import fold, strip_invisible

OAUTH_GRANTED = "Oauth2AccessGranted"
OAUTH_REVOKED = "Oauth2AccessRevoked"
OAUTH_OBJECT_TYPE = "Oauth2Client"

APP_SCAN_PAGE_SIZE = AUDIT_PAGE_SIZE
APP_SCAN_MAX_PAGES = 100  # 100 000 OAuth events; beyond that the result says it stopped
AUDIT_SCAN_MAX_PAGES = 20  # per call, when a cursor's page size is smaller than `limit`; the cursor continues
AUTHORIZED_USERS_SHOWN = 50  # names listed per app; the count is always exact
DETAIL_TEXT_LIMIT = 300
CURSOR_MAX_LENGTH = 4000

# Operation names are folded for lookups: any case is accepted, Wrike's spelling is sent.
_OPERATIONS_BY_FOLD = {fold(name): name for name in AUDIT_OPERATIONS}
_OBJECT_TYPES_BY_FOLD = {fold(name): name for name in AUDIT_OBJECT_TYPES}
# Two or more capitalised words, letters and digits only (Oauth2AccessGranted, SamlSSOEnabled): the shape of
# every name Wrike lists, so a newer name of that shape is passed on rather than refused.
OPERATION_NAME = re.compile(r"(?=.*[a-z])[A-Z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")

SinceArg = Annotated[
    str | None,
    Field(
        default=None,
        max_length=40,
        description=f"{INSTANT_PHRASE}; a date from its start",
    ),
]
UntilArg = Annotated[
    str | None,
    Field(
        default=None,
        max_length=40,
        description=f"{INSTANT_PHRASE}; a date to its end",
    ),
]


# ---- results -------------------------------------------------------------------------------------------


class Person(Model):
    id: str
    name: str | None = None
    email: str | None = None


class OAuthActivity(Model):
    date: str = Field(description="when the grant or revocation happened (UTC, ISO)")
    event: Literal["granted", "revoked"]
    user: Person | None = Field(default=None, description="who granted or revoked access")


class AppActivity(Model):
    """One API app: the columns of Wrike's App Activity panel."""

    name: str = Field(description="app name as the audit log records it (latest event)")
    client_id: str = Field(description="the app's OAuth client id")
    authorized_users: list[Person] = Field(
        default_factory=list, description="users whose latest event for the app is a grant"
    )
    authorized_users_truncated: bool | None = Field(
        default=None, description=f"true when more than {AUTHORIZED_USERS_SHOWN} users were authorized"
    )
    authorized_user_count: int = Field(description="number of users currently authorizing the app")
    last_oauth_activity: OAuthActivity | None = None
    grants: int = Field(description="grant events considered")
    revocations: int = Field(description="revocation events considered")


class AppActivityList(Model):
    items: list[AppActivity] = Field(description="one row per app")
    total: int = Field(description="number of apps listed")
    notes: list[str] | None = Field(
        default=None, description="remarks on this answer by wrike-mcp (not Wrike data)"
    )
    since: str | None = None
    until: str | None = None
    events_scanned: int = Field(description="OAuth audit-log events read")
    incomplete: bool | None = Field(
        default=None, description="true when the scan stopped early (narrow since/until to see everything)"
    )


class AuditEvent(Model):
    id: str
    date: str | None = Field(default=None, description="UTC, ISO")
    operation: str
    user: Ref | None = Field(default=None, description="who did it")
    user_email: str | None = Field(default=None, description="full only")
    object_type: str | None = None
    object: Ref | None = Field(default=None, description="what it was done to (id and name as Wrike logged)")
    ip_address: str | None = Field(default=None, description="full only")
    details: dict[str, Any] | None = Field(default=None, description="full only: Wrike's free-form details")


class AuditLogPage(Model):
    items: list[AuditEvent] = Field(description="matching audit-log events")
    next_cursor: str | None = Field(default=None, description="pass back as `cursor` for more; absent at end")
    total: int | None = Field(default=None, description="matching events as Wrike counts them, when it says")
    notes: list[str] | None = Field(
        default=None,
        description="remarks on the query by wrike-mcp (not Wrike data), e.g. an unknown operation",
    )


# ---- argument checks -----------------------------------------------------------------------------------


def date_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    start = parse_instant(since, "since")
    stop = parse_instant(until, "until", end_of_day=True)
    if start and stop and start > stop:
        raise ToolError(f"since ({start:%Y-%m-%d %H:%M}) is after until ({stop:%Y-%m-%d %H:%M}): swap them")
    return start, stop


def check_operations(operations: Sequence[str] | None) -> list[str] | None:
    """Operation names as Wrike spells them (any case in). A CamelCase name Wrike's list lacks is kept as
    given (Wrike adds operations; see unknown_operations); anything else → ToolError with suggestions."""
    if not operations:
        return None
    chosen: list[str] = []
    for raw in operations:
        text = raw.strip()
        name = _OPERATIONS_BY_FOLD.get(fold(text))
        if name is None:
            if not OPERATION_NAME.fullmatch(text):
                close = similar_operations(text)
                hint = f"did you mean {', '.join(close)}?" if close else "e.g. TaskCreated, UserLoggedIn"
                shown = text if len(text) <= 60 else text[:60] + "…"
                raise ToolError(
                    f"unknown audit-log operation {shown!r}: {hint} (Wrike's names are CamelCase words)"
                )
            name = text
        if name not in chosen:
            chosen.append(name)
    return chosen


def unknown_operations(operations: Sequence[str]) -> list[str]:
    return [name for name in operations if name not in AUDIT_OPERATIONS]


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


_OPERATIONS_BY_LETTERS = {_letters(name): name for name in AUDIT_OPERATIONS}


def similar_operations(text: str) -> list[str]:
    """Up to three known names close to `text`, compared without case, spaces or punctuation."""
    close = difflib.get_close_matches(_letters(text), _OPERATIONS_BY_LETTERS, n=3, cutoff=0.6)
    return [_OPERATIONS_BY_LETTERS[key] for key in close]


def unknown_operation_note(name: str) -> str:
    close = similar_operations(name)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return (
        f"{name} is not among the {len(AUDIT_OPERATIONS)} audit-log operations wrike-mcp knows (Wrike's API "
        f"description, 2026); it was sent to Wrike as given, in case Wrike added it since.{hint}"
    )


def check_object_type(object_type: str | None) -> str | None:
    """Wrike's spelling of an object type (any case in); an unknown one → ToolError listing them all."""
    if object_type is None:
        return None
    name = _OBJECT_TYPES_BY_FOLD.get(fold(object_type))
    if name is None:
        close = difflib.get_close_matches(object_type.strip(), AUDIT_OBJECT_TYPES, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "e.g. Task, User, Oauth2Client"
        raise ToolError(
            f"unknown object_type {object_type.strip()[:60]!r}: {hint}\n"
            f"Wrike's object types: {', '.join(AUDIT_OBJECT_TYPES)}"
        )
    return name


OBJECT_FILTER_RULES = (
    "object_ids needs object_type, and object_type needs operations and since or until (Wrike's rules)"
)


def check_object_filters(
    object_type: str | None, object_ids: Sequence[str] | None, operations: Sequence[str] | None, dated: bool
) -> None:
    """Wrike's rules (API description ver154): objectType needs operations and eventDate; objectIds needs
    objectType. Said up front, all of them at once with what is missing, rather than as Wrike's 400 or one
    refusal per rule."""
    missing = []
    if object_ids and object_type is None:
        missing.append("object_type")
    if object_type is not None and not operations:
        kind = _OBJECT_TYPES_BY_FOLD.get(fold(object_type), object_type)
        related = [name for name in AUDIT_OPERATIONS if kind in name][:4] or ["TaskCreated"]
        missing.append(f"operations (e.g. operations=[{', '.join(related)}])")
    if object_type is not None and not dated:
        missing.append("since or until")
    if missing:
        raise ToolError(f"add {' and '.join(missing)}: {OBJECT_FILTER_RULES}")


def _when(event: AuditLogEvent) -> str | None:
    """When the event happened, as Wrike's `yyyy-MM-ddTHH:mm:ssZ` (UTC)."""
    return wrike_timestamp(event.event_date) if event.event_date else None


def _name(value: str | None) -> str | None:
    return show_title(value) or None


def _clean_details(value: Any, depth: int = 0) -> Any:
    """Wrike's free-form `details`, with text cleaned and cut; deep nesting is flattened to text."""
    if isinstance(value, str):
        return truncate(strip_invisible(value), DETAIL_TEXT_LIMIT)[0]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if depth >= 3:
        return truncate(strip_invisible(json.dumps(value, default=str)), DETAIL_TEXT_LIMIT)[0]
    if isinstance(value, dict):
        return {
            strip_invisible(str(key))[:100]: _clean_details(item, depth + 1) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean_details(item, depth + 1) for item in value[:50]]
    return truncate(strip_invisible(str(value)), DETAIL_TEXT_LIMIT)[0]


# ---- people --------------------------------------------------------------------------------------------


def _people_index(contacts: Sequence[Contact]) -> dict[str, Contact]:
    return {contact.id: contact for contact in contacts}


def _person(event: AuditLogEvent, people: dict[str, Contact]) -> Person | None:
    if not event.user_id:
        return None
    contact = people.get(event.user_id)
    return Person(
        id=event.user_id,
        name=_name(contact.name) if contact else None,
        email=event.user_email or (contact.email if contact else None),
    )


# ---- list_app_activity ---------------------------------------------------------------------------------


@dataclass
class _AppState:
    client_id: str
    name: str = ""
    grants: int = 0
    revocations: int = 0
    latest: AuditLogEvent | None = None
    latest_by_user: dict[str, AuditLogEvent] = field(default_factory=dict)


def _event_moment(event: AuditLogEvent) -> datetime:
    return event.event_date.astimezone(UTC) if event.event_date else datetime.min.replace(tzinfo=UTC)


def _match_app(apps: dict[str, _AppState], wanted: str) -> list[_AppState]:
    folded = fold(wanted)
    exact = [app for app in apps.values() if folded in (app.client_id.casefold(), fold(app.name))]
    if exact:
        return exact
    return [app for app in apps.values() if folded in fold(app.name)]


@wrike_tool(scopes=[scopes.AUDIT_LOG], title="List API-app activity")
async def list_app_activity(
    ctx: Context[Any],
    app: Annotated[
        str | None,
        Field(
            default=None,
            min_length=1,
            max_length=200,
            description="only this app: client id or (part of) its name",
        ),
    ] = None,
    since: SinceArg = None,
    until: UntilArg = None,
) -> AppActivityList:
    """Wrike's "App activity" panel from the audit log's OAuth events: per API app, name, client id,
    authorized users, last OAuth activity. Who created an app and whether it has a permanent token the API
    cannot tell. Admins only; single events: list_audit_log.
    """
    start, stop = date_range(since, until)
    if app is not None and not app.strip():
        raise ToolError("app is blank: give an API app's name or client id, or leave it out")
    deps = wrike(ctx)
    params: dict[str, Any] = {"operations": [OAUTH_GRANTED, OAUTH_REVOKED]}
    span = wrike_range(start, stop)
    if span:
        params["eventDate"] = span

    apps: dict[str, _AppState] = {}
    scanned = pages = 0
    incomplete = False

    async def fetch(token: str | None) -> Page[AuditLogEvent]:
        return await audit_log_page(deps, params, APP_SCAN_PAGE_SIZE, token)

    async for page in iterate_pages(fetch):
        pages += 1
        for event in page.items:
            if event.object_type not in (None, OAUTH_OBJECT_TYPE):
                continue
            client_id = event.object_id or ""
            if event.operation not in (OAUTH_GRANTED, OAUTH_REVOKED) or not client_id:
                continue
            scanned += 1
            state = apps.setdefault(client_id, _AppState(client_id=client_id))
            if event.operation == OAUTH_GRANTED:
                state.grants += 1
            else:
                state.revocations += 1
            moment = _event_moment(event)
            if state.latest is None or moment >= _event_moment(state.latest):
                state.latest = event
                state.name = _name(event.object_name) or state.name
            user_key = event.user_id or event.user_email or ""
            if user_key:
                previous = state.latest_by_user.get(user_key)
                if previous is None or moment >= _event_moment(previous):
                    state.latest_by_user[user_key] = event
        await ctx.report_progress(scanned, page.response_size, f"read {pages} audit-log page(s)")
        if pages >= APP_SCAN_MAX_PAGES and not page.is_last:
            incomplete = True
            break

    chosen = list(apps.values())
    if app is not None:
        chosen = _match_app(apps, app)
        if not chosen:
            seen = ", ".join(sorted(repr(a.name or a.client_id) for a in apps.values())[:20]) or "none"
            raise ToolError(
                f"no API app {app.strip()[:80]!r} in the audit log's OAuth events; apps seen: {seen}"
            )

    people = _people_index(await deps.resolver.contacts())
    rows = [_app_row(state, people) for state in chosen]
    rows.sort(key=lambda row: (row.name.casefold(), row.client_id))
    notes = []
    if start is not None:
        notes.append("authorized users count only events since `since`; leave it out for the full picture.")
    return AppActivityList(
        items=rows,
        total=len(rows),
        notes=notes or None,
        since=wrike_timestamp(start) if start else None,
        until=wrike_timestamp(stop) if stop else None,
        events_scanned=scanned,
        incomplete=True if incomplete else None,
    )


def _app_row(state: _AppState, people: dict[str, Contact]) -> AppActivity:
    authorized = [
        event
        for event in sorted(state.latest_by_user.values(), key=_event_moment, reverse=True)
        if event.operation == OAUTH_GRANTED
    ]
    users = [person for event in authorized if (person := _person(event, people)) is not None]
    latest = state.latest
    last = None
    if latest is not None:
        last = OAuthActivity(
            date=_when(latest) or "",
            event="granted" if latest.operation == OAUTH_GRANTED else "revoked",
            user=_person(latest, people),
        )
    return AppActivity(
        name=state.name or state.client_id,
        client_id=state.client_id,
        authorized_users=users[:AUTHORIZED_USERS_SHOWN],
        authorized_users_truncated=True if len(users) > AUTHORIZED_USERS_SHOWN else None,
        authorized_user_count=len(authorized),
        last_oauth_activity=last,
        grants=state.grants,
        revocations=state.revocations,
    )


# ---- list_audit_log ------------------------------------------------------------------------------------


def _audit_item(event: AuditLogEvent, people: dict[str, Contact], detail: Detail) -> AuditEvent:
    contact = people.get(event.user_id) if event.user_id else None
    item = AuditEvent(
        id=event.id,
        date=_when(event),
        operation=event.operation,
        user=Ref(id=event.user_id, name=_name(contact.name) if contact else None) if event.user_id else None,
        object_type=_name(event.object_type),
        object=Ref(id=event.object_id, name=_name(event.object_name)) if event.object_id else None,
    )
    if detail == "full":
        item.user_email = _name(event.user_email)
        item.ip_address = _name(event.ip_address)
        item.details = _clean_details(event.details) if event.details else None
    return item


IdArg = Annotated[str, Field(min_length=1, max_length=100)]


@wrike_tool(scopes=[scopes.AUDIT_LOG], title="Search the audit log")
async def list_audit_log(
    ctx: Context[Any],
    operations: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=60)]] | None,
        Field(
            default=None,
            max_length=50,
            description=(
                "Wrike's names, e.g. TaskCreated, TaskStatusChanged, UserLoggedIn, Oauth2AccessGranted"
            ),
        ),
    ] = None,
    users: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
        Field(
            default=None,
            max_length=AUDIT_FILTER_MAX_IDS,
            description=f"events by these {PEOPLE_PHRASE}",
        ),
    ] = None,
    object_type: Annotated[
        str | None,
        Field(
            default=None,
            max_length=60,
            # an enum in the schema; any case is accepted (check_object_type)
            json_schema_extra={"enum": list(AUDIT_OBJECT_TYPES)},
            description="only on this kind; needs operations and since/until",
        ),
    ] = None,
    object_ids: Annotated[
        list[IdArg] | None,
        Field(
            default=None,
            max_length=AUDIT_FILTER_MAX_IDS,
            description="these objects' ids; needs object_type",
        ),
    ] = None,
    since: SinceArg = None,
    until: UntilArg = None,
    limit: Annotated[int, Field(ge=1, le=1000, description="events per call")] = 100,
    detail: Annotated[Detail, detail_arg("email, IP address, details")] = "concise",
    cursor: Annotated[
        str | None,
        Field(
            default=None,
            max_length=CURSOR_MAX_LENGTH,
            description="from next_cursor",
        ),
    ] = None,
) -> AuditLogPage:
    """The account's audit log: who did what, when, from which IP, to which object, in Wrike's order.

    One task's history: object_type=Task, object_ids=[its id], operations and since. Admins only.
    """

    def rules() -> None:
        if cursor is None:  # a cursor carries the filters it was made with
            check_object_filters(object_type, object_ids, operations, since is not None or until is not None)

    ops, kind, (start, stop), _ = checked_together(
        lambda: check_operations(operations),
        lambda: check_object_type(object_type),
        lambda: date_range(since, until),
        rules,
    )
    deps = wrike(ctx)
    query: dict[str, Any] = {
        "operations": ops,
        "eventDate": wrike_range(start, stop),
        "users": await deps.resolver.person_ids(users) if users else None,
        "objectType": kind,
        "objectIds": list(dict.fromkeys(object_ids)) if object_ids else None,
    }
    query = {key: value for key, value in query.items() if value is not None}
    if cursor is not None:
        # The cursor carries its query: filters left out continue it, filters given must be the same.
        position, fields = read_page_cursor(cursor, None)
        saved = fields.get("q")
        if not isinstance(saved, dict):
            raise ToolError(BAD_CURSOR)
        if any(saved.get(key) != value for key, value in query.items()):
            raise ToolError(OTHER_QUERY)
        query = saved
    else:
        position = PagePosition(token=None, skip=0, page_size=limit)

    unknown = unknown_operations(query.get("operations") or [])
    try:
        found, next_position, total = await _read_audit_log(deps, query, position, limit)
    except InvalidParameter as exc:
        if not unknown:
            raise
        hints = "; ".join(
            f"{name}: did you mean {', '.join(similar_operations(name)) or '?'}" for name in unknown
        )
        # Wrike may not know a name wrike-mcp does not know either: its refusal then gets the suggestions.
        raise ToolError(
            f"operations unknown to wrike-mcp ({hints}) and Wrike rejected the request: "
            f"{' '.join(exc.description.split())[:80]}"
        ) from exc
    people = _people_index(await deps.resolver.contacts())
    return AuditLogPage(
        items=[_audit_item(event, people, detail) for event in found],
        next_cursor=page_cursor(next_position, None, q=query) if next_position else None,
        total=total,
        notes=[unknown_operation_note(name) for name in unknown] or None,
    )


async def _read_audit_log(
    deps: WrikeContext, query: dict[str, Any], position: PagePosition, limit: int
) -> tuple[list[AuditLogEvent], PagePosition | None, int | None]:
    """Up to `limit` events from `position` on, where the next call goes on, and Wrike's count of matches
    (only known on a first page). A cursor keeps its page size, so one call may read several pages; a first
    page asks `limit` events, or fewer when Wrike refused as many before (`with_page_size`)."""
    if position.token is None and position.skip == 0:
        return await with_page_size(
            deps,
            AUDIT_LOG_PATH,
            position.page_size,
            min(position.page_size, AUDIT_PAGE_SIZE_FALLBACK),
            lambda size: _scan_audit_log(
                deps, query, PagePosition(token=None, skip=0, page_size=size), limit
            ),
        )
    return await _scan_audit_log(deps, query, position, limit)


async def _scan_audit_log(
    deps: WrikeContext, query: dict[str, Any], position: PagePosition, limit: int
) -> tuple[list[AuditLogEvent], PagePosition | None, int | None]:
    scan = await scan_pages(
        lambda token: deps.client.get_page(
            AUDIT_LOG_PATH, query, page_size=position.page_size, page_token=token, model=AuditLogEvent
        ),
        position,
        want=limit,
        max_pages=AUDIT_SCAN_MAX_PAGES,
    )
    first = position.token is None and position.skip == 0
    return scan.items, scan.next, scan.total if first else None
