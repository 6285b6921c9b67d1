"""Hypothesis strategies from a tool's JSON Schema (the subset MCP tool schemas use): arguments that
satisfy it, and arguments that violate it in one place.

Supported: object (properties, required, additionalProperties, maxProperties, propertyNames), string
(minLength, maxLength, enum), integer and number (minimum, maximum, exclusiveMinimum/Maximum), boolean,
null, array (items, minItems, maxItems), anyOf/oneOf, enum and const. Written here rather than taken from
hypothesis-jsonschema, which documents drafts 04-07 while MCP schemas are 2020-12, and because the invalid
half (one violation at a time) is the half that finds bugs.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# Strings a person or a confused model might paste: real seed references, dates, and hostile shapes.
SAMPLES = [
    "me",
    "Ann Lee",
    "ann.lee@northwind.example",
    "Sam",
    "IEAAB2CDKQAAAAAE",
    "IEAAB2CDI4AAAAAG",
    "MAAAAAEFzrS_",  # a 2025-style short id: "Finalize launch checklist"
    "MQAAAAEFzrSO",  # "Operations/Office Move"
    "KUAAAAAB",
    "Marketing",
    "Marketing/Campaigns/Q3 Launch",
    "Engineering/Planning",
    "https://www.wrike.com/open.htm?id=4392400063",
    "https://www.wrike.com/open.htm?id=520000028",
    "Draft launch announcement",
    "Weekly sync notes",
    "In Review",
    "Active",
    "Completed",
    "Green",
    "Budget",
    "Channel",
    "2026-05-01",
    "2025-13-40",
    "99999-01-01",
    "2026-05-01T10:00:00Z",
    "2026-05-01T10:00:00+05:30",
    "../contacts",
    "%2e%2e%2f",
    "IEAAB2CDKQAAAAAE/../../folders",
    "A,B,C",
    "IEAAB2CDKQAAAAAE?method=DELETE",
    "IEAAB2CDKQAAAAAE&access_token=x",
    "#frag",
    "\x00",
    "line\r\nX-Injected: 1",
    "\u202eevil\u200b",
    "<img src=x onerror=alert(1)>",
    "   ",
    "",
    "null",
    "1e309",
    "-1",
]

# Values that make a valid call likely to succeed, by parameter name, so that valid cases reach Wrike writes.
TASKS = [
    "IEAAB2CDKQAAAAAE",
    "MAAAAAEFzrS_",
    "Draft launch announcement",
    "https://www.wrike.com/open.htm?id=520000028",
    "https://www.wrike.com/open.htm?id=4392400063",
]
FOLDERS = [
    "Marketing/Campaigns/Q3 Launch",
    "Marketing/Campaigns",
    "IEAAB2CDI4AAAAAG",
    "MQAAAAEFzrSO",
    "Engineering/Mobile App",
]
PEOPLE = ["me", "Ann Lee", "ben.carter@northwind.example", "KUAAAAAB", "Sam"]
DATES = ["2026-05-01", "2026-06-30", "2025-01-01T00:00:00Z"]
HINTS: dict[str, list[str]] = {
    "task": TASKS,
    "parent_task": TASKS,
    "folder": FOLDERS,
    "parent": FOLDERS,
    "within": FOLDERS,
    "project": ["Marketing/Campaigns/Q3 Launch", "Q3 Launch", "Engineering/Mobile App"],
    "space": ["Marketing", "Engineering"],
    "assignee": PEOPLE,
    "author": PEOPLE,
    "person": PEOPLE,
    "owner": PEOPLE,
    "user": PEOPLE,
    "status": ["Active", "Completed", "In Progress", "Green", "OnHold", "In Review"],
    "app": ["Slack Sync", "zpb4Hn8cLw"],
}
DATE_WORDS = ("date", "_after", "_before", "since", "until", "_from", "_to")

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def deeply_nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def _long(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Long strings without asking hypothesis for kilobytes of entropy: one character repeated."""
    return st.builds(lambda ch, n: ch * n, st.sampled_from("aé字 <\u200b"), st.integers(min_size, max_size))


