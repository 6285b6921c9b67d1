"""Blueprints, part of the `projects` toolset: list folder/project and task blueprints, launch one.

A launch is one `launch_async` POST (never repeated), then `GET /async_job/{id}` polls with progress
notifications until the job ends or LAUNCH_TIME_LIMIT passes; a job still running is handed back with its
id, and `check_blueprint_launch(job)` follows it again without launching anything.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    DATE_PHRASE,
    FOLDER_PHRASE,
    MAX_DATE,
    MAX_REF,
    MAX_TITLE,
    SPACE_PHRASE,
    TASK_PHRASE,
    clean_title,
    parse_user_day,
)
from wrike_mcp.tools.output import Model, Ref, show_title
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import LIST_FIELDS
from wrike_mcp.tools.writes import CreatedItem, created_item
from wrike_mcp.wrike.errors import AmbiguousReference, BadReference, ReferenceNotFound
from wrike_mcp.wrike.models import AsyncJob, Blueprint, Folder, Task
from wrike_mcp.wrike.text import closest, fold, quoted

LAUNCH_TIME_LIMIT = 25.0  # seconds one call follows a job before handing back its id
POLL_DELAYS = (0.25, 0.5, 1.0, 2.0, 3.0)  # seconds between polls; the last one repeats
MAX_SPACES_LISTED = 10  # spaces whose own blueprint lists are read to tell which blueprints are theirs
TASK_IDS_SHOWN = 50
NOT_FOUND_NOTE = (
    "Wrike's answer does not name what was created: look under the parent for the newest of the title"
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # it goes into the request path

Made = TypeVar("Made", Folder, Task)
BlueprintKind = Literal["folder", "task"]
LIST_PATHS: dict[BlueprintKind, str] = {"folder": "folder_blueprints", "task": "task_blueprints"}


@dataclass
class Listed:
    """A blueprint as listed: its kind, and the space holding it when a space's list showed it."""

    blueprint: Blueprint
    kind: BlueprintKind
    space_id: str | None = None


async def read_blueprints(
    deps: WrikeContext, kinds: Sequence[BlueprintKind], space_ids: Sequence[str]
) -> list[Listed]:
    """The account's blueprints of these kinds (one request each), then each space's own lists, which tell
    which of them are space-level and add any the account list leaves out."""
    found: dict[str, Listed] = {}
    for kind in kinds:
        for blueprint in await deps.client.get(f"/{LIST_PATHS[kind]}", model=Blueprint):
            found[blueprint.id] = Listed(blueprint, kind)
    for space_id in space_ids:
        for kind in kinds:
            for blueprint in await deps.client.get(f"/spaces/{space_id}/{LIST_PATHS[kind]}", model=Blueprint):
                found.setdefault(blueprint.id, Listed(blueprint, kind)).space_id = space_id
    return list(found.values())


def roots(listed: Sequence[Listed]) -> list[Listed]:
    """The blueprints that are no other blueprint's child (a project blueprint's subfolder launches with it)."""
    children = {child for entry in listed for child in entry.blueprint.child_ids}
    return [entry for entry in listed if entry.blueprint.id not in children]


def entry_count(listed: Sequence[Listed], root: Listed) -> int:
    """The entries below a blueprint at every depth, through the listed blueprints' childIds."""
    by_id = {entry.blueprint.id: entry.blueprint for entry in listed}
    seen: set[str] = {root.blueprint.id}
    pending = list(root.blueprint.child_ids)
    while pending:
        child = pending.pop()
        if child in seen:
            continue
        seen.add(child)
        pending.extend(by_id[child].child_ids if child in by_id else [])
    return len(seen) - 1


# ---- list_blueprints ------------------------------------------------------------------------------------


class BlueprintItem(Model):
    id: str
    title: str
    kind: BlueprintKind
    space: Ref | None = None
    entries: int = Field(
        default=0,
        description="subfolders (folder blueprint) or subtasks (task blueprint) below it, all levels",
    )


