"""The account's stores and what every part of the backend shares: the clock, ids, lookups that answer
404 the Wrike way, the folder and subtask trees, the Recycle Bin and the audit log."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.entities import (
    Approval,
    AsyncJob,
    Attachment,
    AuditEvent,
    AuditQuery,
    Blueprint,
    Comment,
    Contact,
    CustomField,
    CustomItemType,
    CustomStatus,
    Dependency,
    Folder,
    RequestForm,
    Task,
    Timelog,
    TimelogCategory,
    Workflow,
)
from wrike_mcp.sandbox.errors import not_found
from wrike_mcp.wrike.audit_log import AUDIT_OBJECT_TYPES, AUDIT_OPERATIONS

# How many GET /async_job reads see a new job still in progress before it completes; /_sandbox/async_jobs
# changes it, so tests of polling clients are deterministic.
DEFAULT_ASYNC_JOB_POLLS = 2


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


class BackendCore:
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
        self.async_job_result_ids = True  # a completed job's `result` names what it made (control plane)
        self.comments: dict[str, Comment] = {}
        self.timelogs: dict[str, Timelog] = {}
        self.timelog_categories: dict[str, TimelogCategory] = {}
        self.item_types: dict[str, CustomItemType] = {}
        self.request_forms: dict[str, RequestForm] = {}
        self.prefills: dict[str, dict[str, Any]] = {}  # prefill token: the form id and the answers it holds
        self.audit: list[AuditEvent] = []
        self.audit_max_page_size = 1000  # GET /audit_log refuses a larger pageSize (control plane)
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

    def new_format_id(self, marker: str) -> str:
        """An id of the 2025-07 format (dependencies and blueprints created since: see ids.new_format_id)."""
        return ids.new_format_id(marker, self.next_number(marker))

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

    def update_metadata(self, entries: dict[str, str], updates: list[tuple[str, str | None]]) -> None:
        """A contact's or the account's metadata (PUT /contacts/{id}, PUT /account)."""
        apply_entries(entries, updates)

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