def valid(schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([valid(option) for option in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([valid({**schema, "type": one}) for one in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get("minimum", -(2**31))
        high = schema.get("maximum", 2**31)
        if "exclusiveMinimum" in schema:
            low = schema["exclusiveMinimum"] + 1
        if "exclusiveMaximum" in schema:
            high = schema["exclusiveMaximum"] - 1
        return st.integers(low, high)
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum", schema.get("exclusiveMaximum")),
            exclude_min="exclusiveMinimum" in schema,
            exclude_max="exclusiveMaximum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 10_000)
        fits = [s for s in SAMPLES if low <= len(s) <= high]
        options = [st.text(min_size=low, max_size=min(high, 40))]
        if fits:
            options.append(st.sampled_from(fits))
        if high > 40:
            options.append(_long(max(low, 41), high))
        hints = HINTS.get(name) or (DATES if name.endswith(DATE_WORDS) else [])
        if hints:
            return st.one_of(st.sampled_from(hints), st.one_of(options))  # a hint half of the time
        return st.one_of(options)
    if kind == "array":
        return st.lists(
            valid(schema.get("items", {}), "person" if "owner" in name or "assignee" in name else ""),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    if kind == "object" or "properties" in schema:
        return valid_object(schema)
    return ANY_JSON  # no type: anything goes


def valid_object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = st.fixed_dictionaries(
        {name: valid(sub, name) for name, sub in properties.items() if name in required},
        optional={name: valid(sub, name) for name, sub in properties.items() if name not in required},
    )
    extra = schema.get("additionalProperties")
    if properties or not isinstance(extra, dict):
        return fixed
    names = st.text(min_size=1, max_size=schema.get("propertyNames", {}).get("maxLength", 30))
    names = st.one_of(names, st.sampled_from(["Budget", "Channel", "Billable", "Reviewer", "Launch Date"]))
    return st.dictionaries(names, valid(extra), max_size=min(schema.get("maxProperties", 4), 4))


def invalid(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value that breaks this schema (wrong type, out of range, too long, not in the enum, ...)."""
    options: list[st.SearchStrategy[Any]] = []
    kind = schema.get("type")
    wrong_types = {
        "string": st.one_of(
            st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2), st.none()
        ),
        "integer": st.one_of(
            st.text(max_size=5),
            st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
        ),
        "number": st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=2)),
        "boolean": st.one_of(st.text(max_size=5), st.integers(2, 10), st.none()),
        "array": st.one_of(
            st.text(max_size=5), st.integers(), st.dictionaries(st.text(max_size=3), st.integers())
        ),
        "object": st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=2), st.integers()),
    }
    if isinstance(kind, str) and kind in wrong_types:
        options.append(wrong_types[kind])
    if "enum" in schema:
        options.append(st.text(max_size=12).filter(lambda s: s not in schema["enum"]))
        options.append(
            st.sampled_from(["Hacked", "Urgent!!", "high", ""]).filter(lambda s: s not in schema["enum"])
        )
    if kind == "string":
        if "maxLength" in schema:
            options.append(_long(schema["maxLength"] + 1, schema["maxLength"] + 100))
        if schema.get("minLength", 0) > 0:
            options.append(st.just(""))
    if kind in ("integer", "number"):
        if "minimum" in schema:
            options.append(st.integers(schema["minimum"] - 10**6, schema["minimum"] - 1))
        if "exclusiveMinimum" in schema:
            options.append(st.sampled_from([schema["exclusiveMinimum"], schema["exclusiveMinimum"] - 1]))
        if "maximum" in schema:
            options.append(st.integers(int(schema["maximum"]) + 1, int(schema["maximum"]) + 10**6))
        options.append(st.sampled_from([10**30, -(10**30), 1e308]))
    if kind == "array":
        limit = schema.get("maxItems")
        if limit is not None:
            item = schema.get("items", {})
            options.append(st.lists(valid(item), min_size=limit + 1, max_size=limit + 3))
        if "items" in schema:
            options.append(st.lists(invalid(schema["items"]), min_size=1, max_size=2))
    if kind == "object" or "properties" in schema:
        options.append(invalid_object(schema))
    if "anyOf" in schema or "oneOf" in schema:
        options.append(st.just(deeply_nested(20)))
    options.append(st.just(deeply_nested(60)))
    return st.one_of(options)


def invalid_object(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """An object with exactly one thing wrong: a required property missing, a property of the wrong shape,
    an unknown property, or too many properties."""
    properties: dict[str, Any] = schema.get("properties", {})
    required = list(schema.get("required", []))
    base = valid_object(schema)
    options: list[st.SearchStrategy[Any]] = []
    if required:
        options.append(
            st.tuples(base, st.sampled_from(required)).map(
                lambda pair: {k: v for k, v in pair[0].items() if k != pair[1]}
            )
        )
    if properties:
        names = sorted(properties)

        @st.composite
        def one_bad(draw: st.DrawFn) -> dict[str, Any]:
            value = dict(draw(base))
            name = draw(st.sampled_from(names))
            value[name] = draw(invalid(properties[name]))
            return value

        options.append(one_bad())
    options.append(
        st.tuples(base, st.text(min_size=1, max_size=12), ANY_JSON).map(lambda t: {**t[0], **{t[1]: t[2]}})
    )
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        limit = schema.get("maxProperties")
        if limit is not None:
            options.append(st.just({f"field {i}": "x" for i in range(limit + 1)}))
        options.append(
            st.dictionaries(st.text(min_size=1, max_size=5), invalid(extra), min_size=1, max_size=2)
        )
        name_limit = schema.get("propertyNames", {}).get("maxLength")
        if name_limit is not None:
            options.append(_long(name_limit + 1, name_limit + 20).map(lambda name: {name: "x"}))
    return st.one_of(options)


def bulk_update_arguments() -> st.SearchStrategy[dict[str, Any]]:
    """bulk_update_tasks succeeds only with one selection and one kind of change, which independent
    optional properties rarely give: valid previews built that way."""
    selection = st.one_of(
        st.lists(st.sampled_from(TASKS), min_size=1, max_size=3).map(lambda refs: {"tasks": refs}),
        st.sampled_from(FOLDERS).map(lambda folder: {"where": {"folder": folder}}),
    )
    change = st.one_of(
        st.sampled_from(["Active", "Completed", "Deferred", "In Progress"]).map(lambda s: {"status": s}),
        st.sampled_from(["High", "Normal", "Low"]).map(lambda i: {"importance": i}),
        st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=2).map(lambda p: {"add_assignees": p}),
        st.integers(-30, 30).filter(bool).map(lambda n: {"shift_days": n}),
        st.sampled_from(FOLDERS).map(lambda f: {"add_parents": [f]}),
    )
    return st.builds(lambda picked, changed: {**picked, **changed}, selection, change)


# Tools whose valid calls need a combination of optional arguments, with a strategy that builds them.
FOCUSED = {"bulk_update_tasks": bulk_update_arguments}


def arguments(schema: dict[str, Any], tool: str = "") -> st.SearchStrategy[dict[str, Any]]:
    """Tool arguments: half valid, half with one violation (the arguments object itself stays an object);
    a tool in FOCUSED also gets the valid calls its strategy builds."""
    generic = st.one_of(valid_object(schema), invalid_object(schema))
    focused = FOCUSED.get(tool)
    if focused is None:
        return generic
    # three quarters built valid (a plain one_of lets hypothesis drift to the generic branch's many options)
    return st.integers(0, 3).flatmap(lambda pick: generic if pick == 3 else focused())
