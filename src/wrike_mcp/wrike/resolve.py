"""Turning what a person pastes (ids, permalinks, paths, names, emails, status names) into Wrike ids.

Every lookup either returns exactly one id or raises: `ReferenceNotFound` when nothing matches and
`AmbiguousReference`, listing the candidates, when several do. Nothing is guessed.

The contacts, workflows, spaces, custom fields and the folder tree are cached for `ttl` seconds; concurrent
cold lookups share one fetch. The resolver hears of every write made through its client (a write hook), and
`written(entity)` with Wrike's answer keeps the caches true: see its rule. No tool has to remember to.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
from pydantic import ValidationError

from wrike_mcp.hosts import wrike_host
from wrike_mcp.wrike.client import WrikeClient, Written
from wrike_mcp.wrike.errors import (
    AmbiguousReference,
    InvalidParameter,
    InvalidRequest,
    ReferenceNotFound,
    ResourceNotFound,
)
from wrike_mcp.wrike.models import (
    Contact,
    CustomField,
    CustomStatus,
    Folder,
    IdMapping,
    Space,
    Task,
    TimelogCategory,
    Workflow,
    WrikeModel,
)
from wrike_mcp.wrike.rules import status_group, status_names, statuses_named
from wrike_mcp.wrike.text import closest, fold

T = TypeVar("T")

ONLY_WRIKE_LINKS = "only Wrike links such as https://www.wrike.com/open.htm?id=123 are understood"

# Ids are opaque: an account holds classic 16-character upper-case ids and, since 2025, short mixed-case
# ones (`MAAAAAEFzzde`), and neither shape is ever required. The classic shape only saves a request: no
# task title looks like it, so such a reference is taken as a task id without asking Wrike (Wrike's 404
# names it if it is wrong). Any other single token that could be an id (a short id, or a one-word title
# such as "Deliverables") is tried as an id first, then as a title.
MAX_CONTACT_QUERIES = 100
_CLASSIC_ID = re.compile(r"^[A-Z0-9]{16}$")
_MAYBE_ID = re.compile(r"^[A-Za-z0-9\-_:.=]{1,256}$")
_LEGACY_NUMBER = re.compile(r"^\d{1,19}$")


# The answers to writes that change a cached list, by Wrike's `kind`, as the models `written` takes.
_CACHED_KINDS: dict[str, type[WrikeModel]] = {
    "folders": Folder,
    "spaces": Space,
    "workflows": Workflow,
    "customfields": CustomField,
    "contacts": Contact,
}


def legacy_id_from_permalink(ref: str) -> str | None:
    """The legacy numeric id in a permalink (`https://www.wrike.com/open.htm?id=123`) or a bare number."""
    ref = ref.strip()
    if _LEGACY_NUMBER.match(ref):
        return ref
    if "wrike.com/" in ref and "://" not in ref:
        ref = "https://" + ref
    parts = urlsplit(ref)
    if parts.scheme not in ("http", "https") or not parts.hostname or wrike_host(parts.hostname) is None:
        return None
    values = parse_qs(parts.query).get("id") or parse_qs(parts.fragment.partition("?")[2]).get("id") or []
    return values[0] if values and _LEGACY_NUMBER.match(values[0]) else None


def canonical_permalink(legacy: str) -> str:
    """The permalink Wrike gives an item of this number, as its `permalink` filters match it (exactly)."""
    return f"https://www.wrike.com/open.htm?id={legacy}"


def _is_link(ref: str) -> bool:
    return "://" in ref or ref.lower().startswith(("www.", "wrike.com/"))


class _Cached(Generic[T]):
    """A value fetched at most once per TTL; concurrent callers during a fetch wait for that one fetch.

    A `clear()` while a fetch is under way wins: that fetch may predate what made the value stale, so its
    answer serves the caller that started it but is not kept. The fetch is the caller's (`get(fetch)`), so
    that a resolver `bound` to another client view fetches through that view.
    """

    def __init__(self, ttl: float, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._value: T | None = None
        self._fetched_at: float | None = None
        self._generation = 0  # counts clears
        self._lock = anyio.Lock()

    def _fresh(self) -> bool:
        return self._fetched_at is not None and self._clock() - self._fetched_at < self._ttl

    async def get(self, fetch: Callable[[], Awaitable[T]]) -> T:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # another caller may have fetched while we waited
                    generation = self._generation
                    self._value = await fetch()
                    self._fetched_at = self._clock() if generation == self._generation else None
        assert self._value is not None
        return self._value

    def peek(self) -> T | None:
        """The cached value while fresh, without fetching."""
        return self._value if self._fresh() else None

    def clear(self) -> None:
        self._fetched_at = None
        self._value = None
        self._generation += 1


@dataclass
class FolderTree:
    """The account's folders, projects and spaces, with paths (`Space/Folder/Sub`) for output and matching."""

    nodes: dict[str, Folder] = field(default_factory=dict)
    parents: dict[str, list[str]] = field(default_factory=dict)  # child id -> parent ids, tree order
    space_ids: set[str] = field(default_factory=set)
    root_ids: set[str] = field(default_factory=set)  # the virtual root and recycle bin

    def ancestors(self, folder_id: str) -> list[str]:
        """Ids from the top (a space or top-level folder) down to the folder's parent, via first parents."""
        chain: list[str] = []
        current = folder_id
        while True:
            parent = next(iter(self.parents.get(current, [])), None)
            if parent is None or parent in self.root_ids or parent in chain or parent == folder_id:
                return list(reversed(chain))
            chain.append(parent)
            current = parent

    def path(self, folder_id: str) -> list[str]:
        return [
            self.nodes[ident].title
            for ident in [*self.ancestors(folder_id), folder_id]
            if ident in self.nodes
        ]

    def space_of(self, folder_id: str) -> str | None:
        for ident in [*self.ancestors(folder_id), folder_id]:
            if ident in self.space_ids:
                return ident
        return None

    def put(self, folder: Folder) -> None:
        """Place a folder or project where a write's answer says it lies (`parentIds`, kept when the answer
        lacks them); one moved to the Recycle Bin leaves the tree."""
        old_parents = self.parents.pop(folder.id, [])
        in_bin = bool(folder.scope and folder.scope.startswith("Rb"))
        new_parents = [] if in_bin else (folder.parent_ids or old_parents)
        for parent_id in (p for p in old_parents if p not in new_parents and p in self.nodes):
            parent = self.nodes[parent_id]
            kept = [c for c in parent.child_ids if c != folder.id]
            self.nodes[parent_id] = parent.model_copy(update={"child_ids": kept})
        if in_bin:
            self.nodes.pop(folder.id, None)
            return
        self.nodes[folder.id] = folder
        self.parents[folder.id] = [p for p in old_parents if p in new_parents] + [
            p for p in new_parents if p not in old_parents
        ]
        for parent_id in new_parents:
            parent_node = self.nodes.get(parent_id)
            if parent_node is not None and folder.id not in parent_node.child_ids:
                added = [*parent_node.child_ids, folder.id]
                self.nodes[parent_id] = parent_node.model_copy(update={"child_ids": added})