class BlueprintList(Model):
    items: list[BlueprintItem]
    note: str | None = None


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List blueprints")
async def list_blueprints(
    ctx: Context[Any],
    kind: Annotated[
        BlueprintKind | None, Field(description="folder (folders and projects) or task; default both")
    ] = None,
    space: Annotated[str | None, Field(max_length=MAX_REF, description=f"only this {SPACE_PHRASE}")] = None,
) -> BlueprintList:
    """Blueprints (templates) to launch with launch_blueprint: account-level and space-level ones."""
    deps = wrike(ctx)
    kinds: list[BlueprintKind] = [kind] if kind else ["folder", "task"]
    note = None
    if space is not None:
        space_id = await deps.resolver.space_id(space)
        listed = [e for e in await read_blueprints(deps, kinds, [space_id]) if e.space_id == space_id]
    else:
        space_ids = sorted((await deps.resolver.folder_tree()).space_ids)
        if len(space_ids) > MAX_SPACES_LISTED:
            note = f"space shown for {MAX_SPACES_LISTED} of {len(space_ids)} spaces; pass space for others"
        listed = await read_blueprints(deps, kinds, space_ids[:MAX_SPACES_LISTED])
    tree = await deps.resolver.folder_tree()
    items = [
        BlueprintItem(
            id=entry.blueprint.id,
            title=show_title(entry.blueprint.title),
            kind=entry.kind,
            space=Ref(id=entry.space_id, name=show_title("/".join(tree.path(entry.space_id))) or None)
            if entry.space_id
            else None,
            entries=entry_count(listed, entry),
        )
        for entry in roots(listed)
    ]
    return BlueprintList(items=items, note=note)


# ---- launch_blueprint -----------------------------------------------------------------------------------


class LaunchResult(Model):
    status: Literal["completed", "in_progress"]
    job: str = Field(description="the async job's id")
    created: CreatedItem | None = None
    task_count: int | None = None
    task_ids: list[str] = Field(default_factory=list, description=f"the first {TASK_IDS_SHOWN}")
    progress_percent: float | None = None
    check_again: str | None = None
    note: str | None = None


def match_blueprint(listed: Sequence[Listed], ref: str) -> Listed | None:
    """The blueprint an id, permalink or unique title (case-insensitive) names; None when none does."""
    ref = ref.strip()
    for entry in listed:
        if ref in (entry.blueprint.id, entry.blueprint.permalink):
            return entry
    matches = [entry for entry in listed if fold(entry.blueprint.title) == fold(ref)]
    if len(matches) > 1:
        candidates = [(e.blueprint.id, f"{e.blueprint.title} ({e.kind} blueprint)") for e in matches]
        raise AmbiguousReference("blueprint", ref, candidates)
    return matches[0] if matches else None


async def find_blueprint(deps: WrikeContext, ref: str) -> Listed:
    """The account lists answer most references; the spaces' own lists are read only when they do not."""
    found = match_blueprint(await read_blueprints(deps, ["folder", "task"], []), ref)
    if found is None:
        space_ids = sorted((await deps.resolver.folder_tree()).space_ids)[:MAX_SPACES_LISTED]
        listed = await read_blueprints(deps, ["folder", "task"], space_ids)
        found = match_blueprint(listed, ref)
        if found is None:
            near = closest(
                ref,
                (
                    (e.blueprint.id, [e.blueprint.title], f"{e.blueprint.title} ({e.kind} blueprint)")
                    for e in listed
                ),
            )
            raise ReferenceNotFound("blueprint", ref, "list_blueprints lists them", near)
    return found


async def launch_body(deps: WrikeContext, entry: Listed, parent: str) -> dict[str, Any]:
    """Where the work goes: a folder or project, or for a task blueprint also a task (as its subtask)."""
    if entry.kind == "folder":
        return {"parent": await deps.resolver.folder_id(parent)}
    try:
        return {"parentId": await deps.resolver.folder_id(parent)}
    except ReferenceNotFound:
        try:
            return {"superTaskId": await deps.resolver.task_id(parent)}
        except ReferenceNotFound:
            raise ReferenceNotFound(
                "folder, project or task", parent, "give a path, an id, a permalink or a task title"
            ) from None


