"""Rendering shared by the tools: Wrike tasks, comments, people, folders and projects as the compact models tools answer with.

Not a tool module (see tests/tools/test_module_imports.py): tool modules share code through modules like this
one, never by importing each other, so each stays loaded only at its tool's first call.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from wrike_mcp.tools.custom_fields import (
    CustomFieldOut,
    CustomFieldValue,
    custom_field_texts,
    render_custom_fields,
)
from wrike_mcp.tools.deps import WrikeContext, today
from wrike_mcp.tools.inputs import (
    Detail,
    PagePosition,
    page_slice,
    query_key,
    read_offset_cursor,
    wrike_timestamp,
)
from wrike_mcp.tools.output import (
    COMMENT_LIMIT,
    DESCRIPTION_LIMIT,
    Model,
    Ref,
    names_of,
    people_refs,
    plain,
    show_title,
)
from wrike_mcp.tools.pages import concurrently, scan_pages
from wrike_mcp.tools.project_status import shown_status
from wrike_mcp.wrike.errors import ResourceNotFound
from wrike_mcp.wrike.models import Comment, Contact, Dependency, Folder, Space, Task, TaskDates
from wrike_mcp.wrike.resolve import FolderTree
from wrike_mcp.wrike.rules import is_overdue

CHILDREN_SHOWN = 100  # a folder's children get_folder lists
COMMENTS_PAGE = 20  # comments per page when a call gives a comments cursor but no count

# Optional task fields Wrike sends only when asked for, which TaskItem shows.
LIST_FIELDS = ["responsibleIds", "parentIds", "superParentIds", "superTaskIds"]
# What get_task shows beyond Wrike's compact list model: a task found by title comes with all of it.
DETAIL_FIELDS = [
    *LIST_FIELDS,
    "description",
    "authorIds",
    "followerIds",
    "subTaskIds",
    "dependencyIds",
    "customFields",
]


# ---- people ------------------------------------------------------------------------------------------------


def role_of(contact: Contact) -> str | None:
    """Owner, Admin, or the role of the contact's first profile (User, Collaborator)."""
    profile = contact.profiles[0] if contact.profiles else None
    if profile is None:
        return None
    if profile.owner:
        return "Owner"
    if profile.admin:
        return "Admin"
    return profile.role


# ---- comments ----------------------------------------------------------------------------------------------


class CommentItem(Model):
    id: str
    author: Ref | None = None
    created: str | None = None
    text: str | None = None
    truncated: bool | None = None


async def recent_comments(deps: WrikeContext, on: Literal["tasks", "folders"], ident: str) -> list[Comment]:
    """A task's or a folder's (project's) comments, newest first."""
    comments = await deps.client.get(f"/{on}/{ident}/comments", model=Comment)
    return sorted(comments, key=lambda c: c.created_date.timestamp() if c.created_date else 0, reverse=True)


@dataclass(frozen=True)
class CommentsWanted:
    """Which page of an item's comments a get_task / get_folder call asks for (none when `limit` is 0)."""

    limit: int = 0
    offset: int = 0
    key: str = ""


def comments_wanted(ref: str, limit: int, cursor: str | None) -> CommentsWanted:
    """Read before any Wrike call, so a bad cursor costs no request. A cursor alone pages by COMMENTS_PAGE."""
    key = query_key(item=ref.strip())
    offset = read_offset_cursor(cursor, key)
    return CommentsWanted(limit=limit or (COMMENTS_PAGE if cursor else 0), offset=offset, key=key)


@dataclass(frozen=True)
class CommentPage:
    items: list[CommentItem]
    total: int | None = None
    next_cursor: str | None = None


async def comment_page(
    deps: WrikeContext, on: Literal["tasks", "folders"], ident: str, wanted: CommentsWanted
) -> CommentPage:
    if not wanted.limit:
        return CommentPage(items=[])
    return await comments_paged(deps, await recent_comments(deps, on, ident), wanted)


async def comments_paged(deps: WrikeContext, comments: list[Comment], wanted: CommentsWanted) -> CommentPage:
    """The page `wanted` asks for of an item's comments, newest first, as `recent_comments` gives them."""
    if not wanted.limit:
        return CommentPage(items=[])
    chunk, next_cursor = page_slice(comments, wanted.offset, wanted.limit, wanted.key)
    return CommentPage(items=await comment_items(deps, chunk), total=len(comments), next_cursor=next_cursor)


