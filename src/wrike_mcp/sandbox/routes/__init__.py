"""API routes by entity; `all_routes()` is the table the dispatcher matches against."""

from __future__ import annotations

from wrike_mcp.sandbox.api import ApiRoute


def all_routes() -> list[ApiRoute]:
    from wrike_mcp.sandbox.routes import (
        audit,
        comments,
        contacts,
        folders,
        groups,
        meta,
        spaces,
        tasks,
        timelogs,
    )

    routes: list[ApiRoute] = []
    for module in (contacts, groups, spaces, folders, tasks, comments, timelogs, meta, audit):
        routes.extend(module.ROUTES)
    return routes
