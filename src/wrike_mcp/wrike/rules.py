"""Rules about Wrike's data that more than one tool applies: which statuses a name means, what is overdue.

Each is written once here so that a search, an update and a digest cannot disagree on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from wrike_mcp.wrike.models import STATUS_GROUPS, CustomStatus, Workflow
from wrike_mcp.wrike.text import fold


def status_group(ref: str) -> str | None:
    """The status group (Active, Completed, Deferred, Cancelled) a reference names, if it names one."""
    wanted = fold(ref)
    return next((group for group in STATUS_GROUPS if fold(group) == wanted), None)


def statuses_named(ref: str, workflows: Iterable[Workflow]) -> list[tuple[Workflow, CustomStatus]]:
    """Every custom status a reference names in these workflows, by id or by name (`fold`ed).

    Visible statuses win; a hidden one (taken off the workflow's choices, still held by older tasks and
    projects) answers to its name only when no visible status of that name exists, and to its id always.
    So "Waiting" finds the same status whether one searches by it or sets it.
    """
    ident = ref.strip()
    wanted = fold(ref)
    matches = [
        (workflow, status)
        for workflow in workflows
        for status in workflow.custom_statuses
        if status.id == ident or (wanted and fold(status.name) == wanted)
    ]
    return [(w, s) for w, s in matches if not s.hidden] or matches


def status_names(workflows: Iterable[Workflow]) -> str:
    """What a status may be, for a refusal: the four groups and every visible custom status name."""
    names = sorted({s.name for w in workflows for s in w.custom_statuses if not s.hidden})
    return f"status groups: {', '.join(STATUS_GROUPS)}" + (f"; statuses: {', '.join(names)}" if names else "")


def last_overdue_day(today: date) -> date:
    """The latest due date that is overdue: a task is overdue when it is Active and due before the user's
    today (the date in their Wrike time zone), so a task due today is not overdue yet."""
    return today - timedelta(days=1)


def is_overdue(group: str | None, due: str | None, today: date) -> bool:
    """Whether a task in this status group (None: Active, Wrike's default) with this due date (Wrike's
    `yyyy-MM-dd`, possibly with a time) is overdue on the user's `today`."""
    if (group or "Active") != "Active" or not due:
        return False
    try:
        return date.fromisoformat(due[:10]) <= last_overdue_day(today)
    except ValueError:
        return False
