"""MCP resources (wrike://me, wrike://task/{id}, wrike://folder/{id}, wrike://workflows) and completions.

Resources follow the tools' output contract (DESIGN §5): compact JSON, ids next to names, plain text cut at
the documented limits. An id Wrike does not know is the SDK's `ResourceNotFoundError` (JSON-RPC -32602);
any other Wrike failure is a `ResourceError` whose message says what to do.

Static resources cannot take a Context, so everything here closes over the server's `ContextProvider` and
asks it for the request's `WrikeContext` (the server's own, or in remote mode the signed-in user's).
Completion (one handler per server) serves prompt arguments (`folder`, `project`, `person`) and the
`id` of `wrike://folder/{id}` from the resolver's caches, by prefix, at most 20 values.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import (
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)
from pydantic import BaseModel, Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import ContextProvider, WrikeContext
from wrike_mcp.tools.errors import tool_error_message
from wrike_mcp.tools.output import Model, Ref, compact_json, show_title
from wrike_mcp.wrike.errors import InvalidParameter, InvalidRequest, ResourceNotFound, WrikeError
from wrike_mcp.wrike.text import fold, one_line

if TYPE_CHECKING:
    from wrike_mcp.tools.render import FolderDetails, TaskDetail
    from wrike_mcp.wrike.resolve import FolderTree

JSON = "application/json"
COMPLETION_LIMIT = 20
_ID = re.compile(r"^[A-Za-z0-9\-_:.=]{1,256}$")  # Wrike's id alphabet (2025 format included)

ME_URI = "wrike://me"
WORKFLOWS_URI = "wrike://workflows"
TASK_URI = "wrike://task/{id}"
FOLDER_URI = "wrike://folder/{id}"


# ---- resource models -----------------------------------------------------------------------------------


class MeResource(Model):
    user: Ref
    email: str | None = None
    timezone: str | None = None
    account: Ref
    api_host: str
    granted_scopes: list[str] | None = None
    mode: str


class StatusItem(Model):
    id: str
    name: str
    group: str | None = Field(default=None, description="Active, Completed, Deferred or Cancelled")


class WorkflowItem(Model):
    id: str
    name: str
    standard: bool | None = None
    statuses: list[StatusItem]


class WorkflowsResource(Model):
    items: list[WorkflowItem]
    total: int


# ---- helpers -------------------------------------------------------------------------------------------


async def _guarded(kind: str, ident: str, read: Callable[[], Awaitable[str]]) -> str:
    """Run a resource read; Wrike failures become the SDK's resource errors with an actionable message."""
    try:
        return await read()
    except (ResourceNotFound, InvalidParameter, InvalidRequest):
        raise ResourceNotFoundError(
            f"{kind} {ident} not found in Wrike (or not visible to these credentials)"
        ) from None
    except WrikeError as exc:
        message = tool_error_message(exc, f"reading a {kind}", [scopes.WS_READ_ONLY]) or exc.message
        raise ResourceError(message) from None


def _check_id(kind: str, ident: str) -> str:
    if not _ID.match(ident):
        raise ResourceNotFoundError(f"{kind} {ident[:60]!r} is not a Wrike id")
    return ident


async def me_resource(state: WrikeContext) -> MeResource:
    me = await state.resolver.me()
    account = await state.client.get_one("/account")
    return MeResource(
        user=Ref(id=me.id, name=show_title(me.name) or None),
        email=me.email,
        timezone=me.timezone,
        account=Ref(id=str(account["id"]), name=show_title(account.get("name")) or None),
        api_host=state.client.base_url,
        granted_scopes=sorted(state.granted_scopes) if state.granted_scopes is not None else None,
        mode=state.mode,
    )


async def workflows_resource(state: WrikeContext) -> WorkflowsResource:
    items = [
        WorkflowItem(
            id=workflow.id,
            name=show_title(workflow.name),
            standard=workflow.standard,
            statuses=[
                StatusItem(id=status.id, name=show_title(status.name), group=status.group)
                for status in workflow.custom_statuses
                if not status.hidden
            ],
        )
        for workflow in await state.resolver.workflows()
        if not workflow.hidden
    ]
    return WorkflowsResource(items=items, total=len(items))


