"""bulk_update_tasks (toolset `tasks`): one change to up to 100 tasks, previewed first, applied with the
preview's token.

A preview (the default) reads the tasks and shows each one's before → after; it writes nothing. Its token is
signed with a key of this server (never sent out) and binds the selected task ids, each task's updatedDate
and after-value, and the change; applying re-reads the selection and refuses, before any write, when any of
them differs or the token is not this server's or has expired. Changes Wrike's bulk `PUT /tasks/{ids}` takes
(customStatus, add/remove responsibles, add/remove parents) go in one PUT per distinct body; importance and
dates, which it refuses, in one PUT per task. Writes are never retried, and one failing PUT stops no other:
every task gets its own outcome.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from pydantic import BaseModel, Field

from wrike_mcp import scopes
from wrike_mcp.encoding import b64url, fingerprint, unb64url
from wrike_mcp.tools.deps import WrikeContext, can_elicit, wrike
from wrike_mcp.tools.errors import tool_error_message
from wrike_mcp.tools.inputs import (
    FOLDERS_PHRASE,
    MAX_CURSOR,
    MAX_DATE,
    PEOPLE_PHRASE,
    TASKS_PHRASE,
    Name,
    PagePosition,
    TaskStatus,
    check_status,
    parse_day,
)
from wrike_mcp.tools.output import Model, names_of, show_title
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import day_of, folder_refs, in_recycle_bin, status_name
from wrike_mcp.tools.task_search import (
    TEXT_SEARCH_PAGE,
    Importance,
    TaskFilters,
    people_field,
    scan_task_pages,
    task_query,
    task_request,
)
from wrike_mcp.tools.writes import moved_dates
from wrike_mcp.wrike.errors import TransportError, UnknownOutcome, WrikeAPIError, WrikeError
from wrike_mcp.wrike.models import Task, TaskDates
from wrike_mcp.wrike.text import quoted

MAX_TASKS = 100  # Wrike's bulk PUT takes up to 100 ids; a preview a person can still read
CONFIRM_ABOVE = 20  # applying to more tasks asks the user (where the client can ask)
PREVIEW_TTL = 15 * 60  # seconds a preview token stays valid
MAX_SHIFT_DAYS = 3650
CHANGED = "changed since the preview: preview again (dry_run=true) and apply with the new preview_token"

clock = time.time  # the token clock (tests move it)

ChangeKind = Literal["status", "importance", "assignees", "dates", "parents"]
BULK_KINDS = ("status", "assignees", "parents")
Outcome = Literal[
    "updated", "unchanged", "failed", "unknown"
]  # what Wrike's bulk PUT accepts; the others go task by task


# ---- output ---------------------------------------------------------------------------------------------


class BulkRow(Model):
    id: str
    title: str = ""
    before: str | None = None
    after: str | None = None
    outcome: Outcome | None = Field(
        default=None, description="applied: unknown = may or may not be applied (check before retrying)"
    )
    error: str | None = None


class BulkResult(Model):
    applied: bool = Field(description="false: a preview, nothing written")
    change: str
    count: int
    items: list[BulkRow] = Field(default_factory=list)
    preview_token: str | None = Field(default=None, description="apply: same arguments, dry_run=false")
    expires: str | None = None
    updated: int | None = None
    failed: int | None = None
    unknown: int | None = None
    note: str | None = None


# ---- the change -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One checked kind of change, references still as given."""

    kind: ChangeKind
    status: str | None = None
    importance: str | None = None
    add: tuple[str, ...] = ()  # assignees or parents to add
    remove: tuple[str, ...] = ()
    shift_days: int | None = None
    start: date | None = None
    due: date | None = None

    @property
    def key(self) -> str:
        """A fingerprint of the change as asked for, bound into the preview token."""
        return digest(vars(self))

    def describe(self) -> str:
        if self.kind == "status":
            return f"status → {quoted(self.status or '', 60)}"
        if self.kind == "importance":
            return f"importance → {self.importance}"
        if self.kind == "dates":
            if self.shift_days is not None:
                return f"dates shifted by {self.shift_days:+d} days"
            parts = [f"{name} → {day}" for name, day in (("start", self.start), ("due", self.due)) if day]
            return ", ".join(parts)
        what = "assignees" if self.kind == "assignees" else "folders/projects"
        parts = [
            f"{verb} {what} {', '.join(quoted(ref, 40) for ref in refs)}"
            for verb, refs in (("add", self.add), ("remove", self.remove))
            if refs
        ]
        return "; ".join(parts)[:300]


