"""What the writing tools share: the task bodies create_task, update_task and bulk_update_tasks send (fields
and dates), the folder (or project) creation create_folder and create_project make, and the folder (or
project) fields update_folder and update_project change, the confirmation every delete asks for, and what a
write made (`CreatedItem`), as launch_blueprint, create_from_item_type and submit_request_form answer it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import AcceptedElicitation, ElicitationResult
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.custom_fields import encode_custom_fields
from wrike_mcp.tools.deps import WrikeContext, can_elicit, wrike
from wrike_mcp.tools.errors import tool_error_message
from wrike_mcp.tools.inputs import (
    MAX_REF,
    MAX_TEXT,
    PLACE_PHRASE,
    check_range,
    parse_day,
    text_to_html,
)
from wrike_mcp.tools.output import Model, Ref, show_title
from wrike_mcp.tools.render import day_of, folder_refs, homes
from wrike_mcp.wrike.errors import (
    BadReference,
    InvalidParameter,
    InvalidRequest,
    ResourceNotFound,
    WrikeError,
)
from wrike_mcp.wrike.models import Folder, Task, TaskDates

NewParent = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_REF,
        description=PLACE_PHRASE,
    ),
]
NewDescription = Annotated[str | None, Field(max_length=MAX_TEXT, description="plain text")]


def task_dates(start: date | None, due: date | None) -> dict[str, Any]:
    if start and due:
        return {"type": "Planned", "start": start.isoformat(), "due": due.isoformat()}
    if due:
        return {"type": "Planned", "start": due.isoformat(), "due": due.isoformat()}
    assert start is not None
    return {"type": "Planned", "start": start.isoformat(), "due": start.isoformat()}


async def task_fields(
    deps: WrikeContext,
    *,
    title: str | None,
    description: str | None,
    status: str | None,
    importance: str | None,
    folder_id: str | None = None,
    workflow_id: str | None = None,
) -> dict[str, Any]:
    """The part of a task body create_task and update_task share: title, description (plain text → HTML;
    "" clears it), status (a group or a custom status name, sent as the matching custom status of the
    workflow `workflow_id`, or of a new task in the folder `folder_id`) and importance; absent values are
    left out."""
    body: dict[str, Any] = {}
    if title is not None:
        body["title"] = title
    if description is not None:
        body["description"] = text_to_html(description)
    if status is not None:
        # always customStatus, never Wrike's `status`: the Team plan refuses that one (403 not_allowed)
        body["customStatus"], _group = await deps.resolver.custom_status(
            status, workflow_id=workflow_id, folder_id=folder_id
        )
    if importance:
        body["importance"] = importance
    return body


def moved_dates(current: TaskDates | None, start: date | None, due: date | None) -> dict[str, Any]:
    """The `dates` body setting a new start and/or due date, the other kept from `current`."""
    old = current or TaskDates()
    old_start = parse_day(day_of(old.start), "current start")
    old_due = parse_day(day_of(old.due), "current due")
    new_start, new_due = start or old_start, due or old_due
    if new_start and new_due and new_due < new_start:
        if start and not due:
            new_due = new_start  # moving the start past the old due date moves the due date along
        elif due and not start:
            new_start = new_due
    check_range(new_start, new_due, "start_date", "due_date")
    return task_dates(new_start, new_due)


async def post_folder(
    deps: WrikeContext,
    parent_id: str,
    title: str,
    description: str | None,
    project: dict[str, Any] | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> Folder:
    """Create a folder (or, with `project` fields, a project) in `parent_id`; a blank description is left out,
    custom field values (by name, as `CustomFieldsInput` takes them) are encoded against their fields."""
    body: dict[str, Any] = {"title": title}
    if project is not None:
        body["project"] = project
    if description is not None and description.strip():
        body["description"] = text_to_html(description)
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
    return (await deps.client.post(f"/folders/{parent_id}/folders", body, model=Folder))[0]


async def folder_changes(
    deps: WrikeContext,
    *,
    title: str | None,
    description: str | None,
    custom_fields: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[str]]:
    """The part of a `PUT /folders/{id}` body update_folder and update_project share, and what it changes:
    title, description (plain text → HTML; blank clears it) and custom field values (null clears one)."""
    body: dict[str, Any] = {}
    changed: list[str] = []
    if title is not None:
        body["title"] = title
        changed.append("title")
    if description is not None:
        body["description"] = text_to_html(description) if description.strip() else ""
        changed.append("description")
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
        changed.append("custom fields")
    return body, changed


T = TypeVar("T")

# ---- deletes: the user's confirmation ----------------------------------------------------------------------


def confirmed_without_asking(ctx: Context, tool: str, verb: str = "delete") -> bool:
    """Whether a delete may go on without asking: only where the client cannot ask (no elicitation) and the
    server was started with --allow-delete. False: ask the user. Neither possible: a ToolError saying so."""
    if can_elicit(ctx.client_capabilities):
        return False
    if wrike(ctx).settings.allow_delete:
        return True
    raise ToolError(
        f"{tool} needs the user's confirmation, but this client cannot ask (no elicitation support); "
        f"{verb} it in Wrike, or run the server with --allow-delete"
    )


async def read_to_confirm(tool: str, what: str, read: Callable[[], Awaitable[T]]) -> T:
    """What the confirmation question describes, read first: never ask about an item that cannot be read."""
    try:
        return await read()
    except BadReference as exc:
        raise ToolError(exc.message) from None
    except WrikeError as exc:
        message = tool_error_message(exc, tool, [scopes.WS_READ_WRITE])
        raise ToolError(message or f"{tool} could not read the {what}; try again") from None


async def write_on_task(deps: WrikeContext, ref: str, write: Callable[[str], Awaitable[T]]) -> tuple[str, T]:
    """`write(task_id)` on the task `ref` names, with no request to check an id first: an id given is an id.
    When Wrike answers that it names no task (a one-word title shaped like an id), the reference is resolved
    and, if it names another task, the write sent there: nothing was written the first time, so that is no
    retry. Returns the task's id and what the write returned."""
    task_id = deps.resolver.task_id_at_hand(ref) or await deps.resolver.task_id(ref)
    try:
        return task_id, await write(task_id)
    except (ResourceNotFound, InvalidParameter, InvalidRequest):
        named = await deps.resolver.task_id(ref)
        if named == task_id:
            raise
        return named, await write(named)


