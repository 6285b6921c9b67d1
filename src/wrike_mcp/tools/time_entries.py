"""What the `time` toolset's modules share: timelog categories by name, where a time query reads from, the
bounded page reader, and the totals (hours by person, task, project, category, week, month, billable).

Tool modules import no other tool module, so `timelogs.py` and `time_report.py` both take these from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.tools.inputs import tracked_range
from wrike_mcp.tools.output import show_title
from wrike_mcp.tools.pages import concurrently
from wrike_mcp.tools.render import homes
from wrike_mcp.wrike.errors import AmbiguousReference, ReferenceNotFound
from wrike_mcp.wrike.models import Task, Timelog, TimelogCategory
from wrike_mcp.wrike.pagination import MAX_PAGE_SIZE
from wrike_mcp.wrike.resolve import FolderTree
from wrike_mcp.wrike.text import fold

# time_report reads pages of REPORT_PAGE_SIZE and stops after REPORT_MAX_PAGES (10,000 entries): a bound on
# one call's work that the result states when it is reached.
REPORT_PAGE_SIZE = MAX_PAGE_SIZE
REPORT_MAX_PAGES = 10
NO_CATEGORY = "(no category)"

# ---- categories --------------------------------------------------------------------------------------------


async def timelog_categories(deps: WrikeContext) -> list[TimelogCategory]:
    """The account's categories, hidden ones too, in Wrike's order (cached by the resolver)."""
    found = await deps.resolver.timelog_categories()
    return sorted(found, key=lambda c: (c.order if c.order is not None else 0, c.name))


def category_named(categories: Sequence[TimelogCategory], ref: str, *, for_new_time: bool) -> TimelogCategory:
    """A category by id or name (case-insensitive; a unique part of a name will do). For new or changed
    time only visible categories count: a hidden one is kept on old entries, not offered for new ones."""
    ref = ref.strip()
    usable = [c for c in categories if not (for_new_time and c.hidden)]
    for category in usable:
        if category.id == ref:
            return category
    exact = [c for c in usable if fold(c.name) == fold(ref)]
    matches = exact or [c for c in usable if fold(ref) and fold(ref) in fold(c.name)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousReference("timelog category", ref, [(c.id, show_title(c.name)) for c in matches])
    names = ", ".join(show_title(c.name) for c in usable)
    raise ReferenceNotFound(
        "timelog category", ref, f"categories: {names}" if names else "this account has none"
    )


async def category_filter(deps: WrikeContext, ref: str | None) -> str | None:
    """The id of a category to filter time by (hidden ones count: old entries keep them), None without one."""
    if ref is None:
        return None
    known = await timelog_categories(deps)
    if not known:
        raise ToolError("this account has no timelog categories: leave category out")
    return category_named(known, ref, for_new_time=False).id


async def category_id(deps: WrikeContext, ref: str | None, *, for_new_time: bool) -> str | None:
    if ref is None:
        return None
    return category_named(await timelog_categories(deps), ref, for_new_time=for_new_time).id


def category_names(categories: Iterable[TimelogCategory]) -> dict[str, str]:
    return {c.id: show_title(c.name) for c in categories}


# ---- where a time query reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeScope:
    """The Wrike list route a query reads, and the person to keep when the route cannot filter by one."""

    path: str
    person_id: str | None = None  # filter the answer by this user (the route reads more than their time)

    def keep(self, entry: Timelog) -> bool:
        return self.person_id is None or entry.user_id == self.person_id


def time_scope(task_id: str | None, folder_id: str | None, person_id: str | None) -> TimeScope:
    """The narrowest route: a task's (with its subtasks), a folder's or project's (with everything below it:
    `descendants` defaults to true), a person's, or the account's."""
    if task_id is not None:
        return TimeScope(f"/tasks/{task_id}/timelogs", person_id)
    if folder_id is not None:
        return TimeScope(f"/folders/{folder_id}/timelogs", person_id)
    if person_id is not None:
        return TimeScope(f"/contacts/{person_id}/timelogs")
    return TimeScope("/timelogs")


def query_params(start: date | None, end: date | None, category: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"plainText": True, "fields": ["billingType"]}
    tracked = tracked_range(start, end)
    if tracked:
        params["trackedDate"] = tracked
    if category is not None:
        params["timelogCategories"] = [category]
    return params


@dataclass(frozen=True)
class Read:
    entries: list[Timelog]
    complete: bool  # False: stopped at the page bound, more entries match
    pages: int


async def read_bounded(deps: WrikeContext, scope: TimeScope, params: dict[str, Any]) -> Read:
    """Every matching entry, in pages of REPORT_PAGE_SIZE, at most REPORT_MAX_PAGES pages."""
    token: str | None = None
    found: list[Timelog] = []
    pages = 0
    while True:
        page = await deps.client.get_page(
            scope.path, params, page_size=REPORT_PAGE_SIZE, page_token=token, model=Timelog
        )
        pages += 1
        found.extend(entry for entry in page.items if scope.keep(entry))
        if page.is_last or page.next_page_token == token:
            return Read(found, True, pages)
        if pages >= REPORT_MAX_PAGES:
            return Read(found, False, pages)
        token = page.next_page_token


# ---- tasks, projects and periods ---------------------------------------------------------------------------

MULTI_ID = 100  # ids per multi-id request


async def tasks_by_id(deps: WrikeContext, ids: Iterable[str]) -> dict[str, Task]:
    """Tasks by id, 100 per request, the requests at once; ids Wrike does not return (deleted since) are
    left out."""
    wanted = [ident for ident in dict.fromkeys(ids) if ident]
    chunks = [wanted[start : start + MULTI_ID] for start in range(0, len(wanted), MULTI_ID)]

    def read(chunk: list[str]) -> Callable[[], Awaitable[list[Task]]]:
        return lambda: deps.client.get_many("/tasks/{ids}", chunk, model=Task)

    found = await concurrently(*(read(chunk) for chunk in chunks))
    return {task.id: task for tasks in found for task in tasks}


def project_of(tree: FolderTree, task: Task | None) -> str | None:
    """The project holding a task (its first home's nearest project, itself included), else that folder."""
    if task is None:
        return None
    home = next(iter(homes(task)), None)
    if home is None:
        return None
    for ident in reversed([*tree.ancestors(home), home]):
        node = tree.nodes.get(ident)
        if node is not None and node.is_project:
            return ident
    return home


def week_of(day: date) -> str:
    """The Monday starting the ISO week of a day."""
    return (day - timedelta(days=day.weekday())).isoformat()


def round_hours(value: float) -> float:
    return round(value, 2)


def check_not_both(task: str | None, folder: str | None) -> None:
    if task is not None and folder is not None:
        raise ToolError("give task or folder, not both: a task's time is already within its folder")
