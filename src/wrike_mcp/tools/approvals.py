"""Approvals, part of the `tasks` toolset: what is waiting for someone's decision, and what was decided."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    MAX_CURSOR,
    MAX_REF,
    PERSON_PHRASE,
    OptionalFolder,
    OptionalTask,
    PagePosition,
    page_cursor,
    query_key,
    read_page_cursor,
)
from wrike_mcp.tools.output import COMMENT_LIMIT, Model, Ref, names_of, plain, show_title
from wrike_mcp.tools.pages import scan_pages
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import folder_refs, task_titles
from wrike_mcp.wrike.models import Approval
from wrike_mcp.wrike.pagination import Page

ApprovalStatus = Literal["Pending", "Approved", "Rejected", "Cancelled", "Draft"]


class Decision(Model):
    approver: Ref
    status: str | None = None
    comment: str | None = None


class ApprovalItem(Model):
    id: str
    title: str | None = None
    status: str | None = None
    type: str | None = None
    task: Ref | None = None
    folder: Ref | None = None
    due: str | None = None
    author: Ref | None = None
    decisions: list[Decision] = Field(default_factory=list)


class ApprovalList(Model):
    items: list[ApprovalItem]
    next_cursor: str | None = None


async def approval_items(deps: WrikeContext, approvals: Sequence[Approval]) -> list[ApprovalItem]:
    people = [a.author_id for a in approvals if a.author_id]
    people += [d.approver_id for a in approvals for d in a.decisions if d.approver_id]
    names = await names_of(deps, people)
    titles = await task_titles(deps, [a.task_id for a in approvals if a.task_id])
    folders = {
        ref.id: ref for ref in await folder_refs(deps, [a.folder_id for a in approvals if a.folder_id])
    }
    items = []
    for approval in approvals:
        author = approval.author_id
        items.append(
            ApprovalItem(
                id=approval.id,
                title=show_title(approval.title) or None,
                status=approval.status,
                type=approval.type,
                task=Ref(id=approval.task_id, name=titles.get(approval.task_id))
                if approval.task_id
                else None,
                folder=folders.get(approval.folder_id) if approval.folder_id else None,
                due=approval.due_date.isoformat() if approval.due_date else None,
                author=Ref(id=author, name=names.get(author)) if author else None,
                decisions=[
                    Decision(
                        approver=Ref(id=d.approver_id, name=names.get(d.approver_id)),
                        status=d.status,
                        comment=plain(d.comment, COMMENT_LIMIT)[0],
                    )
                    for d in approval.decisions
                    if d.approver_id
                ],
            )
        )
    return items


def pending_on(approval: Approval, person_id: str) -> bool:
    return any(d.approver_id == person_id and d.status == "Pending" for d in approval.decisions)


async def approvals_on(
    deps: WrikeContext, task: str | None, folder: str | None, status: str | None, person_id: str | None
) -> list[Approval]:
    """A task's or folder's approvals, filtered here: Wrike filters only the account-wide list."""
    if task is not None:
        path = f"/tasks/{await deps.resolver.task_id(task)}/approvals"
    else:
        assert folder is not None
        path = f"/folders/{await deps.resolver.folder_id(folder)}/approvals"
    return [
        approval
        for approval in await deps.client.get(path, model=Approval)
        if (status is None or approval.status == status)
        and (person_id is None or (approval.status == "Pending" and pending_on(approval, person_id)))
    ]


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List approvals")
async def list_approvals(
    ctx: Context[Any],
    task: OptionalTask = None,
    folder: OptionalFolder = None,
    status: Annotated[ApprovalStatus | None, Field(description="only approvals in this state")] = None,
    pending_approver: Annotated[
        str | None, Field(min_length=1, max_length=MAX_REF, description=f"waiting for this {PERSON_PHRASE}")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=100, description="approvals per call")] = 25,
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from next_cursor")] = None,
) -> ApprovalList:
    """Approvals on a task or folder, or account-wide without either: status, due date, decisions."""
    if task is not None and folder is not None:
        raise ToolError("give task or folder, not both (neither: the whole account)")
    key = query_key(task=task, folder=folder, status=status, pending=pending_approver, limit=limit)
    position = read_page_cursor(cursor, key)[0] if cursor else PagePosition(None, 0, limit)
    deps = wrike(ctx)
    person_id = await deps.resolver.person_id(pending_approver) if pending_approver else None
    if task is not None or folder is not None:
        return ApprovalList(
            items=await approval_items(deps, await approvals_on(deps, task, folder, status, person_id))
        )
    params = {
        "statuses": [status] if status else None,
        "pendingApprovers": [person_id] if person_id else None,
    }

    async def fetch(token: str | None) -> Page[Approval]:
        return await deps.client.get_page(
            "/approvals", params, page_size=position.page_size, page_token=token, model=Approval
        )

    scan = await scan_pages(fetch, position, want=limit, max_pages=1)
    return ApprovalList(
        items=await approval_items(deps, scan.items),
        next_cursor=page_cursor(scan.next, key) if scan.next else None,
    )
