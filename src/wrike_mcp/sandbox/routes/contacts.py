"""Contacts (people and groups) and the account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.api import READ, WRITE, Ctx, route, timestamp
from wrike_mcp.sandbox.entities import Contact
from wrike_mcp.sandbox.errors import invalid_parameter, wrike_error
from wrike_mcp.sandbox.plans import SUBSCRIPTION_TYPES
from wrike_mcp.sandbox.seed import ACCOUNT_NAME
from wrike_mcp.sandbox.state import SandboxState

# 2026 digest adds rates, job roles and contact custom fields: accepted, never emitted (not modelled here).
CONTACT_FIELDS = (
    "metadata",
    "workScheduleId",
    "currentBillRate",
    "currentCostRate",
    "customFields",
    "jobRoleId",
)
ACCOUNT_FIELDS = ("subscription", "metadata", "customFields")
WORK_SCHEDULE_ID = ids.entity_id("KM", 1)


def render_contact(
    contact: Contact, me: Contact, fields: set[str], account_id: str = ids.ACCOUNT_ID
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": contact.id,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "type": contact.type,
        "profiles": []
        if contact.type == "Group"
        else [
            {
                "accountId": account_id,
                "email": contact.email,
                "role": contact.role,
                "external": contact.external,
                "admin": contact.admin,
                "owner": contact.owner,
                "active": not contact.deleted,
            }
        ],
        "avatarUrl": f"https://www.wrike.com/avatars/{contact.id}.png",
        "timezone": contact.timezone,
        "locale": contact.locale,
        "deleted": contact.deleted,
    }
    if contact.id == me.id:
        body["me"] = True
    if contact.type == "Group":
        body["memberIds"] = list(contact.member_ids)
    if contact.title:
        body["title"] = contact.title
    if "metadata" in fields:
        body["metadata"] = [{"key": k, "value": v} for k, v in contact.metadata.items()]
    if "workScheduleId" in fields and contact.type == "Person":
        body["workScheduleId"] = WORK_SCHEDULE_ID
    return body


def metadata_filter(ctx: Ctx) -> tuple[str, str | None] | None:
    raw = ctx.params.obj("metadata")
    if raw is None:
        return None
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise invalid_parameter("metadata.key", "is required")
    value = raw.get("value")
    return key, value if isinstance(value, str) else None


def metadata_matches(entries: dict[str, str], wanted: tuple[str, str | None] | None) -> bool:
    if wanted is None:
        return True
    key, value = wanted
    return key in entries and (value is None or entries[key] == value)


CONTACT_TYPES = ("Group", "Asset", "Person", "Robot")
MAX_EMAILS = 100  # "Email contacts filter. Limit: 100" (2026 description)


def _contact_filters(ctx: Ctx) -> list[Callable[[Contact], bool]]:
    """The 2026 description's contact filters. `name` is a case-insensitive contains match on the full
    name and `emails` an exact, case-insensitive match [assumption: the description says only "Contact name
    filter" and "Email contacts filter"]; `active` is the profile's active flag."""
    params = ctx.params
    checks: list[Callable[[Contact], bool]] = []
    wanted = metadata_filter(ctx)
    checks.append(lambda c: metadata_matches(c.metadata, wanted))
    types = params.enum_list("types", CONTACT_TYPES, comma=True)
    if types:
        checks.append(lambda c: c.type in types)
    name = params.string("name", non_empty=True)
    if name is not None:
        checks.append(lambda c: name.casefold() in c.name.casefold())
    emails = params.string_list("emails", comma=True, max_items=MAX_EMAILS)
    if emails is not None:
        wanted_emails = {e.strip().casefold() for e in emails}
        checks.append(lambda c: c.type != "Group" and c.email.casefold() in wanted_emails)
    active = params.boolean("active")
    if active is not None:
        checks.append(lambda c: c.type != "Group" and (not c.deleted) == active)
    return checks


@route(
    "GET",
    "/contacts",
    "contacts",
    READ,
    ["me", "metadata", "deleted", "fields", "name", "emails", "types", "active"],
    accepted=["customFields"],  # contact custom fields are not modelled
)
def list_contacts(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(CONTACT_FIELDS)
    only_me = ctx.params.boolean("me", False)
    deleted = ctx.params.boolean("deleted")
    checks = _contact_filters(ctx)
    found = []
    for contact in ctx.state.contacts.values():
        if only_me and contact.id != ctx.user.id:
            continue
        if deleted is not None and contact.deleted != deleted:
            continue
        if not all(check(contact) for check in checks):
            continue
        found.append(render_contact(contact, ctx.user, fields, account_of(ctx)))
    return found


@route("GET", "/contacts/{contactIds}", "contacts", READ, ["metadata", "fields", "types"])
def get_contacts(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(CONTACT_FIELDS)
    wanted = metadata_filter(ctx)
    types = ctx.params.enum_list("types", CONTACT_TYPES, comma=True)
    contacts = [ctx.state.contact(contact_id) for contact_id in ctx.ids("contactIds")]
    return [
        render_contact(c, ctx.user, fields, account_of(ctx))
        for c in contacts
        if metadata_matches(c.metadata, wanted) and (not types or c.type in types)
    ]


def metadata_updates(
    entries: list[dict[str, Any]] | None, name: str = "metadata"
) -> list[tuple[str, str | None]]:
    """`[{key, value}]` as (key, value) pairs; a null value removes the entry."""
    updates: list[tuple[str, str | None]] = []
    for entry in entries or []:
        key = entry.get("key")
        if not isinstance(key, str) or not key:
            raise invalid_parameter(f"{name}.key", "is required")
        value = entry.get("value")
        if value is not None and not isinstance(value, str):
            raise invalid_parameter(f"{name}.value", "must be a string or null")
        updates.append((key, value))
    return updates


@route(
    "PUT",
    "/contacts/{contactId}",
    "contacts",
    WRITE,
    ["metadata"],
    # Rates, job roles and contact custom fields are not modelled; the answer carries metadata as before.
    accepted=["currentBillRate", "currentCostRate", "customFields", "jobRoleId", "fields"],
)
def update_contact(ctx: Ctx) -> list[dict[str, Any]]:
    contact = ctx.state.contact(ctx.one_id("contactId"))
    if contact.id != ctx.user.id and not (ctx.user.admin and contact.type == "Group"):
        raise wrike_error("access_forbidden", "A user may change only their own contact metadata")
    ctx.state.update_metadata(contact.metadata, metadata_updates(ctx.params.obj_list("metadata")))
    return [render_contact(contact, ctx.user, {"metadata"}, account_of(ctx))]


def account_of(ctx: Ctx) -> str:
    """The account the request's token was granted for."""
    return ctx.token.account_id if ctx.token is not None else ids.ACCOUNT_ID


def render_account(
    state: SandboxState, fields: set[str], user: Contact, account_id: str = ids.ACCOUNT_ID
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": account_id,
        "name": ACCOUNT_NAME,
        "dateFormat": "dd/MM/yyyy",
        "firstDayOfWeek": "Mon",
        "workDays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "rootFolderId": ids.ROOT_FOLDER_ID,
        "recycleBinId": ids.RECYCLE_BIN_ID,
        "createdDate": timestamp(state.folders[ids.ROOT_FOLDER_ID].created),
        "joinedDate": timestamp(state.folders[ids.ROOT_FOLDER_ID].created),
    }
    if "subscription" in fields:
        subscription: dict[str, Any] = {
            "type": SUBSCRIPTION_TYPES[state.config.plan],
            "suspended": False,
        }
        if user.admin:  # paid and userLimit are shown to admins only
            subscription.update(paid=True, userLimit=50)
        body["subscription"] = subscription
    if "metadata" in fields:
        body["metadata"] = [{"key": k, "value": v} for k, v in state.account_metadata.items()]
    if "customFields" in fields:
        from wrike_mcp.sandbox.routes.meta import render_custom_field

        body["customFields"] = [render_custom_field(f) for f in state.custom_fields.values()]
    return body


@route("GET", "/account", "accounts", READ, ["metadata", "fields"])
def get_account(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(ACCOUNT_FIELDS)
    if not metadata_matches(ctx.state.account_metadata, metadata_filter(ctx)):
        return []
    return [render_account(ctx.state, fields, ctx.user, account_of(ctx))]


@route("PUT", "/account", "accounts", WRITE, ["metadata"])
def update_account(ctx: Ctx) -> list[dict[str, Any]]:
    if not ctx.user.admin:
        raise wrike_error("access_forbidden", "Only account admins may change account metadata")
    ctx.state.update_metadata(ctx.state.account_metadata, metadata_updates(ctx.params.obj_list("metadata")))
    return [render_account(ctx.state, {"metadata"}, ctx.user, account_of(ctx))]


ROUTES = [list_contacts, get_contacts, update_contact, get_account, update_account]
