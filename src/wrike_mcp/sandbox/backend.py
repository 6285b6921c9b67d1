"""The emulated Wrike account and every change to it, moto-style: routes parse and render, the backend decides.

A `WrikeBackend` holds the account's records (entities.py) and is the only place they change: create, update
and delete of tasks, folders, comments, timelogs, dependencies and attachments, blueprint launches, the Recycle
Bin, the audit log. It raises Wrike's errors (errors.py) for what breaks a rule of the account; what a request
got wrong about its parameters is found before, where the parameters are parsed. It knows nothing of HTTP,
tokens or seed data.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.entities import (
    RELATION_DATE_TYPES,
    Approval,
    AsyncJob,
    Attachment,
    AuditEvent,
    AuditQuery,
    Blueprint,
    Comment,
    Contact,
    CustomField,
    CustomStatus,
    Dependency,
    Folder,
    Project,
    Task,
    TaskDates,
    Timelog,
    Workflow,
)
from wrike_mcp.sandbox.errors import (
    SandboxError,
    invalid_parameter,
    not_found,
    parameter_required,
    wrike_error,
)
from wrike_mcp.wrike.audit_log import AUDIT_OBJECT_TYPES, AUDIT_OPERATIONS

# Classic project statuses and the status group each stands for.
CLASSIC_PROJECT_STATUSES = {
    "Green": "Active",
    "Yellow": "Active",
    "Red": "Active",
    "Completed": "Completed",
    "OnHold": "Deferred",
    "Cancelled": "Cancelled",
}

# How many GET /async_job reads see a new job still in progress before it completes; /_sandbox/async_jobs
# changes it, so tests of polling clients are deterministic.
DEFAULT_ASYNC_JOB_POLLS = 2
COMMENT_EDIT_WINDOW = timedelta(minutes=5)  # Wrike lets a comment be edited for 5 minutes after creation
DOWNLOAD_LINK_TTL = 24 * 3600  # an attachment URL is valid for 24 hours (2026 digest, withUrls)


def check_relation(relation_type: str, predecessor: Task, successor: Task) -> None:
    allowed_before, allowed_after = RELATION_DATE_TYPES[relation_type]
    for task, allowed, role in (
        (predecessor, allowed_before, "predecessor"),
        (successor, allowed_after, "successor"),
    ):
        if task.dates.type not in allowed:
            raise invalid_parameter(
                "relationType",
                f"{relation_type} needs a {' or '.join(allowed)} {role}; task '{task.id}' is {task.dates.type}",
            )


def merged(current: list[str], add: list[str], remove: list[str]) -> list[str]:
    """`current` without `remove`, then whatever of `add` it lacks: Wrike's add…/remove… list parameters."""
    kept = [item for item in current if item not in remove]
    return kept + [item for item in add if item not in kept]


def add_then_remove(current: list[str], add: list[str], remove: list[str]) -> list[str]:
    """`current` with what it lacks of `add`, then without `remove`: an id in both ends up removed."""
    result = list(current)
    result += [item for item in dict.fromkeys(add) if item not in result]
    return [item for item in result if item not in remove]


def apply_entries(values: dict[str, str], updates: list[tuple[str, str | None]]) -> None:
    """Set key/value entries (metadata, custom field values) in order; a None value removes the entry."""
    for key, value in updates:
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value


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


@dataclass
class ProjectChanges:
    """A request's `project` object, its parameters already checked; None or empty: leave as is."""

    owners_add: list[str] = field(default_factory=list)
    owners_remove: list[str] = field(default_factory=list)
    status: Any = None  # as sent: set_project_status judges it
    custom_status_id: Any = None
    dates: dict[str, str | None] = field(default_factory=dict)  # "start_date"/"end_date": ISO date or None


@dataclass
class FolderChanges:
    """A new folder's fields or what PUT /folders/{id} asks to change; None or empty: leave as is."""

    title: str | None = None
    description: str | None = None
    restore: bool = False
    add_parents: list[str] = field(default_factory=list)
    remove_parents: list[str] = field(default_factory=list)
    add_shareds: list[str] = field(default_factory=list)
    remove_shareds: list[str] = field(default_factory=list)
    metadata: list[tuple[str, str | None]] = field(default_factory=list)
    custom_fields: list[tuple[str, str | None]] = field(default_factory=list)
    project: ProjectChanges | None = None
    drop_project: bool = False  # project=null turns a project back into a folder


