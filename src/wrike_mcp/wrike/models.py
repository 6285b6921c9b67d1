"""Pydantic models of Wrike API v4 entities (field names per Wrike's 2020 reference).

Attributes are snake_case with Wrike's camelCase as aliases: `Task.model_validate(raw)` reads Wrike JSON and
`model_dump(by_alias=True)` writes it back. Models keep fields Wrike adds later (`extra="allow"`) and every
field not always present is optional, so a new or missing field never breaks a call. UTC timestamps
(`createdDate`, ...) parse to aware datetimes; task `dates.start`/`due` stay text because Wrike sends them
without a zone and sometimes without a time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class WrikeModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", defer_build=True
    )


class CustomFieldValue(WrikeModel):
    id: str
    value: Any = None


class Metadata(WrikeModel):
    key: str
    value: str | None = None


# ---- people and account ------------------------------------------------------------------------------------


class Profile(WrikeModel):
    account_id: str | None = None
    email: str | None = None
    role: str | None = None  # User | Collaborator
    external: bool | None = None
    admin: bool | None = None
    owner: bool | None = None
    active: bool | None = None


class Contact(WrikeModel):
    id: str
    first_name: str = ""
    last_name: str = ""
    type: str = "Person"  # Person | Group (newer: Asset, Robot)
    profiles: list[Profile] = Field(default_factory=list)
    avatar_url: str | None = None
    timezone: str | None = None
    locale: str | None = None
    deleted: bool = False
    me: bool | None = None
    member_ids: list[str] = Field(default_factory=list)
    my_team: bool | None = None
    title: str | None = None
    company_name: str | None = None
    phone: str | None = None
    location: str | None = None
    primary_email: str | None = None
    metadata: list[Metadata] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    job_role_id: str | None = None  # 2026
    work_schedule_id: str | None = None  # 2026
    current_bill_rate: dict[str, Any] | None = None  # 2026, shape undocumented
    current_cost_rate: dict[str, Any] | None = None  # 2026, shape undocumented

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def emails(self) -> list[str]:
        found = [profile.email for profile in self.profiles if profile.email]
        if self.primary_email and self.primary_email not in found:
            found.insert(0, self.primary_email)
        return found

    @property
    def email(self) -> str | None:
        return self.emails[0] if self.emails else None


class Subscription(WrikeModel):
    type: str | None = None
    suspended: bool | None = None
    paid: bool | None = None
    user_limit: int | None = None


class Account(WrikeModel):
    id: str
    name: str = ""
    date_format: str | None = None
    first_day_of_week: str | None = None
    work_days: list[str] = Field(default_factory=list)
    root_folder_id: str | None = None
    recycle_bin_id: str | None = None
    created_date: datetime | None = None
    joined_date: datetime | None = None
    subscription: Subscription | None = None
    metadata: list[Metadata] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)


# ---- spaces, folders, projects -----------------------------------------------------------------------------


class SpaceMember(WrikeModel):
    id: str
    access_role_id: str | None = None
    is_manager: bool | None = None


class Space(WrikeModel):
    id: str
    title: str = ""
    avatar_url: str | None = None
    access_type: str | None = None  # Personal | Private | Public
    archived: bool = False
    members: list[SpaceMember] = Field(default_factory=list)
    guest_role_id: str | None = None
    description: str | None = None
    # Project workflows (2026): a space names the workflows its projects follow; absent on older accounts.
    default_project_workflow_id: str | None = None
    default_task_workflow_id: str | None = None
    suggested_project_workflow_ids: list[str] = Field(default_factory=list)
    suggested_task_workflow_ids: list[str] = Field(default_factory=list)
    work_schedule_id: str | None = None  # 2026, with fields=["workScheduleId"]

    @property
    def project_workflow_ids(self) -> list[str]:
        named = [self.default_project_workflow_id, *self.suggested_project_workflow_ids]
        return list(dict.fromkeys(w for w in named if w))


# The classic project statuses (before project workflows) and the status group each stands for.
CLASSIC_PROJECT_STATUSES = {
    "Green": "Active",
    "Yellow": "Active",
    "Red": "Active",
    "Completed": "Completed",
    "OnHold": "Deferred",
    "Cancelled": "Cancelled",
}


class Project(WrikeModel):
    """A project follows a project workflow (`custom_status_id` set, no `status`: 2026 accounts) or has a
    classic `status` (Green, Yellow, Red, Completed, OnHold, Cancelled; `Custom` with a custom status)."""

    author_id: str | None = None
    owner_ids: list[str] = Field(default_factory=list)
    status: str | None = None
    custom_status_id: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    created_date: datetime | None = None
    completed_date: datetime | None = None
    contract_type: str | None = None


class Folder(WrikeModel):
    """A folder, a project (`project` set) or a folder-tree entry (only id, title, childIds, scope...)."""

    id: str
    account_id: str | None = None
    title: str = ""
    created_date: datetime | None = None
    updated_date: datetime | None = None
    description: str | None = None
    brief_description: str | None = None
    color: str | None = None
    shared_ids: list[str] = Field(default_factory=list)
    parent_ids: list[str] = Field(default_factory=list)
    child_ids: list[str] = Field(default_factory=list)
    super_parent_ids: list[str] = Field(default_factory=list)
    scope: str | None = None  # WsRoot | RbRoot | WsFolder | RbFolder
    has_attachments: bool | None = None
    attachment_count: int | None = None
    permalink: str | None = None
    workflow_id: str | None = None
    metadata: list[Metadata] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    custom_column_ids: list[str] = Field(default_factory=list)
    project: Project | None = None
    space: Any = None  # tree entries carry a space marker whose shape varies
    custom_item_type_id: str | None = None  # 2026: a project made from a custom item type

    @property
    def is_project(self) -> bool:
        return self.project is not None


# ---- tasks ---------------------------------------------------------------------------------------------


class TaskDates(WrikeModel):
    type: str | None = None  # Backlog | Milestone | Planned
    duration: int | None = None  # minutes
    start: str | None = None  # yyyy-MM-dd'T'HH:mm:ss, no zone, time optional
    due: str | None = None
    work_on_weekends: bool | None = None


class EffortAllocation(WrikeModel):
    mode: str | None = None
    total_effort: int | None = None
    allocated_effort: int | None = None


class Task(WrikeModel):
    id: str
    account_id: str | None = None
    title: str = ""
    description: str | None = None
    brief_description: str | None = None
    parent_ids: list[str] = Field(default_factory=list)
    super_parent_ids: list[str] = Field(default_factory=list)
    shared_ids: list[str] = Field(default_factory=list)
    responsible_ids: list[str] = Field(default_factory=list)
    author_ids: list[str] = Field(default_factory=list)
    follower_ids: list[str] = Field(default_factory=list)
    followed_by_me: bool | None = None
    super_task_ids: list[str] = Field(default_factory=list)
    sub_task_ids: list[str] = Field(default_factory=list)
    dependency_ids: list[str] = Field(default_factory=list)
    status: str | None = None  # Active | Completed | Deferred | Cancelled
    importance: str | None = None  # High | Normal | Low
    created_date: datetime | None = None
    updated_date: datetime | None = None
    completed_date: datetime | None = None
    dates: TaskDates | None = None
    scope: str | None = None  # WsTask | RbTask
    custom_status_id: str | None = None
    has_attachments: bool | None = None
    attachment_count: int | None = None
    permalink: str | None = None
    priority: str | None = None
    recurrent: bool | None = None
    metadata: list[Metadata] = Field(default_factory=list)
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    billing_type: str | None = None
    effort_allocation: EffortAllocation | None = None


class Dependency(WrikeModel):
    id: str
    predecessor_id: str | None = None
    successor_id: str | None = None
    relation_type: str | None = None  # StartToStart | StartToFinish | FinishToStart | FinishToFinish
    lag_time: float | None = None  # minutes; negative is lead time (2026 digest)


class Comment(WrikeModel):
    id: str
    author_id: str | None = None
    text: str = ""
    created_date: datetime | None = None
    updated_date: datetime | None = None
    task_id: str | None = None
    folder_id: str | None = None
    type: str | None = None


class Timelog(WrikeModel):
    id: str
    task_id: str | None = None
    user_id: str | None = None
    category_id: str | None = None
    billing_type: str | None = None
    hours: float = 0.0
    created_date: datetime | None = None
    updated_date: datetime | None = None
    tracked_date: date | None = None
    comment: str | None = None


class TimelogCategory(WrikeModel):
    """`GET /timelog_categories`: managed in Wrike's UI; a hidden one is kept on old entries."""

    id: str
    name: str = ""
    order: float | None = None
    hidden: bool = False


