"""The `folders` toolset: the folder tree from the spaces down, folder details (with task counts and
comments), creating and updating folders.

Also home of the shaping of folders and projects for output, which the `projects` toolset and the
`wrike://folder/{id}` resource share.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.custom_fields import CustomFieldsInput, check_custom_field_input
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    FOLDER_PHRASE,
    MAX_CURSOR,
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    PLACE_PHRASE,
    FolderRef,
    clean_title,
    page_slice,
    query_key,
    read_offset_cursor,
)
from wrike_mcp.tools.output import (
    Model,
    Ref,
    show_title,
)
from wrike_mcp.tools.pages import concurrently
from wrike_mcp.tools.project_status import shown_names
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import (
    FolderDetails,
    children_map,
    comment_page,
    comments_wanted,
    count_tasks,
    fetch_folder,
    folder_details,
    folder_refs,
    kind_of,
    load_folder,
)
from wrike_mcp.tools.writes import NewDescription, NewParent, folder_changes, post_folder
from wrike_mcp.wrike.models import Folder, Space
from wrike_mcp.wrike.resolve import FolderTree

TREE_NODE_LIMIT = 300  # nodes one list_folders tree answer may hold


# ---- list_folders ------------------------------------------------------------------------------------------


class FolderNode(Model):
    id: str
    title: str | None = None
    kind: Literal["space", "folder", "project"]
    path: str | None = Field(default=None, description="Space/Folder/… (flat layout)")
    status: str | None = Field(default=None, description="project status (projects only)")
    access_type: str | None = Field(default=None, description="spaces: Public, Private or Personal")
    archived: bool | None = Field(default=None, description="an archived space (include_archived)")
    child_count: int | None = Field(
        default=None, description="direct child folders and projects (0: none; absent: archived space)"
    )
    children: list[FolderNode] = Field(default_factory=list, description="tree layout, within `depth`")


class FolderList(Model):
    parent: Ref | None = Field(default=None, description="the listed parent, named by its path; absent: root")
    items: list[FolderNode]
    total: int = Field(description="folders and projects within `depth` that match (all pages)")
    next_cursor: str | None = Field(default=None, description="flat layout: pass back for the next page")


def root_children(tree: FolderTree, kids: dict[str, list[str]]) -> list[str]:
    top: list[str] = []
    for root in tree.root_ids:
        folder = tree.nodes.get(root)
        if folder is not None and folder.scope == "WsRoot":
            top.extend(kids.get(root, []))
    spaces = sorted(tree.space_ids, key=lambda ident: tree.nodes[ident].title.casefold())
    for ident in spaces:
        if ident not in top:
            top.append(ident)
    return list(dict.fromkeys(top))


async def with_spaces(
    deps: WrikeContext, roots: list[FolderNode], include_archived: bool
) -> list[FolderNode]:
    """The top level with each space's access type and, when asked, the archived spaces (not in the tree)."""
    spaces = (
        await deps.client.get("/spaces", {"withArchived": True}, model=Space)
        if include_archived
        else await deps.resolver.spaces()
    )
    by_id = {space.id: space for space in spaces}
    shown = [
        node.model_copy(
            update={"access_type": by_id[node.id].access_type, "archived": by_id[node.id].archived or None}
        )
        if node.id in by_id
        else node
        for node in roots
    ]
    listed = {node.id for node in roots}
    archived = sorted(
        (space for space in spaces if space.archived and space.id not in listed),
        key=lambda space: space.title.casefold(),
    )
    return shown + [
        FolderNode(
            id=space.id,
            title=show_title(space.title),
            kind="space",
            path=show_title(space.title),
            access_type=space.access_type,
            archived=True,
        )
        for space in archived
    ]


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List folders and projects")
async def list_folders(
    ctx: Context[Any],
    parent: Annotated[
        str | None,
        Field(
            max_length=MAX_REF,
            description=f"{PLACE_PHRASE}; omit for the top (spaces)",
        ),
    ] = None,
    depth: Annotated[int, Field(ge=1, le=3, description="levels below parent")] = 1,
    projects_only: Annotated[
        bool, Field(description="only projects (a tree keeps the folders holding them)")
    ] = False,
    layout: Annotated[
        Literal["tree", "flat"],
        Field(description="tree: nested children; flat: one paged list with paths"),
    ] = "tree",
    limit: Annotated[int, Field(ge=1, le=500, description="flat layout: page size")] = 100,
    cursor: Annotated[str | None, Field(max_length=200, description="flat layout only")] = None,
    include_archived: Annotated[bool, Field(description="top level: also archived spaces")] = False,
) -> FolderList:
    """List the folders and projects below a space, folder or the top level, `depth` levels deep. Without
    a parent: the spaces (with access type), the top of the tree.

    Over 300 entries: use layout="flat", less depth or a deeper parent. Projects by status, owner or dates:
    list_projects.
    """
    deps = wrike(ctx)
    if cursor and layout != "flat":
        raise ToolError("cursor only pages the flat layout: pass layout='flat' with it, or omit the cursor")
    if include_archived and parent is not None:
        raise ToolError("include_archived lists archived spaces at the top level: leave out parent with it")
    key = query_key(parent=parent, depth=depth, projects_only=projects_only, archived=include_archived)
    offset = read_offset_cursor(cursor, key)
    parent_id = await deps.resolver.folder_id(parent) if parent is not None else None
    tree = await deps.resolver.folder_tree()
    kids = children_map(tree)
    if parent_id is not None and parent_id not in tree.nodes:
        # The cached tree may predate the folder (just created elsewhere): ask Wrike afresh once.
        deps.resolver.forget_folder_tree()
        tree = await deps.resolver.folder_tree()
        kids = children_map(tree)
        if parent_id not in tree.nodes:
            raise ToolError(
                f"folder {parent_id} is not in the workspace (deleted?): check it with get_folder"
            )
    top = kids.get(parent_id, []) if parent_id is not None else root_children(tree, kids)
    base_path = await deps.resolver.folder_path(parent_id) if parent_id is not None else ""
    statuses = await shown_names(deps, tree.nodes.values())

    def build(ident: str, level: int, path: str, seen: frozenset[str]) -> FolderNode | None:
        folder = tree.nodes[ident]
        title = show_title(folder.title)
        full_path = f"{path}/{title}" if path else title
        children: list[FolderNode] = []
        if level < depth:
            for child in kids.get(ident, []):
                if child not in seen:
                    node = build(child, level + 1, full_path, seen | {child})
                    if node is not None:
                        children.append(node)
        node = FolderNode(
            id=ident,
            title=title,
            kind=kind_of(tree, folder),
            path=full_path,
            status=show_title(statuses[ident]) if ident in statuses else None,
            child_count=len(kids.get(ident, [])),
            children=children,
        )
        if projects_only and node.kind != "project" and not node.children:
            return None
        return node

    start = frozenset({parent_id}) if parent_id else frozenset()
    roots = [
        n for ident in top if ident not in start for n in [build(ident, 1, base_path, start | {ident})] if n
    ]
    if parent_id is None:
        roots = await with_spaces(deps, roots, include_archived)

    def flatten(nodes: list[FolderNode]) -> Iterable[FolderNode]:
        for node in nodes:
            yield node
            yield from flatten(node.children)

    everything = list(flatten(roots))
    parent_ref = Ref(id=parent_id, name=base_path or None) if parent_id else None
    if layout == "flat":
        flat = [
            node.model_copy(update={"children": []})
            for node in everything
            if not projects_only or node.kind == "project"
        ]
        page, next_cursor = page_slice(flat, offset, limit, key)
        return FolderList(parent=parent_ref, items=page, total=len(flat), next_cursor=next_cursor)
    if len(everything) > TREE_NODE_LIMIT:
        raise ToolError(
            f"the tree holds {len(everything)} entries at depth {depth}, over {TREE_NODE_LIMIT}: use "
            "layout='flat' (paged), a smaller depth or a deeper parent"
        )

    def strip_paths(node: FolderNode) -> FolderNode:
        return node.model_copy(update={"path": None, "children": [strip_paths(c) for c in node.children]})

    return FolderList(parent=parent_ref, items=[strip_paths(n) for n in roots], total=len(everything))


