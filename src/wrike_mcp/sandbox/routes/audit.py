"""The audit log (Enterprise admins only, scope amReadOnlyAuditLog)."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.api import AUDIT_READ, Ctx, route, timestamp
from wrike_mcp.sandbox.errors import invalid_parameter, wrike_error
from wrike_mcp.sandbox.params import Params, timestamp_range
from wrike_mcp.sandbox.state import AuditEvent, PageQuery

# The operation enum of the 2020 reference, in its order.
OPERATIONS = (
    "UserLoggedIn",
    "UserFailLogin",
    "UserLogout",
    "AdminLoggedInAsUser",
    "OneTimePasswordCreated",
    "OneTimePasswordUsed",
    "OneTimePasswordRevoked",
    "UserRoleChanged",
    "UserAdminPermissionsChanged",
    "UserGrantAdmin",
    "UserRevokeAdmin",
    "UserDeactivated",
    "UserActivated",
    "UsersAndGroupsExported",
    "InvitationSend",
    "InvitationAccepted",
    "AttachUploaded",
    "AttachDeleted",
    "GroupCreated",
    "GroupMemberAdded",
    "GroupMemberRemoved",
    "GroupRenamed",
    "GroupDeleted",
    "GroupParentAdded",
    "GroupParentRemoved",
    "TaskParentAdded",
    "TaskParentRemoved",
    "TaskShared",
    "TaskUnshared",
    "TaskAssigned",
    "TaskUnassigned",
    "TaskDeleted",
    "TaskErased",
    "TimelogLocked",
    "TimelogUnlocked",
    "TaskCommentChanged",
    "TaskCommentDeleted",
    "RecycleBinErased",
    "TaskStatusChanged",
    "TaskDuplication",
    "UserDeleted",
    "UserRestored",
    "ApproverAdded",
    "ApproverRemoved",
    "ApprovalDescriptionChanged",
    "ApprovalDueDateChanged",
    "ApprovalCreated",
    "ApprovalFinished",
    "ApprovalCanceled",
    "ApprovalDecisionMade",
    "CustomFieldCreated",
    "CustomFieldModified",
    "CustomFieldRemoved",
    "CustomFieldRestored",
    "CustomFieldAddedToFolder",
    "CustomFieldRemovedFromFolder",
    "SecondFactorEnabled",
    "SecondFactorDisabled",
    "SecondFactorUsageReportCreated",
    "AuditReportCreated",
    "AccountBackupCreated",
    "AccountModified",
    "AccountDeleted",
    "Oauth2AccessGranted",
    "Oauth2AccessRevoked",
    "FeedCreated",
    "ExcelExportCreated",
    "AccessAuditReportCsvExport",
    "UserProfileUpdated",
    "PasswordChanged",
    "PasswordPolicyModified",
    "ApprovedIpRangesOrSubnetsChanged",
    "InvitationPolicyChanged",
    "RequestFormCreated",
    "RequestFormModified",
    "RequestFormDeleted",
    "AccessRoleCreated",
    "AccessRoleModified",
    "AccessRoleDeleted",
    "WorkflowCreated",
    "WorkflowDeleted",
    "WorkflowModified",
    "CalendarExternalLinksDeactivated",
    "CalendarExternalLinksActivated",
    "CalendarExternalLinkCreated",
    "CalendarExternalLinkDeleted",
    "AnalyzePublicLinkCreated",
    "AnalyzePublicLinkDeleted",
    "AnalyzePublicLinkAccessed",
    "GuestReviewerInvited",
    "GuestReviewerChanged",
    "GuestReviewerRevoked",
    "GuestReviewAccepted",
    "GuestReviewRejected",
    "GuestReviewAccountSettingsChanged",
    "GanttSnapshotCreated",
    "GanttSnapshotDeleted",
    "UserTaskGroupRolesChanged",
    "AccountDataExportRequested",
    "AccountDataExportGenerated",
    "SamlSSOEnabled",
    "SamlSSODisabled",
    "SamlSSOSettingsChanged",
    "SamlSSOMetadataChanged",
    "SamlClearPasswordForSamlUsers",
    "OneTimePasswordStatusSwitched",
    "AccessCodeGenerated",
    "AccessCodeAccepted",
    "AccessCodeDeclined",
    "ApprovedDomainsChanged",
    "AdminMailSettingsChanged",
    "SpaceCreated",
    "SpaceDeleted",
    "SpaceArchivedUnarchived",
    "UserJoinedSpace",
    "UserLeftSpace",
)


def render_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "operation": event.operation,
        "userId": event.user_id,
        "userEmail": event.user_email,
        "eventDate": timestamp(event.event_date),
        "ipAddress": event.ip_address,
        "objectType": event.object_type,
        "objectName": event.object_name,
        "objectId": event.object_id,
        "details": dict(event.details),
    }


@route("GET", "/audit_log", "auditLog", AUDIT_READ, ["eventDate", "operations", "pageSize", "nextPageToken"])
def list_audit_log(ctx: Ctx) -> list[dict[str, Any]]:
    state = ctx.state
    if not ctx.user.admin:
        raise wrike_error("access_forbidden", "The audit log is available to account admins only")
    params = ctx.params
    offset = 0
    token = params.string("nextPageToken")
    if token is not None:
        saved = state.page_tokens.get(token)
        if saved is None or saved.route != "audit_log":
            raise invalid_parameter("nextPageToken", "is invalid or expired")
        params, offset = Params.from_snapshot(saved.params), saved.offset
    window = timestamp_range(params, "eventDate")
    operations = params.enum_list("operations", OPERATIONS)
    page_size = params.integer("pageSize", minimum=1, maximum=1000)
    found = [
        e
        for e in state.audit
        if (window is None or window.contains(e.event_date)) and (not operations or e.operation in operations)
    ]
    found.sort(key=lambda e: (e.event_date, e.id), reverse=True)  # newest first
    if page_size is None:
        return [render_event(e) for e in found[:1000]]
    page = found[offset : offset + page_size]
    ctx.extra["responseSize"] = len(found)
    if offset + page_size < len(found):
        snapshot = params.snapshot()
        snapshot.pop("nextPageToken", None)
        next_token = f"{ids.ACCOUNT_ID}PG{ids.base32(state.next_number('page'), 8)}"
        state.page_tokens[next_token] = PageQuery("audit_log", snapshot, offset + page_size)
        ctx.extra["nextPageToken"] = next_token
    return [render_event(e) for e in page]


ROUTES = [list_audit_log]
