"""The one place each tool is declared, and the forms derived from that declaration.

A tool is declared once: an async function in a tool module, decorated with `@wrike_tool(scopes=, title=,
kind=, idempotent=)`. Its name is the function's, its description the docstring, its arguments the
signature (with their `Annotated` rules), its result the return annotation (a pydantic model), and its toolset
the one TOOLSET_MODULES gives its module. Every other form is derived from it, none written by hand:

- ToolSpec (REGISTRY): the declaration as data, made by the decorator when the module is imported.
- The SDK's tool: `register()` adds the function to an MCPServer, adapted so that the result is compact (None
  and empty fields dropped) in both `structuredContent` and the text block and Wrike errors become actionable
  tool errors, then has the SDK's schemas slimmed (tools/schemas.py) through sdk_adapter.py.
- The manifest entry (manifest.json): that SDK tool's `tools/list` entry and the module declaring it, written
  by `python -m wrike_mcp.tools.manifest` (tests/tools/test_manifest.py fails while it differs).
- ToolInfo (`declared_tools()`): what the server filters, lists and gates by before any tool module is
  imported, read back from the manifest entry (`info_of`), so it is derived too; ToolSpec extends it with the
  function. At a tool's first call `declared_spec()` imports its module and refuses to run a declaration that
  no longer matches its manifest entry (`same_declaration`).

Tool modules import no other tool module (tests/tools/test_module_imports.py): what they share lives in
helper modules (inputs, output, render, task_search, writes, custom_fields, pages, ...), so a call loads only
its own tool's module.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import json
import logging
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, Tool, ToolAnnotations
from pydantic import BaseModel
from pydantic_core import PydanticCustomError

from wrike_mcp import scopes as scope_rules
from wrike_mcp.sdk_adapter import arguments_model, reshape_tool
from wrike_mcp.tools.errors import fit_first_line, tool_error_message
from wrike_mcp.tools.output import compact, json_text
from wrike_mcp.tools.schemas import slim, slim_arguments

logger = logging.getLogger("wrike_mcp.tools")

Kind = Literal["read", "write", "destructive"]
META_TOOLSET = "wrike-mcp/toolset"
META_SCOPES = "wrike-mcp/scopes"

ToolFn = Callable[..., Awaitable[BaseModel]]


@dataclass(frozen=True)
class ToolInfo:
    """What is known of a tool without importing it: enough to filter, list and gate it (see manifest.py)."""

    name: str
    toolset: str
    scopes: tuple[str, ...]
    title: str
    kind: Kind
    idempotent: bool
    description: str  # model-facing: the function's docstring
    module: str  # where it is declared, imported at its first call

    @property
    def read_only(self) -> bool:
        return self.kind == "read"

    @property
    def destructive(self) -> bool:
        """Destructive tools are offered only where the user can confirm (elicitation) or `--allow-delete`."""
        return self.kind == "destructive"

    @property
    def annotations(self) -> ToolAnnotations:
        return ToolAnnotations(
            read_only_hint=self.read_only,
            destructive_hint=self.destructive,
            idempotent_hint=self.idempotent or self.read_only,
            # Wrike is a remote service holding other people's content; a tool needing no scope never calls it
            open_world_hint=bool(self.scopes),
        )

    @property
    def meta(self) -> dict[str, Any]:
        return {META_TOOLSET: self.toolset, META_SCOPES: list(self.scopes)}


@dataclass(frozen=True)
class ToolSpec(ToolInfo):
    """A declared tool: its information and its function."""

    fn: ToolFn = field(repr=False, compare=False)


# The toolsets in the order a model should see them, each with the modules declaring its tools (a tool's
# toolset is its module's); a toolset's tools come in module order, then in declaration order.
TOOLSET_MODULES = {
    "context": ("context", "toolsets"),
    "folders": ("folders",),
    "projects": ("projects", "activity"),
    "tasks": ("tasks", "my_work", "comments", "approvals"),
    "time": ("timelogs", "time_report"),
    "directory": ("directory",),
    "blueprints": ("blueprints",),
    "attachments": ("attachments",),
    "dependencies": ("dependencies",),
    "bulk": ("bulk",),
    "intake": ("item_types", "request_forms"),
    "app_activity": ("app_activity",),
}
# Toolsets a server offers only when asked: `--toolsets default,app_activity` (or `all`) at start, or
# enable_toolsets within a session (docs/TOOLSETS.md). Every conversation pays for the default tools/list
# (bench/RESULTS.md), so a toolset few conversations need stays out of it while one switch brings it in:
# the day-to-day ones (find and change tasks, comments, approvals, time, the folder tree) are on.
OFF_BY_DEFAULT = frozenset({"blueprints", "attachments", "dependencies", "bulk", "intake", "app_activity"})
# What each toolset is for, as enable_toolsets lists it to a model.
TOOLSET_SUMMARIES = {
    "context": "who you are in Wrike; listing and enabling toolsets",
    "folders": "spaces, the folder tree, a folder's or project's details, task counts and comments",
    "projects": "find, create and update projects; what changed",
    "tasks": "find, read, create, update, delete tasks; my work; comments; approvals",
    "time": "time logs and time reports",
    "directory": "people, workflows and statuses, custom fields",
    "blueprints": "folder, project and task blueprints: list, check and launch",
    "attachments": "a task's or folder's files: list, read, add",
    "dependencies": "links between tasks: add, remove",
    "bulk": "change many tasks at once, with a preview",
    "intake": "custom item types and request forms",
    "app_activity": "admins: the audit log and API-app activity (needs amReadOnlyAuditLog)",
}
TOOLSET_OF = {
    f"wrike_mcp.tools.{module}": toolset for toolset, modules in TOOLSET_MODULES.items() for module in modules
}
TOOL_MODULES = list(TOOLSET_OF)


REGISTRY: dict[str, ToolSpec] = {}


def wrike_tool(
    *, scopes: Iterable[str], title: str, kind: Kind = "read", idempotent: bool = False
) -> Callable[[ToolFn], ToolFn]:
    """Declare a tool. The function's name is the tool's name; its docstring is the model-facing description;
    its module's toolset (TOOLSET_MODULES) is its toolset."""

    def decorator(fn: ToolFn) -> ToolFn:
        if fn.__name__ in REGISTRY:
            raise ValueError(f"tool {fn.__name__} declared twice")
        REGISTRY[fn.__name__] = ToolSpec(
            name=fn.__name__,
            toolset=TOOLSET_OF[fn.__module__],
            scopes=tuple(scopes),
            title=title,
            kind=kind,
            idempotent=idempotent,
            description=inspect.cleandoc(fn.__doc__ or ""),
            module=fn.__module__,
            fn=fn,
        )
        return fn

    return decorator


