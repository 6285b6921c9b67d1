"""Reads the vendored digest of Wrike's 2026 OpenAPI description (tests/data/wrike-api-v4-2026-digest.md)
into endpoints with their parameters, enum values, optional `fields` and response fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DIGEST = Path(__file__).parent.parent / "data" / "wrike-api-v4-2026-digest.md"

_HEADING = re.compile(r"^### (GET|POST|PUT|DELETE) (/\S+) — ")
_PARAM = re.compile(r"^- (\w+) \(([^)]*)\)")
_SAME_AS = re.compile(
    r"(?:same (?:parameters|list|optional fields) as|returns: same as) (GET|POST|PUT|DELETE) (/\S+?)[,( ]",
    re.I,
)
_ENTITY_FIELDS = re.compile(r"^([A-Z][\w ]*?) return fields[^:]*: (.+)$")
_BACKTICKED = re.compile(r"`([^`]+)`")


@dataclass
class Endpoint:
    method: str
    path: str
    params: dict[str, list[str]] = field(default_factory=dict)  # name → documented enum values (or [])
    fields: set[str] = field(default_factory=set)  # values `fields` accepts
    returns: set[str] = field(default_factory=set)  # response field names


@dataclass
class Digest:
    endpoints: dict[tuple[str, str], Endpoint]
    audit_operations: list[str]

    def endpoint(self, method: str, path: str) -> Endpoint | None:
        return self.endpoints.get((method, normalise(path)))


def normalise(path: str) -> str:
    return re.sub(r"\{\w+\}", "{}", path)


def _field_names(text: str) -> set[str]:
    return {part.split(":")[0].strip() for part in text.split(",") if ":" in part}


def _enum_values(type_info: str) -> list[str]:
    quoted = _BACKTICKED.findall(type_info)
    if quoted:
        return quoted
    if "completer:" in type_info:
        return [v.strip() for v in type_info.split("completer:", 1)[1].split(",") if v.strip()]
    return []


@cache
def load() -> Digest:
    lines = DIGEST.read_text(encoding="utf-8").splitlines()
    entities: dict[str, set[str]] = {}
    endpoints: dict[tuple[str, str], Endpoint] = {}
    shared: dict[str, list[str]] = {}
    current: Endpoint | None = None
    in_shared = False
    operations: list[str] = []
    for index, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading:
            current = Endpoint(heading.group(1), heading.group(2))
            endpoints[(current.method, normalise(current.path))] = current
            in_shared = False
            continue
        if line.startswith("## ") or line.startswith("### "):
            current, in_shared = None, False
        entity = _ENTITY_FIELDS.match(line)
        if entity:
            entities[entity.group(1).lower()] = _field_names(entity.group(2))
            continue
        if line.startswith("Shared query parameters"):
            in_shared = True
            continue
        if in_shared and (param := _PARAM.match(line)):
            shared[param.group(1)] = _enum_values(param.group(2))
            continue
        if current is None:
            continue
        if current.path == "/audit_log" and line.startswith("- operations"):
            operations = [v.strip() for v in lines[index + 1].split(",") if v.strip()]
        _read_line(current, line, endpoints, entities, shared)
    return Digest(endpoints, operations)


def _read_line(
    current: Endpoint,
    line: str,
    endpoints: dict[tuple[str, str], Endpoint],
    entities: dict[str, set[str]],
    shared: dict[str, list[str]],
) -> None:
    same = _SAME_AS.search(line + " ")
    other = endpoints.get((same.group(1), normalise(same.group(2)))) if same else None
    if line.startswith("- returns:"):
        text = line.removeprefix("- returns:").strip()
        text = re.sub(r"\s*(\[[^\]]*\]|\(above\))$", "", text)  # the digest's editorial notes
        text = re.sub(r"^async-job record(?::|\s*\()\s*(.*?)\)?$", r"\1", text)  # "async-job record: a: t, …"
        kind = re.match(r"^([\w ]+?) fields$", text)
        if other is not None:
            current.returns |= other.returns
        elif kind and kind.group(1).lower() in entities:
            current.returns |= entities[kind.group(1).lower()]
        else:
            current.returns |= _field_names(text)
        return
    if line.lower().startswith("- same parameters as") and other is not None:
        current.params.update(other.params)
        if "except no `deleted`" in line:
            current.params.pop("deleted", None)
        current.fields |= other.fields
        return
    if line.startswith("- shared list parameters"):
        current.params.update(shared)
        current.params["fields"] = []
        current.fields |= {"approvalStatus", "lockStatus", "exportStatus", "billingType"}
        if "fields include `finance`" in line:
            current.fields.add("finance")
        return
    param = _PARAM.match(line)
    if param is None or "positional" in param.group(2):
        return
    name = param.group(1)
    current.params[name] = _enum_values(param.group(2))
    if name == "fields":
        description = line.split("—", 1)[1] if "—" in line else ""
        current.fields |= set(_BACKTICKED.findall(description))
        if other is not None:
            current.fields |= other.fields
