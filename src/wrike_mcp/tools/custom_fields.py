"""Custom field values in and out, the one home of their rules (a helper module: it declares no tools).

In: the values a model gives create_task and update_task (`CustomFieldsInput`), checked without Wrike, then
encoded, each against its field's type, into Wrike's `customFields` body. Out: a task's values typed by their
field (get_task), a folder's or project's as text (get_folder); both read a value the same way
(`read_values`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.tools.inputs import MAX_REF, Name, parse_day
from wrike_mcp.tools.output import Model, Ref, names_of, people_refs, show_title, truncate
from wrike_mcp.wrike.models import CustomField
from wrike_mcp.wrike.models import CustomFieldValue as WrikeFieldValue
from wrike_mcp.wrike.text import fold, quoted, strip_invisible

MAX_CUSTOM_FIELDS = 50
MAX_FIELD_VALUE = 2000  # Wrike stores custom field values as text of at most 2000 characters
MAX_LIST_VALUE = 50  # items in one list value (a Contacts field's people, a Multiple field's options)
FIELD_TEXT_LIMIT = 500  # custom field text shown in output

NUMBER_TYPES = ("Numeric", "Currency", "Percentage", "Duration")


async def definitions(deps: WrikeContext) -> dict[str, CustomField]:
    """The account's custom fields by id (the resolver keeps them)."""
    return {f.id: f for f in await deps.resolver.custom_fields()}


# ---- input ----------------------------------------------------------------------------------------------

FieldValue = Annotated[str, Field(max_length=MAX_FIELD_VALUE)] | float | bool | list[Name] | None
CUSTOM_FIELDS_HELP = (
    'by name or id, e.g. {"Budget": 1200, "Reviewer": ["me"]}; null clears (list_custom_fields)'
)
CustomFieldsInput = Annotated[
    dict[Annotated[str, Field(max_length=200)], FieldValue] | None,
    Field(max_length=MAX_CUSTOM_FIELDS, description=CUSTOM_FIELDS_HELP),
]


def check_custom_field_input(values: Mapping[str, Any] | None) -> None:
    """Refuse, before any Wrike call, what no field type takes."""
    for name, value in (values or {}).items():
        if not name.strip():
            raise ToolError("a custom field name is empty: use the field's name or id (list_custom_fields)")
        if isinstance(value, list) and (
            len(value) > MAX_LIST_VALUE or any(len(str(v)) > MAX_REF for v in value)
        ):
            raise ToolError(f"custom field {quoted(name, 40)} has too many or too long values")
        if isinstance(value, float) and not math.isfinite(value):
            raise ToolError(f"custom field {quoted(name, 40)} must be a finite number")


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _number_text(number: float) -> str:
    """A number as Wrike stores it: whole numbers without a decimal point."""
    return str(int(number)) if number.is_integer() else repr(number)


async def encode_custom_fields(
    deps: WrikeContext, values: Mapping[str, str | float | bool | list[str] | None]
) -> list[dict[str, Any]]:
    """Custom field values by name → Wrike's `[{id, value}]`, each checked against the field's type."""
    out: list[dict[str, Any]] = []
    fields = await definitions(deps)
    for name, value in values.items():
        field_id = await deps.resolver.custom_field_id(name)
        meta = fields.get(field_id)
        kind = meta.type if meta else None
        label = quoted(name, 40)
        if value is None or value == "" or value == []:
            out.append({"id": field_id, "value": None})
            continue
        if kind == "Checkbox":
            if isinstance(value, str) and value.strip().casefold() in (
                "true",
                "yes",
                "1",
                "false",
                "no",
                "0",
            ):
                value = value.strip().casefold() in ("true", "yes", "1")
            if not isinstance(value, bool):
                raise ToolError(f"custom field {label} is a checkbox: give true or false")
            encoded = "true" if value else "false"
        elif kind in NUMBER_TYPES:
            if isinstance(value, bool | list) or not _is_number_text(str(value)):
                raise ToolError(f"custom field {label} is {kind}: give a number, e.g. 1200")
            encoded = _number_text(float(value))
        elif kind == "Date":
            if not isinstance(value, str):
                raise ToolError(f"custom field {label} is a date: give YYYY-MM-DD")
            parsed = parse_day(value, f"custom field {label}")
            assert parsed is not None
            encoded = parsed.isoformat()
        elif kind == "Contacts":
            refs = value if isinstance(value, list) else [p for p in str(value).split(",")]
            if any(not isinstance(r, str) or not r.strip() for r in refs) or isinstance(value, bool):
                raise ToolError(f"custom field {label} takes people: a list of names, emails or 'me'")
            encoded = ",".join(await deps.resolver.person_ids([r.strip() for r in refs]))
        else:
            if isinstance(value, list):
                if kind != "Multiple":
                    raise ToolError(f"custom field {label} takes one text value, not a list")
                encoded = ",".join(strip_invisible(str(v)).strip() for v in value)
            elif isinstance(value, bool):
                encoded = "true" if value else "false"
            elif isinstance(value, float):
                encoded = _number_text(value)
            else:
                encoded = strip_invisible(value).strip()
            if kind == "DropDown" and meta is not None:
                options = meta.settings.values if meta.settings else []
                exact = [o for o in options if fold(o) == fold(encoded)]
                if exact:
                    encoded = exact[0]
                elif options and meta.settings and meta.settings.allow_other_values is False:
                    listed = ", ".join(show_title(o) for o in options[:15])
                    raise ToolError(
                        f"custom field {label} has no option {quoted(encoded, 40)}; options: {listed}"[:400]
                    )
        if len(encoded) > MAX_FIELD_VALUE:
            raise ToolError(f"custom field {label} value is too long: at most {MAX_FIELD_VALUE} characters")
        out.append({"id": field_id, "value": encoded})
    return out


