"""Arguments as every toolset takes them: the one implementation of each check and conversion.

Dates and instants, ranges, titles, plain text → Wrike HTML, status groups and names, people references,
and the opaque list cursors. Whatever can be refused here is refused with a ToolError before any Wrike call,
in the server's own words: a value a person gave is only ever quoted (one line, cut), never echoed raw.
"""

from __future__ import annotations

import binascii
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, TypeGuard

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp.encoding import b64url, fingerprint, unb64url
from wrike_mcp.tools.deps import WrikeContext, today
from wrike_mcp.wrike.models import StatusGroup
from wrike_mcp.wrike.text import one_line, quoted, strip_invisible

# ---- input limits (refused by the schema, before any Wrike call) ------------------------------------------

MAX_TITLE = 500
MAX_TEXT = 20_000
MAX_REF = 1000  # an id, permalink, path, title, email or name
MAX_DATE = 40

MAX_CURSOR = 2000

# ---- references: one phrase per kind, in every parameter taking one -----------------------------------------
# A model often never sees the server's instructions, so each reference parameter says in its own description
# what it accepts (tests/tools/test_schemas.py fails when one does not). Reuse these; never write a variant.

TASK_PHRASE = "task: title, permalink or id"
FOLDER_PHRASE = "folder or project: path like `Marketing/Q3 Launch`, permalink, title or id"
SPACE_PHRASE = "space: title or id"
PERSON_PHRASE = "person: `me`, email, full name or contact id"
PEOPLE_PHRASE = "people: each `me`, an email, a full name or a contact id"
DATE_PHRASE = "YYYY-MM-DD, or today/tomorrow/yesterday"
INSTANT_PHRASE = "YYYY-MM-DD or ISO datetime"  # a date or an instant, no relative words


def each(phrase: str, plural: str) -> str:
    """A list parameter's phrase, from the phrase of one reference: what each item may be."""
    return f"{plural}, each: {phrase.partition(': ')[2]}"


TASKS_PHRASE = each(TASK_PHRASE, "tasks")
FOLDERS_PHRASE = each(FOLDER_PHRASE, "folders or projects")
PLACE_PHRASE = f"space, {FOLDER_PHRASE}"  # where a space is taken as well (by title or id)
CATEGORY_PHRASE = "timelog category: name (a unique part will do) or id"
TIMELOG_PHRASE = "time log id, from list_timelogs"
ITEM_TYPE_PHRASE = "custom item type: title or id"
FORM_PHRASE = "request form: title, id or form link"

TaskRef = Annotated[str, Field(min_length=1, max_length=MAX_REF, description=TASK_PHRASE)]
FolderRef = Annotated[str, Field(min_length=1, max_length=MAX_REF, description=FOLDER_PHRASE)]
# For tools about a task or a folder (attachments, approvals), which take either one.
OptionalTask = Annotated[str | None, Field(min_length=1, max_length=MAX_REF, description=TASK_PHRASE)]
OptionalFolder = Annotated[str | None, Field(min_length=1, max_length=MAX_REF, description=FOLDER_PHRASE)]
OptionalPerson = Annotated[str | None, Field(min_length=1, max_length=MAX_REF, description=PERSON_PHRASE)]
OptionalCategory = Annotated[str | None, Field(min_length=1, max_length=MAX_REF, description=CATEGORY_PHRASE)]
# A reference in a list (people, folders, a Contacts field's value): described by the list holding it.
Name = Annotated[str, Field(min_length=1, max_length=MAX_REF)]

# ---- dates and instants ------------------------------------------------------------------------------------

WRIKE_TIMESTAMP = "%Y-%m-%dT%H:%M:%SZ"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}


def _check_year(year: int, value: str, name: str) -> None:
    if not 1970 <= year < 2100:
        raise ToolError(f"{name} {quoted(value, 60)} is out of Wrike's range: use a date from 1970 to 2099")


def parse_day(value: str | None, name: str, *, today: date | None = None) -> date | None:
    """An ISO date (`YYYY-MM-DD`, or a datetime whose date part is taken) or, given `today`, 'today',
    'tomorrow' or 'yesterday'; ToolError when it is none of these or outside 1970–2099."""
    if value is None:
        return None
    text = value.strip()
    lowered = text.casefold()
    if today is not None and lowered in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[lowered])
    try:
        parsed = (
            date.fromisoformat(text)
            if len(text) == 10
            else datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        )
    except ValueError:
        raise ToolError(
            f"{name} {quoted(value, 60)} is not a valid date: use YYYY-MM-DD, e.g. 2026-03-31"
        ) from None
    _check_year(parsed.year, value, name)
    return parsed


