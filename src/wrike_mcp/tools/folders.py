"""The `folders` toolset: spaces, the folder tree, folder details and creating folders.

Also home of the shaping of folders and projects for output, which the `projects` toolset and the
`wrike://folder/{id}` resource share.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.custom_fields import CustomFieldValue, custom_field_texts
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    FolderRef,
    clean_title,
    page_slice,
    query_key,
    read_offset_cursor,
    text_to_html,
)
from wrike_mcp.tools.output import (
    DESCRIPTION_LIMIT,
    Model,
    Ref,
    names_of,
    people_refs,
    plain,
    show_title,
)
from wrike_mcp.tools.project_status import shown_names, shown_status
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.wrike.errors import ResourceNotFound
from wrike_mcp.wrike.models import Folder, Space
from wrike_mcp.wrike.resolve import FolderTree

SNIPPET_LIMIT = 200
TREE_NODE_LIMIT = 300  # nodes one list_folders tree answer may hold
CHILDREN_SHOWN = 100


# ---- helpers shared with the projects toolset and the resources ----------------------------------------------


def kind_of(tree: FolderTree, folder: Folder) -> Literal["space", "folder", "project"]:
    if folder.id in tree.space_ids:
        return "space"
    return "project" if folder.is_project else "folder"


# ---- project info as every tool shows it -------------------------------------------------------------------


class ProjectInfo(Model):
    status: str | None = Field(
        description="the project workflow status (2026 accounts) or the classic status (Green, Yellow, Red, "
        "Completed, OnHold, Cancelled); null when Wrike gives neither"
    )
    status_group: str | None = Field(default=None, description="Active, Completed, Deferred or Cancelled")
    custom_status: Ref | None = Field(default=None, description="the project workflow status")
    workflow: str | None = Field(default=None, description="the project workflow the project follows")
    owners: list[Ref] = Field(default_factory=list)
    author: Ref | None = None
    start_date: date | None = None
    end_date: date | None = None
    created: datetime | None = None
    completed: datetime | None = None


async def project_info(deps: WrikeContext, folder: Folder) -> ProjectInfo | None:
    project = folder.project
    if project is None:
        return None
    shown = await shown_status(deps, project)
    names = await names_of(deps, [*project.owner_ids, project.author_id or ""])
    return ProjectInfo(
        status=show_title(shown.name) if shown.name else None,
        status_group=shown.group,
        custom_status=Ref(id=project.custom_status_id, name=show_title(shown.name) if shown.custom else None)
        if project.custom_status_id
        else None,
        workflow=show_title(shown.workflow.name) if shown.workflow else None,
        owners=await people_refs(deps, project.owner_ids, names),
        author=Ref(id=project.author_id, name=names.get(project.author_id)) if project.author_id else None,
        start_date=project.start_date,
        end_date=project.end_date,
        created=project.created_date,
        completed=project.completed_date,
    )


# ---- list_spaces -------------------------------------------------------------------------------------------


class SpaceItem(Model):
    id: str
    title: str | None = None
    access_type: str | None = Field(default=None, description="Public, Private or Personal")
    archived: bool | None = None
    description: str | None = Field(default=None, description=f"plain text, first {SNIPPET_LIMIT} characters")
    truncated: bool | None = None


class SpaceList(Model):
    items: list[SpaceItem]
    total: int


@wrike_tool(toolset="folders", scopes=[scopes.WS_READ_ONLY], title="List Wrike spaces")
async def list_spaces(
    ctx: Context[Any],
    include_archived: Annotated[bool, Field(description="also archived spaces")] = False,
) -> SpaceList:
    """List the account's spaces, the top of the folder tree: id, title, access type, short description.

    All at once (not paged).
    """
    deps = wrike(ctx)
    spaces = (
        await deps.client.get("/spaces", {"withArchived": True}, model=Space)
        if include_archived
        else await deps.resolver.spaces()
    )
    items = []
    for space in spaces:
        text, cut = plain(space.description, SNIPPET_LIMIT)
        items.append(
            SpaceItem(
                id=space.id,
                title=show_title(space.title),
                access_type=space.access_type,
                archived=True if space.archived else None,
                description=text,
                truncated=cut,
            )
        )
    return SpaceList(items=items, total=len(items))


# ---- list_folders ------------------------------------------------------------------------------------------


class FolderNode(Model):
    id: str
    title: str | None = None
    kind: Literal["space", "folder", "project"]
    path: str | None = Field(default=None, description="Space/Folder/… (flat layout)")
    status: str | None = Field(default=None, description="project status (projects only)")
    child_count: int = Field(description="direct child folders and projects (0: none)")
    children: list[FolderNode] = Field(default_factory=list, description="tree layout, within `depth`")


class FolderList(Model):
    parent: Ref | None = Field(default=None, description="the listed parent, named by its path; absent: root")
    items: list[FolderNode]
    total: int = Field(description="folders and projects within `depth` that match (all pages)")
    next_cursor: str | None = Field(default=None, description="flat layout: pass back for the next page")


def children_map(tree: FolderTree) -> dict[str, list[str]]:
    """Parent id → child ids, in Wrike's order (childIds first, then children attached to a space)."""
    found: dict[str, list[str]] = {}
    for ident, folder in tree.nodes.items():
        found[ident] = [
            child for child in folder.child_ids if child in tree.nodes and child not in tree.root_ids
        ]
    for child, parents in tree.parents.items():
        if child not in tree.nodes or child in tree.root_ids:
            continue
        for parent in parents:
            kids = found.setdefault(parent, [])
            if child not in kids:
                kids.append(child)
    return found


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


