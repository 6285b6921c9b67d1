"""Leaner JSON schemas for `tools/list`: every byte there is paid in every conversation's context window.

pydantic's schemas carry an auto-generated `title` on every property and model, and spell each optional
field as `anyOf: [T, {"type": "null"}]` with `"default": null`. Results never contain null (empty fields
are omitted), and arguments are validated by the server's pydantic models, not by this schema, so both
can go without changing what is accepted or returned. Generous length limits (`maxLength` of 200 and
more) are enforced by the server all the same, with a clear error; a model gains nothing from reading them.
"""

from __future__ import annotations

from typing import Any

QUIET_MAX_LENGTH = 200
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_SCHEMA_VALUES = ("items", "additionalProperties", "not")


def slim(schema: Any) -> Any:
    """A copy of `schema` without auto titles, null alternatives and null defaults."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key == "maxLength" and isinstance(value, int) and value >= QUIET_MAX_LENGTH:
            continue
        if key in _SCHEMA_LISTS:
            out[key] = [slim(item) for item in value]
        elif key in _SCHEMA_MAPS:
            out[key] = {name: slim(item) for name, item in value.items()}
        elif key in _SCHEMA_VALUES:
            out[key] = slim(value)
        else:
            out[key] = value
    return _drop_null_alternative(out)


def _drop_null_alternative(schema: dict[str, Any]) -> dict[str, Any]:
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    kept = [option for option in options if option != {"type": "null"}]
    if len(kept) == len(options):
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if len(kept) == 1 and not set(rest) & set(kept[0]):
        return {**kept[0], **rest}
    return {**rest, "anyOf": kept}