def check_change(
    *,
    status: str | None,
    importance: str | None,
    add_assignees: Sequence[str] | None,
    remove_assignees: Sequence[str] | None,
    shift_days: int | None,
    start_date: str | None,
    due_date: str | None,
    add_parents: Sequence[str] | None,
    remove_parents: Sequence[str] | None,
) -> Change:
    """The one change asked for; ToolError (before any Wrike request) for none, several, or a bad value."""
    asked: list[tuple[ChangeKind, bool]] = [
        ("status", status is not None),
        ("importance", importance is not None),
        ("assignees", bool(add_assignees or remove_assignees)),
        ("dates", shift_days is not None or start_date is not None or due_date is not None),
        ("parents", bool(add_parents or remove_parents)),
    ]
    kinds = [kind for kind, given in asked if given]
    if not kinds:
        raise ToolError(
            "nothing to change: give one of status, importance, add/remove_assignees, shift_days or "
            "start_date/due_date, add/remove_parents"
        )
    if len(kinds) > 1:
        raise ToolError(f"one kind of change per call, got {', '.join(kinds)}: make one call for each")
    kind = kinds[0]
    if kind == "status":
        check_status(status)
        return Change(kind, status=" ".join((status or "").split()))
    if kind == "importance":
        return Change(kind, importance=importance)
    if kind == "dates":
        if shift_days is not None:
            if start_date is not None or due_date is not None:
                raise ToolError("give shift_days or start_date/due_date, not both")
            if shift_days == 0 or abs(shift_days) > MAX_SHIFT_DAYS:
                raise ToolError(f"shift_days must be a non-zero number of days up to ±{MAX_SHIFT_DAYS}")
            return Change(kind, shift_days=shift_days)
        start, due = parse_day(start_date, "start_date"), parse_day(due_date, "due_date")
        if start and due and due < start:
            raise ToolError("due_date is before start_date: swap them")
        return Change(kind, start=start, due=due)
    add = add_assignees if kind == "assignees" else add_parents
    remove = remove_assignees if kind == "assignees" else remove_parents
    if set(add or []) & set(remove or []):
        raise ToolError("the same reference is both added and removed: drop it from one list")
    return Change(kind, add=tuple(add or []), remove=tuple(remove or []))


@dataclass(frozen=True)
class Ids:
    """The change's people or folders as Wrike ids."""

    add: tuple[str, ...]
    remove: tuple[str, ...]


async def resolve_ids(deps: WrikeContext, change: Change) -> Ids:
    if change.kind == "assignees":
        return Ids(
            tuple(await deps.resolver.person_ids(change.add)),
            tuple(await deps.resolver.person_ids(change.remove)),
        )
    if change.kind == "parents":
        add = [await deps.resolver.folder_id(ref) for ref in change.add]
        remove = [await deps.resolver.folder_id(ref) for ref in change.remove]
        return Ids(tuple(dict.fromkeys(add)), tuple(dict.fromkeys(remove)))
    return Ids((), ())


# ---- each task's plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the change does to one task: before and after as shown, and the PUT body (None: unchanged)."""

    task: Task
    before: str | None
    after: str | None
    body: dict[str, Any] | None


def merged(current: Sequence[str], ids: Ids) -> list[str]:
    kept = [ident for ident in current if ident not in ids.remove]
    return kept + [ident for ident in ids.add if ident not in kept]


def shown_dates(dates: TaskDates | None) -> str:
    if dates is None or dates.type == "Backlog" or not (dates.start or dates.due):
        return "no dates"
    start, due = day_of(dates.start), day_of(dates.due)
    return f"{start}..{due}" if start and start != due else f"{due or start}"


def shifted_dates(dates: TaskDates | None, days: int) -> dict[str, Any] | None:
    """The `dates` body moving both dates by `days`; None for a task without dates."""
    if dates is None or dates.type == "Backlog" or not (dates.start or dates.due):
        return None
    body: dict[str, Any] = {"type": dates.type or "Planned"}
    for name, value in (("start", dates.start), ("due", dates.due)):
        day = parse_day(day_of(value), f"current {name}")
        if day is not None:
            body[name] = (day + timedelta(days=days)).isoformat()
    return body