# ---- get_folder --------------------------------------------------------------------------------------------


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Get a folder, project or space")
async def get_folder(
    ctx: Context[Any],
    folder: FolderRef,
    task_counts: Annotated[
        bool | None,
        Field(description="count tasks by status and overdue; default: for a project yes, else no"),
    ] = None,
    include_comments: Annotated[
        int, Field(ge=0, le=50, description="also this many recent comments (folders and projects)")
    ] = 0,
    comments_cursor: Annotated[
        str | None, Field(max_length=MAX_CURSOR, description="from comments_next_cursor")
    ] = None,
) -> FolderDetails:
    """A folder, project or space: path, permalink, description, custom fields, project info, children;
    for a project also its task counts by status group, custom status and overdue (subtasks and subfolders'
    tasks included); optionally its comments. For the folder tree use list_folders.
    """
    deps = wrike(ctx)
    comments = comments_wanted(folder, include_comments, comments_cursor)
    details = await folder_details(deps, await load_folder(deps, await deps.resolver.folder_id(folder)))
    if comments.limit and details.kind == "space":
        raise ToolError(
            "spaces have no comments: ask for a folder's or project's, or leave include_comments out"
        )
    counted = task_counts if task_counts is not None else details.kind == "project"
    counts, page = await concurrently(
        lambda: count_tasks(deps, details) if counted else not_counted(),
        lambda: comment_page(deps, "folders", details.id, comments),
    )
    return details.model_copy(
        update={
            "task_counts": counts,
            "comments": page.items,
            "comments_total": page.total,
            "comments_next_cursor": page.next_cursor,
        }
    )


