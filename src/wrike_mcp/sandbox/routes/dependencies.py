"""Task dependencies: list a task's, read by ids, create, change relation type or lag, delete."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox.api import READ, WRITE, Ctx, route
from wrike_mcp.sandbox.entities import RELATION_DATE_TYPES, Dependency
from wrike_mcp.sandbox.errors import invalid_parameter
from wrike_mcp.sandbox.params import Params

RELATION_TYPES = tuple(RELATION_DATE_TYPES)
MAX_LAG = 1800000  # minutes either way, the bound of a task's duration [assumption]


def render_dependency(dependency: Dependency) -> dict[str, Any]:
    return {
        "id": dependency.id,
        "predecessorId": dependency.predecessor_id,
        "successorId": dependency.successor_id,
        "relationType": dependency.relation_type,
        "lagTime": dependency.lag_time,
    }


def _lag(params: Params) -> int | None:
    return params.integer("lagTime", minimum=-MAX_LAG, maximum=MAX_LAG)


@route("GET", "/tasks/{taskId}/dependencies", "dependencies", READ)
def list_dependencies(ctx: Ctx) -> list[dict[str, Any]]:
    task = ctx.state.task(ctx.one_id("taskId"))
    return [render_dependency(ctx.state.dependencies[d]) for d in ctx.state.dependency_ids(task.id)]


@route("GET", "/dependencies/{dependencyIds}", "dependencies", READ)
def get_dependencies(ctx: Ctx) -> list[dict[str, Any]]:
    dependencies = ctx.entities("dependencyIds", ctx.state.dependencies, "Dependency")
    return [render_dependency(dependency) for dependency in dependencies]


@route(
    "POST",
    "/tasks/{taskId}/dependencies",
    "dependencies",
    WRITE,
    ["predecessorId", "successorId", "relationType", "lagTime"],
)
def create_dependency(ctx: Ctx) -> list[dict[str, Any]]:
    state, params = ctx.state, ctx.params
    task = state.task(ctx.one_id("taskId"))
    predecessor_id = params.string("predecessorId", non_empty=True)
    successor_id = params.string("successorId", non_empty=True)
    if (predecessor_id is None) == (successor_id is None):
        raise invalid_parameter("predecessorId", "or successorId must be given, exactly one of them")
    name = "predecessorId" if predecessor_id is not None else "successorId"
    other_id = predecessor_id or successor_id or ""
    other = state.tasks.get(other_id)
    if other is None or other.deleted:
        raise invalid_parameter(name, f"refers to unknown task '{other_id}'")
    relation = params.enum("relationType", RELATION_TYPES, required=True)
    assert relation is not None
    lag = _lag(params) or 0
    predecessor, successor = (other, task) if predecessor_id is not None else (task, other)
    dependency = state.add_dependency(predecessor, successor, relation, lag, name)
    return [render_dependency(dependency)]


@route("PUT", "/dependencies/{dependencyId}", "dependencies", WRITE, ["relationType", "lagTime"])
def update_dependency(ctx: Ctx) -> list[dict[str, Any]]:
    dependency = ctx.state.dependency(ctx.one_id("dependencyId"))
    relation = ctx.params.enum("relationType", RELATION_TYPES)
    ctx.state.update_dependency(dependency, relation, _lag(ctx.params))
    return [render_dependency(dependency)]


@route("DELETE", "/dependencies/{dependencyId}", "dependencies", WRITE)
def delete_dependency(ctx: Ctx) -> list[dict[str, Any]]:
    dependency = ctx.state.dependency(ctx.one_id("dependencyId"))
    ctx.state.delete_dependency(dependency)
    return [render_dependency(dependency)]  # the digest: DELETE answers with the dependency's fields


ROUTES = [list_dependencies, get_dependencies, create_dependency, update_dependency, delete_dependency]