async def comment_items(deps: WrikeContext, comments: Sequence[Comment]) -> list[CommentItem]:
    names = await names_of(deps, [c.author_id for c in comments if c.author_id])
    items = []
    for comment in comments:
        text, cut = plain(comment.text, COMMENT_LIMIT)
        author = comment.author_id
        items.append(
            CommentItem(
                id=comment.id,
                author=Ref(id=author, name=names.get(author)) if author else None,
                created=wrike_timestamp(comment.created_date) if comment.created_date else None,
                text=text,
                truncated=cut,
            )
        )
    return items


# ---- tasks -------------------------------------------------------------------------------------------------


def day_of(value: str | None) -> str | None:
    """The date part of a Wrike task date (`2026-03-31T17:00:00` → `2026-03-31`)."""
    return value[:10] if value else None


def timestamp(value: datetime | None) -> str | None:
    """A Wrike time as Wrike writes it (`2026-03-31T17:00:00Z`)."""
    return wrike_timestamp(value) if value else None


def homes(task: Task) -> list[str]:
    """The folders and projects holding a task; a subtask's are inherited from its parent task."""
    return task.parent_ids or task.super_parent_ids


async def folder_refs(deps: WrikeContext, ids: Iterable[str]) -> list[Ref]:
    """Folders and projects named by their paths (`Space/Folder/Project`)."""
    tree = await deps.resolver.folder_tree()
    refs = []
    for ident in dict.fromkeys(ids):
        if ident in tree.root_ids:
            continue
        name = "/".join(show_title(t) for t in tree.path(ident)) if ident in tree.nodes else None
        refs.append(Ref(id=ident, name=name))
    return refs


def in_recycle_bin(task: Task) -> bool | None:
    """True when Wrike reports the task in the Recycle Bin (scope RbTask); None (left out) otherwise."""
    return True if (task.scope or "").startswith("Rb") else None


async def status_name(deps: WrikeContext, custom_status_id: str | None) -> str | None:
    if not custom_status_id:
        return None
    found = await deps.resolver.status_by_id(custom_status_id)
    return show_title(found[0].name) if found else None


async def task_titles(deps: WrikeContext, ids: Sequence[str]) -> dict[str, str]:
    """Task id → title, in one multi-id request (none for no ids)."""
    if not ids:
        return {}
    return {
        task.id: show_title(task.title)
        for task in await deps.client.get_many("/tasks/{ids}", ids, model=Task)
    }


async def titles_beside_a_write(deps: WrikeContext, ids: Sequence[str]) -> dict[str, str] | None:
    """`task_titles` read together with a write whose answer names the tasks (one round trip, not a read-back
    after it): None instead of any failure, which must not cancel the write beside it (read them again)."""
    try:
        return await task_titles(deps, ids)
    except Exception:
        return None


class TaskItem(Model):
    id: str
    title: str = ""
    status: str | None = Field(
        default=None, description="status group: Active, Completed, Deferred, Cancelled"
    )
    custom_status: str | None = Field(default=None, description="the workflow status name, e.g. In Progress")
    importance: str | None = None
    start: str | None = Field(default=None, description="YYYY-MM-DD")
    due: str | None = Field(default=None, description="YYYY-MM-DD")
    assignees: list[Ref] = Field(default_factory=list)
    parents: list[Ref] = Field(default_factory=list, description="folders/projects holding it, named by path")
    subtask_of: list[Ref] = Field(default_factory=list, description="parent tasks, for a subtask")
    permalink: str | None = None
    in_recycle_bin: bool | None = None


async def task_items(deps: WrikeContext, tasks: Sequence[Task]) -> list[TaskItem]:
    """Tasks → compact items, names resolved with one contact lookup for the whole list."""
    names = await names_of(deps, [ident for task in tasks for ident in task.responsible_ids])
    titles = await task_titles(deps, [ident for task in tasks for ident in task.super_task_ids])
    items = []
    for task in tasks:
        dates = task.dates or TaskDates()
        items.append(
            TaskItem(
                id=task.id,
                title=show_title(task.title),
                status=task.status,
                custom_status=await status_name(deps, task.custom_status_id),
                importance=task.importance,
                start=day_of(dates.start),
                due=day_of(dates.due),
                assignees=await people_refs(deps, task.responsible_ids, names),
                parents=await folder_refs(deps, homes(task)),
                subtask_of=[Ref(id=ident, name=titles.get(ident)) for ident in task.super_task_ids],
                permalink=task.permalink,
                in_recycle_bin=in_recycle_bin(task),
            )
        )
    return items