async def plan_task(deps: WrikeContext, change: Change, ids: Ids, task: Task) -> Plan:
    if change.kind == "status":
        assert change.status is not None
        workflow = (
            await deps.resolver.workflow_of_status(task.custom_status_id) if task.custom_status_id else None
        )
        status_id, _group = await deps.resolver.custom_status(
            change.status, workflow_id=workflow.id if workflow else None
        )
        before, after = await status_name(deps, task.custom_status_id), await status_name(deps, status_id)
        body = {"customStatus": status_id} if status_id != task.custom_status_id else None
        return Plan(task, before, after, body)
    if change.kind == "importance":
        same = task.importance == change.importance
        return Plan(
            task, task.importance, change.importance, None if same else {"importance": change.importance}
        )
    if change.kind == "dates":
        dates = (
            shifted_dates(task.dates, change.shift_days)
            if change.shift_days is not None
            else moved_dates(task.dates, change.start, change.due)
        )
        before = shown_dates(task.dates)
        after = shown_dates(TaskDates.model_validate(dates)) if dates else before
        return Plan(task, before, after, {"dates": dates} if dates and after != before else None)
    if change.kind == "assignees":
        now = merged(task.responsible_ids, ids)
        names = await names_of(deps, [*task.responsible_ids, *now])
        shown = [
            ", ".join(show_title(names.get(i) or i) for i in people) for people in (task.responsible_ids, now)
        ]
        unchanged = set(now) == set(task.responsible_ids)
        people = {"addResponsibles": list(ids.add), "removeResponsibles": list(ids.remove)}
        return Plan(task, shown[0], shown[1], None if unchanged else compact_body(people))
    now = merged(task.parent_ids, ids)
    paths = [
        ", ".join(ref.name or ref.id for ref in await folder_refs(deps, h)) for h in (task.parent_ids, now)
    ]
    folders = {"addParents": list(ids.add), "removeParents": list(ids.remove)}
    return Plan(task, paths[0], paths[1], None if set(now) == set(task.parent_ids) else compact_body(folders))


def compact_body(body: dict[str, list[str]]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if value}


# ---- the selection --------------------------------------------------------------------------------------


async def select_tasks(
    ctx: Context[Any], deps: WrikeContext, refs: Sequence[str] | None, where: TaskFilters | None
) -> list[Task]:
    """The tasks named, or matching the filters; ToolError above MAX_TASKS or for a task in the Recycle Bin."""
    if refs is not None:
        found = await deps.resolver.tasks(refs)
        deleted = [task.id for task in found if in_recycle_bin(task)]
        if deleted:
            raise ToolError(
                f"task(s) in the Recycle Bin: {', '.join(deleted[:10])}; leave them out or restore them first"
            )
        return found
    assert where is not None
    query = await task_query(deps, where)
    path, params = await task_request(deps, query)
    size = TEXT_SEARCH_PAGE if query.filters_locally else MAX_TASKS + 1
    scan = await scan_task_pages(ctx, deps, path, params, query, PagePosition(None, 0, size), MAX_TASKS + 1)
    if len(scan.items) > MAX_TASKS or scan.next is not None:
        many = (
            f"{scan.total} tasks"
            if scan.total and not query.filters_locally
            else f"more than {MAX_TASKS} tasks"
        )
        raise ToolError(
            f"the filters select {many}; a bulk update takes at most {MAX_TASKS}: narrow the filters "
            "(folder, status, assignee, dates) and nothing was changed"
        )
    return scan.items


# ---- the preview token ----------------------------------------------------------------------------------

INVALID_PREVIEW = (
    "preview_token is not valid (not from this server, or altered): preview again with dry_run=true"
)


def digest(value: Any) -> str:
    return fingerprint(value, 24)


def selection_digest(plans: Sequence[Plan]) -> str:
    return digest(sorted(plan.task.id for plan in plans))


def state_digest(plans: Sequence[Plan]) -> str:
    """Each task's last update and what the change makes of it: a task edited since, or a status name that
    now means another status, changes it."""
    return digest(sorted((p.task.id, str(p.task.updated_date), p.after, p.body) for p in plans))