# ---- workflows and custom fields -----------------------------------------------------------------------


# The four status groups every workflow has; a task's `status` is one of them. The Literal is what tool schemas
# offer as an enum (tools/inputs.py); the tuple is the same names for code that lists or matches them.
StatusGroup = Literal["Active", "Completed", "Deferred", "Cancelled"]
STATUS_GROUPS: tuple[StatusGroup, ...] = get_args(StatusGroup)


class CustomStatus(WrikeModel):
    id: str
    name: str = ""
    standard_name: bool | str | None = None
    color: str | None = None
    standard: bool | None = None
    group: str | None = None  # Active | Completed | Deferred | Cancelled: the task's `status`
    hidden: bool = False


class Workflow(WrikeModel):
    id: str
    name: str = ""
    standard: bool | None = None
    hidden: bool = False
    custom_statuses: list[CustomStatus] = Field(default_factory=list)
    description: str | None = None

    def default_status(self, group: str) -> CustomStatus | None:
        """The status a group stands for: the group's standard (default) one, else its first visible one."""
        in_group = [s for s in self.custom_statuses if s.group == group]
        visible = [s for s in in_group if not s.hidden] or in_group
        return next((s for s in visible if s.standard), visible[0] if visible else None)


class DropDownOption(WrikeModel):
    value: str = ""
    color: str | None = None