async def parse_user_day(deps: WrikeContext, value: str | None, name: str) -> date | None:
    """`parse_day` with 'today', 'tomorrow' and 'yesterday' counted from the user's `today` (asked for only
    when one of them is given)."""
    relative = value is not None and value.strip().casefold() in _RELATIVE_DAYS
    return parse_day(value, name, today=await today(deps) if relative else None)


def day_start(day: date) -> datetime:
    """The first second of a day, UTC."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    """The last second of a day, UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def parse_instant(value: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO date or datetime as an aware UTC datetime, to the second (Wrike's resolution).

    A bare date is its first second, or with `end_of_day` its last one (an `until` covers the whole day);
    a datetime without a zone is UTC. ToolError for blank, malformed, impossible or out-of-range values.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        raise ToolError(f"{name} is empty: give a date as YYYY-MM-DD or an ISO datetime, or leave it out")
    if _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise ToolError(f"{name} {quoted(text, 40)} is not a real date ({exc}); use YYYY-MM-DD") from None
        _check_year(day.year, text, name)
        return day_end(day) if end_of_day else day_start(day)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ToolError(
            f"{name} {quoted(text, 40)} is not a date: use YYYY-MM-DD or an ISO datetime such as "
            "2026-03-01T09:00:00Z"
        ) from None
    _check_year(moment.year, text, name)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def wrike_timestamp(value: datetime) -> str:
    """Wrike's timestamp format, `yyyy-MM-ddTHH:mm:ssZ` (UTC)."""
    return value.astimezone(UTC).strftime(WRIKE_TIMESTAMP)


def wrike_range(start: date | None, end: date | None) -> dict[str, str] | None:
    """Wrike's range filter object (`{"start": …, "end": …}`, bounds optional), or None for no range.

    Dates are written as `YYYY-MM-DD`, datetimes as Wrike timestamps.
    """
    if start is None and end is None:
        return None

    def text(value: date) -> str:
        return wrike_timestamp(value) if isinstance(value, datetime) else value.isoformat()

    return {key: text(value) for key, value in (("start", start), ("end", end)) if value is not None}


def tracked_range(start: date | None, end: date | None) -> dict[str, str] | None:
    """The time log `trackedDate` filter for the days start..end (both included), or None for no range.

    Sent as the timestamp range the descriptions give (2020: "timestamp semi-open interval"; 2026:
    `InstantRange`), not the plain dates a third-party note reports: the first day from its midnight, the
    last to 23:59:59, so a tracked date counts whether Wrike's end is open or closed (docs/FIDELITY.md)."""
    if start is None and end is None:
        return None
    bounds = (("start", start, "T00:00:00Z"), ("end", end, "T23:59:59Z"))
    return {key: f"{day.isoformat()}{time}" for key, day, time in bounds if day is not None}


def check_range(start: date | None, end: date | None, start_name: str, end_name: str) -> None:
    if start and end and end < start:
        raise ToolError(
            f"{end_name} {end.isoformat()} is before {start_name} {start.isoformat()}: swap or fix them"
        )


# ---- text ----------------------------------------------------------------------------------------------------


def clean_title(value: str, what: str) -> str:
    """A title as Wrike stores it: one line, control characters removed; ToolError when nothing is left."""
    title = one_line(value)
    if not title:
        raise ToolError(f"the {what} title is empty: give a non-blank title (up to {MAX_TITLE} characters)")
    return title


def text_to_html(text: str) -> str:
    """Plain text from a model → Wrike HTML: escaped, so it can never inject markup; line breaks kept."""
    return "<br>".join(html.escape(strip_invisible(text).strip()).splitlines())


# ---- statuses and people -------------------------------------------------------------------------------------


# A task's status: one of the four groups, which every workflow has, or a custom status name. An `anyOf` of the
# enum and a plain string, so that a model sees the groups without a list_workflows call. A blank one is
# refused by check_status, in words rather than as two failed union branches.
TaskStatus = StatusGroup | Annotated[str, Field(max_length=200)]


def check_status(status: str | None) -> None:
    if status is not None and not status.strip():
        raise ToolError("status is empty: give a status group or a custom status name, or omit it")


# ---- detail ---------------------------------------------------------------------------------------------------
# Lists that cost many tokens answer concisely by default: ids and essentials; `full` adds what a model can
# otherwise ask for later (permalinks, paths, emails). Each tool says in its parameter what full adds.

Detail = Literal["concise", "full"]


def detail_arg(full_adds: str) -> Any:
    """The `detail` parameter's Field: the same wording on every tool, with what `full` adds there."""
    return Field(description=f"full: also {full_adds}")


def checked_together(*checks: Callable[[], Any]) -> list[Any]:
    """The results of every check; when any refuses, one ToolError states every refusal, so that a model
    learns a tool's rules at the first refusal instead of one refusal at a time."""
    results: list[Any] = []
    problems: list[str] = []
    for check in checks:
        try:
            results.append(check())
        except ToolError as exc:
            problems.append(str(exc))
    if problems:
        # each refusal's first line together first (what a model reads first), their details after
        heads, details = zip(*(problem.partition("\n")[::2] for problem in problems), strict=True)
        raise ToolError("\n".join(["; ".join(heads), *(detail for detail in details if detail)]))
    return results


# ---- list cursors ----------------------------------------------------------------------------------------------
# A cursor is base64 JSON the server wrote; it carries the fingerprint (`query_key`) of the query it pages, so
# a cursor passed with other filters is refused instead of silently paging another list.

BAD_CURSOR = "cursor is not valid: pass the next_cursor of the previous answer unchanged, or omit it"
OTHER_QUERY = "cursor belongs to a different query (other filters or arguments): repeat the same ones, or omit the cursor"


def query_key(**values: Any) -> str:
    """A short fingerprint of a list query, bound into its cursors."""
    return fingerprint(values, 12)


def encode_cursor(key: str | None, **fields: Any) -> str:
    data = dict(fields) if key is None else {**fields, "k": key}
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return b64url(raw)


def decode_cursor(cursor: str, key: str | None) -> dict[str, Any]:
    """The fields of a cursor this server wrote for the query `key` (None: the caller checks the query)."""
    text = cursor.strip()
    try:
        data = json.loads(unb64url(text))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ToolError(BAD_CURSOR) from None
    if not isinstance(data, dict):
        raise ToolError(BAD_CURSOR)
    if key is not None:
        if not isinstance(data.get("k"), str):
            raise ToolError(BAD_CURSOR)
        if data["k"] != key:
            raise ToolError(OTHER_QUERY)
    return data


def _count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def offset_cursor(offset: int, key: str) -> str:
    """The cursor of a list held in full, at `offset`."""
    return encode_cursor(key, o=offset)


def read_offset_cursor(cursor: str | None, key: str) -> int:
    """The offset a cursor stands for (0 without one); ToolError when it is not ours or pages another query."""
    if not cursor:
        return 0
    offset = decode_cursor(cursor, key).get("o")
    if not _count(offset):
        raise ToolError(BAD_CURSOR)
    return offset


def page_slice(items: Sequence[Any], offset: int, limit: int, key: str) -> tuple[list[Any], str | None]:
    """One page of a list held in full, and the cursor of the next page (None at the end)."""
    following = offset + limit
    return list(items[offset:following]), (offset_cursor(following, key) if following < len(items) else None)


@dataclass(frozen=True)
class PagePosition:
    """Where a list Wrike pages goes on: Wrike's page token, the items of that page already given, and the
    page size it is read with (a continuation keeps it, so the skip count stays meaningful)."""

    token: str | None
    skip: int
    page_size: int


def page_cursor(position: PagePosition, key: str | None, **extra: Any) -> str:
    return encode_cursor(key, t=position.token, s=position.skip, p=position.page_size, **extra)


def read_page_cursor(cursor: str, key: str | None) -> tuple[PagePosition, Mapping[str, Any]]:
    """The position a page cursor stands for, and all its fields; ToolError when it is not ours."""
    data = decode_cursor(cursor, key)
    token, skip, size = data.get("t"), data.get("s"), data.get("p")
    if (
        not (token is None or isinstance(token, str))
        or not _count(skip)
        or not _count(size)
        or not 1 <= size <= 1000
    ):
        raise ToolError(BAD_CURSOR)
    return PagePosition(token=token, skip=skip, page_size=size), data