class TaskBrief(Model):
    """A task in a concise list: names and paths once, in the list's `people`, `folders` and `statuses`."""

    id: str
    title: str = ""
    status: str | None = Field(default=None, description="custom status (its group in `statuses`) or group")
    importance: str | None = Field(default=None, description="High or Low (absent: Normal)")
    due: str | None = Field(default=None, description="YYYY-MM-DD")
    assignees: list[str] = Field(default_factory=list, description="contact ids (names in `people`)")
    parents: list[str] = Field(default_factory=list, description="folder/project ids (paths in `folders`)")
    subtask_of: list[str] = Field(default_factory=list, description="parent task ids, for a subtask")
    in_recycle_bin: bool | None = None


class TaskList(Model):
    items: list[TaskItem | TaskBrief]
    total: int | None = Field(default=None, description="number of matching tasks")
    total_at_least: int | None = Field(
        default=None, description="instead of total when counting stopped: at least this many match"
    )
    next_cursor: str | None = Field(default=None, description="more results exist: pass it back as `cursor`")
    people: dict[str, str] | None = Field(default=None, description="concise: contact id → name")
    folders: dict[str, str] | None = Field(default=None, description="concise: folder/project id → path")
    statuses: dict[str, str] | None = Field(default=None, description="concise: custom status → its group")


async def task_list(deps: WrikeContext, tasks: Sequence[Task], detail: Detail) -> TaskList:
    """Tasks as a list answer: full items, or concise ones whose names, paths and status groups are given
    once for the whole list (a third of a full item is its permalink and its parents' paths)."""
    if detail == "full":
        return TaskList(items=await task_items(deps, tasks))
    names = await names_of(deps, [ident for task in tasks for ident in task.responsible_ids])
    folders = await folder_refs(deps, [ident for task in tasks for ident in homes(task)])
    tree = await deps.resolver.folder_tree()
    items: list[TaskItem | TaskBrief] = []
    groups: dict[str, str] = {}
    for task in tasks:
        custom = await status_name(deps, task.custom_status_id)
        if custom and task.status and custom != task.status:
            groups[custom] = task.status
        dates = task.dates or TaskDates()
        items.append(
            TaskBrief(
                id=task.id,
                title=show_title(task.title),
                status=custom or task.status,
                importance=task.importance if task.importance != "Normal" else None,
                due=day_of(dates.due),
                assignees=list(dict.fromkeys(task.responsible_ids)),
                parents=[ident for ident in dict.fromkeys(homes(task)) if ident not in tree.root_ids],
                subtask_of=list(task.super_task_ids),
                in_recycle_bin=in_recycle_bin(task),
            )
        )
    return TaskList(
        items=items,
        people={ident: name for ident, name in names.items() if name} or None,
        folders={ref.id: ref.name for ref in folders if ref.name} or None,
        statuses=groups or None,
    )


class SubtaskItem(Model):
    id: str
    title: str = ""
    status: str | None = None
    custom_status: str | None = None


class DependencyItem(Model):
    relation: Literal["predecessor", "successor"] = Field(
        description="predecessor: `task` must happen first; successor: `task` waits for this one"
    )
    type: str | None = Field(
        default=None, description="FinishToStart, StartToStart, FinishToFinish, StartToFinish"
    )
    task: Ref