async def follow_job(ctx: Context[Any], deps: WrikeContext, job: AsyncJob) -> AsyncJob:
    """Poll the job until it ends or LAUNCH_TIME_LIMIT passes, reporting its progress after each read."""
    deadline = time.monotonic() + LAUNCH_TIME_LIMIT
    polls = 0
    while job.status not in ("Completed", "Failed"):
        delay = POLL_DELAYS[min(polls, len(POLL_DELAYS) - 1)]
        if time.monotonic() + delay > deadline:
            return job
        await anyio.sleep(delay)
        job = await deps.client.get_one(f"/async_job/{job.id}", model=AsyncJob)
        polls += 1
        percent = job.progress_percent or 0.0
        await ctx.report_progress(percent, 100, f"blueprint launch {job.status or 'running'}: {percent:.0f}%")
    return job


def job_ids(job: AsyncJob, key: str) -> list[str]:
    value = (job.result or {}).get(key)
    return [str(ident) for ident in value] if isinstance(value, list) else []


async def created_folder(deps: WrikeContext, folder: Folder) -> CreatedItem:
    deps.resolver.forget_folder_tree()  # list_folders and folder references see it and its subfolders
    return await created_item(deps, folder)


def newest(
    found: Sequence[Made], title: str, parent_of: Callable[[Made], list[str]], parent: str, *, only: bool
) -> Made | None:
    """The latest created of the items titled `title` (Wrike's title filter matches contains) under parent;
    None when none is, or two are equally new (which one the launch made cannot be told). With `only` (the
    query asked the parent's direct children alone) an item that names no parents is taken as the parent's."""
    matches = [
        item
        for item in found
        if fold(item.title) == fold(title) and (parent in parent_of(item) or (only and not parent_of(item)))
    ]
    matches.sort(key=lambda item: item.created_date or EPOCH, reverse=True)
    if not matches or (len(matches) > 1 and matches[0].created_date == matches[1].created_date):
        return None
    return matches[0]


async def looked_up(deps: WrikeContext, launched: tuple[str, str, str]) -> CreatedItem | None:
    """What a launch made, found where it went by its title (one request): the job's `result` is an
    unexpanded record in Wrike's description, so no key in it can be counted on."""
    where, parent, title = launched
    if where == "parent":  # a folder blueprint: a folder or project directly in the parent folder
        params = {"title": title, "descendants": False}
        folders = await deps.client.get(f"/folders/{parent}/folders", params, model=Folder)
        folder = newest(folders, title, lambda f: f.parent_ids, parent, only=True)
        return await created_folder(deps, folder) if folder else None
    if where == "parentId":  # a task blueprint into a folder: a task directly in it
        params = {"title": title, "descendants": False, "subTasks": False, "fields": LIST_FIELDS}
        tasks = await deps.client.get(f"/folders/{parent}/tasks", params, model=Task)
        task = newest(tasks, title, lambda t: t.parent_ids, parent, only=True)
    else:  # a task blueprint under a task: its subtask
        params = {"title": title, "subTasks": True, "fields": LIST_FIELDS}
        task = newest(
            await deps.client.get("/tasks", params, model=Task),
            title,
            lambda t: t.super_task_ids,
            parent,
            only=False,
        )
    return await created_item(deps, task) if task else None


async def created_root(deps: WrikeContext, job: AsyncJob) -> CreatedItem | None:
    """The folder, project or task the job created, read once: by the id the job's `result` gives when it
    gives one (the sandbox's keys; Wrike documents none), else looked up under the launch's parent by title.
    The cached tree is read afresh when a folder came (the job made it after the launch)."""
    result = job.result or {}
    if isinstance(result.get("folderId"), str):
        return await created_folder(
            deps, await deps.client.get_one(f"/folders/{result['folderId']}", model=Folder)
        )
    if isinstance(result.get("taskId"), str):
        return await created_item(deps, await deps.client.get_one(f"/tasks/{result['taskId']}", model=Task))
    launched = deps.resolver.launches.get(job.id)
    return await looked_up(deps, launched) if launched else None