# ---- output ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldReading:
    """One custom field value as both renderings start from."""

    id: str
    field: CustomField | None  # None: not among the account's custom fields as the resolver knows them
    text: str | None  # the value as text, as Wrike stores it
    people: list[Ref] | None  # a Contacts field's value: its people, named

    @property
    def name(self) -> str | None:
        return show_title(self.field.title) if self.field else None

    @property
    def type(self) -> str | None:
        return self.field.type if self.field else None


def value_text(raw: Any) -> str | None:
    """A value as text: Wrike sends text; anything else it sent is shown as JSON."""
    return raw if raw is None or isinstance(raw, str) else json.dumps(raw)


def contact_ids(text: str) -> list[str]:
    """The people of a Contacts value: ids separated by commas, as Wrike writes them, or a JSON list."""
    items: list[Any] = text.split(",")
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            items = parsed
    return [str(item).strip() for item in items if str(item).strip()]


def shown_text(text: str) -> tuple[str, bool]:
    """Value text for output: invisible characters removed, cut at FIELD_TEXT_LIMIT; the flag says it was cut."""
    return truncate(strip_invisible(text), FIELD_TEXT_LIMIT)


async def read_values(deps: WrikeContext, values: Sequence[WrikeFieldValue]) -> list[FieldReading]:
    """Values with their fields, Contacts values' people named in one lookup for them all (no lookup at all
    for no values)."""
    if not values:
        return []
    fields = await definitions(deps)
    texts = [(entry.id, fields.get(entry.id), value_text(entry.value)) for entry in values]
    people_ids = [
        contact_ids(text) if field is not None and field.type == "Contacts" and text else None
        for _, field, text in texts
    ]
    wanted = [person for ids in people_ids if ids for person in ids]
    names = await names_of(deps, wanted) if wanted else {}
    return [
        FieldReading(
            id=ident,
            field=field,
            text=text,
            people=await people_refs(deps, ids, names) if ids is not None else None,
        )
        for (ident, field, text), ids in zip(texts, people_ids, strict=True)
    ]


def _number(text: str) -> float | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


class CustomFieldOut(Model):
    id: str
    name: str | None = None
    type: str | None = None
    value: bool | float | str | list[Ref] | None = Field(
        default=None,
        description="by type: Checkbox → bool, numbers → number, Contacts → people, Date → YYYY-MM-DD",
    )
    currency: str | None = None
    truncated: bool | None = None


async def render_custom_fields(deps: WrikeContext, values: Sequence[WrikeFieldValue]) -> list[CustomFieldOut]:
    """A task's custom field values typed by their field's type (get_task); empty values are left out."""
    out = []
    for reading in await read_values(deps, values):
        text, kind, meta = reading.text, reading.type, reading.field
        if not text:
            continue
        value: bool | float | str | list[Ref] | None
        cut: bool | None = None
        if reading.people is not None:
            value = reading.people
        elif kind == "Checkbox":
            value = text.strip().casefold() == "true"
        elif kind in NUMBER_TYPES:
            value = _number(text)
        elif kind == "Date":
            value = text[:10]
        else:
            shown, flag = shown_text(text)
            value, cut = shown, (True if flag else None)
        currency = None
        if kind == "Currency" and meta is not None and meta.settings:
            currency = meta.settings.currency
        out.append(
            CustomFieldOut(
                id=reading.id, name=reading.name, type=kind, value=value, currency=currency, truncated=cut
            )
        )
    return out


class CustomFieldValue(Model):
    id: str
    name: str | None = Field(default=None, description="the custom field's title")
    type: str | None = None
    value: str | None = None
    people: list[Ref] = Field(default_factory=list, description="Contacts fields: the people named")


async def custom_field_texts(deps: WrikeContext, values: Sequence[WrikeFieldValue]) -> list[CustomFieldValue]:
    """A folder's or project's custom field values as text, Contacts values as people
    (get_folder); empty values are kept."""
    return [
        CustomFieldValue(
            id=reading.id,
            name=reading.name,
            type=reading.type,
            value=shown_text(reading.text)[0]
            if reading.text is not None and reading.people is None
            else None,
            people=reading.people or [],
        )
        for reading in await read_values(deps, values)
    ]
