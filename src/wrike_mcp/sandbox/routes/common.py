"""Helpers shared by the folder and task routes: custom fields, people, descriptions."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from wrike_mcp.sandbox.api import Ctx
from wrike_mcp.sandbox.entities import CustomField
from wrike_mcp.sandbox.errors import invalid_parameter
from wrike_mcp.sandbox.params import Params
from wrike_mcp.sandbox.state import SandboxState

T = TypeVar("T")

COMPARATORS = (
    "EqualTo",
    "IsEmpty",
    "IsNotEmpty",
    "LessThan",
    "LessOrEqualTo",
    "GreaterThan",
    "GreaterOrEqualTo",
    "InRange",
    "NotInRange",
    "Contains",
    "StartsWith",
    "EndsWith",
    "ContainsAll",
    "ContainsAny",
)
NUMERIC_TYPES = ("Numeric", "Currency", "Percentage", "Duration")
MAX_CUSTOM_FIELD_VALUE = 2000


def plain_text(markup: str) -> str:
    """HTML to text, for briefDescription and plainText=true."""
    text = re.sub(r"<br\s*/?>|</p>|</li>", "\n", markup)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def brief(markup: str) -> str:
    text = " ".join(plain_text(markup).split())
    return text if len(text) <= 100 else text[:97] + "..."


def people(ctx: Ctx, name: str, *, persons_only: bool = False) -> list[str] | None:
    """A list of contact ids that must exist and be active."""
    values = ctx.params.string_list(name)
    for contact_id in values or []:
        contact = ctx.state.contacts.get(contact_id)
        if contact is None or contact.deleted:
            raise invalid_parameter(name, f"contains unknown or deactivated contact '{contact_id}'")
        if persons_only and contact.type != "Person":
            raise invalid_parameter(name, f"contains '{contact_id}', which is not a person")
    return values


def _check_value(field: CustomField, value: str, name: str, state: SandboxState) -> None:
    if len(value) > MAX_CUSTOM_FIELD_VALUE:
        raise invalid_parameter(name, f"value exceeds {MAX_CUSTOM_FIELD_VALUE} characters")
    if value == "":
        return
    if field.type in NUMERIC_TYPES:
        try:
            float(value)
        except ValueError:
            raise invalid_parameter(
                name, f"value for {field.type} field '{field.title}' must be a number"
            ) from None
    elif field.type == "Checkbox" and value not in ("true", "false"):
        raise invalid_parameter(name, f"value for checkbox field '{field.title}' must be true or false")
    elif field.type == "Date":
        try:
            date.fromisoformat(value)
        except ValueError:
            raise invalid_parameter(
                name, f"value for date field '{field.title}' must be yyyy-MM-dd"
            ) from None
    elif field.type == "DropDown" and not field.settings.get("allowOtherValues", True):
        if value not in field.settings.get("values", []):
            allowed = ", ".join(field.settings.get("values", []))
            raise invalid_parameter(name, f"value for '{field.title}' must be one of: {allowed}")
    elif field.type == "Contacts":
        for contact_id in value.split(","):
            if contact_id.strip() not in state.contacts:
                raise invalid_parameter(name, f"contains unknown contact '{contact_id}'")


def custom_field_updates(ctx: Ctx, name: str = "customFields") -> list[tuple[str, str | None]]:
    """`[{id, value}]`; a null value removes the field."""
    updates: list[tuple[str, str | None]] = []
    for entry in ctx.params.obj_list(name) or []:
        field_id = entry.get("id")
        field = ctx.state.custom_fields.get(field_id) if isinstance(field_id, str) else None
        if field is None:
            raise invalid_parameter(name, f"refers to unknown custom field '{field_id}'")
        value = entry.get("value")
        if value is None:
            updates.append((field.id, None))
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            raise invalid_parameter(name, "values must be strings")
        _check_value(field, value, name, ctx.state)
        updates.append((field.id, value))
    return updates


def render_custom_fields(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"id": field_id, "value": value} for field_id, value in values.items()]


class CustomFieldFilter:
    """The `customField` filter of folder and task queries."""

    def __init__(self, params: Params, state: SandboxState) -> None:
        raw = params.obj("customField")
        self.active = raw is not None
        if raw is None:
            return
        field_id = raw.get("id")
        field = state.custom_fields.get(field_id) if isinstance(field_id, str) else None
        if field is None:
            raise invalid_parameter("customField.id", f"refers to unknown custom field '{field_id}'")
        self.field = field
        comparator = raw.get("comparator", "EqualTo")
        if comparator not in COMPARATORS:
            raise invalid_parameter("customField.comparator", f"must be one of: {', '.join(COMPARATORS)}")
        self.comparator: str = str(comparator)
        self.value = raw.get("value")
        self.min_value = raw.get("minValue")
        self.max_value = raw.get("maxValue")
        values = raw.get("values")
        if values is not None and not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
            raise invalid_parameter("customField.values", "must be an array of strings")
        self.values: list[str] = values or []
        needs_value = comparator in (
            "EqualTo",
            "LessThan",
            "LessOrEqualTo",
            "GreaterThan",
            "GreaterOrEqualTo",
            "Contains",
            "StartsWith",
            "EndsWith",
        )
        if needs_value and not isinstance(self.value, str):
            raise invalid_parameter("customField.value", f"is required for comparator {comparator}")
        if comparator in ("InRange", "NotInRange") and (self.min_value is None and self.max_value is None):
            raise invalid_parameter(
                "customField.minValue", f"or maxValue is required for comparator {comparator}"
            )
        if comparator in ("ContainsAll", "ContainsAny") and not self.values:
            raise invalid_parameter("customField.values", f"is required for comparator {comparator}")

    def _key(self, value: str) -> float | str:
        if self.field.type in NUMERIC_TYPES:
            try:
                return float(value)
            except ValueError:
                return value
        return value

    def matches(self, values: dict[str, str]) -> bool:
        if not self.active:
            return True
        current = values.get(self.field.id)
        comparator = self.comparator
        if comparator == "IsEmpty":
            return not current
        if comparator == "IsNotEmpty":
            return bool(current)
        if current is None:
            return comparator == "NotInRange"
        if comparator in ("Contains", "StartsWith", "EndsWith"):
            needle, hay = str(self.value).casefold(), current.casefold()
            if comparator == "Contains":
                return needle in hay
            return hay.startswith(needle) if comparator == "StartsWith" else hay.endswith(needle)
        if comparator in ("ContainsAll", "ContainsAny"):
            present = {part.strip() for part in current.split(",")}
            wanted = set(self.values)
            return wanted <= present if comparator == "ContainsAll" else bool(wanted & present)
        return self._compare(current)

    def _compare(self, current: str) -> bool:
        left: Any = self._key(current)
        try:
            if self.comparator in ("InRange", "NotInRange"):
                low = self._key(self.min_value) if isinstance(self.min_value, str) else None
                high = self._key(self.max_value) if isinstance(self.max_value, str) else None
                inside = (low is None or left >= low) and (high is None or left <= high)
                return inside if self.comparator == "InRange" else not inside
            right: Any = self._key(str(self.value))
            outcome: bool = {
                "EqualTo": left == right,
                "LessThan": left < right,
                "LessOrEqualTo": left <= right,
                "GreaterThan": left > right,
                "GreaterOrEqualTo": left >= right,
            }[self.comparator]
            return outcome
        except TypeError:  # a number compared with text never matches
            return False


def custom_fields_match(
    params: Params, state: SandboxState, limit: int | None = None
) -> Callable[[dict[str, str]], bool] | None:
    """The `customFields` filter (`[{id, value}]`, "exact match"): an item matches when every listed field
    has exactly that value; None when the request has no such filter."""
    wanted = params.obj_list("customFields")
    if wanted is None:
        return None
    if limit is not None and len(wanted) > limit:
        raise invalid_parameter("customFields", f"accepts at most {limit} filters")
    for entry in wanted:
        if entry.get("id") not in state.custom_fields:
            raise invalid_parameter("customFields", f"refers to unknown custom field '{entry.get('id')}'")
    return lambda values: all(values.get(e["id"]) == e.get("value") for e in wanted)


def title_contains(title: str, wanted: str) -> bool:
    """The `title` filter of task, folder and space lists.

    A contains match (Wrike's OpenAPI description, version 154; the 2020 reference said exact match). Its
    case is not documented: the sandbox ignores case, as Wrike's own search does, and clients that need an
    exact title re-check it themselves.
    """
    return wanted.casefold() in title.casefold()


def resumed_params(ctx: Ctx, route_key: str) -> tuple[Params, int]:
    """The query's parameters and offset: a nextPageToken stands for the whole earlier query ("overrides
    any other parameters in request")."""
    token = ctx.params.string("nextPageToken")
    if token is None:
        return ctx.params, 0
    saved = ctx.state.page_tokens.resume(token, route_key)
    return Params.from_snapshot(saved.params), saved.offset


def paged(
    ctx: Ctx, route_key: str, params: Params, found: list[T], offset: int, limit_cap: int = 1000
) -> list[T]:
    """One page of `found` when `pageSize` asks for paging (adding responseSize and nextPageToken), else
    the first `limit` (default `limit_cap`) items, as Wrike's `limit` is "ignored if pagination is requested"."""
    page_size = params.integer("pageSize", minimum=1, maximum=1000)
    limit = params.integer("limit", minimum=1) if params.present("limit") else None
    if page_size is None:
        return found[: min(limit or limit_cap, limit_cap)]
    ctx.extra["responseSize"] = len(found)
    if offset + page_size < len(found):
        ctx.extra["nextPageToken"] = ctx.state.page_tokens.save(
            route_key, params.snapshot(), offset + page_size
        )
    return found[offset : offset + page_size]