# What each resource, resource template and prompt reads, as the tools that read the same Wrike data: it is
# offered exactly when one of those tools is, so flags and granted scopes decide for all of them alike.
READS: dict[str, tuple[str, ...]] = {
    "wrike://me": ("get_me",),
    "wrike://workflows": ("list_workflows",),
    "wrike://task/{id}": ("get_task",),
    "wrike://folder/{id}": ("get_folder",),
    "triage_tasks": ("search_tasks",),
    "project_status_report": ("get_folder", "search_tasks"),
}


def all_tools() -> list[ToolSpec]:
    """Every declared tool: modules in TOOL_MODULES order, tools in declaration order within each."""
    for module in TOOL_MODULES:
        importlib.import_module(module)  # declaring registers
    return sorted(REGISTRY.values(), key=lambda spec: TOOL_MODULES.index(spec.module))


def declared_spec(name: str) -> ToolSpec:
    """A declared tool with its function, importing only the module declaring it.

    ToolError if its declaration says other than the manifest: the server filtered, listed and gated the tool
    by the manifest (kind, scopes, schema), so a stale one must not run the code behind it.
    """
    listed = declared_tool(name)
    importlib.import_module(listed.module)
    spec = REGISTRY.get(name)
    if spec is None or same_declaration(spec) != same_declaration(listed):
        logger.error(
            "tool %s does not match the tool manifest (%s): run python -m wrike_mcp.tools.manifest",
            name,
            MANIFEST,
        )
        raise ToolError(
            f"{name} is unavailable: this installation's tool manifest does not match its code; reinstall "
            "wrike-mcp (in a checkout: python -m wrike_mcp.tools.manifest)"
        )
    return spec


def same_declaration(info: ToolInfo) -> ToolInfo:
    """What the manifest and a declaration must agree on: every field of ToolInfo, `idempotent` as the hint
    shows it (a read tool is idempotent whatever it declares)."""
    fields = {field.name: getattr(info, field.name) for field in dataclasses.fields(ToolInfo)}
    return ToolInfo(**{**fields, "idempotent": bool(info.annotations.idempotent_hint)})