class CustomFieldSettings(WrikeModel):
    """A custom field's settings; which keys appear depends on its type."""

    inheritance_type: str | None = None  # All | Tasks | Projects | Folders (2026)
    decimal_places: int | None = None
    use_thousands_separator: bool | None = None
    currency: str | None = None
    aggregation: str | None = None
    values: list[str] = Field(default_factory=list)  # DropDown, Multiple
    options: list[DropDownOption] = Field(default_factory=list)  # 2026: the values with their colours
    allow_other_values: bool | None = None
    contacts: list[str] = Field(default_factory=list)  # Contacts fields: the people allowed

    @property
    def option_values(self) -> list[str]:
        """A dropdown's allowed values: `values`, else (2026) the values of `options`."""
        return self.values or [option.value for option in self.options]


class CustomField(WrikeModel):
    id: str
    account_id: str | None = None
    title: str = ""
    type: str | None = None  # Text | DropDown | Numeric | Currency | Percentage | Date | Duration | ...
    shared_ids: list[str] = Field(default_factory=list)
    settings: CustomFieldSettings | None = None
    space_id: str | None = None  # a space-level field (2026); None: account-level
    archived: bool = False
    archived_by: str | None = None  # 2026
    archived_on: datetime | None = None  # 2026
    sharing: dict[str, Any] | None = None  # 2026, shape undocumented
    description: str | None = None


# ---- audit log and ids -----------------------------------------------------------------------------------


class AuditLogEvent(WrikeModel):
    id: str
    operation: str = ""
    user_id: str | None = None
    user_email: str | None = None
    event_date: datetime | None = None
    ip_address: str | None = None
    object_type: str | None = None
    object_name: str | None = None
    object_id: str | None = None
    details: dict[str, Any] | None = None


class IdMapping(WrikeModel):
    """One answer of `GET /ids`: a legacy (API v2, permalink) id and its v4 id."""

    id: str
    api_v2_id: str | int | None = Field(default=None, alias="apiV2Id")


# ---- blueprints, async jobs, attachments, approvals (2026 digest) --------------------------------------


class Blueprint(WrikeModel):
    """A folder/project blueprint or a task blueprint: a template that `launch_async` copies into real work."""

    id: str
    title: str = ""
    child_ids: list[str] = Field(default_factory=list)
    scope: str | None = None  # e.g. BpRoot, BpFolder, BpTask
    permalink: str | None = None
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)


