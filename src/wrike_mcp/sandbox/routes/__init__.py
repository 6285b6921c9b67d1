"""API routes by entity; `all_routes()` is the table the dispatcher matches against."""

from __future__ import annotations

from wrike_mcp.sandbox.api import ApiRoute


def all_routes() -> list[ApiRoute]:
    from wrike_mcp.sandbox.routes import (
        approvals,
        attachments,
        audit,
        blueprints,
        comments,
        contacts,
        dependencies,
        folders,
        groups,
        intake,
        meta,
        spaces,
        tasks,
        timelogs,
    )

    routes: list[ApiRoute] = []
    modules = (contacts, groups, spaces, folders, tasks, dependencies, comments, timelogs, meta, audit)
    for module in (*modules, attachments, approvals, blueprints, intake):
        routes.extend(module.ROUTES)
    return routes