class TaskDetail(Model):
    id: str
    title: str = ""
    status: str | None = None
    custom_status: str | None = None
    importance: str | None = None
    type: str | None = Field(default=None, description="Planned, Milestone or Backlog")
    start: str | None = None
    due: str | None = None
    duration_days: float | None = None
    description: str | None = Field(
        default=None, description=f"plain text, cut at {DESCRIPTION_LIMIT} characters"
    )
    description_truncated: bool | None = None
    assignees: list[Ref] = Field(default_factory=list)
    author: Ref | None = None
    followers: list[Ref] = Field(default_factory=list)
    parents: list[Ref] = Field(default_factory=list, description="folders/projects holding it, named by path")
    subtask_of: list[Ref] = Field(default_factory=list)
    subtasks: list[SubtaskItem] = Field(default_factory=list)
    dependencies: list[DependencyItem] = Field(default_factory=list)
    custom_fields: list[CustomFieldOut] = Field(default_factory=list)
    permalink: str | None = None
    created: str | None = None
    updated: str | None = None
    completed: str | None = None
    in_recycle_bin: bool | None = None
    comments: list[CommentItem] = Field(default_factory=list, description="most recent first")
    comments_total: int | None = None
    comments_next_cursor: str | None = Field(default=None, description="pass back as comments_cursor")


def in_dependency_order(found: Sequence[Dependency] | None, task: Task) -> list[Dependency] | None:
    """A task's dependencies read ahead (`GET /tasks/{id}/dependencies`) in its `dependencyIds` order; None
    when they were not read or are not exactly the ones the task names (then they are read by id)."""
    if not task.dependency_ids:
        return []
    by_id = {dependency.id: dependency for dependency in found or ()}
    if found is None or set(by_id) != set(task.dependency_ids):
        return None
    return [by_id[ident] for ident in dict.fromkeys(task.dependency_ids)]


async def task_detail(
    deps: WrikeContext,
    task: Task,
    comments: CommentsWanted | None = None,
    *,
    dependencies: Sequence[Dependency] | None = None,
    recent: list[Comment] | None = None,
) -> TaskDetail:
    """A task in full; `task` needs the fields of DETAIL_FIELDS (Wrike's full model has them all).

    `dependencies` and `recent` (its comments) are what a caller read together with the task, when it had
    its id first; what is missing is read here, independent reads together: at most two more round trips (the
    dependencies with the comments, then the tasks named), one when the dependencies came with the task."""
    wanted_comments = comments or CommentsWanted()
    dates = task.dates or TaskDates()
    description, cut = plain(task.description, DESCRIPTION_LIMIT)
    names = await names_of(deps, [*task.responsible_ids, *task.author_ids, *task.follower_ids])
    listed: list[Comment] | None = recent if wanted_comments.limit else []

    async def read_comments() -> list[Comment]:
        return listed if listed is not None else await recent_comments(deps, "tasks", task.id)

    ordered = in_dependency_order(dependencies, task)
    if ordered is None:
        ordered, listed = await concurrently(
            lambda: deps.client.get_many("/dependencies/{ids}", task.dependency_ids, model=Dependency),
            read_comments,
        )
    relations = [dependency_relation(task.id, dependency) for dependency in ordered]
    wanted = [*task.sub_task_ids, *task.super_task_ids, *(other for _, _, other in relations if other)]

    async def read_related() -> list[Task]:
        return await deps.client.get_many("/tasks/{ids}", wanted, model=Task) if wanted else []

    found_tasks, listed = await concurrently(read_related, read_comments)
    related = {t.id: t for t in found_tasks}

    def ref(ident: str) -> Ref:
        found = related.get(ident)
        return Ref(id=ident, name=show_title(found.title) if found else None)

    subtasks = []
    for ident in task.sub_task_ids:
        sub = related.get(ident)
        subtasks.append(
            SubtaskItem(
                id=ident,
                title=show_title(sub.title) if sub else "",
                status=sub.status if sub else None,
                custom_status=await status_name(deps, sub.custom_status_id) if sub else None,
            )
        )
    page = await comments_paged(deps, listed or [], wanted_comments)

    author = task.author_ids[0] if task.author_ids else None
    return TaskDetail(
        id=task.id,
        title=show_title(task.title),
        status=task.status,
        custom_status=await status_name(deps, task.custom_status_id),
        importance=task.importance,
        type=dates.type,
        start=day_of(dates.start),
        due=day_of(dates.due),
        duration_days=round(dates.duration / 480, 2) if dates.duration else None,
        description=description,
        description_truncated=cut,
        assignees=await people_refs(deps, task.responsible_ids, names),
        author=Ref(id=author, name=names.get(author)) if author else None,
        followers=await people_refs(deps, task.follower_ids, names),
        parents=await folder_refs(deps, homes(task)),
        subtask_of=[ref(ident) for ident in task.super_task_ids],
        subtasks=subtasks,
        dependencies=[
            DependencyItem(relation=relation, type=kind, task=ref(other))
            for relation, kind, other in relations
            if other
        ],
        custom_fields=await render_custom_fields(deps, task.custom_fields),
        permalink=task.permalink,
        created=timestamp(task.created_date),
        updated=timestamp(task.updated_date),
        completed=timestamp(task.completed_date),
        in_recycle_bin=in_recycle_bin(task),
        comments=page.items,
        comments_total=page.total,
        comments_next_cursor=page.next_cursor,
    )


