"""The `directory` toolset: people and groups, workflows with their custom statuses, custom fields."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import page_slice, query_key, read_offset_cursor
from wrike_mcp.tools.output import Model, Ref, show_title
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import role_of
from wrike_mcp.wrike.models import Contact, CustomFieldSettings
from wrike_mcp.wrike.resolve import FolderTree
from wrike_mcp.wrike.text import fold

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OPTIONS_SHOWN = 50
SHARED_SHOWN = 20


# ---- find_people -------------------------------------------------------------------------------------------


class Person(Model):
    id: str
    name: str | None = None
    type: Literal["Person", "Group"] | None = Field(
        default=None, description="Group for a group; absent: person"
    )
    email: str | None = None
    title: str | None = Field(default=None, description="job title")
    role: str | None = Field(default=None, description="Owner, Admin, User or Collaborator")
    external: bool | None = None
    timezone: str | None = None
    deactivated: bool | None = Field(default=None, description="true for a deactivated (deleted) user")
    members: int | None = Field(default=None, description="groups: number of members")
    me: bool | None = Field(default=None, description="true for the user the assistant acts as")


class PeopleList(Model):
    items: list[Person]
    total: int = Field(description="matches in all pages")
    next_cursor: str | None = None


def _listed(contact: Contact, include_groups: bool, include_deactivated: bool) -> bool:
    if contact.type not in ("Person", "Group") or (contact.type == "Group" and not include_groups):
        return False
    return include_deactivated or not contact.deleted


def _rank(contact: Contact, query: str) -> int | None:
    """How well a contact matches (0 best), or None when it does not."""
    name = fold(contact.name)
    emails = [fold(e) for e in contact.emails]
    if query in (name, *emails):
        return 0
    words = query.split()
    parts = name.split()
    if any(part.startswith(query) for part in parts) or any(e.startswith(query) for e in emails):
        return 1
    haystack = " ".join([name, *emails, fold(contact.title or "")])
    if all(word in haystack for word in words):
        return 2
    return None


async def candidates(
    deps: WrikeContext, wanted: str, include_groups: bool, include_deactivated: bool
) -> list[Contact]:
    """The contacts a query may match: the cached list when there is one; else, for an email address or part
    of a name, only what Wrike's `emails` (exact) or `name` (contains) filter of `GET /contacts` answers
    (documented 2026) instead of every contact; the whole list for no query, or when the filter finds none
    that `_rank` accepts (part of an email, a job title, words in another order)."""
    cached = deps.resolver.cached_contacts()
    if cached is not None or not wanted:
        return cached if cached is not None else await deps.resolver.contacts()
    types = ["Person", "Group"] if include_groups else ["Person"]
    by = {"emails": [wanted]} if EMAIL.match(wanted) else {"name": wanted}
    found = await deps.resolver.contacts_where({**by, "types": types})
    if any(_listed(c, include_groups, include_deactivated) and _rank(c, wanted) is not None for c in found):
        return found
    return await deps.resolver.contacts()


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Find people")
async def find_people(
    ctx: Context[Any],
    query: Annotated[
        str | None,
        Field(
            max_length=200,
            description="part of a name or email, or me; omit for everyone",
        ),
    ] = None,
    include_groups: Annotated[bool, Field(description="also user groups")] = False,
    include_deactivated: Annotated[bool, Field(description="also deactivated users")] = False,
    limit: Annotated[int, Field(ge=1, le=200, description="people per page")] = 50,
    cursor: Annotated[str | None, Field(max_length=200, description="from next_cursor")] = None,
) -> PeopleList:
    """Find people (optionally groups) by part of a name or email; best matches first.

    Not needed before other tools: they take `me`, names and emails as they are.
    """
    deps = wrike(ctx)
    wanted = fold(query) if query is not None else ""
    if query is not None and not wanted:
        raise ToolError(
            "query is blank: give part of a name or email, or `me`, or omit query to list everyone"
        )
    key = query_key(query=wanted, groups=include_groups, deactivated=include_deactivated)
    offset = read_offset_cursor(cursor, key)
    me = await deps.resolver.me()
    if wanted == "me":
        contacts = [me]
    else:
        contacts = await candidates(deps, wanted, include_groups, include_deactivated)
    ranked: list[tuple[int, str, Contact]] = []
    for contact in contacts:
        if not _listed(contact, include_groups, include_deactivated):
            continue
        if wanted == "me":
            rank: int | None = 0 if contact.id == me.id else None
        elif wanted:
            rank = _rank(contact, wanted)
        else:
            rank = 0
        if rank is not None:
            ranked.append((rank, fold(contact.name), contact))
    if wanted == "me" and not ranked:
        ranked.append((0, fold(me.name), me))
    ranked.sort(key=lambda item: (item[0], item[1], item[2].id))
    page, next_cursor = page_slice(ranked, offset, limit, key)
    items = [
        Person(
            id=contact.id,
            name=show_title(contact.name),
            type="Group" if contact.type == "Group" else None,
            email=contact.email,
            title=show_title(contact.title) or None,
            role=role_of(contact) if contact.type == "Person" else None,
            external=True if contact.profiles and contact.profiles[0].external else None,
            timezone=contact.timezone,
            deactivated=True if contact.deleted else None,
            members=len(contact.member_ids) if contact.type == "Group" else None,
            me=True if contact.id == me.id else None,
        )
        for _, _, contact in page
    ]
    return PeopleList(items=items, total=len(ranked), next_cursor=next_cursor)


# ---- list_workflows ----------------------------------------------------------------------------------------


class StatusItem(Model):
    id: str
    name: str | None = None
    group: str | None = Field(default=None, description="Active, Completed, Deferred or Cancelled")
    color: str | None = None
    hidden: bool | None = None
    default: bool | None = Field(default=None, description="true for the default status of its group")


class WorkflowItem(Model):
    id: str
    name: str | None = None
    standard: bool | None = Field(default=None, description="true for Wrike's default workflow")
    hidden: bool | None = None
    for_projects: bool | None = Field(
        default=None, description="true for a project workflow (projects' statuses)"
    )
    statuses: list[StatusItem] = Field(default_factory=list)


class WorkflowList(Model):
    items: list[WorkflowItem]
    total: int


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List workflows and statuses")
async def list_workflows(
    ctx: Context[Any],
    include_hidden: Annotated[bool, Field(description="also hidden workflows")] = False,
) -> WorkflowList:
    """Workflows and their statuses (id, name, group, color): what tasks accept by their folder's
    workflow, and projects by theirs (for_projects).
    """
    deps = wrike(ctx)
    for_projects = await deps.resolver.project_workflow_ids()
    items = []
    for workflow in await deps.resolver.workflows():
        if workflow.hidden and not include_hidden:
            continue
        items.append(
            WorkflowItem(
                id=workflow.id,
                name=show_title(workflow.name),
                standard=True if workflow.standard else None,
                hidden=True if workflow.hidden else None,
                for_projects=True if workflow.id in for_projects else None,
                statuses=[
                    StatusItem(
                        id=status.id,
                        name=show_title(status.name),
                        group=status.group,
                        color=status.color,
                        hidden=True if status.hidden else None,
                        default=True if status.standard else None,
                    )
                    for status in workflow.custom_statuses
                ],
            )
        )
    return WorkflowList(items=items, total=len(items))


# ---- list_custom_fields ------------------------------------------------------------------------------------


class CustomFieldItem(Model):
    id: str
    title: str | None = None
    type: str | None = None
    options: list[str] = Field(default_factory=list, description="DropDown/Multiple: the allowed values")
    options_truncated: bool | None = None
    allow_other_values: bool | None = None
    currency: str | None = None
    shared_with_everyone: bool | None = Field(default=None, description="true when every active user has it")
    shared_with: list[Ref] = Field(
        default_factory=list, description=f"spaces or people it is shared with (first {SHARED_SHOWN})"
    )
    shared_count: int | None = Field(default=None, description="how many spaces or people it is shared with")
    space: Ref | None = Field(default=None, description="the space a space-level field belongs to")
    archived: bool | None = Field(default=None, description="true for an archived field (kept for history)")


class CustomFieldList(Model):
    items: list[CustomFieldItem]
    total: int


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List custom fields")
async def list_custom_fields(
    ctx: Context[Any],
    query: Annotated[str | None, Field(max_length=200, description="part of the title")] = None,
    type: Annotated[
        Literal[
            "Text",
            "DropDown",
            "Numeric",
            "Currency",
            "Percentage",
            "Date",
            "Duration",
            "Checkbox",
            "Contacts",
            "Multiple",
            "CalculatedNumeric",
            "CalculatedDate",
            "LinkToDatabase",
        ]
        | None,
        Field(description="only fields of this type"),
    ] = None,
    include_archived: Annotated[bool, Field(description="also archived fields")] = False,
) -> CustomFieldList:
    """Custom fields (id, title, type, options, currency, sharing): what create_task/update_task's
    custom_fields take.
    """
    deps = wrike(ctx)
    wanted = fold(query) if query is not None else ""
    definitions = await deps.resolver.custom_fields()
    tree = await deps.resolver.folder_tree()
    people = {c.id: c for c in await deps.resolver.contacts()}
    active = {ident for ident, c in people.items() if c.type == "Person" and not c.deleted}
    items = []
    for definition in definitions:
        if wanted and wanted not in fold(definition.title):
            continue
        if type is not None and definition.type != type:
            continue
        if definition.archived and not include_archived:
            continue
        settings = definition.settings or CustomFieldSettings()
        options = [show_title(value) for value in settings.option_values if value.strip()]
        shared: list[Ref] = []
        everyone = bool(active) and active <= set(definition.shared_ids)
        for ident in [] if everyone else definition.shared_ids[:SHARED_SHOWN]:
            if ident in tree.space_ids:
                shared.append(Ref(id=ident, name=show_title(tree.nodes[ident].title)))
            elif ident in people:
                shared.append(Ref(id=ident, name=show_title(people[ident].name)))
            else:
                shared.append(Ref(id=ident))
        items.append(
            CustomFieldItem(
                id=definition.id,
                title=show_title(definition.title),
                type=definition.type,
                options=options[:OPTIONS_SHOWN],
                options_truncated=True if len(options) > OPTIONS_SHOWN else None,
                allow_other_values=settings.allow_other_values
                if definition.type in ("DropDown", "Multiple")
                else None,
                currency=settings.currency if definition.type == "Currency" else None,
                shared_with_everyone=True if everyone else None,
                shared_with=shared,
                shared_count=len(definition.shared_ids) if definition.shared_ids else None,
                space=Ref(id=definition.space_id, name=_space_title(tree, definition.space_id))
                if definition.space_id
                else None,
                archived=True if definition.archived else None,
            )
        )
    return CustomFieldList(items=items, total=len(items))


def _space_title(tree: FolderTree, space_id: str) -> str | None:
    node = tree.nodes.get(space_id)
    return show_title(node.title) if node is not None else None
