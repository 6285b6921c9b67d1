"""Tasks: queries with every documented filter and paging, get by ids, create, update, delete, restore."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from wrike_mcp.sandbox import ids, plans
from wrike_mcp.sandbox.api import READ, WRITE, Ctx, route, task_datetime, timestamp
from wrike_mcp.sandbox.backend import TaskChanges, TaskDraft
from wrike_mcp.sandbox.entities import Folder, Task, TaskDates
from wrike_mcp.sandbox.errors import invalid_parameter, parameter_required, wrike_error
from wrike_mcp.sandbox.params import Params, date_match, parse_task_datetime, timestamp_range
from wrike_mcp.sandbox.routes.common import (
    CustomFieldFilter,
    brief,
    custom_field_updates,
    custom_fields_match,
    people,
    render_custom_fields,
    resumed_params,
    title_contains,
)
from wrike_mcp.sandbox.routes.contacts import metadata_filter, metadata_matches, metadata_updates
from wrike_mcp.sandbox.state import SandboxState

STATUSES = ("Active", "Completed", "Deferred", "Cancelled")
IMPORTANCES = ("High", "Normal", "Low")
DATE_TYPES = ("Backlog", "Milestone", "Planned")
SORT_FIELDS = (
    "CreatedDate",
    "UpdatedDate",
    "CompletedDate",
    "DueDate",
    "Status",
    "Importance",
    "Title",
    "LastAccessDate",
    "StartFinishInterval",
)
LIST_FIELDS = (
    "authorIds",
    "hasAttachments",
    "attachmentCount",
    "parentIds",
    "superParentIds",
    "sharedIds",
    "responsibleIds",
    "description",
    "briefDescription",
    "recurrent",
    "superTaskIds",
    "subTaskIds",
    "dependencyIds",
    "metadata",
    "customFields",
    "effortAllocation",
    "billingType",
    "followerIds",
    "customItemTypeId",  # 2026 digest: emitted for a task created from a custom item type
    # 2026 digest; the sandbox has no placeholders, work schedules or finance: accepted, never emitted.
    "responsiblePlaceholderIds",
    "workScheduleId",
    "finance",
)
GET_FIELDS = (
    "recurrent",
    "attachmentCount",
    "effortAllocation",
    "billingType",
    "customItemTypeId",
    "cascadingFields",
    "finance",
    "responsiblePlaceholderIds",
    "workScheduleId",
)
WRITE_FIELDS = (
    "effortAllocation",
    "billingType",
    "customItemTypeId",
    "responsiblePlaceholderIds",
    "workScheduleId",
)
QUERY_PARAMS = [
    "descendants",
    "title",
    "status",
    "importance",
    "startDate",
    "dueDate",
    "scheduledDate",
    "createdDate",
    "updatedDate",
    "completedDate",
    "authors",
    "responsibles",
    "permalink",
    "type",
    "limit",
    "sortField",
    "sortOrder",
    "subTasks",
    "pageSize",
    "nextPageToken",
    "metadata",
    "customField",
    "customStatuses",
    "billingTypes",
    "fields",
    "customFields",
]
# Documented in 2026, not modelled: custom item types, assignee placeholders, invitations, HTML stripping.
QUERY_ACCEPTED = ["customItemTypes", "plainTextCustomFields", "responsiblePlaceholders", "withInvitations"]
TASK_CAP = 1000  # a task query without paging returns at most 1000 tasks
MAX_DURATION = 1800000  # minutes, exclusive
EARLIEST, LATEST = datetime(1970, 1, 1), datetime(2100, 1, 1)


# -- rendering --------------------------------------------------------------------------------------------
def render_dates(dates: TaskDates) -> dict[str, Any]:
    body: dict[str, Any] = {"type": dates.type}
    if dates.type == "Planned":
        body["duration"] = dates.duration
        body["start"] = task_datetime(dates.start)
        body["due"] = task_datetime(dates.due)
        body["workOnWeekends"] = dates.work_on_weekends
    elif dates.type == "Milestone":
        body["due"] = task_datetime(dates.due)
    elif dates.duration is not None:
        body["duration"] = dates.duration
    return body


def render_task(state: SandboxState, task: Task, fields: set[str], *, full: bool, me: str) -> dict[str, Any]:
    """The Task model. Queries return a compact form and add optional fields through `fields`;
    by-id reads and writes return the full form."""

    def wanted(name: str) -> bool:
        return full or name in fields

    body: dict[str, Any] = {"id": task.id, "accountId": ids.ACCOUNT_ID, "title": task.title}
    if wanted("description"):
        body["description"] = task.description
    if wanted("briefDescription"):
        body["briefDescription"] = brief(task.description)
    if wanted("parentIds"):
        body["parentIds"] = list(task.parent_ids)
    if wanted("superParentIds"):
        body["superParentIds"] = state.super_parent_ids(task)
    if wanted("sharedIds"):
        body["sharedIds"] = list(task.shared_ids)
    if wanted("responsibleIds"):
        body["responsibleIds"] = list(task.responsible_ids)
    body["status"] = task.status
    body["importance"] = task.importance
    body["createdDate"] = timestamp(task.created)
    body["updatedDate"] = timestamp(task.updated)
    if task.status == "Completed" and task.completed is not None:
        body["completedDate"] = timestamp(task.completed)
    body["dates"] = render_dates(task.dates)
    body["scope"] = "RbTask" if task.deleted else "WsTask"
    if wanted("authorIds"):
        body["authorIds"] = [task.author_id]
    body["customStatusId"] = task.custom_status_id
    if wanted("hasAttachments") or "attachmentCount" in fields:
        count = state.attachment_count(task_id=task.id)
        if wanted("hasAttachments"):
            body["hasAttachments"] = count > 0
        if "attachmentCount" in fields:
            body["attachmentCount"] = count
    body["permalink"] = task.permalink
    body["priority"] = f"{task.priority:016x}"
    if wanted("followerIds"):
        body["followedByMe"] = me in task.follower_ids
        body["followerIds"] = list(task.follower_ids)
    if "recurrent" in fields:
        body["recurrent"] = False
    if "customItemTypeId" in fields and task.custom_item_type_id is not None:
        body["customItemTypeId"] = task.custom_item_type_id
    if wanted("superTaskIds"):
        body["superTaskIds"] = list(task.super_task_ids)
    if wanted("subTaskIds"):
        body["subTaskIds"] = state.sub_task_ids(task.id)
    if wanted("dependencyIds"):
        body["dependencyIds"] = state.dependency_ids(task.id)
    if wanted("metadata"):
        body["metadata"] = [{"key": k, "value": v} for k, v in task.metadata.items()]
    if wanted("customFields"):
        body["customFields"] = render_custom_fields(task.custom_fields)
    return body


# -- queries ----------------------------------------------------------------------------------------------
def _in_scope(state: SandboxState, container: Folder | None, params: Params) -> list[Task]:
    if container is None:  # GET /tasks: the whole account, subtasks included unless subTasks=false
        include_subtasks = params.boolean("subTasks", True)
        params.boolean("descendants")
        return [
            t for t in state.tasks.values() if not t.deleted and (include_subtasks or not t.super_task_ids)
        ]
    include_subtasks = params.boolean("subTasks", False)
    descendants = params.boolean("descendants", True)
    if container.id == ids.RECYCLE_BIN_ID:
        return [t for t in state.tasks.values() if t.deleted]
    if container.id == ids.ROOT_FOLDER_ID and descendants:
        return [
            t for t in state.tasks.values() if not t.deleted and (include_subtasks or not t.super_task_ids)
        ]
    folder_ids = {container.id}
    if descendants:
        folder_ids.update(state.descendant_folder_ids(container.id))
    found = []
    for task in state.tasks.values():
        if task.deleted != container.deleted:
            continue
        if folder_ids & set(task.parent_ids) or (
            include_subtasks and task.super_task_ids and folder_ids & set(state.super_parent_ids(task))
        ):
            found.append(task)
    return found


def _scheduled_overlaps(task: Task, params: Params) -> bool:
    match = date_match(params, "scheduledDate", date_only=True)
    if match is None:
        return True
    start = task.dates.start or task.dates.due
    due = task.dates.due
    if start is None or due is None:
        return False
    if match.equal is not None:
        day = match.equal[0].date()
        return start.date() <= day <= due.date()
    if match.start is None or match.end is None:
        raise invalid_parameter("scheduledDate", "needs both start and end in the ranged form")
    return start.date() <= match.end[0].date() and due.date() >= match.start[0].date()


def _filters(ctx: Ctx, params: Params) -> list[Callable[[Task], bool]]:
    state = ctx.state
    checks: list[Callable[[Task], bool]] = []
    title = params.string("title")
    if title is not None:
        checks.append(lambda t: title_contains(t.title, title))
    statuses = params.enum_list("status", STATUSES, comma=True)
    if statuses:
        checks.append(lambda t: t.status in statuses)
    importance = params.enum("importance", IMPORTANCES)
    if importance:
        checks.append(lambda t: t.importance == importance)
    start_match = date_match(params, "startDate")
    if start_match is not None:
        checks.append(lambda t: start_match.matches(t.dates.start))
    due_match = date_match(params, "dueDate")
    if due_match is not None:
        checks.append(lambda t: due_match.matches(t.dates.due))
    if params.present("scheduledDate"):
        date_match(params, "scheduledDate", date_only=True)
        checks.append(lambda t: _scheduled_overlaps(t, params))
    for name, getter in (
        ("createdDate", lambda t: t.created),
        ("updatedDate", lambda t: t.updated),
        ("completedDate", lambda t: t.completed),
    ):
        window = timestamp_range(params, name)
        if window is not None:
            checks.append(lambda t, w=window, g=getter: w.contains(g(t)))  # type: ignore[misc]
    authors = params.string_list("authors", comma=True)
    if authors:
        checks.append(lambda t: t.author_id in authors)
    responsibles = params.string_list("responsibles", comma=True)
    if responsibles:
        checks.append(lambda t: bool(set(t.responsible_ids) & set(responsibles)))
    permalink = params.string("permalink")
    if permalink is not None:
        checks.append(lambda t: t.permalink == permalink)
    date_type = params.enum("type", DATE_TYPES)
    if date_type:
        checks.append(lambda t: t.dates.type == date_type)
    wanted_metadata = metadata_filter(ctx)
    if wanted_metadata is not None:
        checks.append(lambda t: metadata_matches(t.metadata, wanted_metadata))
    custom_field = CustomFieldFilter(params, state)
    if custom_field.active:
        checks.append(lambda t: custom_field.matches(t.custom_fields))
    custom_fields = custom_fields_match(params, state)  # no limit stated for tasks, unlike folders' 25
    if custom_fields is not None:
        checks.append(lambda t: custom_fields(t.custom_fields))
    custom_statuses = params.string_list("customStatuses")
    if custom_statuses:
        for status_id in custom_statuses:
            if state.custom_status(status_id) is None:
                raise invalid_parameter("customStatuses", f"contains unknown custom status '{status_id}'")
        checks.append(lambda t: t.custom_status_id in custom_statuses)
    params.enum("billingTypes", ["Billable", "NonBillable"])
    return checks


def _sorted(tasks: list[Task], params: Params) -> list[Task]:
    field = params.enum("sortField", SORT_FIELDS)
    order = params.enum("sortOrder", ["Asc", "Desc"])
    if field is None:
        field, order = "UpdatedDate", order or "Desc"  # Wrike's default order: updatedDate descending
    descending = order == "Desc"
    keys: dict[str, Callable[[Task], Any]] = {
        "CreatedDate": lambda t: t.created,
        "UpdatedDate": lambda t: t.updated,
        "CompletedDate": lambda t: t.completed,
        "DueDate": lambda t: t.dates.due,
        "Status": lambda t: STATUSES.index(t.status),
        "Importance": lambda t: IMPORTANCES.index(t.importance),
        "Title": lambda t: t.title.casefold(),
        "LastAccessDate": lambda t: t.last_access or t.updated,
        "StartFinishInterval": lambda t: (t.dates.start, t.dates.due) if t.dates.start else None,
    }
    key = keys[field]
    with_value = sorted(
        (t for t in tasks if key(t) is not None), key=lambda t: (key(t), t.id), reverse=descending
    )
    without_value = sorted((t for t in tasks if key(t) is None), key=lambda t: t.id)
    return with_value + without_value  # tasks lacking the sort value always come last


def query_tasks(ctx: Ctx, route_key: str, container: Folder | None, capped: bool) -> list[dict[str, Any]]:
    state = ctx.state
    params, offset = resumed_params(ctx, route_key)
    page_size = params.integer("pageSize", minimum=1, maximum=1000)
    limit = params.integer("limit", minimum=1)
    fields = params.fields(LIST_FIELDS)
    checks = _filters(ctx, params)
    candidates = _in_scope(state, container, params)
    matching = [t for t in candidates if all(check(t) for check in checks)]
    ordered = _sorted(matching, params)
    if limit is not None:
        ordered = ordered[:limit]
    if page_size is None:
        if capped and not (container is not None and params.boolean("descendants", True) is False):
            ordered = ordered[:TASK_CAP]
        page = ordered
    else:
        page = ordered[offset : offset + page_size]
        ctx.extra["responseSize"] = len(ordered)
        if offset + page_size < len(ordered):
            ctx.extra["nextPageToken"] = state.page_tokens.save(
                route_key, params.snapshot(), offset + page_size
            )
    return [render_task(state, t, fields, full=False, me=ctx.user.id) for t in page]


@route("GET", "/tasks", "tasks", READ, QUERY_PARAMS, accepted=QUERY_ACCEPTED)
def list_tasks(ctx: Ctx) -> list[dict[str, Any]]:
    return query_tasks(ctx, "tasks", None, capped=True)


@route("GET", "/folders/{folderId}/tasks", "tasks", READ, QUERY_PARAMS, accepted=QUERY_ACCEPTED)
def list_folder_tasks(ctx: Ctx) -> list[dict[str, Any]]:
    folder = ctx.state.folder(ctx.one_id("folderId"))
    return query_tasks(ctx, f"folder:{folder.id}", folder, capped=True)


@route("GET", "/spaces/{spaceId}/tasks", "tasks", READ, QUERY_PARAMS, accepted=QUERY_ACCEPTED)
def list_space_tasks(ctx: Ctx) -> list[dict[str, Any]]:
    space = ctx.state.space(ctx.one_id("spaceId"))
    return query_tasks(ctx, f"space:{space.id}", space, capped=True)


@route(
    "GET",
    "/tasks/{taskIds}",
    "tasks",
    READ,
    ["fields"],
    accepted=["plainTextCustomFields", "withInvitations"],
)
def get_tasks(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(GET_FIELDS)
    tasks = [ctx.state.task(task_id) for task_id in ctx.ids("taskIds")]
    ctx.state.mark_read(tasks)
    return [render_task(ctx.state, t, fields, full=True, me=ctx.user.id) for t in tasks]


# -- writes -----------------------------------------------------------------------------------------------
def _work_minutes(start: date, due: date, weekends: bool) -> int:
    days = sum(
        1 for n in range((due - start).days + 1) if weekends or (start + timedelta(days=n)).weekday() < 5
    )
    return max(days, 1) * 480


def _add_work_days(start: date, minutes: int, weekends: bool) -> date:
    remaining = max(1, -(-minutes // 480)) - 1
    day = start
    while remaining > 0:
        day += timedelta(days=1)
        if weekends or day.weekday() < 5:
            remaining -= 1
    return day


def _task_moment(value: Any, name: str, default_hour: int) -> datetime | None:
    if value is None:
        return None
    moment, timed = parse_task_datetime(value, name)
    if not timed:
        moment = moment.replace(hour=default_hour)  # a date alone means the working day's start or end
    if not EARLIEST <= moment < LATEST:
        raise invalid_parameter(name, "must be in [1970-01-01T00:00:00, 2100-01-01T00:00:00)")
    return moment


def parse_dates(raw: dict[str, Any], current: TaskDates | None = None) -> TaskDates:
    for key in raw:
        if key not in ("type", "duration", "start", "due", "workOnWeekends"):
            raise invalid_parameter(f"dates.{key}", "is not a task dates field")
    base = current or TaskDates()
    date_type = raw.get("type")
    if date_type is not None and date_type not in DATE_TYPES:
        raise invalid_parameter("dates.type", f"must be one of: {', '.join(DATE_TYPES)}")
    start = _task_moment(raw["start"], "dates.start", 9) if "start" in raw else base.start
    due = _task_moment(raw["due"], "dates.due", 17) if "due" in raw else base.due
    duration = raw.get("duration") if "duration" in raw else None
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int | float | str)):
        raise invalid_parameter("dates.duration", "must be a number of minutes")
    if duration is not None:
        try:
            duration = int(float(duration))
        except ValueError:
            raise invalid_parameter("dates.duration", "must be a number of minutes") from None
        if not 0 <= duration < MAX_DURATION:
            raise invalid_parameter("dates.duration", f"must be in [0, {MAX_DURATION})")
    weekends = raw.get("workOnWeekends", base.work_on_weekends)
    if not isinstance(weekends, bool):
        weekends = str(weekends).lower() == "true"
    if date_type is None:
        if "start" in raw or "due" in raw or current is None:
            date_type = "Planned" if start and (due or duration) else "Milestone" if due else "Backlog"
        else:
            date_type = base.type
    if date_type == "Backlog":
        if raw.get("start") is not None or raw.get("due") is not None:
            raise invalid_parameter("dates", "a Backlog task has no start or due date")
        return TaskDates(type="Backlog", duration=duration, work_on_weekends=weekends)
    if date_type == "Milestone":
        if due is None:
            raise parameter_required("dates.due")
        return TaskDates(type="Milestone", due=due, work_on_weekends=weekends)
    if start is None:
        raise parameter_required("dates.start")
    if due is None:
        if duration is None:
            raise parameter_required("dates.due")
        due = datetime.combine(_add_work_days(start.date(), duration, weekends), datetime.min.time()).replace(
            hour=17
        )
    if due < start:
        raise invalid_parameter("dates.due", "must not be before dates.start")
    if duration is None or "start" in raw or "due" in raw:
        duration = duration if duration is not None else _work_minutes(start.date(), due.date(), weekends)
    return TaskDates(type="Planned", start=start, due=due, duration=duration, work_on_weekends=weekends)


def _reject_resource_only(ctx: Ctx) -> None:
    for name in ("effortAllocation", "billingType"):
        if ctx.params.present(name):
            raise wrike_error(
                "not_allowed", f"Parameter '{name}' is available only in Wrike Resource accounts"
            )


def _live_tasks(ctx: Ctx, name: str) -> list[Task]:
    found = []
    for task_id in ctx.params.string_list(name) or []:
        task = ctx.state.tasks.get(task_id)
        if task is None or task.deleted:
            raise invalid_parameter(name, f"refers to unknown task '{task_id}'")
        found.append(task)
    return found


def _priority(ctx: Ctx) -> int | None:
    before = ctx.params.string("priorityBefore")
    after = ctx.params.string("priorityAfter")
    if before and after:
        raise invalid_parameter("priorityAfter", "cannot be combined with priorityBefore")
    for name, value, delta in (("priorityBefore", before, -1), ("priorityAfter", after, 1)):
        if value:
            target = ctx.state.tasks.get(value)
            if target is None:
                raise invalid_parameter(name, f"refers to unknown task '{value}'")
            return target.priority + delta
    return None


CREATE_PARAMS = [
    "title",
    "description",
    "status",
    "importance",
    "dates",
    "shareds",
    "parents",
    "responsibles",
    "followers",
    "follow",
    "priorityBefore",
    "priorityAfter",
    "superTasks",
    "metadata",
    "customFields",
    "customStatus",
    "effortAllocation",
    "billingType",
    "fields",
]


@route(
    "POST",
    "/folders/{folderId}/tasks",
    "tasks",
    WRITE,
    CREATE_PARAMS,
    # Not modelled: custom item types, placeholders, invitations, work schedules, HTML stripping.
    accepted=[
        "customItemTypeId",
        "plainTextCustomFields",
        "responsiblePlaceholders",
        "withInvitations",
        "workScheduleId",
    ],
)
def create_task(ctx: Ctx) -> list[dict[str, Any]]:
    state, params = ctx.state, ctx.params
    plans.check_task_status_parameter(state.config.plan, params.present("status"))
    folder = state.writable_parent(ctx.one_id("folderId"), "folderId")
    title = params.string("title", required=True, non_empty=True)
    assert title is not None
    _reject_resource_only(ctx)
    params.fields(WRITE_FIELDS)
    extra_parents = [state.writable_parent(p, "parents").id for p in params.string_list("parents") or []]
    status = params.enum("status", STATUSES)
    custom_status = params.string("customStatus")
    default_status = status if (status or custom_status) else "Active"  # Wrike's default status is Active
    resolved = state.resolve_task_status(state.workflows[folder.workflow_id], default_status, custom_status)
    assert resolved is not None
    dates_raw = params.obj("dates")
    responsibles = people(ctx, "responsibles", persons_only=True) or []
    followers = people(ctx, "followers") or []
    shareds = people(ctx, "shareds") or []
    super_tasks = _live_tasks(ctx, "superTasks")
    custom_fields = custom_field_updates(ctx)
    priority = _priority(ctx)
    draft = TaskDraft(
        title=title,
        parent_ids=list(dict.fromkeys([folder.id, *extra_parents])),
        status=resolved,
        super_task_ids=[t.id for t in super_tasks],
        priority=priority,
        importance=params.enum("importance", IMPORTANCES) or "Normal",
        description=params.string("description") or "",
        dates=parse_dates(dates_raw) if dates_raw is not None else TaskDates(),
        responsible_ids=responsibles,
        follower_ids=followers,
        shared_ids=shareds,
        follow=params.boolean("follow"),
        metadata=metadata_updates(params.obj_list("metadata")),
        custom_fields=custom_fields,
    )
    task = state.create_task(ctx.user, draft)
    return [render_task(state, task, set(), full=True, me=ctx.user.id)]


UPDATE_PARAMS = [
    "title",
    "description",
    "status",
    "importance",
    "dates",
    "addParents",
    "removeParents",
    "addShareds",
    "removeShareds",
    "addResponsibles",
    "removeResponsibles",
    "addFollowers",
    "follow",
    "priorityBefore",
    "priorityAfter",
    "addSuperTasks",
    "removeSuperTasks",
    "metadata",
    "customFields",
    "customStatus",
    "restore",
    "effortAllocation",
    "billingType",
    "fields",
]


# What PUT /tasks/{id},{id},… accepts (2026 digest, "Update Tasks (Bulk)").
BULK_UPDATE_PARAMS = (
    "customFields",
    "effortAllocation",
    "addParents",
    "removeParents",
    "addResponsibles",
    "removeResponsibles",
    "customStatus",
)


@route(
    "PUT",
    "/tasks/{taskIds}",
    "tasks",
    WRITE,
    UPDATE_PARAMS,
    # Not modelled: custom item types, placeholders, effort allocation per assignee, invitations, work
    # schedules, HTML stripping.
    accepted=[
        "addResponsiblePlaceholders",
        "convertToCustomItemType",
        "plainTextCustomFields",
        "removeResponsiblePlaceholders",
        "setResponsibleAllocation",
        "withInvitations",
        "workScheduleId",
    ],
)
def update_tasks(ctx: Ctx) -> list[dict[str, Any]]:
    tasks = ctx.entities("taskIds", ctx.state.tasks, "Task")
    if len(tasks) == 1:
        return [_update_task(ctx, tasks[0])]
    for name in UPDATE_PARAMS:
        if ctx.params.present(name) and name not in BULK_UPDATE_PARAMS:
            raise invalid_parameter(name, "is not available when updating several tasks at once")
    # The bulk parameters are checked the same way for every task, so the first task's update validates
    # them all before any other task changes.
    return [_update_task(ctx, task) for task in tasks]


def _update_task(ctx: Ctx, task: Task) -> dict[str, Any]:
    state, params = ctx.state, ctx.params
    plans.check_task_status_parameter(state.config.plan, params.present("status"))
    _reject_resource_only(ctx)
    params.fields(WRITE_FIELDS)
    # Everything is checked before anything changes: a 400 leaves the task untouched.
    restore = params.boolean("restore", False)
    title = params.string("title", non_empty=True)
    description = params.string("description")
    importance = params.enum("importance", IMPORTANCES)
    status = params.enum("status", STATUSES)
    resolved = state.resolve_task_status(state.task_workflow(task), status, params.string("customStatus"))
    dates_raw = params.obj("dates")
    new_dates = parse_dates(dates_raw, task.dates) if dates_raw is not None else None
    for name in ("addParents", "removeParents"):
        for parent_id in params.string_list(name) or []:
            if parent_id == ids.RECYCLE_BIN_ID:
                raise invalid_parameter(name, "cannot contain the Recycle Bin")
            if name == "addParents":
                state.writable_parent(parent_id, name)
    changes = TaskChanges(
        restore=restore is True,
        title=title,
        description=description,
        importance=importance,
        status=resolved,
        dates=new_dates,
        add_parents=params.string_list("addParents") or [],
        remove_parents=params.string_list("removeParents") or [],
        add_shareds=people(ctx, "addShareds") or [],
        remove_shareds=params.string_list("removeShareds") or [],
        add_responsibles=people(ctx, "addResponsibles", persons_only=True) or [],
        remove_responsibles=params.string_list("removeResponsibles") or [],
        add_followers=people(ctx, "addFollowers") or [],
        follow=params.boolean("follow"),
    )
    add_super = _live_tasks(ctx, "addSuperTasks")
    changes.add_super_tasks = [t.id for t in add_super]
    changes.remove_super_tasks = params.string_list("removeSuperTasks") or []
    state.check_super_tasks(task, add_super)
    changes.custom_fields = custom_field_updates(ctx)
    changes.priority = _priority(ctx)
    changes.metadata = metadata_updates(params.obj_list("metadata"))
    state.update_task(task, ctx.user, changes)
    return render_task(state, task, set(), full=True, me=ctx.user.id)


@route("DELETE", "/tasks/{taskId}", "tasks", WRITE)
def delete_task(ctx: Ctx) -> list[dict[str, Any]]:
    state = ctx.state
    task = state.task(ctx.one_id("taskId"))
    state.delete_task(task, ctx.user)
    return [render_task(state, task, set(), full=True, me=ctx.user.id)]


ROUTES = [
    list_tasks,
    list_folder_tasks,
    list_space_tasks,
    get_tasks,
    create_task,
    update_tasks,
    delete_task,
]
