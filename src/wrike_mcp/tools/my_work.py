"""my_work, part of the `tasks` toolset: a person's agenda in one call — overdue, due today, due soon, Active
without a due date, approvals waiting on them, and their tasks with new comments from others.

Every independent read goes out at once: the person's Active tasks (one page of up to 1000, every section is
counted from it with wrike/rules.py's overdue and the user's one today), the approvals pending on them and the
account's comments since yesterday (with the contacts and workflows that name people and statuses). Only
commented tasks outside that page need a second round trip, to learn whose they are: with warm caches a call
takes two sequential round trips, cold three (`me` first).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, user_zone, wrike
from wrike_mcp.tools.deps import today as user_today
from wrike_mcp.tools.inputs import MAX_REF, PERSON_PHRASE, wrike_timestamp
from wrike_mcp.tools.output import Model, Ref, names_of, show_title
from wrike_mcp.tools.pages import concurrently
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import day_of, status_name
from wrike_mcp.wrike.client import MULTI_ID_BATCH
from wrike_mcp.wrike.errors import NotAllowed
from wrike_mcp.wrike.models import Approval, Comment, Task
from wrike_mcp.wrike.rules import is_overdue

TASK_PAGE = 1000  # Wrike's largest task page: one request counts every section for almost anyone


class Follow(Model):
    tool: str
    arguments: dict[str, Any]


class AgendaTask(Model):
    id: str
    title: str | None = None
    due: str | None = None
    status: str | None = None


class TaskSection(Model):
    count: int
    items: list[AgendaTask] = Field(default_factory=list)
    rest: Follow | None = Field(default=None, description="the call listing all of them (when not all shown)")


class WaitingApproval(Model):
    id: str
    title: str | None = None
    due: str | None = None
    task: str | None = Field(default=None, description="task id")
    folder: str | None = Field(default=None, description="folder or project id")


class ApprovalSection(Model):
    count: int
    items: list[WaitingApproval] = Field(default_factory=list)
    rest: Follow | None = None


class CommentedTask(Model):
    id: str
    title: str | None = None
    comments: int = Field(description="new comments from others")
    last_by: Ref | None = None
    last_at: str | None = None


class CommentSection(Model):
    count: int | None = Field(default=None, description="tasks; absent when Wrike did not allow the read")
    items: list[CommentedTask] = Field(default_factory=list)
    rest: Follow | None = None
    note: str | None = None


class MyWork(Model):
    person: Ref
    today: str = Field(description="the user's today (their Wrike time zone)")
    overdue: TaskSection
    due_today: TaskSection
    due_soon: TaskSection = Field(description="due after today, within `days`")
    no_due_date: TaskSection = Field(description="Active, no due date")
    approvals: ApprovalSection = Field(description="pending, waiting on the person")
    new_comments: CommentSection = Field(description="their tasks with comments from others since yesterday")
    complete: bool | None = Field(
        default=None, description="false: over 1000 Active tasks, counts cover the first 1000"
    )


def due_day(task: Task) -> date | None:
    text = day_of(task.dates.due if task.dates else None)
    return date.fromisoformat(text) if text else None


async def agenda_items(deps: WrikeContext, tasks: Sequence[Task], limit: int) -> list[AgendaTask]:
    return [
        AgendaTask(
            id=task.id,
            title=show_title(task.title),
            due=day_of(task.dates.due if task.dates else None),
            status=await status_name(deps, task.custom_status_id) or task.status,
        )
        for task in tasks[:limit]
    ]


async def section(deps: WrikeContext, tasks: list[Task], limit: int, search: dict[str, Any]) -> TaskSection:
    shown = await agenda_items(deps, tasks, limit)
    rest = Follow(tool="search_tasks", arguments=search) if len(tasks) > len(shown) else None
    return TaskSection(count=len(tasks), items=shown, rest=rest)


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="My work")
async def my_work(
    ctx: Context[Any],
    person: Annotated[str, Field(min_length=1, max_length=MAX_REF, description=PERSON_PHRASE)] = "me",
    days: Annotated[int, Field(ge=1, le=60, description="due_soon horizon")] = 7,
    items_per_section: Annotated[int, Field(ge=1, le=50, description="items shown")] = 5,
) -> MyWork:
    """A person's agenda: overdue, due today, due soon, undated Active tasks, approvals waiting on them,
    their tasks newly commented by others; counts, first items, and the call listing the rest. For one
    filter, search_tasks."""
    deps = wrike(ctx)
    person_id, (_, zone), today = await concurrently(
        lambda: deps.resolver.person_id(person), lambda: user_zone(deps), lambda: user_today(deps)
    )
    since = datetime.combine(today - timedelta(days=1), time.min, tzinfo=zone)

    async def active_tasks() -> tuple[list[Task], bool]:
        page = await deps.client.get_page(
            "/tasks",
            {"responsibles": [person_id], "status": "Active", "subTasks": True},
            page_size=TASK_PAGE,
            model=Task,
        )
        return page.items, page.next_page_token is None

    async def pending() -> list[Approval]:
        params = {"pendingApprovers": [person_id], "statuses": ["Pending"]}
        return await deps.client.get("/approvals", params, model=Approval)

    async def comments() -> list[Comment] | None:
        try:
            params = {"createdDate": {"start": wrike_timestamp(since)}}
            return await deps.client.get("/comments", params, model=Comment)
        except NotAllowed:  # the account-wide list is not in every plan (seen live on Team)
            return None

    # The workflows (status names) and contacts (people's names) come along, so a cold call waits no longer.
    (tasks, complete), approvals, recent, _, _ = await concurrently(
        active_tasks, pending, comments, deps.resolver.workflows, deps.resolver.contacts
    )

    overdue, due_today, soon, undated = [], [], [], []
    horizon = today + timedelta(days=days)
    for task in tasks:
        due = due_day(task)
        if due is None:
            undated.append(task)
        elif is_overdue(task.status, due.isoformat(), today):
            overdue.append(task)
        elif due == today:
            due_today.append(task)
        elif due <= horizon:
            soon.append(task)
    by_due = lambda t: (due_day(t) or today, show_title(t.title).casefold())  # noqa: E731
    overdue.sort(key=by_due)
    soon.sort(key=by_due)
    undated.sort(key=lambda t: t.updated_date.timestamp() if t.updated_date else 0, reverse=True)

    base: dict[str, Any] = {"assignee": person, "include_subtasks": True}
    day = today.isoformat()
    approval_rest = Follow(tool="list_approvals", arguments={"pending_approver": person})
    approval_items = [
        WaitingApproval(
            id=a.id,
            title=show_title(a.title) or None,
            due=a.due_date.isoformat() if a.due_date else None,
            task=a.task_id,
            folder=a.folder_id if not a.task_id else None,
        )
        for a in sorted(approvals, key=lambda a: (a.due_date or date.max, a.id))
    ]
    return MyWork(
        person=Ref(id=person_id, name=(await names_of(deps, [person_id])).get(person_id)),
        today=day,
        overdue=await section(deps, overdue, items_per_section, {**base, "overdue": True, "sort": "due"}),
        due_today=await section(
            deps,
            due_today,
            items_per_section,
            {**base, "status": "Active", "due_after": day, "due_before": day},
        ),
        due_soon=await section(
            deps,
            soon,
            items_per_section,
            {
                **base,
                "status": "Active",
                "due_after": (today + timedelta(days=1)).isoformat(),
                "due_before": horizon.isoformat(),
                "sort": "due",
            },
        ),
        no_due_date=await section(
            deps, undated, items_per_section, {**base, "status": "Active", "type": "Backlog"}
        ),
        approvals=ApprovalSection(
            count=len(approval_items),
            items=approval_items[:items_per_section],
            rest=approval_rest if len(approval_items) > items_per_section else None,
        ),
        new_comments=await commented(deps, person_id, tasks, recent, items_per_section, days, person),
        complete=None if complete else False,
    )


def posted(comment: Comment) -> float:
    return comment.created_date.timestamp() if comment.created_date else 0.0


async def commented(
    deps: WrikeContext,
    person_id: str,
    tasks: Sequence[Task],
    recent: list[Comment] | None,
    limit: int,
    days: int,
    person: str,
) -> CommentSection:
    """The person's tasks (assigned to them, any status) with comments from others in `recent`; titles of
    tasks outside the Active page come from one multi-id read, which also tells whose they are."""
    if recent is None:
        return CommentSection(note="Wrike's plan does not allow reading the account's comments: not counted")
    from_others = [c for c in recent if c.task_id and c.author_id != person_id]
    known = {task.id: task for task in tasks}
    unknown = list(dict.fromkeys(c.task_id for c in from_others if c.task_id and c.task_id not in known))
    batches = [unknown[i : i + MULTI_ID_BATCH] for i in range(0, len(unknown), MULTI_ID_BATCH)]

    def read(batch: list[str]) -> Callable[[], Awaitable[list[Task]]]:
        return lambda: deps.client.get_many("/tasks/{ids}", batch, model=Task)

    for found in await concurrently(*(read(batch) for batch in batches)):
        for task in found:
            if person_id in task.responsible_ids and not (task.scope or "").startswith("Rb"):
                known[task.id] = task
    counts: Counter[str] = Counter()
    last: dict[str, Comment] = {}
    for comment in sorted(from_others, key=posted):
        if comment.task_id in known:
            counts[comment.task_id] += 1
            last[comment.task_id] = comment
    ordered = sorted(counts, key=lambda ident: posted(last[ident]), reverse=True)
    names = await names_of(deps, [author for i in ordered[:limit] if (author := last[i].author_id)])
    items = []
    for ident in ordered[:limit]:
        comment = last[ident]
        author = comment.author_id
        items.append(
            CommentedTask(
                id=ident,
                title=show_title(known[ident].title),
                comments=counts[ident],
                last_by=Ref(id=author, name=names.get(author)) if author else None,
                last_at=wrike_timestamp(comment.created_date) if comment.created_date else None,
            )
        )
    rest = None
    if len(ordered) > limit:
        rest = Follow(tool="my_work", arguments={"person": person, "days": days, "items_per_section": 50})
    return CommentSection(count=len(ordered), items=items, rest=rest)
