"""The `tasks` toolset: search, read, create, update and delete tasks (comments and time logs, also in this
toolset, live in `comments.py` and `timelogs.py`). What other tools share with these lives in helper modules:
the search in `task_search.py`, the bodies written in `writes.py`, the rendering in `render.py`.

Every reference a person would paste (id, permalink, path, title, `me`, email, full name, status name) goes
through the Resolver. Input that can be refused without asking Wrike (over-long text, impossible dates, empty
updates, bad cursors) is refused before any request. Text written by Wrike users only ever appears in data
fields (titles, descriptions, comments, custom field values), never in the messages this module writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, ElicitationResult, Resolve
from pydantic import BaseModel, Field

from wrike_mcp import scopes
from wrike_mcp.tools.custom_fields import (
    CustomFieldsInput,
    check_custom_field_input,
    encode_custom_fields,
)
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    FOLDER_PHRASE,
    FOLDERS_PHRASE,
    MAX_CURSOR,
    MAX_DATE,
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    PEOPLE_PHRASE,
    TASK_PHRASE,
    Detail,
    Name,
    PagePosition,
    TaskRef,
    TaskStatus,
    check_range,
    check_status,
    clean_title,
    detail_arg,
    parse_day,
    query_key,
    read_page_cursor,
)
from wrike_mcp.tools.output import (
    Model,
    Ref,
    show_title,
)
from wrike_mcp.tools.pages import concurrently
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import (
    DETAIL_FIELDS,
    TaskDetail,
    TaskItem,
    TaskList,
    comments_wanted,
    folder_refs,
    homes,
    in_recycle_bin,
    recent_comments,
    task_detail,
    task_items,
)
from wrike_mcp.tools.task_search import (
    TEXT_SEARCH_PAGE,
    AssigneeFilter,
    AuthorFilter,
    DayFilter,
    FolderFilter,
    Importance,
    ImportanceFilter,
    InstantFilter,
    OverdueFilter,
    SearchText,
    SpaceFilter,
    StatusFilter,
    SubtasksFilter,
    TaskFilters,
    TypeFilter,
    UnassignedFilter,
    people_field,
    scan_tasks,
    task_query,
    task_request,
)
from wrike_mcp.tools.writes import (
    confirmed_without_asking,
    moved_dates,
    not_confirmed,
    read_to_confirm,
    task_dates,
    task_fields,
)
from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.models import Dependency, Task


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Search tasks")
async def search_tasks(
    ctx: Context[Any],
    text: SearchText = None,
    folder: FolderFilter = None,
    space: SpaceFilter = None,
    status: StatusFilter = None,
    assignee: AssigneeFilter = None,
    unassigned: UnassignedFilter = False,
    author: AuthorFilter = None,
    importance: ImportanceFilter = None,
    due_after: DayFilter = None,
    due_before: DayFilter = None,
    overdue: OverdueFilter = False,
    updated_after: InstantFilter = None,
    updated_before: InstantFilter = None,
    include_subtasks: SubtasksFilter = True,
    type: TypeFilter = None,
    sort: Annotated[
        Literal["due", "updated", "created", "importance", "title"] | None,
        Field(description="default: recently updated first"),
    ] = None,
    order: Annotated[
        Literal["asc", "desc"] | None,
        Field(description="default: asc for due and title, else desc"),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=200, description="tasks per call")] = 50,
    detail: Annotated[Detail, detail_arg("start dates, permalinks, names inline")] = "concise",
    cursor: Annotated[
        str | None,
        Field(max_length=MAX_CURSOR, description="from next_cursor"),
    ] = None,
) -> TaskList:
    """Find tasks, subtasks included, by title words, place, statuses, people, importance, dates, type.

    Items: id, title, status, due, assignees, folders; total or total_at_least.
    """
    deps = wrike(ctx)
    filters = TaskFilters(
        text=text, folder=folder, space=space, status=status, assignee=assignee, unassigned=unassigned,
        author=author, importance=importance, due_after=due_after, due_before=due_before, overdue=overdue,
        updated_after=updated_after, updated_before=updated_before, include_subtasks=include_subtasks,
        type=type,
    )  # fmt: skip
    query = await task_query(deps, filters, sort=sort, order=order)
    key = query_key(**vars(query))
    first_page = TEXT_SEARCH_PAGE if query.filters_locally else limit  # matching here reads bigger pages
    position, given = PagePosition(token=None, skip=0, page_size=first_page), 0
    if cursor:
        position, fields = read_page_cursor(cursor, key)
        counted = fields.get("m")
        given = counted if isinstance(counted, int) and counted >= 0 else 0
    path, params = await task_request(deps, query)
    return await scan_tasks(ctx, deps, path, params, query, position, limit, key, given=given, detail=detail)


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Get task details")
async def get_task(
    ctx: Context[Any],
    task: TaskRef,
    include_comments: Annotated[int, Field(ge=0, le=50, description="also this many recent comments")] = 0,
    comments_cursor: Annotated[
        str | None, Field(max_length=MAX_CURSOR, description="from comments_next_cursor")
    ] = None,
) -> TaskDetail:
    """One task in full: description, status, dates, people, folders, subtasks, dependencies, custom
    fields, permalink; optionally its comments, newest first (page on with comments_cursor).
    """
    deps = wrike(ctx)
    comments = comments_wanted(task, include_comments, comments_cursor)
    ident = deps.resolver.task_id_at_hand(task)
    if ident is None:  # a title to search or a link to convert: the task first
        return await task_detail(deps, await deps.resolver.task(task, DETAIL_FIELDS), comments)

    # With the id at hand, its dependencies and comments are read with the task (the list of dependencies
    # costs a request for a task that has none, not a round trip). They are read ahead, so a failure there
    # is not the answer: the task's own read says what is wrong, and task_detail reads what is missing.
    async def read_ahead(read: Callable[[], Awaitable[Any]]) -> Any:
        try:
            return await read()
        except WrikeError:
            return None

    async def none() -> None:
        return None

    found, dependencies, recent = await concurrently(
        lambda: deps.resolver.task(task, DETAIL_FIELDS),
        lambda: read_ahead(lambda: deps.client.get(f"/tasks/{ident}/dependencies", model=Dependency)),
        lambda: read_ahead(lambda: recent_comments(deps, "tasks", ident)) if comments.limit else none(),
    )
    if found.id != ident:  # a one-word title shaped like an id
        dependencies = recent = None
    return await task_detail(deps, found, comments, dependencies=dependencies, recent=recent)


# ---- create_task ----------------------------------------------------------------------------------------


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Create a task", kind="write")
async def create_task(
    ctx: Context[Any],
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="task title")],
    folder: Annotated[
        str | None,
        Field(max_length=MAX_REF, description=f"{FOLDER_PHRASE}; for a subtask default: its parent's"),
    ] = None,
    description: Annotated[str | None, Field(max_length=MAX_TEXT, description="plain text")] = None,
    status: Annotated[
        TaskStatus | None, Field(description="group or custom status; default: the workflow's first Active")
    ] = None,
    importance: Annotated[Importance | None, Field(description="default: Normal")] = None,
    start_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    due_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    assignees: Annotated[list[Name] | None, people_field(PEOPLE_PHRASE)] = None,
    parent_task: Annotated[
        str | None,
        Field(max_length=MAX_REF, description=f"make it its subtask; {TASK_PHRASE}"),
    ] = None,
    custom_fields: CustomFieldsInput = None,
) -> TaskItem:
    """Create a task in a folder or project, or as a subtask.

    Without dates it is a Backlog task; with only a due date it starts that day.
    """
    deps = wrike(ctx)
    name = clean_title(title, "task")
    start = parse_day(start_date, "start_date")
    due = parse_day(due_date, "due_date")
    check_range(start, due, "start_date", "due_date")
    if folder is None and parent_task is None:
        raise ToolError("say where the task goes: give folder (a folder or project) or parent_task")
    check_status(status)
    check_custom_field_input(custom_fields)

    if folder is not None:
        super_id = await deps.resolver.task_id(parent_task) if parent_task is not None else None
        folder_id = await deps.resolver.folder_id(folder)
    else:
        assert parent_task is not None
        parent = await deps.resolver.task(parent_task, ["superParentIds"])
        if not homes(parent):
            raise ToolError("the parent task lies in no folder: give folder as well")
        super_id, folder_id = parent.id, homes(parent)[0]
    body = await task_fields(
        deps,
        title=name,
        description=description if description is not None and description.strip() else None,
        status=status,
        importance=importance,
        folder_id=folder_id,
    )
    if start or due:
        body["dates"] = task_dates(start, due)
    if assignees:
        body["responsibles"] = await deps.resolver.person_ids(assignees)
    if super_id:
        body["superTasks"] = [super_id]
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
    created = await deps.client.post(f"/folders/{folder_id}/tasks", body, model=Task)
    if not created:
        raise ToolError(
            "Wrike accepted the task but returned nothing: look it up with search_tasks before retrying"
        )
    return (await task_items(deps, created))[0]


# ---- update_task ----------------------------------------------------------------------------------------


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Update a task", kind="write", idempotent=True)
async def update_task(
    ctx: Context[Any],
    task: TaskRef,
    title: Annotated[str | None, Field(max_length=MAX_TITLE, description="new title")] = None,
    description: Annotated[
        str | None,
        Field(max_length=MAX_TEXT, description="replaces the old one"),
    ] = None,
    status: Annotated[TaskStatus | None, Field(description="group or custom status of its workflow")] = None,
    importance: Annotated[Importance | None, Field(description="new importance")] = None,
    start_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    due_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    clear_dates: Annotated[bool, Field(description="remove both dates (makes it Backlog)")] = False,
    add_assignees: Annotated[list[Name] | None, people_field(PEOPLE_PHRASE)] = None,
    remove_assignees: Annotated[list[Name] | None, people_field(PEOPLE_PHRASE)] = None,
    add_followers: Annotated[list[Name] | None, people_field(PEOPLE_PHRASE)] = None,
    add_parents: Annotated[list[Name] | None, Field(max_length=20, description=FOLDERS_PHRASE)] = None,
    remove_parents: Annotated[
        list[Name] | None,
        Field(max_length=20, description=f"with add_parents: move; {FOLDERS_PHRASE}"),
    ] = None,
    custom_fields: CustomFieldsInput = None,
    restore: Annotated[bool, Field(description="restore it from the Recycle Bin")] = False,
) -> TaskItem:
    """Change one task's title, description, status, importance, dates, people, folders or custom fields,
    or restore it (deleted: by id or permalink). Many tasks at once: bulk_update_tasks.
    """
    deps = wrike(ctx)
    if clear_dates and (start_date or due_date):
        raise ToolError("give new dates or clear_dates, not both")
    new_title = clean_title(title, "task") if title is not None else None
    start = parse_day(start_date, "start_date")
    due = parse_day(due_date, "due_date")
    check_status(status)
    check_custom_field_input(custom_fields)
    changes = [
        title, description, status, importance, start, due, clear_dates or None, add_assignees,
        remove_assignees, add_followers, add_parents, remove_parents, custom_fields, restore or None,
    ]  # fmt: skip
    if all(change is None or change == [] or change == {} for change in changes):
        raise ToolError(
            "nothing to change: give at least one of title, description, status, importance, dates, "
            "assignees, followers, parents, custom_fields or restore"
        )
    current = await deps.resolver.task(task)  # its workflow and dates: Wrike's compact model has both
    workflow = (
        await deps.resolver.workflow_of_status(current.custom_status_id)
        if status is not None and current.custom_status_id
        else None
    )
    body: dict[str, Any] = {"restore": True} if restore else {}
    body |= await task_fields(
        deps,
        title=new_title,
        description=description,
        status=status,
        importance=importance,
        workflow_id=workflow.id if workflow else None,
    )
    if clear_dates:
        body["dates"] = {"type": "Backlog"}
    elif start or due:
        body["dates"] = moved_dates(current.dates, start, due)
    if add_assignees:
        body["addResponsibles"] = await deps.resolver.person_ids(add_assignees)
    if remove_assignees:
        body["removeResponsibles"] = await deps.resolver.person_ids(remove_assignees)
    if add_followers:
        body["addFollowers"] = await deps.resolver.person_ids(add_followers)
    if add_parents:
        body["addParents"] = list(dict.fromkeys([await deps.resolver.folder_id(ref) for ref in add_parents]))
    if remove_parents:
        body["removeParents"] = list(
            dict.fromkeys([await deps.resolver.folder_id(ref) for ref in remove_parents])
        )
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
    updated = await deps.client.put(f"/tasks/{current.id}", body, model=Task)
    if not updated:
        raise ToolError("Wrike accepted the update but returned nothing: check the task with get_task")
    return (await task_items(deps, updated))[0]


# ---- delete_task ----------------------------------------------------------------------------------------


class DeleteConfirmation(BaseModel):
    confirm: bool = Field(
        title="Move to Recycle Bin", description="Yes: move the task to Wrike's Recycle Bin"
    )


class DeleteResult(Model):
    deleted: bool = Field(description="true: the task is now in the Recycle Bin")
    task: Ref
    outcome: str = Field(description="what happened, in the server's words")


async def task_to_delete(deps: WrikeContext, task_id: str) -> Task:
    """The task as it is now; ToolError when it is already in the Recycle Bin."""
    return not_in_recycle_bin(await deps.client.get_one(f"/tasks/{task_id}", model=Task), task_id)


async def named_task_to_delete(deps: WrikeContext, ref: str) -> Task:
    """The task a reference names as it is now, read once when the reference is an id (no existence check
    first: Wrike's own answer says when it names no task); ToolError when it is in the Recycle Bin."""
    ident = deps.resolver.task_id_at_hand(ref)
    if ident is None:
        return await task_to_delete(deps, await deps.resolver.task_id(ref))
    found = await deps.resolver.task(ref)  # the id's GET; for a one-word title shaped like an id, its search
    return not_in_recycle_bin(found, found.id) if found.id == ident else await task_to_delete(deps, found.id)


def not_in_recycle_bin(found: Task, task_id: str) -> Task:
    """What Wrike does with a DELETE of something in the Recycle Bin is not documented, so none is ever sent."""
    if in_recycle_bin(found):
        raise ToolError(
            f"task {task_id} is already in the Recycle Bin: nothing was deleted; update_task with restore=true "
            "brings it back"
        )
    return found


async def confirm_delete(task: str, ctx: Context) -> Elicit[DeleteConfirmation] | DeleteConfirmation:
    """Ask the user before deleting; without elicitation, go on only when the server has --allow-delete."""
    if confirmed_without_asking(ctx, "delete_task"):
        return DeleteConfirmation(confirm=True)
    deps = wrike(ctx)

    async def read() -> tuple[Task, str]:
        found = await named_task_to_delete(deps, task)
        return found, ", ".join(ref.name or ref.id for ref in await folder_refs(deps, found.parent_ids))

    found, where = await read_to_confirm("delete_task", "task", read)
    task_id = found.id
    title = show_title(found.title)[:120]
    where = where[:160]
    return Elicit(
        f"Move the Wrike task “{title}” ({task_id}{' in ' + where if where else ''}) to the Recycle Bin?",
        DeleteConfirmation,
    )


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Delete a task", kind="destructive", idempotent=True)
async def delete_task(
    ctx: Context[Any],
    task: TaskRef,
    confirmation: Annotated[ElicitationResult[DeleteConfirmation], Resolve(confirm_delete)],
) -> DeleteResult:
    """Move a task to the Recycle Bin after the user confirms; update_task restore=true brings it back.

    Prefer the task's id, so the right task goes.
    """
    deps = wrike(ctx)
    if (outcome := not_confirmed(confirmation, "not deleted")) is not None:
        return DeleteResult(deleted=False, task=Ref(id=await deps.resolver.task_id(task)), outcome=outcome)
    # Read again right before the DELETE: the confirmation may be old, and a client without elicitation
    # gets here without any read.
    known = await named_task_to_delete(deps, task)
    task_id = known.id
    await deps.client.delete(f"/tasks/{task_id}")
    # The title as read right before: a DELETE answer may not echo the entity (comments' do not).
    title = show_title(known.title)
    return DeleteResult(deleted=True, task=Ref(id=task_id, name=title), outcome="moved to the Recycle Bin")
