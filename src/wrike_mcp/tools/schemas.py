"""Leaner JSON schemas for `tools/list`: every byte there is paid in every conversation's context window.

pydantic's schemas carry an auto-generated `title` on every property and model, and spell each optional
field as `anyOf: [T, {"type": "null"}]` with `"default": null`; a flag's `"default": false` says no more
than leaving it out. A result leaves out its empty optional fields, and arguments are validated by the
server's pydantic models, not by this schema, so all of these can go without changing what is accepted or
returned. String length limits (every `maxLength`, and a `minLength` of 1) are sanity caps far from any
meaningful value: the server enforces them all the same, with a clear error, and a model gains nothing from
reading them. `with_limits=True` keeps them, for whoever needs the schema the server enforces (the fuzzing
tests).
"""

from __future__ import annotations

from typing import Any

_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS = ("properties", "$defs", "patternProperties")
_SCHEMA_VALUES = ("items", "additionalProperties", "propertyNames", "not")


def slim(schema: Any, *, with_limits: bool = False) -> Any:
    """A copy of `schema` without auto titles, null alternatives, null defaults and (unless `with_limits`)
    string length limits."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (value is None or (value is False and schema.get("type") == "boolean")):
            continue
        if not with_limits and _is_length_limit(key, value):
            continue
        if key in _SCHEMA_LISTS:
            out[key] = [slim(item, with_limits=with_limits) for item in value]
        elif key in _SCHEMA_MAPS:
            out[key] = {name: slim(item, with_limits=with_limits) for name, item in value.items()}
        elif key in _SCHEMA_VALUES:
            sub = slim(value, with_limits=with_limits)
            if sub != {} or key != "propertyNames":
                out[key] = sub
        else:
            out[key] = value
    return _drop_null_alternative(out, optional="default" in schema)


def slim_arguments(schema: Any, *, with_limits: bool = False) -> Any:
    """An arguments schema as `slim` makes it, nested models written in place: some clients cannot follow
    `$ref` (or ignore what stands beside one), and an argument's model is used once anyway."""
    return slim(_inline_defs(schema), with_limits=with_limits)


def _inline_defs(schema: Any) -> Any:
    """`schema` with each `$ref` to its `$defs` replaced by the definition (a recursive one stays a `$ref`,
    and then `$defs` stays too)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("$defs"), dict):
        return schema
    defs: dict[str, Any] = schema["$defs"]
    kept: set[str] = set()

    def resolve(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [resolve(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else None
        if name is not None and name in defs:
            if name in seen:
                kept.add(name)
                return node
            beside = {key: resolve(value, seen) for key, value in node.items() if key != "$ref"}
            return {**resolve(defs[name], seen | {name}), **beside}
        return {key: resolve(value, seen) for key, value in node.items()}

    out = resolve({key: value for key, value in schema.items() if key != "$defs"}, frozenset())
    if kept:
        out["$defs"] = defs
    return out


def _is_length_limit(key: str, value: Any) -> bool:
    return key == "maxLength" or (key == "minLength" and value == 1)


def _drop_null_alternative(schema: dict[str, Any], *, optional: bool) -> dict[str, Any]:
    """An optional argument's `anyOf: [T, null]` as T: leaving it out says null. Elsewhere null stays (in a
    map's values null means "clear"; a result field without a default can be null). Unions stay `anyOf`, never
    a `type` list: some clients (Gemini's function declarations) refuse type lists."""
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    kept = [option for option in options if not (optional and option == {"type": "null"})]
    if not kept:
        return rest
    if len(kept) == 1 and not set(rest) & set(kept[0]):
        return {**kept[0], **rest}
    return {**rest, "anyOf": kept}