# The task and folder resources render as get_task and get_folder do (render.py). It is imported at the first
# read, like the tool modules, to keep it out of a cold start (see the manifest, registry.py).


async def task_resource(state: WrikeContext, task_id: str) -> TaskDetail:
    from wrike_mcp.tools.render import task_detail
    from wrike_mcp.wrike.models import Task

    return await task_detail(state, await state.client.get_one(f"/tasks/{task_id}", model=Task))


async def folder_resource(state: WrikeContext, folder_id: str) -> FolderDetails:
    from wrike_mcp.tools.render import folder_details, load_folder

    return await folder_details(state, await load_folder(state, folder_id))


# ---- completion ----------------------------------------------------------------------------------------


def _finish(values: list[str]) -> Completion:
    unique = list(dict.fromkeys(values))
    return Completion(
        values=unique[:COMPLETION_LIMIT], total=len(unique), has_more=len(unique) > COMPLETION_LIMIT
    )


def path_candidates(tree: FolderTree, prefix: str, *, projects_only: bool) -> list[tuple[str, str]]:
    """(id, path) of folders/projects whose path, title or a trailing part of the path starts with `prefix`.

    Best matches first: the whole path, then the title, then any later path segment.
    """
    wanted = fold(prefix.strip().strip("/"))
    ranked: list[tuple[int, str, str]] = []
    for ident, folder in tree.nodes.items():
        if ident in tree.root_ids or (projects_only and not folder.is_project):
            continue
        parts = [one_line(part) for part in tree.path(ident)]
        path = "/".join(parts)
        if not path:
            continue
        folded = [fold(part) for part in parts]
        if fold(path).startswith(wanted):
            rank = 0
        elif folded[-1].startswith(wanted):
            rank = 1
        elif any("/".join(folded[i:]).startswith(wanted) for i in range(1, len(folded))):
            rank = 2
        else:
            continue
        ranked.append((rank, path, ident))
    ranked.sort(key=lambda item: (item[0], item[1].casefold()))
    return [(ident, path) for _, path, ident in ranked]


async def complete_path(state: WrikeContext, prefix: str, *, projects_only: bool) -> Completion:
    tree = await state.resolver.folder_tree()
    return _finish([path for _, path in path_candidates(tree, prefix, projects_only=projects_only)])


async def complete_folder_id(state: WrikeContext, prefix: str) -> Completion:
    tree = await state.resolver.folder_tree()
    by_id = [ident for ident in tree.nodes if ident not in tree.root_ids and ident.startswith(prefix.strip())]
    by_name = [ident for ident, _ in path_candidates(tree, prefix, projects_only=False)]
    return _finish(sorted(by_id) + by_name)


async def complete_person(state: WrikeContext, prefix: str) -> Completion:
    wanted = fold(prefix)
    contacts = [c for c in await state.resolver.contacts() if c.type == "Person" and not c.deleted and c.name]
    counts: dict[str, int] = {}
    for contact in contacts:
        counts[fold(contact.name)] = counts.get(fold(contact.name), 0) + 1
    values = ["me"] if "me".startswith(wanted) else []
    matches = []
    for contact in contacts:
        name = one_line(contact.name)
        email = contact.email or ""
        if fold(name).startswith(wanted) or fold(contact.last_name).startswith(wanted):
            # a full name two people share would be ambiguous: offer the email instead
            matches.append(email if counts[fold(name)] > 1 and email else name)
        elif fold(email).startswith(wanted):
            matches.append(email)
    values.extend(sorted(matches, key=str.casefold))
    return _finish(values)


CompletionKind = Literal["folder", "project", "person", "folder_id"]

PROMPT_ARGUMENTS: dict[str, CompletionKind] = {"folder": "folder", "project": "project", "person": "person"}
COMPLETING_PROMPTS = ("triage_tasks", "project_status_report")  # the prompts with such arguments


def completion_kind(ref: PromptReference | ResourceTemplateReference, argument: str) -> CompletionKind | None:
    if isinstance(ref, ResourceTemplateReference):
        return "folder_id" if ref.uri == FOLDER_URI and argument == "id" else None
    return PROMPT_ARGUMENTS.get(argument)