# ---- the manifest: `tools/list` without importing the tool modules -----------------------------------------
#
# Importing the tool modules and building their argument models is most of a cold start, and a client asks
# for `tools/list` first. manifest.json holds each tool's wire form as `tools/list` gives it and the module
# declaring it; a tool is imported and built at its first call. `python -m wrike_mcp.tools.manifest` writes
# it, and tests/tools/test_manifest.py fails while it differs from the live declarations.

MANIFEST = Path(__file__).with_name("manifest.json")


@functools.cache
def _manifest() -> dict[str, tuple[ToolInfo, Tool]]:
    """Tool name → (information, `tools/list` entry), in `all_tools()` order."""
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))["tools"]
    listings = [Tool.model_validate(entry["listing"]) for entry in entries]
    return {
        listing.name: (info_of(listing, entry["module"]), listing)
        for entry, listing in zip(entries, listings, strict=True)
    }


def info_of(listing: Tool, module: str) -> ToolInfo:
    """A tool's information as its `tools/list` entry states it (annotations and `_meta`)."""
    hints = listing.annotations or ToolAnnotations()
    meta = listing.meta or {}
    kind: Kind = "read" if hints.read_only_hint else "destructive" if hints.destructive_hint else "write"
    return ToolInfo(
        name=listing.name,
        toolset=meta[META_TOOLSET],
        scopes=tuple(meta[META_SCOPES]),
        title=listing.title or "",
        kind=kind,
        idempotent=bool(hints.idempotent_hint),
        description=listing.description or "",
        module=module,
    )


def declared_tools() -> list[ToolInfo]:
    """Every declared tool, in `all_tools()` order, from the manifest (no tool module is imported)."""
    return [info for info, _ in _manifest().values()]


def declared_tool(name: str) -> ToolInfo:
    """KeyError for a name no tool has."""
    return _manifest()[name][0]


def listing_of(name: str) -> Tool:
    """A tool's `tools/list` entry as the manifest holds it (without outputSchema)."""
    return _manifest()[name][1]


def toolset_names() -> list[str]:
    return list(dict.fromkeys(info.toolset for info in declared_tools()))


ALL_TOOLSETS = "all"  # in --toolsets: every toolset
DEFAULT_TOOLSETS = "default"  # in --toolsets: the toolsets on by default (add others after it)


def default_toolsets() -> frozenset[str]:
    return frozenset(toolset_names()) - OFF_BY_DEFAULT


def chosen_toolsets(setting: Iterable[str] | None) -> frozenset[str] | None:
    """The toolsets a `--toolsets` value turns on (None: all): unset is `default`."""
    names = set(setting) if setting else {DEFAULT_TOOLSETS}
    if ALL_TOOLSETS in names:
        return None
    if DEFAULT_TOOLSETS in names:
        names = (names - {DEFAULT_TOOLSETS}) | default_toolsets()
    return frozenset(names)


def switchable_toolsets(setting: Iterable[str] | None) -> frozenset[str]:
    """The toolsets a session may turn on (enable_toolsets): those off by default that the `--toolsets` value
    leaves off, as long as it keeps the default ones (unset or `default`). A deployment that names its
    toolsets without `default` chose them: sessions cannot widen that choice."""
    names = set(setting) if setting else {DEFAULT_TOOLSETS}
    on = chosen_toolsets(setting)
    if DEFAULT_TOOLSETS not in names or on is None:
        return frozenset()
    return (frozenset(toolset_names()) & OFF_BY_DEFAULT) - on


@dataclass(frozen=True)
class ToolFilter:
    """Which tools a configuration offers (DESIGN §3: flags, env vars, granted scopes)."""

    read_only: bool = False
    toolsets: frozenset[str] | None = None
    tools: frozenset[str] | None = None
    exclude_tools: frozenset[str] = frozenset()
    granted_scopes: frozenset[str] | None = None  # None: unknown (permanent token) → offer all

    def allows(self, info: ToolInfo) -> bool:
        if self.read_only and not info.read_only:
            return False
        if self.toolsets is not None and info.toolset not in self.toolsets:
            return False
        if self.tools is not None and info.name not in self.tools:
            return False
        if info.name in self.exclude_tools:
            return False
        return self.granted_scopes is None or scope_rules.satisfies(self.granted_scopes, info.scopes)

    def offers(self, reads: Iterable[str]) -> bool:
        """Whether a resource or prompt that reads what these tools read is offered: when one of them is."""
        return any(self.allows(declared_tool(name)) for name in reads)

    def validate_names(self) -> list[str]:
        """Unknown toolset or tool names in the filter, as messages (a typo should not silently hide tools)."""
        known_tools = {info.name for info in declared_tools()}
        known_sets = set(toolset_names()) | {ALL_TOOLSETS, DEFAULT_TOOLSETS}
        problems = [f"unknown toolset {name!r}" for name in sorted((self.toolsets or set()) - known_sets)]
        for name in sorted(((self.tools or set()) | self.exclude_tools) - known_tools):
            problems.append(f"unknown tool {name!r}")
        return problems