@wrike_tool(toolset="folders", scopes=[scopes.WS_READ_ONLY], title="List folders and projects")
async def list_folders(
    ctx: Context[Any],
    parent: Annotated[
        str | None,
        Field(
            max_length=MAX_REF,
            description="space, folder or project; omit for the top level (spaces)",
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
) -> FolderList:
    """List the folders and projects below a space, folder or the top level, `depth` levels deep.

    Entries: id, title, kind, child count, project status. Trees over 300 entries are refused: use
    layout="flat", a smaller depth or a deeper parent.
    """
    deps = wrike(ctx)
    if cursor and layout != "flat":
        raise ToolError("cursor only pages the flat layout: pass layout='flat' with it, or omit the cursor")
    key = query_key(parent=parent, depth=depth, projects_only=projects_only)
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


class ChildItem(Model):
    id: str
    title: str | None = None
    kind: Literal["folder", "project", "space"]


class FolderDetails(Model):
    id: str
    title: str | None = None
    kind: Literal["space", "folder", "project"]
    path: str | None = None
    permalink: str | None = None
    space: Ref | None = Field(default=None, description="the space holding it")
    description: str | None = Field(
        default=None, description=f"plain text, cut at {DESCRIPTION_LIMIT} characters"
    )
    truncated: bool | None = Field(default=None, description="true when the description was cut")
    project: ProjectInfo | None = None
    custom_fields: list[CustomFieldValue] = Field(default_factory=list)
    workflow: Ref | None = Field(default=None, description="workflow of the tasks in it")
    children: list[ChildItem] = Field(default_factory=list, description="direct child folders and projects")
    child_count: int = 0
    children_truncated: bool | None = Field(
        default=None, description=f"true when over {CHILDREN_SHOWN} children"
    )
    created: datetime | None = None
    updated: datetime | None = None


async def fetch_folder(deps: WrikeContext, folder_id: str) -> Folder:
    return await deps.client.get_one(f"/folders/{folder_id}", model=Folder)


async def load_folder(deps: WrikeContext, folder_id: str) -> Folder:
    """A folder or project by id; a space (which /folders does not return) as a folder holding its children."""
    try:
        return await fetch_folder(deps, folder_id)
    except ResourceNotFound:
        tree = await deps.resolver.folder_tree()
        if folder_id not in tree.space_ids:
            raise
        space = await deps.client.get_one(f"/spaces/{folder_id}", model=Space)
        return Folder(
            id=folder_id,
            title=space.title,
            description=space.description,
            child_ids=tree.nodes[folder_id].child_ids,
        )


async def folder_details(deps: WrikeContext, folder: Folder) -> FolderDetails:
    tree = await deps.resolver.folder_tree()
    kind = kind_of(tree, folder)
    child_ids = [c for c in folder.child_ids if c not in tree.root_ids]
    if kind == "space":
        child_ids = list(dict.fromkeys([*child_ids, *children_map(tree).get(folder.id, [])]))
    shown_ids = child_ids[:CHILDREN_SHOWN]
    missing = [c for c in shown_ids if c not in tree.nodes]
    fetched = (
        {item.id: item for item in await deps.client.get_many("/folders/{ids}", missing, model=Folder)}
        if missing
        else {}
    )
    children = []
    for ident in shown_ids:
        child = tree.nodes.get(ident) or fetched.get(ident)
        if child is not None and child.scope not in ("RbFolder", "RbRoot"):
            children.append(ChildItem(id=ident, title=show_title(child.title), kind=kind_of(tree, child)))
    text, cut = plain(folder.description, DESCRIPTION_LIMIT)
    space_id = tree.space_of(folder.id) if folder.id in tree.nodes else None
    workflow = None
    if folder.workflow_id:
        names = {w.id: w.name for w in await deps.resolver.workflows()}
        workflow = Ref(id=folder.workflow_id, name=names.get(folder.workflow_id))
    return FolderDetails(
        id=folder.id,
        title=show_title(folder.title),
        kind=kind,
        path=await deps.resolver.folder_path(folder.id) if folder.id in tree.nodes else None,
        permalink=folder.permalink,
        space=(
            Ref(id=space_id, name=show_title(tree.nodes[space_id].title))
            if space_id and space_id != folder.id
            else None
        ),
        description=text,
        truncated=cut,
        project=await project_info(deps, folder),
        custom_fields=await custom_field_texts(deps, folder.custom_fields),
        workflow=workflow,
        children=children,
        child_count=len(child_ids),
        children_truncated=True if len(child_ids) > CHILDREN_SHOWN else None,
        created=folder.created_date,
        updated=folder.updated_date,
    )


@wrike_tool(toolset="folders", scopes=[scopes.WS_READ_ONLY], title="Get a folder, project or space")
async def get_folder(ctx: Context[Any], folder: FolderRef) -> FolderDetails:
    """A folder, project or space: path, permalink, description, custom fields, project info, children.

    For a project's task counts use get_project.
    """
    deps = wrike(ctx)
    return await folder_details(deps, await load_folder(deps, await deps.resolver.folder_id(folder)))


# ---- create_folder -----------------------------------------------------------------------------------------


NewParent = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_REF,
        description="space or folder to create it in",
    ),
]
NewDescription = Annotated[str | None, Field(max_length=MAX_TEXT, description="plain text")]