async def complete(state: WrikeContext, kind: CompletionKind, value: str) -> Completion:
    value = value[:200]
    if kind == "person":
        return await complete_person(state, value)
    if kind == "folder_id":
        return await complete_folder_id(state, value)
    return await complete_path(state, value, projects_only=kind == "project")


# ---- registration --------------------------------------------------------------------------------------


def declared_uri(uri: str) -> str | None:
    """The resource URI or URI template (as in `READS`) that `uri` is read through; None when none is."""
    if uri in (ME_URI, WORKFLOWS_URI):
        return uri
    for template in (TASK_URI, FOLDER_URI):
        if uri.startswith(template.removesuffix("{id}")):
            return template
    return None


def register(server: MCPServer[Any], contexts: ContextProvider, *, offered: Callable[[str], bool]) -> None:
    """Add the resources and resource templates `offered` names, and completion for those that complete.

    `contexts` gives each request's context: the server's own, or in remote mode the signed-in user's.
    `offered(uri or prompt name)` says whether the configuration, and at request time the request's user,
    is offered it; completion answers only for prompts and templates so offered.
    """
    if offered(ME_URI):
        _register_me(server, contexts)
    if offered(WORKFLOWS_URI):
        _register_workflows(server, contexts)
    if offered(TASK_URI):
        _register_task(server, contexts)
    if offered(FOLDER_URI):
        _register_folder(server, contexts)
    if any(offered(name) for name in (FOLDER_URI, *COMPLETING_PROMPTS)):
        _register_completion(server, contexts, offered)


def _register_me(server: MCPServer[Any], contexts: ContextProvider) -> None:
    @server.resource(
        ME_URI,
        name="me",
        title="Current Wrike user",
        description="Who the server acts as: user, email, account, API host, granted scopes and mode (JSON).",
        mime_type=JSON,
    )
    async def read_me() -> str:
        return await _guarded("user", "me", lambda: _render(me_resource(contexts.current())))


def _register_workflows(server: MCPServer[Any], contexts: ContextProvider) -> None:
    @server.resource(
        WORKFLOWS_URI,
        name="workflows",
        title="Wrike workflows",
        description="Every workflow with its custom statuses (id, name, status group), as JSON.",
        mime_type=JSON,
    )
    async def read_workflows() -> str:
        return await _guarded("workflows", "list", lambda: _render(workflows_resource(contexts.current())))


def _register_task(server: MCPServer[Any], contexts: ContextProvider) -> None:
    @server.resource(
        TASK_URI,
        name="task",
        title="Wrike task",
        description=(
            "One task by its Wrike id: status, assignees, dates, folders and plain-text description (JSON)."
        ),
        mime_type=JSON,
    )
    async def read_task(id: str) -> str:
        task_id = _check_id("task", id)
        return await _guarded("task", task_id, lambda: _render(task_resource(contexts.current(), task_id)))


def _register_folder(server: MCPServer[Any], contexts: ContextProvider) -> None:
    @server.resource(
        FOLDER_URI,
        name="folder",
        title="Wrike folder or project",
        description=(
            "One folder, project or space by its Wrike id: path, description, project info, children (JSON)."
        ),
        mime_type=JSON,
    )
    async def read_folder(id: str) -> str:
        folder_id = _check_id("folder", id)
        return await _guarded(
            "folder", folder_id, lambda: _render(folder_resource(contexts.current(), folder_id))
        )


def _register_completion(
    server: MCPServer[Any], contexts: ContextProvider, offered: Callable[[str], bool]
) -> None:
    @server.completion()  # type: ignore[no-untyped-call, untyped-decorator]
    async def handle_completion(
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        kind = completion_kind(ref, argument.name)
        if kind is None or not offered(ref.uri if isinstance(ref, ResourceTemplateReference) else ref.name):
            return None
        try:
            return await complete(contexts.current(), kind, argument.value)
        except WrikeError:
            return Completion(values=[], total=0, has_more=False)  # completion is best-effort


async def _render(model: Awaitable[BaseModel]) -> str:
    return compact_json(await model)
