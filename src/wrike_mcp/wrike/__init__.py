"""The Wrike API v4 client: what the rest of wrike-mcp uses from it.

`WrikeClient` sends the requests (typed errors, rate governor, retries for reads only), the models parse
Wrike's entities, and `Resolver` turns what a person types (a title, a path, a permalink) into Wrike ids.

Each name is imported from its module on first use: the sandbox imports `wrike.audit_log` alone, and must not
load the client with it.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wrike_mcp.wrike.client import NULL, UntrustedHost, WrikeClient, Written
    from wrike_mcp.wrike.errors import (
        AccessForbidden,
        AmbiguousReference,
        AuthorizationExpired,
        BadReference,
        ConnectionFailed,
        InvalidParameter,
        InvalidRequest,
        MalformedResponse,
        MethodNotFound,
        NotAllowed,
        NotAuthorized,
        ParameterRequired,
        RateLimited,
        ReferenceNotFound,
        ResourceNotFound,
        ServerError,
        TransportError,
        UnknownOutcome,
        WrikeAPIError,
        WrikeError,
        WrikeTimeout,
    )
    from wrike_mcp.wrike.governor import RateGovernor
    from wrike_mcp.wrike.models import (
        STATUS_GROUPS,
        Account,
        Approval,
        ApprovalDecision,
        AsyncJob,
        Attachment,
        AuditLogEvent,
        Blueprint,
        Comment,
        Contact,
        CreatedWork,
        CustomField,
        CustomFieldSettings,
        CustomFieldValue,
        CustomItemType,
        CustomStatus,
        Dependency,
        DropDownOption,
        EffortAllocation,
        Folder,
        FormCondition,
        FormPage,
        FormQuestion,
        FormSubmission,
        IdMapping,
        Metadata,
        PrefillUrl,
        Profile,
        Project,
        RequestForm,
        Space,
        SpaceMember,
        StatusGroup,
        Subscription,
        Task,
        TaskDates,
        Timelog,
        TimelogCategory,
        Workflow,
        WrikeModel,
    )
    from wrike_mcp.wrike.pagination import MAX_PAGE_SIZE, Page
    from wrike_mcp.wrike.resolve import FolderTree, Resolver, legacy_id_from_permalink
    from wrike_mcp.wrike.tokens import StaticTokenSource, Token, TokenSource

__all__ = [
    "MAX_PAGE_SIZE",
    "NULL",
    "STATUS_GROUPS",
    "AccessForbidden",
    "Account",
    "AmbiguousReference",
    "Approval",
    "ApprovalDecision",
    "AsyncJob",
    "Attachment",
    "AuditLogEvent",
    "AuthorizationExpired",
    "BadReference",
    "Blueprint",
    "Comment",
    "ConnectionFailed",
    "Contact",
    "CreatedWork",
    "CustomField",
    "CustomFieldSettings",
    "CustomFieldValue",
    "CustomItemType",
    "CustomStatus",
    "Dependency",
    "DropDownOption",
    "EffortAllocation",
    "Folder",
    "FolderTree",
    "FormCondition",
    "FormPage",
    "FormQuestion",
    "FormSubmission",
    "IdMapping",
    "InvalidParameter",
    "InvalidRequest",
    "MalformedResponse",
    "Metadata",
    "MethodNotFound",
    "NotAllowed",
    "NotAuthorized",
    "Page",
    "ParameterRequired",
    "PrefillUrl",
    "Profile",
    "Project",
    "RateGovernor",
    "RateLimited",
    "ReferenceNotFound",
    "RequestForm",
    "Resolver",
    "ResourceNotFound",
    "ServerError",
    "Space",
    "SpaceMember",
    "StaticTokenSource",
    "StatusGroup",
    "Subscription",
    "Task",
    "TaskDates",
    "Timelog",
    "TimelogCategory",
    "Token",
    "TokenSource",
    "TransportError",
    "UnknownOutcome",
    "UntrustedHost",
    "Workflow",
    "WrikeAPIError",
    "WrikeClient",
    "WrikeError",
    "WrikeModel",
    "WrikeTimeout",
    "Written",
    "legacy_id_from_permalink",
]

# Where the names of __all__ live, searched in this order (a module may re-export another's name).
_MODULES = ("errors", "tokens", "pagination", "governor", "models", "client", "resolve")


def __getattr__(name: str) -> object:
    if name in __all__:
        for module in _MODULES:
            value = vars(importlib.import_module(f"{__name__}.{module}")).get(name)
            if value is not None:
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
