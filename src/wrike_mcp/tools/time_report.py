"""time_report, the `time` toolset: hours logged over a period, grouped and totalled ("where did the hours
go"). The entries themselves are list_timelogs (timelogs.py); what both share is in time_entries.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import wrike
from wrike_mcp.tools.inputs import (
    DATE_PHRASE,
    MAX_DATE,
    OptionalCategory,
    OptionalFolder,
    OptionalPerson,
    check_range,
    parse_user_day,
)
from wrike_mcp.tools.output import Model, Ref, names_of, show_title
from wrike_mcp.tools.pages import concurrently
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.time_entries import (
    NO_CATEGORY,
    category_filter,
    category_names,
    project_of,
    query_params,
    read_bounded,
    round_hours,
    tasks_by_id,
    time_scope,
    timelog_categories,
    week_of,
)
from wrike_mcp.wrike.models import Task, Timelog, TimelogCategory
from wrike_mcp.wrike.resolve import FolderTree

Dimension = Literal["person", "project", "task", "category", "week", "month", "billable"]
MAX_ROWS = 200


class ReportRow(Model):
    person: Ref | None = None
    project: Ref | None = Field(default=None, description="the task's project, else its folder")
    task: Ref | None = None
    category: str | None = None
    week: str | None = Field(default=None, description="the Monday starting the week, YYYY-MM-DD")
    month: str | None = Field(default=None, description="YYYY-MM")
    billable: bool | None = None
    hours: float
    billable_hours: float | None = Field(default=None, description="where Wrike gives a billing type")
    entries: int


class TimeReport(Model):
    since: str
    until: str
    group_by: list[Dimension]
    total_hours: float
    billable_hours: float | None = Field(default=None, description="where Wrike gives a billing type")
    entries: int
    rows: list[ReportRow] = Field(
        description="one per group, most hours first (by week or month: in time order)"
    )
    subtotals: list[ReportRow] = Field(
        default_factory=list, description="per value of the first group_by dimension, with two or more"
    )
    complete: bool = Field(description="false: the page bound was reached and the totals cover only part")
    note: str | None = None


def group_key(
    dimensions: Sequence[Dimension], keys: dict[str, Callable[[Timelog], str | None]], entry: Timelog
) -> tuple[str | None, ...]:
    return tuple(keys[d](entry) for d in dimensions)


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Time report")
async def time_report(
    ctx: Context[Any],
    since: Annotated[str, Field(min_length=1, max_length=MAX_DATE, description=DATE_PHRASE)],
    until: Annotated[str, Field(min_length=1, max_length=MAX_DATE, description=DATE_PHRASE)],
    group_by: Annotated[
        list[Dimension],
        Field(min_length=1, max_length=3, description="up to 3"),
    ] = ["person"],  # noqa: B006 - pydantic copies defaults
    place: OptionalFolder = None,
    person: OptionalPerson = None,
    category: OptionalCategory = None,
) -> TimeReport:
    """Hours logged between two days (both included), grouped and totalled, billable hours where Wrike
    gives them. A place includes its subfolders. For the entries themselves, use list_timelogs."""
    deps = wrike(ctx)
    dimensions = list(dict.fromkeys(group_by))
    start = await parse_user_day(deps, since, "since")
    end = await parse_user_day(deps, until, "until")
    assert start is not None and end is not None  # required arguments
    check_range(start, end, "since", "until")
    person_id = await deps.resolver.person_id(person) if person is not None else None
    place_id = await deps.resolver.folder_id(place) if place is not None else None
    chosen = await category_filter(deps, category)
    scope = time_scope(None, place_id, person_id)
    params = query_params(start, end, chosen)
    read = await read_bounded(deps, scope, params)
    entries = read.entries

    wanted = set(dimensions)

    async def read_tasks() -> dict[str, Task]:
        needed = bool(wanted & {"project", "task"})
        return await tasks_by_id(deps, [e.task_id for e in entries if e.task_id] if needed else [])

    async def read_tree() -> FolderTree | None:
        return await deps.resolver.folder_tree() if "project" in wanted else None

    async def read_names() -> dict[str, str | None]:
        return await names_of(deps, [e.user_id for e in entries if e.user_id]) if "person" in wanted else {}

    async def read_categories() -> list[TimelogCategory]:
        return await timelog_categories(deps) if "category" in wanted else []

    # What names the groups, read at once: tasks (their titles and folders), the folder tree, people, categories
    tasks, tree, names, known = await concurrently(read_tasks, read_tree, read_names, read_categories)
    categories = category_names(known)

    def project(entry: Timelog) -> str | None:
        return project_of(tree, tasks.get(entry.task_id or "")) if tree is not None else None

    keys: dict[str, Callable[[Timelog], str | None]] = {
        "person": lambda e: e.user_id,
        "project": project,
        "task": lambda e: e.task_id,
        "category": lambda e: e.category_id,
        "week": lambda e: week_of(e.tracked_date) if e.tracked_date else None,
        "month": lambda e: e.tracked_date.isoformat()[:7] if e.tracked_date else None,
        "billable": lambda e: e.billing_type,
    }

    def row(
        values: tuple[str | None, ...], chosen: Sequence[Timelog], dims: Sequence[Dimension]
    ) -> ReportRow:
        fields: dict[str, Any] = {}
        for dimension, value in zip(dims, values, strict=True):
            if dimension == "person":
                fields["person"] = (
                    Ref(id=value, name=names.get(value)) if value else Ref(id="", name="(nobody)")
                )
            elif dimension == "project":
                node = tree.nodes.get(value) if tree is not None and value else None
                fields["project"] = (
                    Ref(id=value, name=show_title(node.title) if node else None)
                    if value
                    else Ref(id="", name="(task deleted or not visible)")
                )
            elif dimension == "task":
                task = tasks.get(value or "")
                name = show_title(task.title) if task else "(deleted or not visible)"
                fields["task"] = Ref(id=value or "", name=name)
            elif dimension == "category":
                fields["category"] = categories.get(value, value) if value else NO_CATEGORY
            elif dimension == "billable":
                fields["billable"] = value == "Billable" if value else None
            else:
                fields[dimension] = value
        billed = [e for e in chosen if e.billing_type is not None]
        return ReportRow(
            **fields,
            hours=round_hours(sum(e.hours for e in chosen)),
            billable_hours=round_hours(sum(e.hours for e in billed if e.billing_type == "Billable"))
            if billed
            else None,
            entries=len(chosen),
        )

    def grouped(dims: Sequence[Dimension]) -> list[ReportRow]:
        groups: dict[tuple[str | None, ...], list[Timelog]] = {}
        for entry in entries:
            groups.setdefault(group_key(dims, keys, entry), []).append(entry)
        ordered = sorted(groups.items(), key=lambda group: -sum(e.hours for e in group[1]))
        if dims[0] in ("week", "month"):  # a period reads in time order, most hours first within it
            ordered.sort(key=lambda group: group[0][0] or "")
        return [row(values, chosen, dims) for values, chosen in ordered]

    rows = grouped(dimensions)
    subtotals = grouped(dimensions[:1]) if len(dimensions) > 1 else []
    notes = []
    if not read.complete:
        notes.append(
            f"stopped after {read.pages} pages ({len(entries)} entries), the bound of one call: "
            "the totals cover only part of the period; narrow since/until or give place or person"
        )
    if len(rows) > MAX_ROWS:
        notes.append(f"{len(rows) - MAX_ROWS} smaller groups left out of rows (the totals include them)")
        rows = rows[:MAX_ROWS]
    billed = [e for e in entries if e.billing_type is not None]
    return TimeReport(
        since=start.isoformat(),
        until=end.isoformat(),
        group_by=dimensions,
        total_hours=round_hours(sum(e.hours for e in entries)),
        billable_hours=round_hours(sum(e.hours for e in billed if e.billing_type == "Billable"))
        if billed
        else None,
        entries=len(entries),
        rows=rows,
        subtotals=subtotals[:MAX_ROWS],
        complete=read.complete,
        note="; ".join(notes) or None,
    )
