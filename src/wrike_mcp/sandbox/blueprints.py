"""Launching blueprints: `launch_async` starts a job, and the work (folders, a project, tasks) appears when the
job completes, copied from the blueprint tree with its dates shifted as the launch asks.

Sources: the 2026 digest (parameters, their defaults, "only active tasks can be rescheduled", entryLimit);
where it is silent the sandbox assumes (see docs/FIDELITY.md): the work is created at once when the job
completes, `titlePrefix` goes before every copied task's title (not folders'), a reschedule shifts every
date by the same number of calendar days, and a project's dates span its tasks'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from wrike_mcp.sandbox.backend import WrikeBackend
from wrike_mcp.sandbox.entities import AsyncJob, Blueprint, Contact, Folder, Task, TaskDates
from wrike_mcp.sandbox.errors import wrike_error

FOLDER_JOB = "FolderBlueprintLaunch"
TASK_JOB = "TaskBlueprintLaunch"


@dataclass(frozen=True)
class LaunchOptions:
    title: str
    title_prefix: str = ""
    copy_descriptions: bool = True
    copy_responsibles: bool = True
    copy_custom_fields: bool = True
    reschedule_date: date | None = None
    reschedule_mode: str = "Start"  # Start: the earliest date moves to reschedule_date; End: the latest does
    entry_limit: int = 250


def subtree(state: WrikeBackend, blueprint: Blueprint) -> list[Blueprint]:
    """The blueprint and everything below it (subfolders, tasks, subtasks), parents before children."""
    found = [blueprint]
    for current in found:
        found.extend(b for b in state.blueprints.values() if b.parent_id == current.id)
    return found


def launch_folder(
    state: WrikeBackend, blueprint: Blueprint, parent: Folder, user: Contact, options: LaunchOptions
) -> AsyncJob:
    entries = subtree(state, blueprint)

    def finish() -> dict[str, Any]:
        _check_limit(entries, options)
        target = _live_folder(state, parent.id)
        made = _Launch(state, user, options, _shift(entries, options))
        root = made.folder(blueprint, target, options.title)
        return {"folderId": root.id, "folderIds": made.folder_ids, "taskIds": made.task_ids}

    return state.start_job(FOLDER_JOB, len(entries), finish)


def launch_task(
    state: WrikeBackend,
    blueprint: Blueprint,
    parent: Folder | None,
    super_task: Task | None,
    user: Contact,
    options: LaunchOptions,
) -> AsyncJob:
    entries = subtree(state, blueprint)

    def finish() -> dict[str, Any]:
        _check_limit(entries, options)
        folder = _live_folder(state, parent.id) if parent is not None else None
        above = _live_task(state, super_task.id) if super_task is not None else None
        made = _Launch(state, user, options, _shift(entries, options))
        root = made.task(blueprint, folder, above, options.title)
        return {"taskId": root.id, "taskIds": made.task_ids}

    return state.start_job(TASK_JOB, len(entries), finish)


def _check_limit(entries: list[Blueprint], options: LaunchOptions) -> None:
    if len(entries) > options.entry_limit:
        raise wrike_error(
            "invalid_request",
            f"The blueprint has {len(entries)} tasks and folders, more than entryLimit {options.entry_limit}",
        )


def _live_folder(state: WrikeBackend, folder_id: str) -> Folder:
    folder = state.folders.get(folder_id)
    if folder is None or folder.deleted:
        raise wrike_error("invalid_request", f"Parent folder '{folder_id}' is no longer available")
    return folder


def _live_task(state: WrikeBackend, task_id: str) -> Task:
    task = state.tasks.get(task_id)
    if task is None or task.deleted:
        raise wrike_error("invalid_request", f"Parent task '{task_id}' is no longer available")
    return task


def _shift(entries: list[Blueprint], options: LaunchOptions) -> timedelta:
    """How far every date moves: the anchor (earliest start, or latest due for End) to reschedule_date."""
    if options.reschedule_date is None:
        return timedelta(0)
    starts = [
        d for b in entries if b.kind == "task" for d in (b.dates.start or b.dates.due,) if d is not None
    ]
    dues = [b.dates.due for b in entries if b.kind == "task" and b.dates.due is not None]
    anchors = starts if options.reschedule_mode == "Start" else dues
    if not anchors:
        return timedelta(0)
    anchor = min(anchors) if options.reschedule_mode == "Start" else max(anchors)
    return timedelta(days=(options.reschedule_date - anchor.date()).days)


def shifted(dates: TaskDates, by: timedelta) -> TaskDates:
    def move(moment: datetime | None) -> datetime | None:
        return moment + by if moment is not None else None

    return TaskDates(
        type=dates.type,
        start=move(dates.start),
        due=move(dates.due),
        duration=dates.duration,
        work_on_weekends=dates.work_on_weekends,
    )


class _Launch:
    """Copies blueprint entries into the workspace, remembering what it made."""

    def __init__(self, state: WrikeBackend, user: Contact, options: LaunchOptions, shift: timedelta) -> None:
        self.state, self.user, self.options, self.shift = state, user, options, shift
        self.folder_ids: list[str] = []
        self.task_ids: list[str] = []

    def folder(self, blueprint: Blueprint, parent: Folder, title: str) -> Folder:
        state = self.state
        first_task = len(self.task_ids)
        folder = state.new_folder(
            parent,
            title,
            description=blueprint.description if self.options.copy_descriptions else "",
            shared_ids=[self.user.id],
        )
        if self.options.copy_custom_fields:
            folder.custom_fields = dict(blueprint.custom_fields)
        state.folders[folder.id] = folder
        self.folder_ids.append(folder.id)
        for child in state.blueprint_children(blueprint.id, "folder"):
            self.folder(child, folder, child.title)
        for child in state.blueprint_children(blueprint.id, "task"):
            self.task(child, folder, None, self.options.title_prefix + child.title)
        if blueprint.project:
            folder.project = state.new_project(parent, [self.user.id], self.user.id)
            moments = [
                moment
                for task_id in self.task_ids[first_task:]
                for moment in (state.tasks[task_id].dates.start, state.tasks[task_id].dates.due)
                if moment is not None
            ]
            if moments:
                folder.project.start_date = min(moments).date().isoformat()
                folder.project.end_date = max(moments).date().isoformat()
        return folder

    def task(self, blueprint: Blueprint, folder: Folder | None, above: Task | None, title: str) -> Task:
        state = self.state
        if above is not None:
            workflow = state.task_workflow(above)
        else:
            assert folder is not None  # a task blueprint lands in a folder or under a task
            workflow = state.workflows[folder.workflow_id]
        responsibles = list(blueprint.responsible_ids) if self.options.copy_responsibles else []
        task = state.new_task(
            title,
            self.user.id,
            workflow.default_status("Active").id,
            parent_ids=[folder.id] if folder is not None else [],
            super_task_ids=[above.id] if above is not None else [],
        )
        task.importance = blueprint.importance
        task.description = blueprint.description if self.options.copy_descriptions else ""
        task.dates = shifted(blueprint.dates, self.shift)
        task.responsible_ids = responsibles
        task.shared_ids = list(dict.fromkeys([self.user.id, *responsibles]))
        if self.options.copy_custom_fields:
            task.custom_fields = dict(blueprint.custom_fields)
        state.tasks[task.id] = task
        self.task_ids.append(task.id)
        state.record_task_audit("TaskCreated", self.user, task)
        for child in state.blueprint_children(blueprint.id, "task"):
            self.task(child, None, task, self.options.title_prefix + child.title)
        return task