def sign_token(key: bytes, payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return f"{b64url(raw)}.{b64url(hmac.new(key, raw, hashlib.sha256).digest())}"


def read_token(keys: Sequence[bytes], token: str) -> dict[str, Any]:
    """The payload of a token signed with one of `keys` and not expired; ToolError otherwise."""
    body, _, mac = token.strip().partition(".")
    try:
        raw, given = unb64url(body), unb64url(mac)
    except (binascii.Error, ValueError):
        raise ToolError(INVALID_PREVIEW) from None
    if not any(hmac.compare_digest(hmac.new(key, raw, hashlib.sha256).digest(), given) for key in keys):
        raise ToolError(INVALID_PREVIEW)
    payload = json.loads(raw)
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        raise ToolError(INVALID_PREVIEW)
    if payload["e"] < clock():
        raise ToolError("preview_token has expired (15 minutes): preview again with dry_run=true")
    return payload


# ---- confirmation ---------------------------------------------------------------------------------------


class BulkConfirmation(BaseModel):
    confirm: bool = Field(title="Apply the change", description="Yes: update these Wrike tasks")


async def confirm_bulk(
    dry_run: bool, preview_token: str | None, ctx: Context
) -> Elicit[BulkConfirmation] | BulkConfirmation:
    """Ask the user before applying to more than CONFIRM_ABOVE tasks; a client that cannot ask has confirmed
    by passing the preview's token (the preview showed every task)."""
    if dry_run or preview_token is None or not can_elicit(ctx.client_capabilities):
        return BulkConfirmation(confirm=True)
    payload = read_token(wrike(ctx).preview_keys, preview_token)
    count = payload.get("n")
    if not isinstance(count, int) or count <= CONFIRM_ABOVE:
        return BulkConfirmation(confirm=True)
    return Elicit(f"Apply “{str(payload.get('d', ''))[:200]}” to {count} Wrike tasks?", BulkConfirmation)


# ---- applying -------------------------------------------------------------------------------------------


def row(plan: Plan, outcome: Outcome | None = None, error: str | None = None) -> BulkRow:
    return BulkRow(
        id=plan.task.id,
        title=show_title(plan.task.title),
        before=plan.before,
        after=plan.after,
        outcome=outcome,
        error=error,
    )


def batches(change: Change, plans: Sequence[Plan]) -> list[list[Plan]]:
    """The PUTs to send: tasks with the same body in one bulk PUT where Wrike takes it, else one per task."""
    if change.kind not in BULK_KINDS:
        return [[plan] for plan in plans]
    groups: dict[str, list[Plan]] = {}
    for plan in plans:
        groups.setdefault(digest(plan.body), []).append(plan)
    return list(groups.values())


async def send(deps: WrikeContext, batch: list[Plan]) -> list[BulkRow]:
    """One PUT for the batch; each task's outcome, a failure reported, never retried."""
    assert batch[0].body is not None
    ids = ",".join(plan.task.id for plan in batch)
    try:
        answer = await deps.client.put(f"/tasks/{ids}", batch[0].body, model=Task)
    except (UnknownOutcome, TransportError) as exc:
        reason = str(exc).splitlines()[0][:200]
        return [row(plan, "unknown", reason) for plan in batch]
    except WrikeAPIError as exc:
        reason = tool_error_message(exc, "bulk_update_tasks", [scopes.WS_READ_WRITE]) or "Wrike refused it"
        return [row(plan, "failed", reason.splitlines()[0][:200]) for plan in batch]
    except WrikeError as exc:
        return [row(plan, "unknown", str(exc).splitlines()[0][:200]) for plan in batch]
    returned = {task.id for task in answer}
    return [
        row(plan, "updated") if plan.task.id in returned
        else row(plan, "unknown", "Wrike's answer left this task out: check it with get_task")
        for plan in batch
    ]  # fmt: skip


async def apply(ctx: Context[Any], deps: WrikeContext, change: Change, plans: list[Plan]) -> list[BulkRow]:
    rows = {plan.task.id: row(plan, "unchanged") for plan in plans if plan.body is None}
    todo = [plan for plan in plans if plan.body is not None]
    done = 0
    for batch in batches(change, todo):
        for result in await send(deps, batch):
            rows[result.id] = result
        done += len(batch)
        await ctx.report_progress(done, total=len(todo), message=f"sent {done} of {len(todo)} task updates")
    return [rows[plan.task.id] for plan in plans]


# ---- the tool -------------------------------------------------------------------------------------------


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Update many tasks", kind="write")
async def bulk_update_tasks(
    ctx: Context[Any],
    confirmation: Annotated[ElicitationResult[BulkConfirmation], Resolve(confirm_bulk)],
    tasks: Annotated[
        list[Name] | None, Field(min_length=1, max_length=MAX_TASKS, description=TASKS_PHRASE)
    ] = None,
    # typed: a model sees which filters exist; the same model and rules as search_tasks' (task_search.py)
    where: Annotated[
        TaskFilters | None, Field(description="or select by search_tasks' filters, as described there")
    ] = None,
    status: Annotated[
        TaskStatus | None, Field(description="group or custom status of each task's workflow")
    ] = None,
    importance: Annotated[Importance | None, Field(description="new importance")] = None,
    add_assignees: Annotated[list[Name] | None, people_field(PEOPLE_PHRASE)] = None,
    remove_assignees: Annotated[list[Name] | None, people_field(PEOPLE_PHRASE)] = None,
    shift_days: Annotated[int | None, Field(description="move start and due by N calendar days")] = None,
    start_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    due_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    add_parents: Annotated[list[Name] | None, Field(max_length=20, description=FOLDERS_PHRASE)] = None,
    remove_parents: Annotated[list[Name] | None, Field(max_length=20, description=FOLDERS_PHRASE)] = None,
    dry_run: Annotated[bool, Field(description="true: preview only")] = True,
    preview_token: Annotated[str | None, Field(max_length=MAX_CURSOR, description="to apply")] = None,
) -> BulkResult:
    """Apply one change to up to 100 tasks, named or selected by filters (one task: update_task).

    First a preview (before → after, no writes) with a preview_token; then the same arguments, dry_run=false
    and the token, refused if the tasks changed meanwhile.
    """
    deps = wrike(ctx)
    change = check_change(
        status=status, importance=importance, add_assignees=add_assignees, remove_assignees=remove_assignees,
        shift_days=shift_days, start_date=start_date, due_date=due_date, add_parents=add_parents,
        remove_parents=remove_parents,
    )  # fmt: skip
    if (tasks is None) == (where is None):
        raise ToolError(
            "select the tasks: give tasks (references) or where (search_tasks filters), one of them"
        )
    payload = check_token(deps, change, dry_run, preview_token)
    if not isinstance(confirmation, AcceptedElicitation) or not confirmation.data.confirm:
        return BulkResult(
            applied=False, change=change.describe(), count=0, note="nothing changed: the user did not confirm"
        )
    selected = await select_tasks(ctx, deps, tasks, where)
    if not selected:
        return BulkResult(
            applied=False, change=change.describe(), count=0, note="no task matches: nothing to change"
        )
    ids = await resolve_ids(deps, change)
    plans = [await plan_task(deps, change, ids, task) for task in selected]
    if payload is None:
        return preview(deps, change, plans)
    if payload.get("s") != selection_digest(plans):
        raise ToolError(f"the selected tasks {CHANGED} (now {len(plans)}, preview {payload.get('n')})")
    if payload.get("t") != state_digest(plans):
        raise ToolError(f"tasks {CHANGED}")
    rows = await apply(ctx, deps, change, plans)
    count = {
        outcome: sum(1 for r in rows if r.outcome == outcome) for outcome in ("updated", "failed", "unknown")
    }
    return BulkResult(
        applied=True,
        change=change.describe(),
        count=len(rows),
        items=rows,
        updated=count["updated"],
        failed=count["failed"] or None,
        unknown=count["unknown"] or None,
    )


def check_token(
    deps: WrikeContext, change: Change, dry_run: bool, token: str | None
) -> dict[str, Any] | None:
    """The applied preview's token payload (None for a preview); ToolError before any Wrike request for a
    missing, forged or expired token, or one of another change."""
    if dry_run:
        if token is not None:
            raise ToolError("preview_token is for applying: pass it with dry_run=false")
        return None
    if token is None:
        raise ToolError("applying needs preview_token: call with dry_run=true first, then the same arguments")
    payload = read_token(deps.preview_keys, token)
    if payload.get("c") != change.key:
        raise ToolError("preview_token is for a different change: preview this change first (dry_run=true)")
    return payload


def preview(deps: WrikeContext, change: Change, plans: list[Plan]) -> BulkResult:
    expires = int(clock()) + PREVIEW_TTL
    token = sign_token(
        deps.preview_keys[0],
        {
            "e": expires,
            "n": len(plans),
            "d": change.describe(),
            "c": change.key,
            "s": selection_digest(plans),
            "t": state_digest(plans),
        },
    )
    changing = sum(1 for plan in plans if plan.body is not None)
    return BulkResult(
        applied=False,
        change=change.describe(),
        count=len(plans),
        items=[row(plan, None if plan.body else "unchanged") for plan in plans],
        preview_token=token,
        expires=datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        note=f"{changing} of {len(plans)} tasks would change",
    )
