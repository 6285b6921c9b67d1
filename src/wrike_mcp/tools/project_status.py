"""A project's status, in both of Wrike's models.

Since project workflows (2026 accounts) a project carries only `customStatusId`, a status of the project
workflow its space names; older projects carry a classic `status` (Green, Yellow, Red, Completed, OnHold,
Cancelled). Names are looked up among project workflows only, so a project's "In Progress" never competes
with a task's "In Progress".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.wrike.models import (
    CLASSIC_PROJECT_STATUSES,
    STATUS_GROUPS,
    CustomStatus,
    Folder,
    Project,
    Workflow,
)
from wrike_mcp.wrike.rules import status_group, statuses_named
from wrike_mcp.wrike.text import fold

_CLASSIC_ALIASES = {s.casefold(): s for s in CLASSIC_PROJECT_STATUSES} | {
    "on hold": "OnHold",
    "canceled": "Cancelled",
}
# A classic status given for a project in a workflow stands for the status group it implies.
_GROUP_OF_CLASSIC_WORD = {"Completed": "Completed", "OnHold": "Deferred", "Cancelled": "Cancelled"}


def classic_status(ref: str) -> str | None:
    """The classic project status a name such as 'on hold' stands for, if it stands for one."""
    return _CLASSIC_ALIASES.get(fold(ref))


@dataclass
class ShownStatus:
    """How a project's status reads in tool output."""

    name: str | None
    group: str | None
    custom: CustomStatus | None = None
    workflow: Workflow | None = None


async def shown_status(deps: WrikeContext, project: Project) -> ShownStatus:
    if project.custom_status_id:
        found = await deps.resolver.status_by_id(project.custom_status_id)
        if found is not None:
            custom, workflow = found
            return ShownStatus(custom.name, custom.group, custom, workflow)
        # A status we cannot name (a hidden workflow, say): show the classic status if there is one.
    classic = project.status if project.status in CLASSIC_PROJECT_STATUSES else None
    return ShownStatus(classic, CLASSIC_PROJECT_STATUSES.get(classic or ""))


async def shown_names(deps: WrikeContext, folders: Iterable[Folder]) -> dict[str, str]:
    """folder id → the status name output shows, for each project among `folders`."""
    names: dict[str, str] = {}
    for folder in folders:
        if folder.project is not None:
            shown = await shown_status(deps, folder.project)
            if shown.name:
                names[folder.id] = shown.name
    return names


# ---- setting a status ---------------------------------------------------------------------------------


async def status_change(
    deps: WrikeContext, ref: str, current: Folder | None, parent_id: str | None
) -> dict[str, Any]:
    """The `project` fields that set status `ref` on the project `current` (an update) or on a new project
    under `parent_id` (a create): `{customStatusId}` in a project workflow, `{status}` otherwise."""
    workflow = await _workflow_of(deps, current, parent_id)
    if workflow is not None:
        return {"customStatusId": _status_in_workflow(ref, workflow).id}
    classic = classic_status(ref)
    if classic is not None:
        return {"status": classic}
    matches = {status.id for _, status in statuses_named(ref, await deps.resolver.project_workflows())}
    if len(matches) == 1:
        return {"customStatusId": matches.pop()}
    if matches:
        raise ToolError(
            f"{ref.strip()[:60]!r} is a status of several project workflows: give its id (list_workflows)"
        )
    names = await _project_status_names(deps)
    workflow_names = f"{', '.join(names)} (project workflow) or " if names else ""
    raise ToolError(
        f"{ref.strip()[:60]!r} is not a project status: use {workflow_names}{', '.join(CLASSIC_PROJECT_STATUSES)}"
    )


async def _workflow_of(deps: WrikeContext, current: Folder | None, parent_id: str | None) -> Workflow | None:
    if current is not None:
        project = current.project
        if project is not None and project.custom_status_id:
            found = await deps.resolver.status_by_id(project.custom_status_id)
            return found[1] if found else None
        return None
    return await deps.resolver.space_workflow_for_projects(parent_id) if parent_id else None


def _status_in_workflow(ref: str, workflow: Workflow) -> CustomStatus:
    """A status of the project's workflow by name (or id), else the default status of a group named by
    its group ('Completed') or by a classic word standing for one ('OnHold')."""
    named = statuses_named(ref, [workflow])
    if named:
        return named[0][1]
    classic = classic_status(ref)
    group = status_group(ref) or _GROUP_OF_CLASSIC_WORD.get(classic or "")
    chosen = workflow.default_status(group) if group else None
    if chosen is not None:
        return chosen
    names = ", ".join(s.name for s in workflow.custom_statuses if not s.hidden)
    hint = " (a classic status: this project follows a project workflow)" if classic else ""
    raise ToolError(
        f"{ref.strip()[:60]!r} is not a status of the project workflow {workflow.name!r}{hint}: use {names}"
    )


async def _project_status_names(deps: WrikeContext) -> list[str]:
    workflows = await deps.resolver.project_workflows()
    return list(dict.fromkeys(s.name for w in workflows for s in w.custom_statuses if not s.hidden))


# ---- filtering by status ------------------------------------------------------------------------------


@dataclass
class StatusFilter:
    """Projects whose status a name stands for: a classic status, a project workflow status or a group."""

    classic: str | None = None
    custom_ids: set[str] = field(default_factory=set)
    group: str | None = None
    group_of: dict[str, str] = field(default_factory=dict)  # custom status id → its status group

    def matches(self, project: Project) -> bool:
        if self.classic is not None and project.status == self.classic:
            return True
        if project.custom_status_id and project.custom_status_id in self.custom_ids:
            return True
        if self.group is None:
            return False
        if project.custom_status_id:
            return self.group_of.get(project.custom_status_id) == self.group
        return CLASSIC_PROJECT_STATUSES.get(project.status or "") == self.group


async def status_filter(deps: WrikeContext, name: str, projects: Iterable[Project]) -> StatusFilter:
    workflows = await _workflows_of_projects(deps, projects)
    wanted = StatusFilter(
        classic=classic_status(name),
        custom_ids={status.id for _, status in statuses_named(name, workflows)},
        group=status_group(name),
        group_of={s.id: s.group or "Active" for w in workflows for s in w.custom_statuses},
    )
    if wanted.classic is None and not wanted.custom_ids and wanted.group is None:
        names = sorted({s.name for w in workflows for s in w.custom_statuses if not s.hidden})
        raise ToolError(
            f"status {name.strip()[:60]!r} is unknown: use {', '.join(CLASSIC_PROJECT_STATUSES)}, a status "
            f"group ({', '.join(STATUS_GROUPS)})"
            + (f" or a project workflow status ({', '.join(names)})" if names else "")
        )
    return wanted


async def _workflows_of_projects(deps: WrikeContext, projects: Iterable[Project]) -> list[Workflow]:
    """Project workflows: those the spaces name, and those the projects' statuses belong to."""
    ids = await deps.resolver.project_workflow_ids()
    for project in projects:
        if project.custom_status_id:
            found = await deps.resolver.status_by_id(project.custom_status_id)
            if found is not None:
                ids.add(found[1].id)
    return [w for w in await deps.resolver.workflows() if w.id in ids]
