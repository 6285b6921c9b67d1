"""Approvals on tasks and folders (read only: the 2026 digest's GET endpoints)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from wrike_mcp.sandbox.api import READ, Ctx, route, timestamp
from wrike_mcp.sandbox.entities import Approval, ApprovalDecision
from wrike_mcp.sandbox.params import Params, date_match, timestamp_range
from wrike_mcp.sandbox.routes.common import paged, resumed_params

STATUSES = ("Approved", "Cancelled", "Draft", "Pending", "Rejected")
TYPES = ("FilesOnly", "Regular")
QUERY_PARAMS = [
    "statuses",
    "updatedDate",
    "approvers",
    "pendingApprovers",
    "type",
    "dueDate",
    "limit",
    "pageSize",
    "nextPageToken",
]


def render_decision(decision: ApprovalDecision) -> dict[str, Any]:
    body: dict[str, Any] = {"approverId": decision.approver_id, "status": decision.status}
    if decision.comment:
        body["comment"] = decision.comment
    if decision.updated is not None:
        body["updatedDate"] = timestamp(decision.updated)
    return body


def render_approval(approval: Approval) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": approval.id,
        "authorId": approval.author_id,
        "title": approval.title,
        "description": approval.description,
        "updatedDate": timestamp(approval.updated),
        "decisions": [render_decision(d) for d in approval.decisions],
        "attachmentIds": list(approval.attachment_ids),
        "type": approval.type,
        "autoFinishOnApprove": approval.auto_finish_on_approve,
        "autoFinishOnReject": approval.auto_finish_on_reject,
        "finished": approval.finished,
        "status": approval.status,
    }
    if approval.due_date is not None:
        body["dueDate"] = approval.due_date.isoformat()
    if approval.finisher_id is not None:
        body["finisherId"] = approval.finisher_id
    if approval.task_id is not None:
        body["taskId"] = approval.task_id
    else:
        body["folderId"] = approval.folder_id
    return body


def _filters(params: Params) -> list[Callable[[Approval], bool]]:
    checks: list[Callable[[Approval], bool]] = []
    statuses = params.enum_list("statuses", STATUSES, comma=True)
    if statuses:
        checks.append(lambda a: a.status in statuses)
    approval_type = params.enum("type", TYPES)
    if approval_type is not None:
        checks.append(lambda a: a.type == approval_type)
    approvers = params.string_list("approvers", comma=True)
    if approvers:
        checks.append(lambda a: any(d.approver_id in approvers for d in a.decisions))
    pending = params.string_list("pendingApprovers", comma=True)
    if pending:
        checks.append(lambda a: bool(set(a.pending_approver_ids()) & set(pending)))
    window = timestamp_range(params, "updatedDate")
    if window is not None:
        checks.append(lambda a: window.contains(a.updated))
    due = date_match(params, "dueDate", date_only=True)
    if due is not None:
        checks.append(lambda a: a.due_date is not None and due.matches(datetime.combine(a.due_date, time())))
    return checks


@route("GET", "/approvals", "approvals", READ, QUERY_PARAMS)
def list_approvals(ctx: Ctx) -> list[dict[str, Any]]:
    params, offset = resumed_params(ctx, "approvals")
    checks = _filters(params)
    found = [a for a in ctx.state.approvals.values() if all(check(a) for check in checks)]
    return [render_approval(a) for a in paged(ctx, "approvals", params, found, offset)]


@route("GET", "/folders/{folderId}/approvals", "approvals", READ)
def list_folder_approvals(ctx: Ctx) -> list[dict[str, Any]]:
    folder = ctx.state.folder(ctx.one_id("folderId"))
    return [render_approval(a) for a in ctx.state.approvals.values() if a.folder_id == folder.id]


@route("GET", "/tasks/{taskId}/approvals", "approvals", READ)
def list_task_approvals(ctx: Ctx) -> list[dict[str, Any]]:
    task = ctx.state.task(ctx.one_id("taskId"))
    return [render_approval(a) for a in ctx.state.approvals.values() if a.task_id == task.id]


@route("GET", "/approvals/{approvalIds}", "approvals", READ)
def get_approvals(ctx: Ctx) -> list[dict[str, Any]]:
    return [render_approval(a) for a in ctx.entities("approvalIds", ctx.state.approvals, "Approval")]


ROUTES = [list_approvals, list_folder_approvals, list_task_approvals, get_approvals]