class Resolver:
    """Resolves references for the tools; one per client."""

    def __init__(
        self, client: WrikeClient, ttl: float = 60.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.ttl = ttl
        self._contacts: _Cached[list[Contact]] = _Cached(ttl, clock)
        self._contact_queries: dict[str, _Cached[list[Contact]]] = {}  # filtered GET /contacts, by query
        self._workflows: _Cached[list[Workflow]] = _Cached(ttl, clock)
        self._custom_fields: _Cached[list[CustomField]] = _Cached(ttl, clock)
        self._tree: _Cached[FolderTree] = _Cached(ttl, clock)
        self._me: _Cached[Contact] = _Cached(ttl, clock)
        self._spaces: _Cached[list[Space]] = _Cached(ttl, clock)
        self._timelog_categories: _Cached[list[TimelogCategory]] = _Cached(ttl, clock)
        self._clock = clock
        self._task_titles: dict[str, tuple[str, float]] = {}  # folded title -> (task id, when found)
        # Blueprint launches this user started: job id -> (parent parameter, parent id, title), so that a
        # completed job whose `result` names nothing is looked up where it went (tools/blueprints.py).
        self.launches: dict[str, tuple[str, str, str]] = {}
        # A path's page size Wrike took after refusing a larger one (tools/pages.py `with_page_size`).
        self.page_sizes: dict[str, int] = {}
        client.write_hooks.append(self._heard)

    def bound(self, client: WrikeClient) -> Resolver:
        """This resolver, its caches shared, reading through `client` (a `hooked` view of its own client)."""
        view = copy.copy(self)
        view.client = client
        return view

    def _heard(self, write: Written) -> None:
        """The write hook: Wrike's answer to a write made through the client, as the entities `written`
        takes. A write whose outcome is unknown, or whose answer does not parse, may have changed anything."""
        if write.entities is None:
            self.forget_everything()
            return
        if write.kind == "tasks":
            self.forget_task_titles()  # a created, renamed or deleted task: a title may name another task now
            return
        model = _CACHED_KINDS.get(write.kind or "")
        if model is None:
            return
        try:
            entities = [model.model_validate(item) for item in write.entities]
        except ValidationError:
            self.forget_everything()
            return
        for entity in entities:
            self.written(entity)

    def written(self, entity: WrikeModel) -> None:
        """Keep the caches true after a write, given Wrike's answer to it.

        The rule: a write changes only the cached list of its own kind. A folder or project goes into the
        cached folder tree as the answer shows it (no re-read); a written space empties the spaces and the
        tree (which holds them), a workflow the workflows, a custom field the custom fields, a contact the
        contacts and `me`; a task, comment, timelog or dependency changes no cached list (a task write, which
        may make a title name another task, forgets the titles: see `_heard`).
        """
        if isinstance(entity, Folder):
            tree = self._tree.peek()
            if tree is not None:
                tree.put(entity)
            else:
                self._tree.clear()  # a read of the tree under way may predate the write
        elif isinstance(entity, Space):
            self._spaces.clear()
            self._tree.clear()
        elif isinstance(entity, Workflow):
            self._workflows.clear()
        elif isinstance(entity, CustomField):
            self._custom_fields.clear()
        elif isinstance(entity, Contact):
            self._contacts.clear()
            self._contact_queries.clear()
            self._me.clear()

    def forget_everything(self) -> None:
        """Read every list afresh next time: the account changed in ways no single write tells (e.g. an
        emulator reset under a running server)."""
        for cached in (
            self._contacts,
            self._workflows,
            self._custom_fields,
            self._tree,
            self._me,
            self._spaces,
            self._timelog_categories,
        ):
            cached.clear()
        self._contact_queries.clear()
        self._task_titles.clear()

    def forget_folder_tree(self) -> None:
        """Read the tree afresh next time: it may predate a folder someone else made."""
        self._tree.clear()

    def forget_task_titles(self) -> None:
        """Forget which task each title named (after a write that creates, renames or deletes a task)."""
        self._task_titles.clear()

    # ---- cached lists --------------------------------------------------------------------------------

    async def contacts(self) -> list[Contact]:
        return await self._contacts.get(self._fetch_contacts)

    async def contacts_where(self, params: dict[str, Any]) -> list[Contact]:
        """What a filtered `GET /contacts` answers, kept like the whole list (per query, at most
        MAX_CONTACT_QUERIES of them), so a query asked again within the TTL costs no request."""
        key = json.dumps(params, sort_keys=True)
        cached = self._contact_queries.get(key)
        if cached is None:
            if len(self._contact_queries) >= MAX_CONTACT_QUERIES:
                self._contact_queries.clear()
            cached = self._contact_queries[key] = _Cached(self.ttl, self._clock)
        return await cached.get(lambda: self.client.get("/contacts", params, model=Contact))

    def cached_contacts(self) -> list[Contact] | None:
        """The account's contacts while the cached list is fresh; None rather than a request."""
        return self._contacts.peek()

    async def workflows(self) -> list[Workflow]:
        return await self._workflows.get(self._fetch_workflows)

    async def custom_fields(self) -> list[CustomField]:
        return await self._custom_fields.get(self._fetch_custom_fields)

    async def folder_tree(self) -> FolderTree:
        return await self._tree.get(self._fetch_tree)

    async def me(self) -> Contact:
        return await self._me.get(self._fetch_me)

    async def spaces(self) -> list[Space]:
        return await self._spaces.get(self._fetch_spaces)

    async def timelog_categories(self) -> list[TimelogCategory]:
        """The account's timelog categories (managed in Wrike's UI only: no write here changes them)."""
        return await self._timelog_categories.get(self._fetch_timelog_categories)

    async def _fetch_timelog_categories(self) -> list[TimelogCategory]:
        return await self.client.get("/timelog_categories", model=TimelogCategory)

    async def _fetch_spaces(self) -> list[Space]:
        return await self.client.get("/spaces", model=Space)

    async def _fetch_contacts(self) -> list[Contact]:
        return await self.client.get("/contacts", model=Contact)

    async def _fetch_me(self) -> Contact:
        return await self.client.get_one("/contacts", {"me": True}, model=Contact)

    async def _fetch_workflows(self) -> list[Workflow]:
        return await self.client.get("/workflows", model=Workflow)

    async def _fetch_custom_fields(self) -> list[CustomField]:
        return await self.client.get("/customfields", model=CustomField)

    async def _fetch_tree(self) -> FolderTree:
        tree = FolderTree()
        for folder in await self.client.get("/folders", model=Folder):
            if folder.scope in ("WsRoot", "RbRoot"):
                tree.root_ids.add(folder.id)
            elif folder.scope and folder.scope.startswith("Rb"):
                continue  # the Recycle Bin is not part of the workspace
            tree.nodes[folder.id] = folder
            if folder.space is True:  # tree entries mark spaces
                tree.space_ids.add(folder.id)
        for folder in tree.nodes.values():
            for child in folder.child_ids:
                tree.parents.setdefault(child, []).append(folder.id)
        if not tree.space_ids:  # a tree without space markers: ask for the spaces
            for space in await self.spaces():
                tree.space_ids.add(space.id)
                tree.nodes.setdefault(space.id, Folder(id=space.id, title=space.title))
        return tree

    # ---- tasks -------------------------------------------------------------------------------------

    async def task_id(self, ref: str) -> str:
        """A task's v4 id from an id, a permalink or legacy number, or its exact title (case-insensitive)."""
        ref = ref.strip()
        if not ref:
            raise ReferenceNotFound("task", ref, "give an id, a permalink or the task's title")
        legacy = legacy_id_from_permalink(ref)
        if legacy is not None:
            found = await self._by_permalink("/tasks", legacy) or await self._convert_legacy(
                "ApiV2Task", legacy
            )
            if found:
                return found
            if _is_link(ref):
                raise ReferenceNotFound(
                    "task", ref, "no task has this permalink (it may be a folder or deleted)"
                )
        elif _is_link(ref):
            raise ReferenceNotFound("task", ref, ONLY_WRIKE_LINKS)
        if _CLASSIC_ID.match(ref):
            return ref
        remembered = self._titled_task(ref)
        if remembered is not None:
            return remembered
        if _MAYBE_ID.match(ref) and await self._exists(f"/tasks/{ref}"):
            return ref
        return (await self._task_by_title(ref)).id

    async def task(self, ref: str, fields: Sequence[str] = ()) -> Task:
        """The task a reference names, read by the request that finds it: an id's `GET /tasks/{id}` (Wrike's
        full model), or a title's search, which also asks for the optional `fields` (a permalink adds the
        request converting it)."""
        ref = ref.strip()
        maybe_title = ref and legacy_id_from_permalink(ref) is None and not _is_link(ref)
        if maybe_title and not _CLASSIC_ID.match(ref) and self._titled_task(ref) is None:
            if _MAYBE_ID.match(ref):
                try:
                    return await self.client.get_one(f"/tasks/{ref}", model=Task)
                except (ResourceNotFound, InvalidParameter, InvalidRequest):
                    pass  # not an id: a one-word title
            return await self._task_by_title(ref, fields)
        return await self.client.get_one(f"/tasks/{await self.task_id(ref)}", model=Task)

    async def tasks(self, refs: Sequence[str]) -> list[Task]:
        """The tasks several references name (duplicates once), ids of any shape read together in multi-id
        GETs instead of one existence check each; titles and permalinks resolve one by one first. When the
        GET refuses one of them (a one-word title shaped like an id), each reference resolves on its own."""
        ids = [ref.strip() if self._id_shaped(ref) else await self.task_id(ref) for ref in refs]
        unique = list(dict.fromkeys(ids))
        try:
            found = await self.client.get_many("/tasks/{ids}", unique, model=Task)
        except (ResourceNotFound, InvalidParameter, InvalidRequest):
            found = []
        if len(found) == len(unique):
            return found
        resolved = list(dict.fromkeys([await self.task_id(ref) for ref in refs]))
        return await self.client.get_many("/tasks/{ids}", resolved, model=Task)

    def task_id_at_hand(self, ref: str) -> str | None:
        """The task id a reference gives without asking Wrike, so a call can read the task and what hangs off
        it together: an id (an id given is an id; Wrike's own error says when it is not one) or a title named
        lately. None for titles to search, links and legacy numbers."""
        ref = ref.strip()
        if _CLASSIC_ID.match(ref):
            return ref
        remembered = self._titled_task(ref)
        if remembered is not None:
            return remembered
        return ref if _MAYBE_ID.match(ref) and not _LEGACY_NUMBER.match(ref) else None

    def _id_shaped(self, ref: str) -> bool:
        ref = ref.strip()
        return bool(_MAYBE_ID.match(ref)) and self._titled_task(ref) is None and not _LEGACY_NUMBER.match(ref)

    async def _task_by_title(self, title: str, fields: Sequence[str] = ()) -> Task:
        # Wrike's title filter is a contains match (case undocumented): it only narrows the scan to a few
        # tasks, and the exact title ("Launch", not "Launch plan") is checked here, ignoring case.
        title = " ".join(title.split())
        wanted = list(dict.fromkeys(["parentIds", *fields]))
        # subTasks said out loud: whether account-wide queries include subtasks by default is undocumented.
        params = {"title": title, "fields": wanted, "subTasks": True}
        found = await self.client.get("/tasks", params, model=Task)
        matches = [task for task in found if fold(task.title) == fold(title)]
        if len(matches) == 1:
            self._task_titles[fold(title)] = (matches[0].id, self._clock())
            return matches[0]
        tree = await self.folder_tree()

        def located(task: Task) -> str:
            parent_ids = [p for p in task.parent_ids if p in tree.nodes]
            return f"{task.title} in {'/'.join(tree.path(parent_ids[0]))}" if parent_ids else task.title

        if not matches:
            # Wrike's contains match found these: the closest of them are what the title was probably meant as
            near = closest(title, ((task.id, [task.title], located(task)) for task in found))
            raise ReferenceNotFound(
                "task", title, "a title must be exact; search_tasks finds tasks by words in the title", near
            )
        raise AmbiguousReference("task", title, [(task.id, located(task)) for task in matches])

    def _titled_task(self, title: str) -> str | None:
        """The task a title named within the last `ttl` seconds, like the folder tree names folders: a title
        given again (add_comment after get_task, say) costs no search."""
        found = self._task_titles.get(fold(title))
        if found is None or self._clock() - found[1] >= self.ttl:
            return None
        return found[0]

    async def _by_permalink(self, path: str, legacy: str) -> str | None:
        """The task (`/tasks`) or folder (`/folders`) whose permalink is this number's, by the documented
        exact-match `permalink` filter; subtasks count (account-wide queries leave them out by default)."""
        params: dict[str, Any] = {"permalink": canonical_permalink(legacy)}
        if path == "/tasks":
            params["subTasks"] = True
        try:
            found = await self.client.get(path, params)
        except (ResourceNotFound, InvalidParameter, InvalidRequest):
            return None
        ident = found[0].get("id") if found else None
        return ident if isinstance(ident, str) and ident else None

    async def _convert_legacy(self, kind: str, legacy: str) -> str | None:
        """A legacy number through `GET /ids`: the way of items older than the id change, only when the
        permalink filter found nothing."""
        try:
            found = await self.client.get("/ids", {"type": kind, "ids": [legacy]}, model=IdMapping)
        except (ResourceNotFound, InvalidParameter, InvalidRequest):
            return None
        return found[0].id if found and found[0].id else None

    async def _exists(self, path: str) -> bool:
        try:
            return bool(await self.client.get(path))
        except (ResourceNotFound, InvalidParameter, InvalidRequest):
            return False

    # ---- folders, projects, spaces ------------------------------------------------------------------

    async def folder_id(self, ref: str, *, project_only: bool = False) -> str:
        """A folder's (or project's) id from an id, a permalink, a path `Space/Folder/Sub` or a unique title.

        A path's segments match titles case-insensitively; the space and intermediate folders may be left
        out (`Marketing/Q3 Launch`), but a path that names every level wins over such a shortcut.
        """
        kind = "project" if project_only else "folder"
        ref = ref.strip().strip("/")
        if not ref:
            raise ReferenceNotFound(
                kind, ref, f"give an id, a permalink or a path such as Space/{kind.title()}"
            )
        tree = await self.folder_tree()
        legacy = legacy_id_from_permalink(ref)
        if legacy is not None:
            found = await self._by_permalink("/folders", legacy) or await self._convert_legacy(
                "ApiV2Folder", legacy
            )
            if found:
                return self._check_kind(tree, found, kind, ref, project_only)
            if _is_link(ref):
                raise ReferenceNotFound(kind, ref, "no folder or project has this permalink")
        elif _is_link(ref):
            raise ReferenceNotFound(kind, ref, ONLY_WRIKE_LINKS)
        if ref in tree.nodes:
            return self._check_kind(tree, ref, kind, ref, project_only)
        candidates = [
            ident
            for ident, folder in tree.nodes.items()
            if (not project_only or folder.is_project) and (project_only or ident not in tree.root_ids)
        ]
        try:
            return self._match_path(tree, ref, candidates, kind)
        except ReferenceNotFound as missing:
            # An id the cached tree does not know yet (a folder made since, by someone else): ask Wrike.
            if "/" in ref or not _MAYBE_ID.match(ref):
                raise
            try:
                folder = await self.client.get_one(f"/folders/{ref}", model=Folder)
            except (ResourceNotFound, InvalidParameter, InvalidRequest):
                raise ReferenceNotFound(kind, ref, "list_folders shows the tree", missing.near) from None
            if project_only and not folder.is_project:
                raise ReferenceNotFound(kind, ref, "it is a folder, not a project") from None
            return folder.id

    async def space_id(self, ref: str) -> str:
        """A space's id from its id, a permalink or its title (case-insensitive)."""
        ref = ref.strip().strip("/")
        tree = await self.folder_tree()
        if ref in tree.space_ids:
            return ref
        legacy = legacy_id_from_permalink(ref)
        if legacy is not None:
            found = await self._by_permalink("/folders", legacy) or await self._convert_legacy(
                "ApiV2Folder", legacy
            )
            if found in tree.space_ids:
                assert found is not None
                return found
        matches = [ident for ident in tree.space_ids if fold(tree.nodes[ident].title) == fold(ref)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousReference("space", ref, [(ident, tree.nodes[ident].title) for ident in matches])
        spaces = [(ident, [tree.nodes[ident].title], tree.nodes[ident].title) for ident in tree.space_ids]
        near = closest(ref, spaces)
        names = ", ".join(sorted(title for _, _, title in spaces))
        raise ReferenceNotFound("space", ref, f"spaces: {names}" if names else "", near)

    async def folder_path(self, folder_id: str) -> str:
        """`Space/Folder/Sub` for output; the id itself when the folder is not in the tree."""
        tree = await self.folder_tree()
        return "/".join(tree.path(folder_id)) if folder_id in tree.nodes else folder_id

    async def space_of(self, folder_id: str) -> str | None:
        """The id of the space holding the folder, when it lies in one."""
        return (await self.folder_tree()).space_of(folder_id)

    @staticmethod
    def _check_kind(tree: FolderTree, ident: str, kind: str, ref: str, project_only: bool) -> str:
        folder = tree.nodes.get(ident)
        if project_only and folder is not None and not folder.is_project:
            raise ReferenceNotFound(kind, ref, f"{'/'.join(tree.path(ident))} is a folder, not a project")
        return ident

    @staticmethod
    def _match_path(tree: FolderTree, ref: str, candidates: Sequence[str], kind: str) -> str:
        wanted = [fold(segment) for segment in ref.split("/") if segment.strip()]
        exact: list[str] = []
        shortcut: list[str] = []
        for ident in candidates:
            path = [fold(title) for title in tree.path(ident)]
            if not path or path[-1] != wanted[-1]:
                continue
            if path == wanted or (path[1:] == wanted and tree.space_of(ident) is not None):
                exact.append(ident)
            elif _is_subsequence(wanted[:-1], path[:-1]):
                shortcut.append(ident)
        for matches in (exact, shortcut):
            if len(matches) == 1:
                return matches[0]
            if matches:
                listed = sorted(
                    ((ident, "/".join(tree.path(ident))) for ident in matches), key=lambda c: c[1]
                )
                raise AmbiguousReference(kind, ref, listed)
        # near matches: a bare title by titles (not by paths, which hold every ancestor's title), a path by paths
        paths = {ident: "/".join(tree.path(ident)) for ident in candidates}
        near = closest(
            ref,
            (
                (ident, [tree.nodes[ident].title if len(wanted) == 1 else path], path)
                for ident, path in paths.items()
            ),
        )
        raise ReferenceNotFound(
            kind, ref, "list_folders shows the folder tree; paths look like Space/Folder/Sub", near
        )

    # ---- people ------------------------------------------------------------------------------------

    async def person_id(self, ref: str, *, include_groups: bool = False) -> str:
        """A contact id from `me`, an id, an email, a full name, or a unique first name or part of a name.

        Deactivated people are matched only by id or email; groups only when `include_groups`.
        """
        ref = ref.strip()
        if not fold(ref):
            raise ReferenceNotFound("person", ref, "give me, an email, a name or a contact id")
        if fold(ref) == "me":
            return (await self.me()).id
        contacts = await self.contacts()
        for contact in contacts:
            if contact.id == ref:
                return contact.id
        if "@" in ref:
            by_email = [c for c in contacts if any(fold(e) == fold(ref) for e in c.emails)]
            if not by_email:
                # by the part before "@": colleagues share the rest, which made every one of them "close"
                near = closest(
                    _local_part(ref),
                    ((c.id, [_local_part(e) for e in c.emails], _person_label(c)) for c in contacts),
                )
                raise ReferenceNotFound("person", ref, "find_people lists people by name or email", near)
            return self._one_person(ref, by_email)
        kinds = {"Person", "Group"} if include_groups else {"Person"}
        people = [c for c in contacts if not c.deleted and c.type in kinds]
        full = [c for c in people if fold(c.name) == fold(ref)]
        if full:
            return self._one_person(ref, full)
        named = [c for c in people if fold(ref) in (fold(c.first_name), fold(c.last_name))]
        if named:
            return self._one_person(ref, named)
        partial = [c for c in people if fold(ref) in fold(c.name)]
        if partial:
            return self._one_person(ref, partial)
        if _MAYBE_ID.match(ref) and await self.person(ref) is not None:
            return ref  # an id outside the visible contact list that Wrike knows
        near = closest(ref, ((c.id, [c.name, *c.emails], _person_label(c)) for c in people))
        raise ReferenceNotFound("person", ref, "find_people lists people by name or email", near)

    async def person_ids(self, refs: Iterable[str] | None) -> list[str]:
        """Contact ids for several people references, each as `person_id` takes it (a blank one is refused
        like any other unknown person), duplicates dropped, order kept."""
        return list(dict.fromkeys([await self.person_id(ref) for ref in refs or []]))

    @staticmethod
    def _one_person(ref: str, matches: Sequence[Contact]) -> str:
        if len(matches) == 1:
            return matches[0].id
        if not matches:
            raise ReferenceNotFound("person", ref, "find_people lists people by name or email")
        raise AmbiguousReference("person", ref, [(c.id, _person_label(c)) for c in matches])

    async def person(self, contact_id: str) -> Contact | None:
        """The contact with this id, from the cache (then Wrike, for contacts outside the list)."""
        for contact in await self.contacts():
            if contact.id == contact_id:
                return contact
        try:
            return await self.client.get_one(f"/contacts/{contact_id}", model=Contact)
        except (ResourceNotFound, InvalidParameter, InvalidRequest):
            return None

    async def person_name(self, contact_id: str) -> str | None:
        """The person's (or group's) name for output, or None when Wrike does not know the id."""
        contact = await self.person(contact_id)
        return contact.name if contact else None

    # ---- workflows and statuses ---------------------------------------------------------------------

    async def custom_status(
        self, ref: str, *, workflow_id: str | None = None, folder_id: str | None = None
    ) -> tuple[str, str]:
        """(customStatusId, status group) for a status group name or a custom status name (or id).

        Always a custom status: wrike-mcp never sends Wrike's task `status` parameter, which the Team plan
        refuses, while `customStatus` works on every plan. A status group (Active, Completed, Deferred,
        Cancelled) becomes that group's default status in the task's workflow: `workflow_id`, else the
        workflow a new task in `folder_id` gets, else the account's standard workflow. A custom status name is
        looked up in that workflow when known, else in every workflow; across workflows the same name is
        ambiguous unless all matches are the same status.
        """
        ref = ref.strip()
        if workflow_id is None and folder_id is not None:
            workflow_id = await self.new_task_workflow(folder_id)
        workflows = await self.task_workflows()
        group = status_group(ref)
        if group is not None:
            workflow = _workflow_or_standard(workflows, workflow_id)
            status = workflow.default_status(group)
            if status is None:
                listed = ", ".join(s.name for s in workflow.custom_statuses if not s.hidden)
                raise ReferenceNotFound(
                    "status", group, f"workflow {workflow.name} has no such status; statuses: {listed}"
                )
            return status.id, group
        scope = [w for w in workflows if w.id == workflow_id] if workflow_id else workflows
        if not scope:
            scope = workflows  # the workflow is unknown to us (hidden, deleted): search them all
        named = statuses_named(ref, scope)
        if len(named) == 1:
            status = named[0][1]
            return status.id, status.group or "Active"
        if not named:
            raise ReferenceNotFound("status", ref, status_names(scope))
        candidates = [(s.id, f"{s.name} [{s.group}] in workflow {w.name}") for w, s in named]
        raise AmbiguousReference("status", ref, candidates)

    async def project_workflow_ids(self) -> set[str]:
        """Workflows the spaces name for projects (Wrike's workflow model itself has no kind)."""
        return {w for space in await self.spaces() for w in space.project_workflow_ids}

    async def task_workflows(self) -> list[Workflow]:
        """Workflows for tasks: every workflow but the project workflows, so "In Progress" of a project
        never competes with a task's "In Progress"."""
        for_projects = await self.project_workflow_ids()
        return [w for w in await self.workflows() if w.id not in for_projects]

    async def project_workflows(self) -> list[Workflow]:
        for_projects = await self.project_workflow_ids()
        return [w for w in await self.workflows() if w.id in for_projects]

    async def space_workflow_for_projects(self, folder_id: str) -> Workflow | None:
        """The project workflow a new project under `folder_id` follows: its space's default, if any."""
        space_id = await self.space_of(folder_id)
        space = next((s for s in await self.spaces() if s.id == space_id), None)
        if space is None or not space.default_project_workflow_id:
            return None
        return next((w for w in await self.workflows() if w.id == space.default_project_workflow_id), None)

    async def new_task_workflow(self, folder_id: str) -> str | None:
        """The workflow a task created in this folder or project gets, when Wrike tells: the folder's
        `workflowId` (the 2020 model; the sandbox's rule), else its space's `defaultTaskWorkflowId`."""
        try:
            folder = await self.client.get_one(f"/folders/{folder_id}", model=Folder)
        except (ResourceNotFound, InvalidParameter, InvalidRequest):
            return None
        if folder.workflow_id:
            return folder.workflow_id
        space_id = folder_id if folder.space is True else await self.space_of(folder_id)
        space = next((s for s in await self.spaces() if s.id == space_id), None)
        return space.default_task_workflow_id if space is not None else None

    async def workflow_of_status(self, custom_status_id: str) -> Workflow | None:
        """The workflow a custom status belongs to (a task's workflow, from its `customStatusId`)."""
        for workflow in await self.workflows():
            if any(status.id == custom_status_id for status in workflow.custom_statuses):
                return workflow
        return None

    async def status_by_id(self, custom_status_id: str) -> tuple[CustomStatus, Workflow] | None:
        """A custom status and its workflow, for naming a task's status in output."""
        for workflow in await self.workflows():
            for status in workflow.custom_statuses:
                if status.id == custom_status_id:
                    return status, workflow
        return None

    async def custom_field_id(self, ref: str) -> str:
        """A custom field's id from its id or its title (case-insensitive)."""
        fields = await self.custom_fields()
        ref = ref.strip()
        for custom_field in fields:
            if custom_field.id == ref:
                return ref
        matches = [f for f in fields if fold(f.title) == fold(ref)]
        if len(matches) == 1:
            return matches[0].id
        if matches:
            raise AmbiguousReference("custom field", ref, [(f.id, f"{f.title} ({f.type})") for f in matches])
        near = closest(ref, ((f.id, [f.title], f"{f.title} ({f.type})") for f in fields))
        raise ReferenceNotFound("custom field", ref, "list_custom_fields lists them", near)


def _local_part(email: str) -> str:
    """The mailbox of an address, what tells people on one domain apart."""
    return email.rpartition("@")[0] or email


def _person_label(contact: Contact) -> str:
    return f"{contact.name} <{contact.email}>" if contact.email else contact.name


def _workflow_or_standard(workflows: Sequence[Workflow], workflow_id: str | None) -> Workflow:
    """The workflow with this id; when it is unknown, the account's standard workflow (Wrike's default)."""
    chosen = next((w for w in workflows if w.id == workflow_id), None) if workflow_id else None
    chosen = chosen or next((w for w in workflows if w.standard), None)
    if chosen is None and len(workflows) == 1:
        chosen = workflows[0]
    if chosen is None:
        raise ReferenceNotFound(
            "workflow", workflow_id or "standard", "name a custom status instead (list_workflows)"
        )
    return chosen


def _is_subsequence(wanted: Sequence[Any], path: Sequence[Any]) -> bool:
    """Whether `wanted` appears in `path` in order (not necessarily next to each other)."""
    remaining = iter(path)
    return all(segment in remaining for segment in wanted)