async def launch_answer(ctx: Context[Any], deps: WrikeContext, job: AsyncJob) -> LaunchResult:
    job = await follow_job(ctx, deps, job)
    if job.status == "Failed":
        made = job_ids(job, "folderIds") + job_ids(job, "taskIds")
        outcome = (
            f"it created {len(made)} items first: {', '.join(made[:10])}" if made else "nothing was created"
        )
        raise ToolError(
            f"the blueprint launch failed (job {job.id}): {quoted(job.error_message or 'no reason given', 160)}; "
            f"{outcome}"
        )
    if job.status != "Completed":
        return LaunchResult(
            status="in_progress",
            job=job.id,
            progress_percent=job.progress_percent,
            check_again=f'check_blueprint_launch job="{job.id}" (launching again would copy twice)',
        )
    deps.resolver.forget_task_titles()  # the copied tasks' titles may now name two tasks
    created = await created_root(deps, job)
    tasks = job_ids(job, "taskIds")
    counted = "taskIds" in (job.result or {})
    return LaunchResult(
        status="completed",
        job=job.id,
        created=created,
        task_count=len(tasks) if counted else None,
        task_ids=tasks[:TASK_IDS_SHOWN],
        note=None if created else NOT_FOUND_NOTE,
    )


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Launch a blueprint", kind="write")
async def launch_blueprint(
    ctx: Context[Any],
    blueprint: Annotated[str, Field(min_length=1, max_length=MAX_REF, description="id or exact title")],
    parent: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_REF,
            description=f"{FOLDER_PHRASE}; for a task blueprint also a {TASK_PHRASE}",
        ),
    ],
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="the new item's title")],
    reschedule_date: Annotated[
        str | None, Field(max_length=MAX_DATE, description=f"shift the dates to: {DATE_PHRASE}")
    ] = None,
    reschedule_mode: Annotated[
        Literal["Start", "End"] | None, Field(description="the date is the first (Start) or last (End) day")
    ] = None,
) -> LaunchResult:
    """Create a project, folder or task (with subtasks) from a blueprint (list_blueprints) under parent.

    Waits up to 25 s; still in_progress: follow it with check_blueprint_launch, never launch again.
    """
    deps = wrike(ctx)
    name = clean_title(title, "new")
    if reschedule_mode is not None and reschedule_date is None:
        raise ToolError("reschedule_mode needs reschedule_date: give the date, or leave the mode out")
    day = await parse_user_day(deps, reschedule_date, "reschedule_date")
    try:
        entry = await find_blueprint(deps, blueprint)
        body = await launch_body(deps, entry, parent)
    except BadReference as exc:
        raise ToolError(exc.message) from None
    body["title"] = name
    if day is not None:
        body["rescheduleDate"] = day.isoformat()
        body["rescheduleMode"] = reschedule_mode or "Start"
    path = f"/{LIST_PATHS[entry.kind]}/{entry.blueprint.id}/launch_async"
    started = await deps.client.post(path, body, model=AsyncJob)
    if not started:
        raise ToolError(
            "Wrike accepted the launch but returned no job: check the parent before launching again"
        )
    where = next(key for key in ("parent", "parentId", "superTaskId") if key in body)
    deps.resolver.launches[started[0].id] = (where, body[where], name)
    return await launch_answer(ctx, deps, started[0])


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Check a blueprint launch")
async def check_blueprint_launch(
    ctx: Context[Any],
    job: Annotated[str, Field(min_length=1, max_length=100, description="from launch_blueprint")],
) -> LaunchResult:
    """Follow a launch_blueprint job that was still in progress; returns what it created once done."""
    deps = wrike(ctx)
    if not JOB_ID.match(job.strip()):
        raise ToolError("job is not a job id: pass the job of an earlier launch_blueprint answer")
    return await launch_answer(
        ctx, deps, await deps.client.get_one(f"/async_job/{job.strip()}", model=AsyncJob)
    )