async def post_folder(
    deps: WrikeContext,
    parent_id: str,
    title: str,
    description: str | None,
    project: dict[str, Any] | None = None,
) -> Folder:
    """Create a folder (or, with `project` fields, a project) in `parent_id`; a blank description is left out."""
    body: dict[str, Any] = {"title": title}
    if project is not None:
        body["project"] = project
    if description is not None and description.strip():
        body["description"] = text_to_html(description)
    return (await deps.client.post(f"/folders/{parent_id}/folders", body, model=Folder))[0]


class CreatedFolder(Model):
    id: str
    title: str | None = None
    path: str | None = None
    parent: Ref
    permalink: str | None = None


@wrike_tool(
    toolset="folders", scopes=[scopes.WS_READ_WRITE], title="Create a folder", kind="write", idempotent=False
)
async def create_folder(
    ctx: Context[Any],
    parent: NewParent,
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="folder title")],
    description: NewDescription = None,
) -> CreatedFolder:
    """Create a folder (not a project: see create_project) in a space or folder; returns id, path, permalink."""
    deps = wrike(ctx)
    clean = clean_title(title, "folder")
    parent_id = await deps.resolver.folder_id(parent)
    created = await post_folder(deps, parent_id, clean, description)
    parent_path = await deps.resolver.folder_path(parent_id)
    return CreatedFolder(
        id=created.id,
        title=show_title(created.title),
        path=f"{parent_path}/{show_title(created.title)}" if parent_path != parent_id else None,
        parent=Ref(id=parent_id, name=parent_path if parent_path != parent_id else None),
        permalink=created.permalink,
    )
