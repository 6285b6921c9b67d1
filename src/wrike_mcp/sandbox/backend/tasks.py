"""Tasks: create, update (status, dates, parents, subtask links, people, fields), delete, reads that count."""

from __future__ import annotations

from dataclasses import dataclass, field

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend.core import BackendCore, apply_entries, merged
from wrike_mcp.sandbox.entities import Contact, Task, TaskDates, Workflow
from wrike_mcp.sandbox.errors import invalid_parameter, wrike_error


@dataclass
class TaskDraft:
    """A new task as POST /folders/{id}/tasks asks for it, its parameters already checked."""

    title: str
    parent_ids: list[str]
    status: tuple[str, str]  # (status, customStatusId), consistent: see WrikeBackend.resolve_task_status
    super_task_ids: list[str]
    priority: int | None
    importance: str
    description: str
    dates: TaskDates
    responsible_ids: list[str]
    follower_ids: list[str]
    shared_ids: list[str]
    follow: bool | None
    metadata: list[tuple[str, str | None]]
    custom_fields: list[tuple[str, str | None]]


@dataclass
class TaskChanges:
    """What PUT /tasks/{id} asks to change, its parameters already checked; None or empty: leave as is."""

    restore: bool = False
    title: str | None = None
    description: str | None = None
    importance: str | None = None
    status: tuple[str, str] | None = None
    dates: TaskDates | None = None
    add_parents: list[str] = field(default_factory=list)
    remove_parents: list[str] = field(default_factory=list)
    add_super_tasks: list[str] = field(default_factory=list)
    remove_super_tasks: list[str] = field(default_factory=list)
    add_shareds: list[str] = field(default_factory=list)
    remove_shareds: list[str] = field(default_factory=list)
    add_responsibles: list[str] = field(default_factory=list)
    remove_responsibles: list[str] = field(default_factory=list)
    add_followers: list[str] = field(default_factory=list)
    follow: bool | None = None
    metadata: list[tuple[str, str | None]] = field(default_factory=list)
    custom_fields: list[tuple[str, str | None]] = field(default_factory=list)
    priority: int | None = None