class WrikeBackend:
    """One Wrike account in memory. `clear()` empties it; the seed (seed.py) fills it."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clear()

    # -- time -------------------------------------------------------------------------------------------
    def clock(self) -> float:
        return time.time() + self.clock_offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.clock()), UTC)

    # -- lifecycle --------------------------------------------------------------------------------------
    def clear(self) -> None:
        """An empty account with fresh counters and the clock back at the wall clock."""
        self.clock_offset = 0.0
        self.today: date = self.now().date()
        self.contacts: dict[str, Contact] = {}
        self.workflows: dict[str, Workflow] = {}
        self.custom_fields: dict[str, CustomField] = {}
        self.folders: dict[str, Folder] = {}
        self.tasks: dict[str, Task] = {}
        self.dependencies: dict[str, Dependency] = {}
        self.attachments: dict[str, Attachment] = {}
        self.download_links: dict[str, tuple[str, float]] = {}  # token: (attachment id, expiry)
        self.approvals: dict[str, Approval] = {}
        self.blueprints: dict[str, Blueprint] = {}
        self.async_jobs: dict[str, AsyncJob] = {}
        self.async_job_polls = DEFAULT_ASYNC_JOB_POLLS  # reads of a new job that still see it running
        self.async_job_failure: str | None = None  # the next job fails with this message (control plane)
        self.comments: dict[str, Comment] = {}
        self.timelogs: dict[str, Timelog] = {}
        self.audit: list[AuditEvent] = []
        self.account_metadata: dict[str, str] = {}
        self.counters: dict[str, int] = {}
        self.delete_batches = 0
        self.short_ids_since = self.now() - ids.SHORT_IDS_AGE

    def demo_user(self) -> Contact:
        """The account owner: the user of the demo tokens and of an authorization that names nobody."""
        return next(c for c in self.contacts.values() if c.admin and c.owner)

    def next_number(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def new_id(self, marker: str) -> str:
        return ids.entity_id(marker, self.next_number(marker))

    def new_legacy_id(self, legacy_type: str) -> int:
        return ids.LEGACY_BASE[legacy_type] + self.next_number(legacy_type) * 7

    def new_task_ids(self, created: datetime) -> tuple[str, int]:
        """(id, legacy id) of a task created at `created`: a short id after Wrike's 2025 switch."""
        return self._new_ids(ids.SHORT_TASK, ids.TASK, "ApiV2Task", created)

    def new_folder_ids(self, created: datetime) -> tuple[str, int]:
        """(id, legacy id) of a folder, project or space created at `created`, as for tasks."""
        return self._new_ids(ids.SHORT_FOLDER, ids.FOLDER, "ApiV2Folder", created)

    def _new_ids(self, kind: int, marker: str, legacy_type: str, created: datetime) -> tuple[str, int]:
        # The classic numbers are drawn either way, so the seed's classic ids and permalinks stay the same
        # whichever of their neighbours get short ids.
        classic = ids.entity_id(marker, self.next_number(marker)), self.new_legacy_id(legacy_type)
        if created < self.short_ids_since:
            return classic
        legacy_id = ids.SHORT_LEGACY_BASE + self.next_number("short") * 7
        return ids.short_id(kind, legacy_id), legacy_id

    # -- lookups that answer 404 the Wrike way -----------------------------------------------------------
    def contact(self, contact_id: str) -> Contact:
        found = self.contacts.get(contact_id)
        if found is None:
            raise not_found("Contact", contact_id)
        return found

    def folder(self, folder_id: str) -> Folder:
        found = self.folders.get(folder_id)
        if found is None:
            raise not_found("Folder", folder_id)
        return found

    def task(self, task_id: str) -> Task:
        found = self.tasks.get(task_id)
        if found is None:
            raise not_found("Task", task_id)
        return found

    def space(self, space_id: str) -> Folder:
        found = self.folders.get(space_id)
        if found is None or found.space is None:
            raise not_found("Space", space_id)
        return found

    def custom_status(self, status_id: str) -> CustomStatus | None:
        for workflow in self.workflows.values():
            for status in workflow.statuses:
                if status.id == status_id:
                    return status
        return None

    def user_by_email(self, email: str) -> Contact | None:
        wanted = email.casefold()
        return next((c for c in self.contacts.values() if c.email.casefold() == wanted and c.email), None)

    # -- tree helpers -------------------------------------------------------------------------------------
    def child_folder_ids(self, folder_id: str) -> list[str]:
        if folder_id == ids.RECYCLE_BIN_ID:
            return [
                f.id
                for f in self.folders.values()
                if f.deleted and not any(self.folders[p].deleted for p in f.parent_ids if p in self.folders)
            ]
        parent = self.folders.get(folder_id)
        parent_deleted = parent.deleted if parent else False
        return [
            f.id for f in self.folders.values() if folder_id in f.parent_ids and f.deleted == parent_deleted
        ]

    def descendant_folder_ids(self, folder_id: str) -> list[str]:
        """Folders below `folder_id` in tree order (depth first)."""
        found: list[str] = []
        seen: set[str] = set()

        def walk(current: str) -> None:
            for child in self.child_folder_ids(current):
                if child not in seen:
                    seen.add(child)
                    found.append(child)
                    walk(child)

        walk(folder_id)
        return found

    def space_of(self, folder: Folder) -> Folder | None:
        seen: set[str] = set()
        current: Folder | None = folder
        while current is not None and current.id not in seen:
            if current.space is not None:
                return current
            seen.add(current.id)
            current = next((self.folders[p] for p in current.parent_ids if p in self.folders), None)
        return None

    def sub_task_ids(self, task_id: str) -> list[str]:
        return [t.id for t in self.tasks.values() if task_id in t.super_task_ids and not t.deleted]

    def super_parent_ids(self, task: Task) -> list[str]:
        """Folders a subtask inherits from its super tasks (Wrike's superParentIds)."""
        found: list[str] = []
        seen: set[str] = {task.id}
        pending = list(task.super_task_ids)
        while pending:
            current = self.tasks.get(pending.pop(0))
            if current is None or current.id in seen:
                continue
            seen.add(current.id)
            found.extend(p for p in current.parent_ids if p not in found)
            pending.extend(current.super_task_ids)
        return found

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

    def update_metadata(self, entries: dict[str, str], updates: list[tuple[str, str | None]]) -> None:
        """A contact's or the account's metadata (PUT /contacts/{id}, PUT /account)."""
        apply_entries(entries, updates)

    # -- tasks ----------------------------------------------------------------------------------------------
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

    # -- folders and projects -------------------------------------------------------------------------------
    def writable_parent(self, folder_id: str, name: str) -> Folder:
        """The live folder request parameter `name` names as a parent of something new or moved."""
        if folder_id == ids.RECYCLE_BIN_ID:
            raise invalid_parameter(name, "cannot be the Recycle Bin")
        folder = self.folders.get(folder_id)
        if folder is None:
            raise invalid_parameter(name, f"refers to unknown folder '{folder_id}'")
        if folder.deleted:
            raise invalid_parameter(name, f"refers to folder '{folder_id}', which is in the Recycle Bin")
        return folder

    def modifiable_folder(self, folder_id: str) -> Folder:
        folder = self.folder(folder_id)
        if folder.id in (ids.ROOT_FOLDER_ID, ids.RECYCLE_BIN_ID):
            raise wrike_error("invalid_request", "The root folder and the Recycle Bin cannot be modified")
        return folder

    def create_folder(self, user: Contact, parent: Folder, fields: FolderChanges) -> Folder:
        """Store a new folder (a project when `fields.project` is set), shared with its author."""
        folder = self.new_folder(
            parent,
            fields.title or "",
            description=fields.description or "",
            shared_ids=list(dict.fromkeys([user.id, *fields.add_shareds])),
        )
        apply_entries(folder.metadata, fields.metadata)
        apply_entries(folder.custom_fields, [(k, v) for k, v in fields.custom_fields if v is not None])
        if fields.project is not None:
            project = self.new_project(parent, fields.project.owners_add, user.id)
            self._change_project(project, fields.project)
            folder.project = project
        self.folders[folder.id] = folder
        return folder

    def update_folder(self, folder: Folder, user: Contact, changes: FolderChanges) -> None:
        if changes.restore and folder.deleted:
            self.restore_folder(folder)
        if changes.title is not None:
            folder.title = changes.title
        if changes.description is not None:
            folder.description = changes.description
        for parent_id in changes.add_parents:
            if parent_id == folder.id or parent_id in self.descendant_folder_ids(folder.id):
                raise invalid_parameter("addParents", f"would put folder '{folder.id}' inside itself")
        new_parents = merged(folder.parent_ids, changes.add_parents, changes.remove_parents)
        if not new_parents:
            raise invalid_parameter("removeParents", "would leave the folder without a parent")
        folder.parent_ids = new_parents
        folder.shared_ids = add_then_remove(folder.shared_ids, changes.add_shareds, changes.remove_shareds)
        apply_entries(folder.metadata, changes.metadata)
        apply_entries(folder.custom_fields, changes.custom_fields)
        if changes.drop_project:
            folder.project = None
        elif changes.project is not None:
            project = folder.project or self.new_project(folder, [], user.id)
            self._change_project(project, changes.project)
            folder.project = project
        folder.updated = self.now()

    def _change_project(self, project: Project, changes: ProjectChanges) -> None:
        project.owner_ids = add_then_remove(project.owner_ids, changes.owners_add, changes.owners_remove)
        self.set_project_status(project, changes.status, changes.custom_status_id)
        for attribute, value in changes.dates.items():
            setattr(project, attribute, value)
        if project.start_date and project.end_date and project.end_date < project.start_date:
            raise invalid_parameter("project.endDate", "must not be before project.startDate")

    def delete_folder(self, folder: Folder) -> None:
        """Move a folder (with what lives only inside it) to the Recycle Bin; spaces are not deleted here."""
        if folder.id in (ids.ROOT_FOLDER_ID, ids.RECYCLE_BIN_ID) or folder.space is not None:
            raise wrike_error(
                "invalid_request", f"Folder '{folder.id}' cannot be deleted through this method"
            )
        if folder.deleted:
            raise wrike_error("invalid_request", f"Folder '{folder.id}' is already in the Recycle Bin")
        self.recycle_folder(folder)
        folder.updated = self.now()

    # -- projects ---------------------------------------------------------------------------------------
    def project_workflow_for(self, parent: Folder) -> Workflow | None:
        """The project workflow a new project under `parent` follows: its space's default, if it has one."""
        space = self.space_of(parent)
        workflow_id = space.space.default_project_workflow_id if space and space.space else None
        return self.workflows.get(workflow_id) if workflow_id else None

    def new_folder(self, parent: Folder, title: str, *, description: str, shared_ids: list[str]) -> Folder:
        """A folder made now under `parent`, in its workflow; not stored yet (the caller may still refuse)."""
        now = self.now()
        folder_id, legacy_id = self.new_folder_ids(now)
        return Folder(
            id=folder_id,
            legacy_id=legacy_id,
            title=title,
            parent_ids=[parent.id],
            created=now,
            updated=now,
            workflow_id=parent.workflow_id,
            description=description,
            shared_ids=shared_ids,
        )

    def new_project(self, parent: Folder, owner_ids: list[str], author_id: str) -> Project:
        project = Project(owner_ids=owner_ids, author_id=author_id, created_date=self.now())
        workflow = self.project_workflow_for(parent)
        if workflow is not None:
            project.status, project.custom_status_id = None, workflow.default_status("Active").id
        return project

    def set_project_status(self, project: Project, status: str | None, custom_status_id: str | None) -> None:
        """Apply a request's `project.status` / `project.customStatusId`, keeping `completedDate` in step."""
        if custom_status_id is not None:
            custom = self.custom_status(custom_status_id)
            if custom is None or not self.workflows[custom.workflow_id].for_projects:
                raise invalid_parameter(
                    "project.customStatusId",
                    f"'{custom_status_id}' is not a custom status of a project workflow",
                )
            if status not in (None, "Custom"):
                raise invalid_parameter("project.status", "cannot be combined with project.customStatusId")
            self._stamp_completion(project, custom.group)
            project.status, project.custom_status_id = None, custom.id
            return
        if status is None:
            return
        if project.custom_status_id is not None:
            raise invalid_parameter(
                "project.status",
                "is not available for a project in a project workflow: set project.customStatusId",
            )
        if status == "Custom":
            raise parameter_required("project.customStatusId")
        if status not in CLASSIC_PROJECT_STATUSES:
            raise invalid_parameter(
                "project.status", f"must be one of: {', '.join(CLASSIC_PROJECT_STATUSES)}"
            )
        self._stamp_completion(project, CLASSIC_PROJECT_STATUSES[status])
        project.status = status

    def project_group(self, project: Project) -> str:
        if project.custom_status_id is not None:
            custom = self.custom_status(project.custom_status_id)
            return custom.group if custom else "Active"
        return CLASSIC_PROJECT_STATUSES.get(project.status or "", "Active")

    def _stamp_completion(self, project: Project, group: str) -> None:
        if group != "Completed":
            project.completed_date = None
        elif self.project_group(project) != "Completed" or project.completed_date is None:
            project.completed_date = self.now()

    def dependency_ids(self, task_id: str) -> list[str]:
        return [d.id for d in self.dependencies.values() if task_id in (d.predecessor_id, d.successor_id)]

    # -- comments -------------------------------------------------------------------------------------------
    def _audit_comment(self, operation: str, user: Contact, comment: Comment) -> None:
        """Log a task comment's change (Wrike's list has no operation for folder comments).

        Assumption: the event's object is the comment (objectType `Comment`), named after its task, whose id
        goes in `details`; ver154 lists the operations and object types but not which goes with which.
        """
        task = self.tasks.get(comment.task_id or "")
        if task is not None:
            self.record_audit(operation, user, "Comment", task.title, comment.id, {"taskId": task.id})

    def commentable_task(self, task_id: str) -> Task:
        task = self.task(task_id)
        if task.deleted:
            raise wrike_error("invalid_request", f"Task '{task.id}' is in the Recycle Bin")
        return task

    def commentable_folder(self, folder_id: str) -> Folder:
        folder = self.folder(folder_id)
        if folder.id in (ids.ROOT_FOLDER_ID, ids.RECYCLE_BIN_ID):
            raise wrike_error("invalid_request", "The root folder and the Recycle Bin cannot have comments")
        return folder

    def add_comment(
        self, user: Contact, text: str, *, task_id: str | None = None, folder_id: str | None = None
    ) -> Comment:
        now = self.now()
        comment = Comment(
            id=self.new_id(ids.COMMENT),
            legacy_id=self.new_legacy_id("ApiV2Comment"),
            author_id=user.id,
            text=text,
            created=now,
            updated=now,
            task_id=task_id,
            folder_id=folder_id,
        )
        self.comments[comment.id] = comment
        self._audit_comment("TaskCommentChanged", user, comment)
        return comment

    def own_comment(self, comment_id: str, user: Contact) -> Comment:
        """A comment `user` may change: their own, or any for an admin."""
        comment = self.comments.get(comment_id)
        if comment is None:
            raise wrike_error("resource_not_found", f"Comment '{comment_id}' not found")
        if comment.author_id != user.id and not user.admin:
            raise wrike_error("access_forbidden", "Only the author can change this comment")
        return comment

    def edit_comment(self, comment: Comment, user: Contact, text: str) -> None:
        if self.now() - comment.created > COMMENT_EDIT_WINDOW:
            raise wrike_error("not_allowed", "A comment can be edited only within 5 minutes of its creation")
        comment.text = text
        comment.updated = self.now()
        self._audit_comment("TaskCommentChanged", user, comment)

    def delete_comment(self, comment: Comment, user: Contact) -> None:
        del self.comments[comment.id]
        self._audit_comment("TaskCommentDeleted", user, comment)

    # -- timelogs -------------------------------------------------------------------------------------------
    def timelog_task(self, task_id: str) -> Task:
        task = self.task(task_id)
        if task.deleted:
            raise wrike_error("invalid_request", f"Task '{task.id}' is in the Recycle Bin")
        return task

    def add_timelog(
        self, user: Contact, task: Task, hours: float, tracked_date: date, comment: str
    ) -> Timelog:
        now = self.now()
        timelog = Timelog(
            id=self.new_id(ids.TIMELOG),
            legacy_id=self.new_legacy_id("ApiV2Timelog"),
            task_id=task.id,
            user_id=user.id,
            hours=hours,
            tracked_date=tracked_date,
            comment=comment,
            created=now,
            updated=now,
        )
        self.timelogs[timelog.id] = timelog
        return timelog

    def own_timelog(self, timelog_id: str, user: Contact) -> Timelog:
        """A timelog `user` may change: their own, or any for an admin."""
        timelog = self.timelogs.get(timelog_id)
        if timelog is None:
            raise wrike_error("resource_not_found", f"Timelog '{timelog_id}' not found")
        if timelog.user_id != user.id and not user.admin:
            raise wrike_error("access_forbidden", "Only the user who tracked this time can change it")
        return timelog

    def update_timelog(
        self, timelog: Timelog, hours: float | None, tracked_date: date | None, comment: str | None
    ) -> None:
        if hours is not None:
            timelog.hours = hours
        if tracked_date is not None:
            timelog.tracked_date = tracked_date
        if comment is not None:
            timelog.comment = comment
        timelog.updated = self.now()

    def delete_timelog(self, timelog: Timelog) -> None:
        del self.timelogs[timelog.id]

    # -- dependencies ------------------------------------------------------------------------------------
    def dependency(self, dependency_id: str) -> Dependency:
        found = self.dependencies.get(dependency_id)
        if found is None:
            raise not_found("Dependency", dependency_id)
        return found

    def add_dependency(
        self, predecessor: Task, successor: Task, relation_type: str, lag_time: int, name: str
    ) -> Dependency:
        """Link two tasks; `name` is the request parameter that named the other task, for the errors."""
        if predecessor.id == successor.id:
            raise invalid_parameter(
                name, f"refers to task '{predecessor.id}' itself: a task cannot depend on itself"
            )
        for existing in self.dependencies.values():
            if (existing.predecessor_id, existing.successor_id) == (predecessor.id, successor.id):
                raise invalid_parameter(
                    name,
                    f"duplicates dependency '{existing.id}' between these tasks ({existing.relation_type})",
                )
        if predecessor.id in self._successors_of(successor.id):
            raise invalid_parameter(name, "would make a circular dependency between these tasks")
        check_relation(relation_type, predecessor, successor)
        dependency = Dependency(
            id=self.new_id(ids.DEPENDENCY),
            predecessor_id=predecessor.id,
            successor_id=successor.id,
            relation_type=relation_type,
            lag_time=lag_time,
        )
        self.dependencies[dependency.id] = dependency
        return dependency

    def update_dependency(
        self, dependency: Dependency, relation_type: str | None, lag_time: int | None
    ) -> None:
        if relation_type is not None:
            check_relation(
                relation_type, self.tasks[dependency.predecessor_id], self.tasks[dependency.successor_id]
            )
            dependency.relation_type = relation_type
        if lag_time is not None:
            dependency.lag_time = lag_time

    def delete_dependency(self, dependency: Dependency) -> None:
        del self.dependencies[dependency.id]

    def _successors_of(self, task_id: str) -> set[str]:
        found: set[str] = set()
        pending = [task_id]
        while pending:
            current = pending.pop()
            for dependency in self.dependencies.values():
                if dependency.predecessor_id == current and dependency.successor_id not in found:
                    found.add(dependency.successor_id)
                    pending.append(dependency.successor_id)
        return found

    # -- attachments -------------------------------------------------------------------------------------
    def attachment(self, attachment_id: str) -> Attachment:
        found = self.attachments.get(attachment_id)
        if found is None:
            raise not_found("Attachment", attachment_id)
        return found

    def attachments_of(self, *, task_id: str | None = None, folder_id: str | None = None) -> list[Attachment]:
        """A task's or folder's attachments, oldest first."""
        found = [
            a
            for a in self.attachments.values()
            if (task_id is not None and a.task_id == task_id)
            or (folder_id is not None and a.folder_id == folder_id)
        ]
        return sorted(found, key=lambda a: (a.created, a.id))

    def add_attachment(
        self,
        user: Contact,
        name: str,
        content: bytes,
        content_type: str,
        *,
        task_id: str | None = None,
        folder_id: str | None = None,
    ) -> Attachment:
        if len(content) > self.config.max_attachment_bytes:
            raise wrike_error(
                "invalid_request",
                f"The file is {len(content)} bytes; attachments may be at most "
                f"{self.config.max_attachment_bytes} bytes",
            )
        if not name.strip():
            raise invalid_parameter(
                "X-File-Name", "cannot be empty: send the file name in the X-File-Name header"
            )
        attachment = Attachment(
            id=self.new_id(ids.ATTACHMENT),
            legacy_id=self.new_legacy_id("ApiV2Attachment"),
            author_id=user.id,
            name=name,
            content=content,
            content_type=content_type,
            created=self.now(),
            task_id=task_id,
            folder_id=folder_id,
        )
        self.attachments[attachment.id] = attachment
        owner = self.tasks[task_id] if task_id is not None else self.folders[folder_id or ""]
        self.record_audit(
            "AttachUploaded",
            user,
            "Attachment",
            name,
            attachment.id,
            {"taskId" if task_id else "folderId": owner.id},
        )
        return attachment

    def delete_attachment(self, attachment: Attachment, user: Contact) -> None:
        del self.attachments[attachment.id]
        self.record_audit("AttachDeleted", user, "Attachment", attachment.name, attachment.id)

    def attachment_count(self, *, task_id: str | None = None, folder_id: str | None = None) -> int:
        return len(self.attachments_of(task_id=task_id, folder_id=folder_id))

    def download_link(self, attachment: Attachment) -> str:
        """A new token for a download link that needs no access token and works for 24 hours."""
        token = secrets.token_urlsafe(24)
        self.download_links[token] = (attachment.id, self.clock() + DOWNLOAD_LINK_TTL)
        return token

    def linked_attachment(self, token: str) -> Attachment | None:
        """The attachment a download link stands for, if the link is known, unexpired and the file still there."""
        attachment_id, expires_at = self.download_links.get(token, ("", 0.0))
        if self.clock() >= expires_at:
            return None
        return self.attachments.get(attachment_id)

    # -- blueprints and async jobs ---------------------------------------------------------------------
    def blueprint(self, blueprint_id: str, kind: str) -> Blueprint:
        found = self.blueprints.get(blueprint_id)
        if found is None or found.kind != kind:
            raise not_found("Folder blueprint" if kind == "folder" else "Task blueprint", blueprint_id)
        return found

    def blueprint_children(self, blueprint_id: str, kind: str) -> list[Blueprint]:
        return [b for b in self.blueprints.values() if b.parent_id == blueprint_id and b.kind == kind]

    def configure_async_jobs(self, polls: int, failure: str | None, *, set_failure: bool) -> None:
        """The control plane's settings for new jobs (/_sandbox/async_jobs)."""
        self.async_job_polls = polls
        if set_failure:
            self.async_job_failure = failure

    def start_job(self, job_type: str, total_count: int, finish: Callable[[], dict[str, Any]]) -> AsyncJob:
        job = AsyncJob(
            id=self.new_id(ids.ASYNC_JOB),
            type=job_type,
            total_count=total_count,
            polls_left=self.async_job_polls,
            finish=finish,
        )
        if self.async_job_failure is not None:
            job.error_message, self.async_job_failure = self.async_job_failure, None
        self.async_jobs[job.id] = job
        return job

    def poll_job(self, job_id: str) -> AsyncJob:
        """Read a job: while polls are left it advances its progress; then it finishes (or fails)."""
        job = self.async_jobs.get(job_id)
        if job is None:
            raise not_found("Async job", job_id)
        if job.status not in ("InQueue", "InProgress"):
            return job
        if job.polls_left > 0:
            job.polls_left -= 1
            done = self.async_job_polls - job.polls_left
            job.processed_count = job.total_count * done // (self.async_job_polls + 1)
            return job
        if job.error_message is not None:
            job.status = "Failed"
            return job
        try:
            job.result = job.finish()
        except SandboxError as error:  # the target went away while the job waited
            job.status, job.error_message = "Failed", error.description
            return job
        job.status, job.processed_count = "Completed", job.total_count
        return job

    # -- the Recycle Bin -------------------------------------------------------------------------------------
    # [live] a deleted task or folder goes to the Recycle Bin with its subtree. Restoring (PUT … restore=true)
    # brings back the item asked for with the part of its subtree that was deleted with it [assumption: Wrike
    # documents only "Restore task/folder from Recycled Bin"], never the rest of an earlier DELETE.

    def recycle_task(self, task: Task) -> None:
        """Move a task and its subtasks to the Recycle Bin, as one delete."""
        batch = self._next_delete_batch()
        for current in [task, *self.subtask_tree(task.id)]:
            if not current.deleted:
                current.deleted, current.deleted_batch = True, batch

    def recycle_folder(self, folder: Folder) -> None:
        """Move a folder, its subfolders and the tasks that live only there to the Recycle Bin, as one delete."""
        batch = self._next_delete_batch()
        doomed = {folder.id, *self.descendant_folder_ids(folder.id)}
        # A descendant that also lives somewhere outside the deleted subtree stays where it is.
        for folder_id in list(doomed):
            other = self.folders[folder_id]
            if folder_id != folder.id and any(p not in doomed for p in other.parent_ids):
                doomed.discard(folder_id)
        for folder_id in doomed:
            self.folders[folder_id].deleted, self.folders[folder_id].deleted_batch = True, batch
        for task in [t for t in self.tasks.values() if t.parent_ids and set(t.parent_ids) <= doomed]:
            for current in [task, *self.subtask_tree(task.id)]:
                if not current.deleted and (current is task or not current.parent_ids):
                    current.deleted, current.deleted_batch = True, batch

    def restore_task(self, task: Task) -> None:
        """Bring a task back from the Recycle Bin with the subtasks deleted together with it."""
        batch = task.deleted_batch
        for current in [task, *self.subtask_tree(task.id)]:
            if current.deleted and (current is task or current.deleted_batch == batch):
                current.deleted, current.deleted_batch = False, None
        self._rehome_task(task)

    def restore_folder(self, folder: Folder) -> None:
        """Bring a folder back with its subfolders and tasks deleted together with it."""
        batch = folder.deleted_batch
        members = {folder.id, *self.descendant_folder_ids(folder.id)}
        for folder_id in members:
            current = self.folders[folder_id]
            if current is folder or current.deleted_batch == batch:
                current.deleted, current.deleted_batch = False, None
        for task in [t for t in self.tasks.values() if t.deleted and set(t.parent_ids) & members]:
            if task.deleted_batch == batch:
                self.restore_task(task)
        folder.parent_ids = [p for p in folder.parent_ids if not self._in_recycle_bin(p)] or [
            ids.ROOT_FOLDER_ID
        ]

    def subtask_tree(self, task_id: str) -> list[Task]:
        """Every task below this one through subtask links, in the Recycle Bin or not."""
        found: list[Task] = []
        pending = [task_id]
        while pending:
            current = pending.pop()
            for task in self.tasks.values():
                if current in task.super_task_ids and task not in found and task.id != task_id:
                    found.append(task)
                    pending.append(task.id)
        return found

    def _rehome_task(self, task: Task) -> None:
        # A task brought back without its folder or super task (still in the Recycle Bin) drops those
        # links, and one left with none lands in the root, where a task without a folder lives.
        task.parent_ids = [p for p in task.parent_ids if not self._in_recycle_bin(p)]
        task.super_task_ids = [s for s in task.super_task_ids if not self._in_recycle_bin(s)]
        if not task.parent_ids and not task.super_task_ids:
            task.parent_ids = [ids.ROOT_FOLDER_ID]

    def _in_recycle_bin(self, entity_id: str) -> bool:
        entity = self.folders.get(entity_id) or self.tasks.get(entity_id)
        return entity is not None and entity.deleted

    def _next_delete_batch(self) -> int:
        self.delete_batches += 1
        return self.delete_batches

    def record_audit(
        self,
        operation: str,
        user: Contact,
        object_type: str,
        object_name: str,
        object_id: str,
        details: dict[str, Any] | None = None,
        ip_address: str = "127.0.0.1",
    ) -> AuditEvent:
        # The emulator only ever logs what Wrike documents, so clients are tested against real names.
        if operation not in AUDIT_OPERATIONS or object_type not in AUDIT_OBJECT_TYPES:
            raise ValueError(f"not a documented audit-log operation/object type: {operation}/{object_type}")
        event = AuditEvent(
            id=self.new_id(ids.AUDIT),
            operation=operation,
            user_id=user.id,
            user_email=user.email,
            event_date=self.now(),
            ip_address=ip_address,
            object_type=object_type,
            object_name=object_name,
            object_id=object_id,
            details=details or {},
        )
        self.audit.append(event)
        return event

    def record_task_audit(
        self, operation: str, user: Contact, task: Task, details: dict[str, Any] | None = None
    ) -> AuditEvent:
        return self.record_audit(operation, user, "Task", task.title, task.id, details)

    def audit_log(self, query: AuditQuery) -> list[AuditEvent]:
        """The events matching `query`, newest first; events of the same second in reverse order of logging."""
        found = [(event.event_date, n, event) for n, event in enumerate(self.audit) if query.matches(event)]
        found.sort(key=lambda row: row[:2], reverse=True)
        return [event for _, _, event in found]