def to_result(model: BaseModel) -> CallToolResult:
    data = compact(model)
    return CallToolResult(content=[TextContent(type="text", text=json_text(data))], structured_content=data)


def _adapt(spec: ToolSpec, *, output_schema: bool) -> Callable[..., Awaitable[CallToolResult]]:
    """Wrap a tool function: compact result, Wrike errors → actionable ToolError, same input schema."""
    fn = spec.fn
    hints = typing.get_type_hints(fn, include_extras=True)
    output_model = hints.pop("return")
    signature = inspect.signature(fn)
    parameters = [param.replace(annotation=hints[param.name]) for param in signature.parameters.values()]

    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> CallToolResult:
        try:
            return to_result(await fn(*args, **kwargs))
        except ToolError as exc:
            fitted = fit_first_line(str(exc), spec.name)
            if fitted == str(exc):
                raise
            raise ToolError(fitted) from exc.__cause__
        except Exception as exc:
            message = tool_error_message(exc, spec.name, spec.scopes)
            if message is None:
                logger.exception("tool %s failed unexpectedly", spec.name)
                message = f"{spec.name} failed unexpectedly; the error was logged. Try again or report it."
            raise ToolError(fit_first_line(message, spec.name)) from None

    # Without a published schema the SDK passes our CallToolResult through and skips building one.
    returns = Annotated[CallToolResult, output_model] if output_schema else CallToolResult
    call.__signature__ = signature.replace(parameters=parameters, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {**hints, "return": returns}
    return call


def register(server: MCPServer[Any], specs: Iterable[ToolSpec], *, output_schemas: bool = False) -> None:
    """Add the tools to the server with lean schemas (see tools/schemas.py).

    Results are always structured (typed pydantic models). Their outputSchema is published only when asked
    for (`--output-schemas`): it would more than double `tools/list`, which every conversation pays for.
    """
    for spec in specs:
        server.add_tool(
            _adapt(spec, output_schema=output_schemas),
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=spec.annotations,
            meta=spec.meta,
        )
        reshape_tool(server, spec.name, schema=slim_arguments, arguments=as_published, output=slim)


def as_published(model: type[BaseModel]) -> type[BaseModel]:
    """The arguments model refusing what the published schema rules out but pydantic would take: an explicit
    null for an optional argument (the schema leaves null out: omitting it is how to say "none"), a
    non-boolean for a boolean ("0" would otherwise quietly be false) and text for a number ("5" is not 5)."""
    fields = model.model_fields
    optional = [name for name, field in fields.items() if not field.is_required()]
    booleans = [name for name, field in fields.items() if field.annotation in (bool, bool | None)]
    numbers = [
        name for name, field in fields.items() if field.annotation in (int, int | None, float, float | None)
    ]
    checks: dict[str, Any] = {}
    if optional:
        checks["no_null"] = pydantic.field_validator(*optional, mode="before")(_not_null)
    if booleans:
        checks["only_booleans"] = pydantic.field_validator(*booleans, mode="before")(_boolean)
    if numbers:
        checks["only_numbers"] = pydantic.field_validator(*numbers, mode="before")(_number)
    return pydantic.create_model(model.__name__, __base__=model, __validators__=checks)


def _not_null(cls: type[BaseModel], value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null_argument", "null is not a value here: leave the argument out")
    return value


def _boolean(cls: type[BaseModel], value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "must be true or false")
    return value


def _number(cls: type[BaseModel], value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number_type", "must be a number")
    return value


def enforced_input_schema(server: MCPServer[Any], name: str) -> dict[str, Any]:
    """A registered tool's arguments schema as the server enforces it: `inputSchema` with its length limits."""
    model = arguments_model(server, name)
    schema: dict[str, Any] = slim_arguments(model.model_json_schema(by_alias=True), with_limits=True)
    return schema


def result_schema(spec: ToolSpec) -> dict[str, Any]:
    """The JSON schema of a tool's result model, as `--output-schemas` publishes it."""
    model = typing.get_type_hints(spec.fn)["return"]
    schema: dict[str, Any] = slim(model.model_json_schema())
    return schema