class TaskBackend(BackendCore):
    """Every change to a task."""

    def new_task(
        self,
        title: str,
        author_id: str,
        custom_status_id: str,
        *,
        parent_ids: list[str],
        super_task_ids: list[str],
        priority: int | None = None,
    ) -> Task:
        """A task made now, last in priority order unless `priority` says where; not stored yet (the caller
        sets what its request or blueprint says, and may still refuse)."""
        now = self.now()
        task_id, legacy_id = self.new_task_ids(now)
        last = max((task.priority for task in self.tasks.values()), default=0)
        return Task(
            id=task_id,
            legacy_id=legacy_id,
            title=title,
            parent_ids=parent_ids,
            author_id=author_id,
            created=now,
            updated=now,
            custom_status_id=custom_status_id,
            super_task_ids=super_task_ids,
            priority=last + 1024 if priority is None else priority,
        )

    def task_workflow(self, task: Task) -> Workflow:
        status = self.custom_status(task.custom_status_id)
        if status is not None:
            return self.workflows[status.workflow_id]
        return self.default_workflow()

    def default_workflow(self) -> Workflow:
        return next(w for w in self.workflows.values() if w.standard)

    def resolve_task_status(
        self, workflow: Workflow, status: str | None, custom_status_id: str | None
    ) -> tuple[str, str] | None:
        """Keep status and customStatusId consistent: a custom status implies its group; a group alone
        picks the workflow's default custom status for it. None: neither was asked for."""
        if custom_status_id is not None:
            custom = self.custom_status(custom_status_id)
            if custom is None:
                raise invalid_parameter(
                    "customStatus", f"refers to unknown custom status '{custom_status_id}'"
                )
            if self.workflows[custom.workflow_id].for_projects:
                raise invalid_parameter(
                    "customStatus", f"'{custom_status_id}' is a project status, not a task status"
                )
            if status is not None and status != custom.group:
                raise invalid_parameter(
                    "status", f"'{status}' does not match custom status group '{custom.group}'"
                )
            return custom.group, custom.id
        if status is not None:
            return status, workflow.default_status(status).id
        return None

    def check_super_tasks(self, task: Task, candidates: list[Task]) -> None:
        """Refuse super tasks that would make `task` a subtask of itself."""
        for candidate in candidates:
            if candidate.id == task.id or task.id in self._ancestors(candidate):
                raise invalid_parameter("addSuperTasks", f"would make task '{task.id}' a subtask of itself")

    def _ancestors(self, task: Task) -> set[str]:
        found: set[str] = set()
        pending = list(task.super_task_ids)
        while pending:
            current = pending.pop()
            if current not in found:
                found.add(current)
                parent = self.tasks.get(current)
                if parent is not None:
                    pending.extend(parent.super_task_ids)
        return found

    def _set_task_status(self, task: Task, resolved: tuple[str, str] | None) -> None:
        if resolved is None:
            return
        status, custom_status_id = resolved
        if status == "Completed" and task.status != "Completed":
            task.completed = self.now()
        elif status != "Completed":
            task.completed = None
        task.status, task.custom_status_id = status, custom_status_id

    def create_task(self, user: Contact, draft: TaskDraft) -> Task:
        """Store a new task: its author and responsibles share it, and it is logged."""
        task = self.new_task(
            draft.title,
            user.id,
            draft.status[1],
            parent_ids=draft.parent_ids,
            super_task_ids=draft.super_task_ids,
            priority=draft.priority,
        )
        task.importance = draft.importance
        task.description = draft.description
        task.dates = draft.dates
        task.responsible_ids = list(dict.fromkeys(draft.responsible_ids))
        task.shared_ids = list(dict.fromkeys([user.id, *draft.shared_ids, *draft.responsible_ids]))
        self._set_task_status(task, draft.status)
        task.follower_ids = list(dict.fromkeys([*draft.follower_ids, *([user.id] if draft.follow else [])]))
        apply_entries(task.metadata, draft.metadata)
        apply_entries(task.custom_fields, [(k, v) for k, v in draft.custom_fields if v is not None])
        self.tasks[task.id] = task
        self.record_task_audit("TaskCreated", user, task)
        return task

    def update_task(self, task: Task, user: Contact, changes: TaskChanges) -> None:
        if changes.restore and task.deleted:
            self.restore_task(task)
            self.record_task_audit("TaskRestored", user, task)
        if changes.title is not None:
            task.title = changes.title
        if changes.description is not None:
            task.description = changes.description
        if changes.importance is not None:
            task.importance = changes.importance
        status_before = (task.status, task.custom_status_id)
        self._set_task_status(task, changes.status)
        if (task.status, task.custom_status_id) != status_before:
            self.record_task_audit("TaskStatusChanged", user, task, {"status": task.status})
        if changes.dates is not None:
            task.dates = changes.dates
        task.parent_ids = merged(task.parent_ids, changes.add_parents, changes.remove_parents)
        task.super_task_ids = merged(task.super_task_ids, changes.add_super_tasks, changes.remove_super_tasks)
        if not task.parent_ids and not task.super_task_ids:
            task.parent_ids = [ids.ROOT_FOLDER_ID]  # a task always lives somewhere: the user's root at least
        task.shared_ids = merged(
            task.shared_ids, changes.add_shareds + changes.add_responsibles, changes.remove_shareds
        )
        task.responsible_ids = merged(
            task.responsible_ids, changes.add_responsibles, changes.remove_responsibles
        )
        followers = merged(task.follower_ids, changes.add_followers, [])
        if changes.follow is True:
            followers = merged(followers, [user.id], [])
        elif changes.follow is False:
            followers = [f for f in followers if f != user.id]
        task.follower_ids = followers
        apply_entries(task.metadata, changes.metadata)
        apply_entries(task.custom_fields, changes.custom_fields)
        if changes.priority is not None:
            task.priority = changes.priority
        task.updated = self.now()

    def delete_task(self, task: Task, user: Contact) -> None:
        """Move a task (with its subtasks) to the Recycle Bin."""
        if task.deleted:
            raise wrike_error("invalid_request", f"Task '{task.id}' is already in the Recycle Bin")
        self.recycle_task(task)
        task.updated = self.now()
        self.record_task_audit("TaskDeleted", user, task)

    def mark_read(self, tasks: list[Task]) -> None:
        """A read by id counts as an access (lastAccessDate sorting)."""
        for task in tasks:
            task.last_access = self.now()