class AsyncJob(WrikeModel):
    """Wrike's record of long work (blueprint launches, folder copies): poll `GET /async_job/{id}`."""

    id: str
    type: str | None = None
    status: str | None = (
        None  # InQueue | InProgress | Completed | Failed (the 2020 enum; 2026 types a string)
    )
    progress_percent: float | None = None
    processed_count: float | None = None
    total_count: float | None = None
    error_message: str | None = None
    result: dict[str, Any] | None = None  # an unexpanded record (2026): no key in it is documented


class Attachment(WrikeModel):
    id: str
    author_id: str | None = None
    name: str = ""
    created_date: datetime | None = None
    version: float | None = None
    type: str | None = None  # Wrike | Google | DropBox | Box | OneDrive | External
    content_type: str | None = None
    size: float | None = None
    task_id: str | None = None
    folder_id: str | None = None
    comment_id: str | None = None
    url: str | None = None  # only with `withUrls`: valid for 24 hours
    preview_url: str | None = None
    current_attachment_id: str | None = None
    origin_version_id: str | None = None
    width: float | None = None
    height: float | None = None


class ApprovalDecision(WrikeModel):
    approver_id: str | None = None
    status: str | None = None  # Pending | Approved | Rejected
    comment: str | None = None
    updated_date: datetime | None = None


class Approval(WrikeModel):
    id: str
    title: str | None = None
    description: str | None = None
    type: str | None = None  # Regular | FilesOnly
    status: str | None = None  # Draft | Pending | Approved | Rejected | Cancelled
    author_id: str | None = None
    task_id: str | None = None
    folder_id: str | None = None
    due_date: date | None = None
    updated_date: datetime | None = None
    finished: bool | None = None
    finisher_id: str | None = None
    decisions: list[ApprovalDecision] = Field(default_factory=list)
    attachment_ids: list[str] = Field(default_factory=list)
    auto_finish_on_approve: bool | None = None
    auto_finish_on_reject: bool | None = None


# ---- work intake: custom item types and request forms (the 2026 intake reference) ------------------------


class CustomItemType(WrikeModel):
    """A kind of work the account defines ("Bug", "Campaign request"): `relatedType` Task or Project says what
    `POST /custom_item_types/{id}/instantiate` creates; `spaceId` is absent for an account-level type."""

    id: str
    title: str = ""
    description: str | None = None
    space_id: str | None = None
    related_type: str | None = None  # Task | Project
    custom_field_ids: list[str] = Field(default_factory=list)
    is_deleted: bool = False


class CreatedWork(WrikeModel):
    """The answer of `instantiate`: the new item's id and what it is (Task or Project)."""

    id: str
    related_type: str | None = None


def _option_text(value: Any) -> str:
    """A choice option as text: Wrike's shape of options is unpublished, so an object gives its label."""
    if isinstance(value, dict):
        for key in ("title", "value", "label", "name"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return str(value)


class FormCondition(WrikeModel):
    field_id: str | None = None
    values: list[str] = Field(default_factory=list)


class FormQuestion(WrikeModel):
    """One question of a request form (`pages[].fields[]`; the shape follows Wrike's MCP server, see
    docs/FIDELITY.md)."""

    id: str
    title: str = ""
    type: str | None = (
        None  # Text, LongText, Number, SingleChoice, MultipleChoice, Date, Contacts, Attachment
    )
    mandatory: bool = False
    helper_text: str | None = None
    options: list[str] = Field(default_factory=list)

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        return [_option_text(item) for item in value] if isinstance(value, list) else value


class FormPage(WrikeModel):
    id: str | None = None
    title: str | None = None
    visibility: str | None = None  # ENTRY | AFTER_PAGE | ON_CONDITION
    condition: FormCondition | None = None
    questions: list[FormQuestion] = Field(default_factory=list, alias="fields")


class RequestForm(WrikeModel):
    id: str
    title: str = ""
    description: str | None = None
    space_id: str | None = None
    pages: list[FormPage] = Field(default_factory=list)


class FormSubmission(WrikeModel):
    """The answer of `submit`: the form, and the project or task it created."""

    form_id: str | None = None
    project_id: str | None = None
    task_id: str | None = None


class PrefillUrl(WrikeModel):
    url: str
