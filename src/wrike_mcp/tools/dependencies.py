"""Task dependencies, part of the `tasks` toolset: link two tasks, or remove the link after the user confirms."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, ElicitationResult, Resolve
from pydantic import BaseModel, Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import MAX_REF, TASK_PHRASE
from wrike_mcp.tools.output import Model, Ref
from wrike_mcp.tools.pages import concurrently
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import task_titles, titles_beside_a_write
from wrike_mcp.tools.writes import confirmed_without_asking, not_confirmed, read_to_confirm
from wrike_mcp.wrike.models import Dependency
from wrike_mcp.wrike.text import fold

DAY_MINUTES = 480  # Wrike counts lag, like task durations, in minutes of 8-hour working days
MAX_LAG_DAYS = 1000

Relation = Literal["FinishToStart", "StartToStart", "FinishToFinish", "StartToFinish"]
Predecessor = Annotated[
    str, Field(min_length=1, max_length=MAX_REF, description=f"{TASK_PHRASE}; it comes first")
]
Successor = Annotated[str, Field(min_length=1, max_length=MAX_REF, description=f"{TASK_PHRASE}; it waits")]


class DependencyItem(Model):
    id: str
    predecessor: Ref
    successor: Ref
    relation: str | None = None
    lag_days: float | None = None


class RemoveResult(Model):
    removed: bool
    predecessor: Ref
    successor: Ref
    outcome: str = Field(description="what happened, in the server's words")


async def task_pair(deps: WrikeContext, predecessor: str, successor: str) -> tuple[str, str]:
    """The two tasks' ids; ToolError when both name the same task (refused before any request when the
    references are the same text)."""
    same = "a task cannot depend on itself: give two different tasks"
    if fold(predecessor) == fold(successor):
        raise ToolError(same)
    first, then = await concurrently(
        lambda: deps.resolver.task_id(predecessor), lambda: deps.resolver.task_id(successor)
    )
    if first == then:
        raise ToolError(same)
    return first, then


async def dependency_item(
    deps: WrikeContext, dependency: Dependency, titles: dict[str, str] | None = None
) -> DependencyItem:
    ids = [i for i in (dependency.predecessor_id, dependency.successor_id) if i]
    titles = titles if titles is not None else await task_titles(deps, ids)
    lag = dependency.lag_time
    return DependencyItem(
        id=dependency.id,
        predecessor=Ref(id=dependency.predecessor_id or "", name=titles.get(dependency.predecessor_id or "")),
        successor=Ref(id=dependency.successor_id or "", name=titles.get(dependency.successor_id or "")),
        relation=dependency.relation_type,
        lag_days=round(lag / DAY_MINUTES, 2) if lag else None,
    )


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Link two tasks", kind="write")
async def add_dependency(
    ctx: Context[Any],
    predecessor: Predecessor,
    successor: Successor,
    relation: Annotated[Relation, Field(description="which ends are linked")] = "FinishToStart",
    lag_days: Annotated[
        int, Field(ge=-MAX_LAG_DAYS, le=MAX_LAG_DAYS, description="working days; negative is lead time")
    ] = 0,
) -> DependencyItem:
    """Make one task depend on another and return the link."""
    deps = wrike(ctx)
    first, then = await task_pair(deps, predecessor, successor)
    created, titles = await concurrently(
        lambda: deps.client.post(
            f"/tasks/{then}/dependencies",
            {"predecessorId": first, "relationType": relation, "lagTime": lag_days * DAY_MINUTES},
            model=Dependency,
        ),
        lambda: titles_beside_a_write(deps, [first, then]),
    )
    if not created:
        raise ToolError("Wrike accepted the link but returned nothing: check get_task before retrying")
    return await dependency_item(deps, created[0], titles)


# ---- remove_dependency ----------------------------------------------------------------------------------


class RemoveConfirmation(BaseModel):
    confirm: bool = Field(title="Remove the link", description="Yes: remove the dependency between the tasks")


async def link_between(deps: WrikeContext, first: str, then: str) -> Dependency:
    """The dependency of `then` on `first`; ToolError when there is none."""
    for dependency in await deps.client.get(f"/tasks/{then}/dependencies", model=Dependency):
        if dependency.predecessor_id == first and dependency.successor_id == then:
            return dependency
    raise ToolError(
        f"task {then} does not depend on task {first}: nothing was removed (get_task lists its dependencies)"
    )


async def confirm_remove(
    predecessor: str, successor: str, ctx: Context
) -> Elicit[RemoveConfirmation] | RemoveConfirmation:
    """Ask the user before removing; without elicitation, go on only when the server has --allow-delete."""
    if confirmed_without_asking(ctx, "remove_dependency", "remove"):
        return RemoveConfirmation(confirm=True)
    deps = wrike(ctx)

    async def read() -> tuple[str, str, Dependency, dict[str, str]]:
        first, then = await task_pair(deps, predecessor, successor)
        link = await link_between(deps, first, then)
        return first, then, link, await task_titles(deps, [first, then])

    first, then, link, titles = await read_to_confirm("remove_dependency", "tasks", read)
    before, after = titles.get(first, first)[:120], titles.get(then, then)[:120]
    return Elicit(
        f"Remove the {link.relation_type or ''} link: “{after}” ({then}) waits for “{before}” ({first})?",
        RemoveConfirmation,
    )


@wrike_tool(
    scopes=[scopes.WS_READ_WRITE],
    title="Unlink two tasks",
    kind="destructive",
    idempotent=True,
)
async def remove_dependency(
    ctx: Context[Any],
    predecessor: Predecessor,
    successor: Successor,
    confirmation: Annotated[ElicitationResult[RemoveConfirmation], Resolve(confirm_remove)],
) -> RemoveResult:
    """Remove the dependency between two tasks after the user confirms."""
    deps = wrike(ctx)
    first, then = await task_pair(deps, predecessor, successor)
    pair = {"predecessor": Ref(id=first), "successor": Ref(id=then)}
    if (outcome := not_confirmed(confirmation, "not removed")) is not None:
        return RemoveResult(removed=False, outcome=outcome, **pair)
    # Look again right before the DELETE: the confirmation may be old, and without elicitation nothing was read.
    link = await link_between(deps, first, then)
    await deps.client.delete(f"/dependencies/{link.id}")
    return RemoveResult(removed=True, outcome=f"the {link.relation_type or ''} link is removed", **pair)