def not_confirmed(confirmation: ElicitationResult[Any], undone: str) -> str | None:
    """The outcome of a destructive call the user did not confirm (`undone`: "not deleted", "not removed"),
    None when they did: one wording for declining, cancelling and unticking the box."""
    if not isinstance(confirmation, AcceptedElicitation):
        declined = "declined" if confirmation.action == "decline" else "cancelled the confirmation"
        return f"{undone}: the user {declined}"
    if not confirmation.data.confirm:
        return f"{undone}: the user did not confirm"
    return None


# ---- what a write made ------------------------------------------------------------------------------------


class CreatedItem(Model):
    id: str
    title: str | None = None
    kind: Literal["task", "folder", "project"]
    path: str | None = Field(default=None, description="folder path; for a task, its folder's")
    permalink: str | None = None
    item_type: Ref | None = None
    note: str | None = None


async def created_item(deps: WrikeContext, made: Folder | Task, item_type: Ref | None = None) -> CreatedItem:
    """The folder, project or task a write made, as Wrike answered it: a folder with its path, a task with its
    folder's; `item_type` is the custom item type it was made from, when one was."""
    if isinstance(made, Folder):
        return CreatedItem(
            id=made.id,
            title=show_title(made.title),
            kind="project" if made.is_project else "folder",
            path=await deps.resolver.folder_path(made.id),
            permalink=made.permalink,
            item_type=item_type,
        )
    where = await folder_refs(deps, homes(made))
    return CreatedItem(
        id=made.id,
        title=show_title(made.title),
        kind="task",
        path=where[0].name if where else None,
        permalink=made.permalink,
        item_type=item_type,
    )


async def read_back_created(
    deps: WrikeContext,
    kind: Literal["task", "project"],
    ident: str,
    item_type: Ref | None = None,
    title: str | None = None,
) -> CreatedItem:
    """What a write that answered only an id made, read back once; `title` is what was sent, if known.
    The item exists whatever the read-back does: a requester often cannot see the intake folder, so a refused
    or failed read answers the id with a note, never an error that would invite a second submission."""
    try:
        return await _read_back(deps, kind, ident, item_type)
    except WrikeError as exc:
        return CreatedItem(
            id=ident,
            title=title,
            kind=kind,
            item_type=item_type,
            note=f"created; reading it back failed ({getattr(exc, 'code', '') or 'error'}): do not create it again",
        )


async def _read_back(
    deps: WrikeContext, kind: Literal["task", "project"], ident: str, item_type: Ref | None
) -> CreatedItem:
    """Wrike answered the write with its own `kind`, which the resolver's write hook does not read, so the
    caches are told here: a new task may make a title name two tasks, and a new project joins the cached
    folder tree."""
    if kind == "project":
        folder = await deps.client.get_one(f"/folders/{ident}", model=Folder)
        deps.resolver.written(folder)
        return await created_item(deps, folder, item_type)
    deps.resolver.forget_task_titles()
    return await created_item(deps, await deps.client.get_one(f"/tasks/{ident}", model=Task), item_type)
