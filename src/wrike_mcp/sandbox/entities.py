"""The emulated Wrike account's records: plain data, no rules. The backend (backend.py) owns every change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.params import TimestampRange


@dataclass
class Contact:
    id: str
    legacy_id: int
    first_name: str
    last_name: str
    type: str = "Person"  # Person | Group
    email: str = ""
    role: str = "User"
    admin: bool = False
    owner: bool = False
    external: bool = False
    deleted: bool = False
    timezone: str = "Europe/London"
    locale: str = "en"
    title: str | None = None
    member_ids: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class CustomStatus:
    id: str
    name: str
    color: str
    group: str  # Active | Completed | Deferred | Cancelled: the task status it implies
    workflow_id: str
    standard: bool = False  # the default custom status of its group
    standard_name: bool = False
    hidden: bool = False


@dataclass
class Workflow:
    id: str
    name: str
    standard: bool
    statuses: list[CustomStatus] = field(default_factory=list)
    hidden: bool = False
    description: str = ""
    # Wrike's workflow model has no kind; a project workflow is one a space names as such. The sandbox
    # keeps the kind to refuse a task status for a project and a project status for a task.
    for_projects: bool = False

    def default_status(self, group: str) -> CustomStatus:
        candidates = [s for s in self.statuses if s.group == group]
        return next((s for s in candidates if s.standard), candidates[0])


@dataclass
class CustomField:
    id: str
    title: str
    type: str
    settings: dict[str, Any] = field(default_factory=dict)
    shared_ids: list[str] = field(default_factory=list)
    space_id: str | None = None  # a space-level field (2026); None: account-level
    archived_by: str | None = None
    archived_on: datetime | None = None
    description: str = ""

    @property
    def archived(self) -> bool:
        return self.archived_on is not None


@dataclass
class SpaceInfo:
    access_type: str = "Public"
    archived: bool = False
    members: list[tuple[str, str, bool]] = field(
        default_factory=list
    )  # (contact id, access role id, manager)
    guest_role_id: str | None = None
    default_project_workflow_id: str | None = None  # None: the space's projects keep classic statuses
    default_task_workflow_id: str | None = None
    suggested_project_workflow_ids: list[str] = field(default_factory=list)
    suggested_task_workflow_ids: list[str] = field(default_factory=list)


@dataclass
class Project:
    """A project follows either a project workflow (`custom_status_id`, no `status`, as in 2026) or the
    classic statuses (`status`: Green, Yellow, Red, Completed, OnHold, Cancelled)."""

    owner_ids: list[str]
    status: str | None = "Green"
    author_id: str | None = None
    custom_status_id: str | None = None
    start_date: str | None = None  # yyyy-MM-dd
    end_date: str | None = None
    created_date: datetime | None = None
    completed_date: datetime | None = None


@dataclass
class Folder:
    id: str
    legacy_id: int
    title: str
    parent_ids: list[str]
    created: datetime
    updated: datetime
    workflow_id: str
    description: str = ""
    color: str | None = None
    shared_ids: list[str] = field(default_factory=list)
    project: Project | None = None
    space: SpaceInfo | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    deleted: bool = False
    # Which DELETE put it in the Recycle Bin: restoring an item brings back only what went there with it.
    deleted_batch: int | None = None
    custom_item_type_id: str | None = None  # the custom item type it was created from

    @property
    def permalink(self) -> str:
        return ids.permalink(self.legacy_id)


@dataclass
class TaskDates:
    type: str = "Backlog"  # Backlog | Milestone | Planned
    start: datetime | None = None  # naive: Wrike task dates carry no zone
    due: datetime | None = None
    duration: int | None = None  # minutes
    work_on_weekends: bool = False


@dataclass
class Task:
    id: str
    legacy_id: int
    title: str
    parent_ids: list[str]
    author_id: str
    created: datetime
    updated: datetime
    custom_status_id: str
    status: str = "Active"
    importance: str = "Normal"
    description: str = ""
    dates: TaskDates = field(default_factory=TaskDates)
    completed: datetime | None = None
    shared_ids: list[str] = field(default_factory=list)
    responsible_ids: list[str] = field(default_factory=list)
    follower_ids: list[str] = field(default_factory=list)
    super_task_ids: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    priority: int = 0
    last_access: datetime | None = None
    deleted: bool = False
    deleted_batch: int | None = None
    # "Task's timelogs billing type" (2026 digest): what a new time log on the task is billed as. Writing it
    # is Wrike Resource only (refused, docs/FIDELITY.md); the seed sets it on some tasks.
    billing_type: str | None = None
    custom_item_type_id: str | None = None  # the custom item type it was created from

    @property
    def permalink(self) -> str:
        return ids.permalink(self.legacy_id)


@dataclass
class Dependency:
    id: str
    predecessor_id: str
    successor_id: str
    relation_type: str = "FinishToStart"
    lag_time: int = 0  # minutes; negative is lead time (2026 digest)


@dataclass
class Attachment:
    """A file uploaded to a task or folder (exactly one of `task_id`, `folder_id`)."""

    id: str
    legacy_id: int
    author_id: str
    name: str
    content: bytes
    content_type: str
    created: datetime
    task_id: str | None = None
    folder_id: str | None = None
    version: int = 1


@dataclass
class ApprovalDecision:
    approver_id: str
    status: str = "Pending"  # Pending | Approved | Rejected
    comment: str = ""
    updated: datetime | None = None


@dataclass
class Approval:
    """An approval on a task or folder; `status` is its final state (Pending while it runs)."""

    id: str
    author_id: str
    title: str
    updated: datetime
    decisions: list[ApprovalDecision]
    status: str = "Pending"  # Pending | Approved | Rejected | Cancelled | Draft
    description: str = ""
    due_date: date | None = None
    type: str = "Regular"  # Regular | FilesOnly
    task_id: str | None = None
    folder_id: str | None = None
    attachment_ids: list[str] = field(default_factory=list)
    auto_finish_on_approve: bool = True
    auto_finish_on_reject: bool = False
    finisher_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("Approved", "Rejected", "Cancelled")

    def pending_approver_ids(self) -> list[str]:
        if self.status != "Pending":
            return []
        return [d.approver_id for d in self.decisions if d.status == "Pending"]


@dataclass
class Blueprint:
    """A folder/project blueprint or a task blueprint. Blueprints form their own trees (`parent_id`): a
    folder blueprint holds subfolder blueprints and the task blueprints launched with it, a task blueprint
    holds its subtask blueprints. Dates are real dates, as in Wrike; launching may shift them."""

    id: str
    legacy_id: int
    title: str
    kind: str  # "folder" | "task"
    created: datetime
    parent_id: str | None = None  # None: the top of a blueprint tree
    space_id: str | None = None  # None: an account-level blueprint
    project: bool = False
    description: str = ""
    importance: str = "Normal"
    dates: TaskDates = field(default_factory=TaskDates)
    responsible_ids: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)

    @property
    def permalink(self) -> str:
        return ids.permalink(self.legacy_id)


@dataclass
class AsyncJob:
    """A blueprint launch in flight: it reports progress for `polls_left` reads, then runs `finish`."""

    id: str
    type: str
    total_count: int
    polls_left: int
    finish: Callable[[], dict[str, Any]]  # creates the work; returns the job's result
    result_ids: bool = True  # False: the completed job's `result` leaves out what it made (control plane)
    reads: int = 0  # GET /async_job reads so far
    status: str = "InQueue"  # InQueue | InProgress | Completed | Failed
    processed_count: int = 0
    result: dict[str, Any] | None = None
    error_message: str | None = None


@dataclass
class CustomItemType:
    """A custom item type ("Bug", "Campaign request"): work of a kind the account defined, created as a task
    (`related_type` Task) or a project (Project). `workflow_id` is the sandbox's own: the workflow a task
    of this type starts in (Wrike's model names none) [assumption]."""

    id: str
    title: str
    related_type: str  # Task | Project
    space_id: str | None = None  # None: an account-level type
    description: str = ""
    custom_field_ids: list[str] = field(default_factory=list)
    workflow_id: str | None = None
    deleted: bool = False


@dataclass
class FormQuestion:
    """One question of a request form. `maps_to` is where the answer lands in the created item besides the
    description: title, description, dueDate, startDate, responsibles, owners, importance or a custom field
    id (None: the description only) [assumption: Wrike's REST model of form questions is unpublished]."""

    id: str
    title: str
    type: str  # see FORM_QUESTION_TYPES
    mandatory: bool = False
    helper_text: str = ""
    options: list[str] = field(default_factory=list)
    maps_to: str | None = None


@dataclass
class FormPage:
    """A page of a request form: shown first (ENTRY), after the previous one (AFTER_PAGE), or only when a
    choice question has one of `condition_values` (ON_CONDITION), as Wrike's MCP server shows pages."""

    id: str
    title: str
    visibility: str  # ENTRY | AFTER_PAGE | ON_CONDITION
    questions: list[FormQuestion] = field(default_factory=list)
    condition_question_id: str | None = None
    condition_values: list[str] = field(default_factory=list)


@dataclass
class RequestForm:
    """A request form: its pages of questions, and what a submission creates (a task or a project) where."""

    id: str
    legacy_id: int
    title: str
    space_id: str
    target_folder_id: str
    creates: str  # Task | Project
    description: str = ""
    pages: list[FormPage] = field(default_factory=list)
    assignee_ids: list[str] = field(default_factory=list)  # responsibles of a task, owners of a project
    custom_item_type_id: str | None = None

    @property
    def questions(self) -> list[FormQuestion]:
        return [question for page in self.pages for question in page.questions]


# Question types of request forms as the sandbox renders them [assumption]; attachments cannot be answered
# through the API (Wrike's agent skills).
FORM_QUESTION_TYPES = (
    "Text",
    "LongText",
    "Number",
    "SingleChoice",
    "MultipleChoice",
    "Date",
    "Contacts",
    "Attachment",
)


@dataclass
class Comment:
    id: str
    legacy_id: int
    author_id: str
    text: str
    created: datetime
    updated: datetime
    task_id: str | None = None
    folder_id: str | None = None


@dataclass
class Timelog:
    id: str
    legacy_id: int
    task_id: str
    user_id: str
    hours: float
    tracked_date: date
    comment: str
    created: datetime
    updated: datetime
    category_id: str | None = None
    billing_type: str | None = None  # Billable or NonBillable: the task's when the entry was logged


@dataclass
class TimelogCategory:
    """`GET /timelog_categories`: id, name, order (position in the list), hidden (2026 digest)."""

    id: str
    name: str
    order: int
    hidden: bool = False


@dataclass
class AuditEvent:
    id: str
    operation: str
    user_id: str
    user_email: str
    event_date: datetime
    ip_address: str
    object_type: str
    object_name: str
    object_id: str
    details: dict[str, Any] = field(default_factory=dict)


# Which dates a relation type needs (2026 digest, relationType completer): predecessor, successor.
RELATION_DATE_TYPES = {
    "FinishToFinish": (("Planned", "Milestone"), ("Planned", "Milestone")),
    "StartToStart": (("Planned",), ("Planned",)),
    "StartToFinish": (("Planned",), ("Planned", "Milestone")),
    "FinishToStart": (("Planned", "Milestone"), ("Planned",)),
}


@dataclass(frozen=True)
class AuditQuery:
    """The filters of GET /audit_log, already validated; None means "not filtered on"."""

    window: TimestampRange | None = None  # over eventDate
    operations: frozenset[str] | None = None  # a name Wrike does not know simply matches nothing
    object_type: str | None = None
    object_ids: frozenset[str] | None = None
    users: frozenset[str] | None = None

    def matches(self, event: AuditEvent) -> bool:
        checks = (
            self.window is None or self.window.contains(event.event_date),
            self.operations is None or event.operation in self.operations,
            self.object_type is None or event.object_type == self.object_type,
            self.object_ids is None or event.object_id in self.object_ids,
            self.users is None or event.user_id in self.users,
        )
        return all(checks)
