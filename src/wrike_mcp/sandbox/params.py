"""Request parameters the way Wrike takes them.

Query strings and form bodies carry strings: arrays and objects are JSON-encoded
(`fields=["description"]`, `dates={"due":"2024-05-01"}`), a bare single value also counts as a
one-element array, and a few people/status filters also accept comma-joined lists. JSON bodies carry
typed values. Every validation failure names the parameter, as Wrike's `invalid_parameter` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from wrike_mcp.sandbox.errors import invalid_parameter, parameter_required

TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$")
# Parameters every method accepts: the token alternative and the echoed `state`.
UNIVERSAL = frozenset({"access_token", "state"})


@dataclass
class RawValue:
    """A value that arrived as text (query string or form field) and is decoded on use."""

    text: str


class Params:
    def __init__(self, query: dict[str, str], body: dict[str, Any], body_is_json: bool) -> None:
        self.values: dict[str, Any] = {name: RawValue(text) for name, text in query.items()}
        for name, value in body.items():
            self.values[name] = value if body_is_json else RawValue(str(value))

    # -- presence -------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self.values)

    def present(self, name: str) -> bool:
        return name in self.values

    def is_null(self, name: str) -> bool:
        value = self.values.get(name, ...)
        return value is None or (isinstance(value, RawValue) and value.text == "null")

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed_set = set(allowed) | UNIVERSAL
        for name in self.values:
            if name not in allowed_set:
                raise invalid_parameter(name, "is not supported by this method")

    def _decoded(self, name: str) -> Any:
        """The value with JSON text decoded where it looks like JSON; raw text otherwise."""
        value = self.values[name]
        if not isinstance(value, RawValue):
            return value
        text = value.text.strip()
        if text[:1] in ("[", "{") or text == "null":
            try:
                return json.loads(text)
            except ValueError:
                raise invalid_parameter(name, "is not valid JSON") from None
        return value.text

    # -- scalars --------------------------------------------------------------------------------------
    def string(self, name: str, *, required: bool = False, non_empty: bool = False) -> str | None:
        if name not in self.values or self.is_null(name):
            if required:
                raise parameter_required(name)
            return None
        value = self.values[name]
        text = value.text if isinstance(value, RawValue) else value
        if not isinstance(text, str):
            raise invalid_parameter(name, "must be a string")
        if non_empty and not text.strip():
            raise invalid_parameter(name, "cannot be empty")
        return text

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        if name not in self.values:
            return default
        value = self.values[name]
        if isinstance(value, bool):
            return value
        if isinstance(value, RawValue):
            text = value.text.strip().lower()
            if text in ("true", ""):  # `?me` alone means true, as for Wrike's "optional boolean"
                return True
            if text == "false":
                return False
        raise invalid_parameter(name, "must be true or false")

    def number(
        self, name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        if name not in self.values or self.is_null(name):
            return None
        value = self.values[name]
        try:
            number = float(value.text if isinstance(value, RawValue) else value)
        except (TypeError, ValueError):
            raise invalid_parameter(name, "must be a number") from None
        if isinstance(value, bool) or number != number:  # bools are ints in Python; NaN is not a number here
            raise invalid_parameter(name, "must be a number")
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise invalid_parameter(name, f"must be in range [{_fmt(minimum)}..{_fmt(maximum)}]")
        return number

    def integer(self, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int | None:
        number = self.number(name, minimum=minimum, maximum=maximum)
        if number is None:
            return None
        if number != int(number):
            raise invalid_parameter(name, "must be an integer")
        return int(number)

    def enum(self, name: str, allowed: Iterable[str], *, required: bool = False) -> str | None:
        value = self.string(name, required=required)
        allowed_list = list(allowed)
        if value is not None and value not in allowed_list:
            raise invalid_parameter(name, f"must be one of: {', '.join(allowed_list)}")
        return value

    # -- collections ----------------------------------------------------------------------------------
    def string_list(
        self, name: str, *, comma: bool = False, max_items: int | None = None
    ) -> list[str] | None:
        if name not in self.values or self.is_null(name):
            return None
        decoded = self._decoded(name)
        if isinstance(decoded, str):
            items = [part.strip() for part in decoded.split(",")] if comma else [decoded]
            items = [item for item in items if item]
        elif isinstance(decoded, list) and all(isinstance(item, str) for item in decoded):
            items = list(decoded)
        else:
            raise invalid_parameter(name, "must be a JSON array of strings")
        if max_items is not None and len(items) > max_items:
            raise invalid_parameter(name, f"accepts at most {max_items} items")
        return items

    def enum_list(self, name: str, allowed: Iterable[str], *, comma: bool = False) -> list[str] | None:
        items = self.string_list(name, comma=comma)
        allowed_list = list(allowed)
        for item in items or []:
            if item not in allowed_list:
                raise invalid_parameter(name, f"contains '{item}'; allowed values: {', '.join(allowed_list)}")
        return items

    def obj(self, name: str) -> dict[str, Any] | None:
        if name not in self.values or self.is_null(name):
            return None
        decoded = self._decoded(name)
        if not isinstance(decoded, dict):
            raise invalid_parameter(name, "must be a JSON object")
        return decoded

    def obj_list(self, name: str) -> list[dict[str, Any]] | None:
        if name not in self.values or self.is_null(name):
            return None
        decoded = self._decoded(name)
        if isinstance(decoded, dict):
            decoded = [decoded]
        if not isinstance(decoded, list) or not all(isinstance(item, dict) for item in decoded):
            raise invalid_parameter(name, "must be a JSON array of objects")
        return decoded

    def fields(self, allowed: Iterable[str]) -> set[str]:
        return set(self.enum_list("fields", allowed) or [])

    def snapshot(self) -> dict[str, Any]:
        """A plain copy of the parameters, kept behind a nextPageToken."""
        return {k: (v.text if isinstance(v, RawValue) else v) for k, v in self.values.items()}

    @classmethod
    def from_snapshot(cls, values: dict[str, Any]) -> Params:
        params = cls({}, {}, False)
        params.values = {k: RawValue(v) if isinstance(v, str) else v for k, v in values.items()}
        return params


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value == int(value) else str(value)


# -- dates ---------------------------------------------------------------------------------------------
def parse_timestamp(value: Any, name: str) -> datetime:
    """`yyyy-MM-dd'T'HH:mm:ss'Z'`, the UTC timestamps of createdDate/updatedDate/eventDate filters."""
    if not isinstance(value, str) or not TIMESTAMP_RE.match(value):
        raise invalid_parameter(name, "must be a timestamp in the format yyyy-MM-dd'T'HH:mm:ss'Z'")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise invalid_parameter(name, "is not a valid date") from None


def parse_date(value: Any, name: str) -> date:
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise invalid_parameter(name, "must be a date in the format yyyy-MM-dd")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid_parameter(name, "is not a valid date") from None


def parse_task_datetime(value: Any, name: str) -> tuple[datetime, bool]:
    """`yyyy-MM-dd['T'HH:mm:ss]`, zone-less; returns the value and whether a time was given."""
    if not isinstance(value, str) or not DATETIME_RE.match(value):
        raise invalid_parameter(name, "must be in the format yyyy-MM-dd'T'HH:mm:ss ('T'HH:mm:ss is optional)")
    try:
        if "T" in value:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S"), True
        return datetime.combine(date.fromisoformat(value), datetime.min.time()), False
    except ValueError:
        raise invalid_parameter(name, "is not a valid date") from None


@dataclass
class TimestampRange:
    start: datetime | None = None
    end: datetime | None = None

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        return (self.start is None or moment >= self.start) and (self.end is None or moment <= self.end)


def timestamp_range(params: Params, name: str) -> TimestampRange | None:
    raw = params.obj(name)
    if raw is None:
        return None
    for key in raw:
        if key not in ("start", "end"):
            raise invalid_parameter(f"{name}.{key}", "is not supported; use start and end")
    return TimestampRange(
        start=parse_timestamp(raw["start"], f"{name}.start") if raw.get("start") is not None else None,
        end=parse_timestamp(raw["end"], f"{name}.end") if raw.get("end") is not None else None,
    )


@dataclass
class DateMatch:
    """Wrike's "DateTime exact match or semi-open interval": compares whole days when no time was given."""

    start: tuple[datetime, bool] | None = None
    equal: tuple[datetime, bool] | None = None
    end: tuple[datetime, bool] | None = None

    def matches(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        if self.equal is not None:
            value, timed = self.equal
            return moment == value if timed else moment.date() == value.date()
        if self.start is not None:
            value, timed = self.start
            if (moment < value) if timed else (moment.date() < value.date()):
                return False
        if self.end is not None:
            value, timed = self.end
            if (moment > value) if timed else (moment.date() > value.date()):
                return False
        return True


def date_match(params: Params, name: str, *, date_only: bool = False) -> DateMatch | None:
    raw = params.obj(name)
    if raw is None:
        return None
    match = DateMatch()
    for key, value in raw.items():
        if key not in ("start", "equal", "end"):
            raise invalid_parameter(f"{name}.{key}", "is not supported; use start, equal or end")
        if value is None:
            continue
        if date_only:
            parsed = datetime.combine(parse_date(value, f"{name}.{key}"), datetime.min.time())
            setattr(match, key, (parsed, False))
        else:
            setattr(match, key, parse_task_datetime(value, f"{name}.{key}"))
    if match.equal is not None and (match.start is not None or match.end is not None):
        raise invalid_parameter(name, "takes either equal or a start/end range")
    return match