def dependency_relation(
    task_id: str, dependency: Dependency
) -> tuple[Literal["predecessor", "successor"], str | None, str | None]:
    """(what the other task is to this one, the relation type, the other task's id)."""
    if dependency.successor_id == task_id:
        return "predecessor", dependency.relation_type, dependency.predecessor_id
    return "successor", dependency.relation_type, dependency.successor_id


# ---- folders and projects ----------------------------------------------------------------------------------


def kind_of(tree: FolderTree, folder: Folder) -> Literal["space", "folder", "project"]:
    if folder.id in tree.space_ids:
        return "space"
    return "project" if folder.is_project else "folder"


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


# ---- task counts (get_folder) -------------------------------------------------------------------------

COUNT_PAGE_SIZE = 1000
COUNT_MAX_PAGES = 20  # 20 000 tasks counted at most; beyond that the counts say they are incomplete


class StatusCount(Model):
    id: str
    name: str | None = None
    group: str | None = None
    count: int


class TaskCounts(Model):
    by_status_group: dict[str, int] = Field(
        default_factory=dict, description="tasks per status group: Active, Completed, …"
    )
    by_custom_status: list[StatusCount] = Field(default_factory=list)
    overdue: int = Field(description="Active tasks due before today in the user's Wrike time zone")
    counted_tasks: int = Field(description="tasks counted (with subtasks and tasks of subfolders)")
    complete: bool = Field(description="false when there are more tasks than were counted")
    total_reported: int | None = Field(default=None, description="Wrike's own total of matching tasks")


async def count_tasks(deps: WrikeContext, folder: FolderDetails) -> TaskCounts:
    """Tasks of a folder, project or space by status and overdue, subtasks and subfolders' tasks included."""
    path, params = (
        (f"/spaces/{folder.id}/tasks", {"subTasks": True})
        if folder.kind == "space"
        else (f"/folders/{folder.id}/tasks", {"descendants": True, "subTasks": True})
    )
    groups: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    overdue = 0
    counted = 0
    on = await today(deps)
    scan = await scan_pages(
        lambda token: deps.client.get_page(
            path,
            params,
            page_size=COUNT_PAGE_SIZE,
            page_token=token,
        ),
        PagePosition(token=None, skip=0, page_size=COUNT_PAGE_SIZE),
        want=COUNT_MAX_PAGES * COUNT_PAGE_SIZE,
        max_pages=COUNT_MAX_PAGES,
    )
    reported = scan.total
    for task in scan.items:
        counted += 1
        group = str(task.get("status") or "Active")
        groups[group] += 1
        if task.get("customStatusId"):
            by_status[str(task["customStatusId"])] += 1
        if is_overdue(group, str((task.get("dates") or {}).get("due") or ""), on):
            overdue += 1
    complete = scan.next is None and (reported is None or counted >= reported)
    statuses = []
    for status_id, count in by_status.most_common():
        found = await deps.resolver.status_by_id(status_id)
        statuses.append(
            StatusCount(
                id=status_id,
                name=show_title(found[0].name) if found else None,
                group=found[0].group if found else None,
                count=count,
            )
        )
    return TaskCounts(
        by_status_group=dict(groups.most_common()),
        by_custom_status=statuses,
        overdue=overdue,
        counted_tasks=counted,
        complete=complete,
        total_reported=reported,
    )


# ---- folders -----------------------------------------------------------------------------------------------


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
    task_counts: TaskCounts | None = None
    comments: list[CommentItem] = Field(default_factory=list, description="most recent first")
    comments_total: int | None = None
    comments_next_cursor: str | None = Field(default=None, description="pass back as comments_cursor")


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