async def not_counted() -> None:
    return None


# ---- create_folder -----------------------------------------------------------------------------------------


class CreatedFolder(Model):
    id: str
    title: str | None = None
    path: str | None = None
    parent: Ref
    permalink: str | None = None


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Create a folder", kind="write", idempotent=False)
async def create_folder(
    ctx: Context[Any],
    parent: NewParent,
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="folder title")],
    description: NewDescription = None,
    custom_fields: CustomFieldsInput = None,
) -> CreatedFolder:
    """Create a folder in a space or folder (a project: create_project)."""
    deps = wrike(ctx)
    clean = clean_title(title, "folder")
    check_custom_field_input(custom_fields)
    parent_id = await deps.resolver.folder_id(parent)
    created = await post_folder(deps, parent_id, clean, description, custom_fields=custom_fields)
    parent_path = await deps.resolver.folder_path(parent_id)
    return CreatedFolder(
        id=created.id,
        title=show_title(created.title),
        path=f"{parent_path}/{show_title(created.title)}" if parent_path != parent_id else None,
        parent=Ref(id=parent_id, name=parent_path if parent_path != parent_id else None),
        permalink=created.permalink,
    )


# ---- update_folder -----------------------------------------------------------------------------------------


class UpdatedFolder(Model):
    id: str
    title: str | None = None
    path: str | None = None
    parents: list[Ref] = Field(default_factory=list)
    permalink: str | None = None
    changed: list[str] = Field(description="what the call changed")


def inside(tree: FolderTree, folder_id: str) -> set[str]:
    """The folder and every folder or project below it, by the cached tree."""
    kids = children_map(tree)
    found, todo = {folder_id}, [folder_id]
    while todo:
        for child in kids.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


async def move_body(deps: WrikeContext, current: Folder, move_to: str) -> dict[str, Any]:
    """`addParents`/`removeParents` putting `current` under `move_to` alone; ToolError for a move into itself
    or below itself (Wrike refuses it too; asking first says why in plain words)."""
    target = await deps.resolver.folder_id(move_to)
    tree = await deps.resolver.folder_tree()
    if target in inside(tree, current.id):
        where = await deps.resolver.folder_path(target)
        raise ToolError(
            f"cannot move {show_title(current.title)[:80]!r} into {where[:120]!r}: that is the folder itself "
            "or inside it; choose a parent outside it"
        )
    if current.parent_ids == [target]:
        raise ToolError(
            f"it is already in {(await deps.resolver.folder_path(target))[:120]!r}: nothing to move"
        )
    body: dict[str, Any] = {}
    if target not in current.parent_ids:
        body["addParents"] = [target]
    old = [parent for parent in current.parent_ids if parent != target]
    if old:
        body["removeParents"] = old
    return body


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Update a folder", kind="write", idempotent=True)
async def update_folder(
    ctx: Context[Any],
    folder: FolderRef,
    title: Annotated[str | None, Field(min_length=1, max_length=MAX_TITLE, description="new title")] = None,
    description: Annotated[
        str | None, Field(max_length=MAX_TEXT, description="plain text, replaces it; '' clears it")
    ] = None,
    move_to: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_REF,
            description=f"new parent; {FOLDER_PHRASE}",
        ),
    ] = None,
    custom_fields: CustomFieldsInput = None,
) -> UpdatedFolder:
    """Rename, move or describe a folder or project, or set its custom fields; for a project's status,
    owners or dates use update_project."""
    deps = wrike(ctx)
    new_title = clean_title(title, "folder") if title is not None else None
    check_custom_field_input(custom_fields)
    if title is None and description is None and move_to is None and not custom_fields:
        raise ToolError("nothing to change: give at least one of title, description, move_to, custom_fields")
    folder_id = await deps.resolver.folder_id(folder)
    tree = await deps.resolver.folder_tree()
    if folder_id in tree.space_ids:
        raise ToolError(
            "that is a space: update_folder changes folders and projects; rename or move spaces in Wrike"
        )
    current = await fetch_folder(deps, folder_id)
    body, changed = await folder_changes(
        deps, title=new_title, description=description, custom_fields=custom_fields
    )
    if move_to is not None:
        body |= await move_body(deps, current, move_to)
        changed.append("moved")
    answered = await deps.client.put(f"/folders/{folder_id}", body, model=Folder)
    if not answered:
        raise ToolError("Wrike accepted the change but returned nothing: check get_folder before retrying")
    updated = answered[0]
    path = await deps.resolver.folder_path(updated.id)
    return UpdatedFolder(
        id=updated.id,
        title=show_title(updated.title),
        path=path if path != updated.id else None,
        parents=await folder_refs(deps, updated.parent_ids),
        permalink=updated.permalink,
        changed=changed,
    )
