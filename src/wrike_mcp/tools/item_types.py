"""Custom item types, part of the `intake` toolset: list them, create work from one.

A type ("Bug", "Campaign request") creates a task or a project; `POST /custom_item_types/{id}/instantiate`
takes only the parent and the title (the intake reference §1.4), so the type's own fields and workflow come
with it. The write is sent once and never repeated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.custom_fields import definitions
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    FOLDER_PHRASE,
    ITEM_TYPE_PHRASE,
    MAX_REF,
    MAX_TITLE,
    SPACE_PHRASE,
    TASK_PHRASE,
    clean_title,
)
from wrike_mcp.tools.output import Model, Ref, plain, show_title
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.writes import CreatedItem, read_back_created
from wrike_mcp.wrike.errors import AmbiguousReference, ReferenceNotFound
from wrike_mcp.wrike.models import CreatedWork, CustomItemType
from wrike_mcp.wrike.text import fold

DESCRIPTION_LIMIT = 200
CREATES: dict[str, Literal["task", "project"]] = {"Task": "task", "Project": "project"}


async def read_item_types(deps: WrikeContext, space_id: str | None = None) -> list[CustomItemType]:
    """The account's live types (one request); with a space, merged with that space's own list (one more):
    whether the account list holds space-level types is not documented (docs/FIDELITY.md, unknowns)."""
    found = {t.id: t for t in await deps.client.get("/custom_item_types", model=CustomItemType)}
    if space_id is not None:
        for item_type in await deps.client.get(f"/spaces/{space_id}/custom_item_types", model=CustomItemType):
            found.setdefault(item_type.id, item_type).space_id = item_type.space_id or space_id
    return [t for t in found.values() if not t.is_deleted]


async def space_ref(deps: WrikeContext, space_id: str | None) -> Ref | None:
    if space_id is None:
        return None
    tree = await deps.resolver.folder_tree()
    return Ref(id=space_id, name=show_title(tree.nodes[space_id].title) if space_id in tree.nodes else None)


# ---- list_item_types ------------------------------------------------------------------------------------


class ItemTypeItem(Model):
    id: str
    title: str
    creates: Literal["task", "project"]
    space: Ref | None = Field(default=None, description="absent: usable in every space")
    description: str | None = None
    fields: list[str] = Field(default_factory=list, description="its custom fields")


class ItemTypeList(Model):
    items: list[ItemTypeItem]


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List custom item types")
async def list_item_types(
    ctx: Context[Any],
    space: Annotated[
        str | None, Field(min_length=1, max_length=MAX_REF, description=f"{SPACE_PHRASE}; with account-wide")
    ] = None,
) -> ItemTypeList:
    """Custom item types (Bug, Campaign request, …): what each creates, its space and fields. For
    create_from_item_type."""
    deps = wrike(ctx)
    space_id = await deps.resolver.space_id(space) if space is not None else None
    types = [
        t for t in await read_item_types(deps, space_id) if space_id is None or t.space_id in (None, space_id)
    ]
    fields = await definitions(deps) if any(t.custom_field_ids for t in types) else {}
    items = [
        ItemTypeItem(
            id=t.id,
            title=show_title(t.title),
            creates=CREATES.get(t.related_type or "", "task"),
            space=await space_ref(deps, t.space_id),
            description=plain(t.description, DESCRIPTION_LIMIT)[0],
            fields=[show_title(fields[f].title) if f in fields else f for f in t.custom_field_ids],
        )
        for t in types
    ]
    return ItemTypeList(items=items)


# ---- create_from_item_type ------------------------------------------------------------------------------


def match_item_type(
    types: Sequence[CustomItemType], ref: str, space_id: str | None, space_names: Mapping[str, str]
) -> CustomItemType:
    """The type an id or title (case-insensitive) names. A title several spaces use is narrowed to the types
    usable where the work goes (that space's and account-wide ones); what is still several is refused."""
    ref = ref.strip()
    for item_type in types:
        if item_type.id == ref:
            return item_type
    named = [t for t in types if fold(t.title) == fold(ref)]
    usable = [t for t in named if t.space_id in (None, space_id)]
    if len(named) > 1 and len(usable) == 1:
        return usable[0]
    if len(named) == 1:
        return named[0]
    if not named:
        raise ReferenceNotFound("custom item type", ref, "list_item_types lists them")
    raise AmbiguousReference(
        "custom item type",
        ref,
        [
            (t.id, f"{t.title} ({space_names.get(t.space_id, t.space_id) if t.space_id else 'account'})")
            for t in named
        ],
    )


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Create work from a custom item type", kind="write")
async def create_from_item_type(
    ctx: Context[Any],
    item_type: Annotated[str, Field(min_length=1, max_length=MAX_REF, description=ITEM_TYPE_PHRASE)],
    parent: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_REF,
            description=f"where it goes: {FOLDER_PHRASE}; a task type also takes a parent {TASK_PHRASE}",
        ),
    ],
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="the new item's title")],
) -> CreatedItem:
    """Create a task or project of a custom item type (list_item_types), with the type's fields and
    workflow. Plain work: create_task / create_project."""
    deps = wrike(ctx)
    name = clean_title(title, "new")
    body: dict[str, Any] = {"title": name}
    try:
        body["parentId"] = await deps.resolver.folder_id(parent)
        space_id = await deps.resolver.space_of(body["parentId"])
    except ReferenceNotFound:
        try:
            task = await deps.resolver.task(parent)
        except ReferenceNotFound:
            raise ReferenceNotFound(
                "folder, project or task", parent, "give a path, an id, a permalink or a task title"
            ) from None
        body["superTaskId"] = task.id
        tree = await deps.resolver.folder_tree()
        space_id = next((tree.space_of(f) for f in task.parent_ids or task.super_parent_ids), None)
    tree = await deps.resolver.folder_tree()
    names = {ident: show_title(tree.nodes[ident].title) for ident in tree.space_ids}
    types = await read_item_types(deps)
    try:
        chosen = match_item_type(types, item_type, space_id, names)
    except ReferenceNotFound:
        if space_id is None:
            raise
        # a space-level type the account list may leave out: the parent's space has its own list
        chosen = match_item_type(await read_item_types(deps, space_id), item_type, space_id, names)
    creates = CREATES.get(chosen.related_type or "", "task")
    if creates == "project" and "superTaskId" in body:
        raise ToolError(
            f"{show_title(chosen.title)} creates projects, which cannot go under a task: "
            "give a folder or project as parent"
        )
    made = await deps.client.post(f"/custom_item_types/{chosen.id}/instantiate", body, model=CreatedWork)
    if not made:
        raise ToolError(
            "Wrike accepted the request but named nothing it created: check the parent before retrying"
        )
    kind = CREATES.get(made[0].related_type or chosen.related_type or "", creates)
    item_type_ref = Ref(id=chosen.id, name=show_title(chosen.title))
    return await read_back_created(
        deps, kind, made[0].id, item_type_ref, title=show_title(body.get("title", ""))
    )
