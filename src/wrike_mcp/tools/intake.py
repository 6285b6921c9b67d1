"""What the intake tools (item_types.py, request_forms.py) share: the item a custom item type or a request
form created, read back once for its title, path and permalink (the write stands when that read fails)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.tools.output import Model, Ref, show_title
from wrike_mcp.tools.render import folder_refs, homes
from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.models import Folder, Task


class CreatedItem(Model):
    id: str
    title: str | None = None
    kind: Literal["task", "folder", "project"]
    path: str | None = Field(default=None, description="folder path; for a task, its folder's")
    permalink: str | None = None
    item_type: Ref | None = None
    note: str | None = None


async def created_item(
    deps: WrikeContext,
    kind: Literal["task", "project"],
    ident: str,
    item_type: Ref | None = None,
    title: str | None = None,
) -> CreatedItem:
    """What a write made, read back (the write answered only its id); `title` is what was sent, if known.
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
        return CreatedItem(
            id=folder.id,
            title=show_title(folder.title),
            kind="project" if folder.is_project else "folder",
            path=await deps.resolver.folder_path(folder.id),
            permalink=folder.permalink,
            item_type=item_type,
        )
    deps.resolver.forget_task_titles()
    task = await deps.client.get_one(f"/tasks/{ident}", model=Task)
    where = await folder_refs(deps, homes(task))
    return CreatedItem(
        id=task.id,
        title=show_title(task.title),
        kind="task",
        path=where[0].name if where else None,
        permalink=task.permalink,
        item_type=item_type,
    )
