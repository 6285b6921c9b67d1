"""Wrike's audit-log vocabulary: the operation names and object types `GET /audit_log` filters on.

A leaf module (standard library only, no other wrike_mcp import): the tools and the sandbox both use it, so
the client and the emulator know one list, and the sandbox still depends on nothing else in wrike_mcp.
"""

from __future__ import annotations

AUDIT_LOG_PATH = "/audit_log"

# GET /audit_log `operations`, as Wrike's OpenAPI description ver154 (2026) lists them; sorted. The 2020
# reference knew 116 of them. Wrike adds names over time, so a name missing here is not proof it is wrong.
AUDIT_OPERATIONS: tuple[str, ...] = (
    "AccessAuditReportCsvExport", "AccessCodeAccepted", "AccessCodeDeclined", "AccessCodeGenerated",
    "AccessRoleCreated", "AccessRoleDeleted", "AccessRoleModified", "AccountBackupCreated",
    "AccountDataExportGenerated", "AccountDataExportRequested", "AccountDeleted", "AccountModified",
    "AdminLoggedInAsUser", "AdminMailSettingsChanged", "AnalyzePublicLinkAccessed",
    "AnalyzePublicLinkCreated", "AnalyzePublicLinkDeleted", "AnalyzeWidgetPublicLinkAccessed",
    "AnalyzeWidgetPublicLinkCreated", "AnalyzeWidgetPublicLinkDeleted", "AntivirusDeletedInfectedAttach",
    "ApprovalCanceled", "ApprovalCreated", "ApprovalDecisionMade", "ApprovalDescriptionChanged",
    "ApprovalDueDateChanged", "ApprovalFinished", "ApprovedDomainsChanged",
    "ApprovedIpRangesOrSubnetsChanged", "ApproverAdded", "ApproverRemoved", "AttachCopied", "AttachDeleted",
    "AttachDownloaded", "AttachMarkAsFinal", "AttachMoved", "AttachUnmarkAsFinal", "AttachUploaded",
    "AttachViewed", "AttemptDownloadInfectedAttach", "AuditReportCreated", "AutomatedIntegrationsExecution",
    "CalendarExternalLinkCreated", "CalendarExternalLinkDeleted", "CalendarExternalLinksActivated",
    "CalendarExternalLinksDeactivated", "CustomFieldAddedToFolder", "CustomFieldCreated",
    "CustomFieldModified", "CustomFieldRemoved", "CustomFieldRemovedFromFolder", "CustomFieldRestored",
    "ExcelExportCreated", "FeedCreated", "GanttSnapshotCreated", "GanttSnapshotDeleted", "GroupCreated",
    "GroupDeleted", "GroupInviteeAdded", "GroupInviteeRemoved", "GroupMemberAdded", "GroupMemberRemoved",
    "GroupParentAdded", "GroupParentRemoved", "GroupRenamed", "GuestReviewAccepted",
    "GuestReviewAccountSettingsChanged", "GuestReviewRejected", "GuestReviewerChanged",
    "GuestReviewerInvited", "GuestReviewerRevoked", "InvitationAccepted", "InvitationPolicyChanged",
    "InvitationSend", "Oauth2AccessGranted", "Oauth2AccessRevoked", "OneTimePasswordCreated",
    "OneTimePasswordRevoked", "OneTimePasswordStatusSwitched", "OneTimePasswordUsed", "PasswordChanged",
    "PasswordPolicyModified", "PowerBIPublicLinkAccessed", "PowerBIPublicLinkCreated",
    "PowerBIPublicLinkDeleted", "PublicLinkCreated", "PublicLinkDeleted", "PublicLinkExpirationChanged",
    "PublicLinkPasswordChanged", "PublicLinkPasswordRequested", "PublicLinksAccountSettingsChanged",
    "RecycleBinErased", "RequestFormCreated", "RequestFormDeleted", "RequestFormModified",
    "SamlClearPasswordForSamlUsers", "SamlSSODisabled", "SamlSSOEnabled", "SamlSSOMetadataChanged",
    "SamlSSOSettingsChanged", "SecondFactorDisabled", "SecondFactorEnabled", "SecondFactorUsageReportCreated",
    "SpaceArchivedUnarchived", "SpaceCreated", "SpaceDeleted", "TaskArchived", "TaskAssigned",
    "TaskCommentChanged", "TaskCommentDeleted", "TaskCreated", "TaskDeleted", "TaskDuplication", "TaskErased",
    "TaskParentAdded", "TaskParentRemoved", "TaskRestored", "TaskScheduleChanged", "TaskShared",
    "TaskStatusChanged", "TaskUnarchived", "TaskUnassigned", "TaskUnshared", "TaskUnsharedFromAuthor",
    "TimelogLocked", "TimelogUnlocked", "TimesheetCreated", "TimesheetStatusChanged",
    "TimesheetTimeframeSettingsCreated", "TimesheetTimeframeSettingsModified", "UserActivated",
    "UserAdminPermissionsChanged", "UserCustomFieldValueChanged", "UserDeactivated", "UserDeleted",
    "UserFailLogin", "UserGrantAdmin", "UserJoinedSpace", "UserLeftSpace", "UserLoggedIn", "UserLogout",
    "UserProfileUpdated", "UserRestored", "UserRevokeAdmin", "UserRoleChanged", "UserTaskGroupRolesChanged",
    "UserTypeCreated", "UserTypeDeleted", "UserTypeModified", "UsersAndGroupsExported", "WhiteboardCreated",
    "WhiteboardRemoved", "WorkflowArchived", "WorkflowCreated", "WorkflowDeleted", "WorkflowModified",
    "WorkflowUnarchived",
)  # fmt: skip

# GET /audit_log `objectType` (its objectType completer in ver154).
AUDIT_OBJECT_TYPES: tuple[str, ...] = (
    "AccessRole", "Account", "AnalyzeReport", "AnalyzeReportWidget", "Attachment", "CalendarExternalLink",
    "Comment", "CustomField", "DataExport", "Folder", "Group", "Invitation", "Oauth2Client", "PowerBIEntity",
    "Project", "PublicLink", "RequestForm", "Space", "Task", "Timesheet", "TimesheetTimeframeSettings",
    "User", "UserRole", "UserType", "Whiteboard", "Workflow", "WorkspaceSnapshot",
)  # fmt: skip

# `objectIds` and `users` each "Accepts up to 10 ids" (ver154).
AUDIT_FILTER_MAX_IDS = 10

# `pageSize`: the 2026 description gives the audit log's no range. 1000 is the maximum it gives its other
# paged lists (tasks, folders, time logs); when Wrike refuses it, 100, the smallest maximum it gives any list
# (request forms), is asked instead and kept (tools/pages.py `with_page_size`).
AUDIT_PAGE_SIZE = 1000
AUDIT_PAGE_SIZE_FALLBACK = 100
