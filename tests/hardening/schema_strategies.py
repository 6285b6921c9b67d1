"""Hypothesis strategies from a tool's JSON Schema (the subset MCP tool schemas use): arguments that
satisfy it, and arguments that violate it in one place.

Supported: object (properties, required, additionalProperties, maxProperties, propertyNames), string
(minLength, maxLength, enum), integer and number (minimum, maximum, exclusiveMinimum/Maximum), boolean,
null, array (items, minItems, maxItems), anyOf/oneOf, enum and const. Written here rather than taken from
hypothesis-jsonschema, which documents drafts 04-07 while MCP schemas are 2020-12, and because the invalid
half (one violation at a time) is the half that finds bugs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from wrike_mcp.sandbox import create_app, ids

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

# Real references from the sandbox seed (src/wrike_mcp/sandbox/seed.py), by parameter name. A valid call
# draws one of these most of the time, so that valid cases reach the success paths, Wrike writes included;
# the rest of the time it draws any string the schema allows.
TASKS = [
    "IEAAB2CDKQAAAAAE",
    "MAAAAAEFzrS_",
    "Draft launch announcement",
    "Finalize launch checklist",
    "Fix crash on login",
    "https://www.wrike.com/open.htm?id=520000028",
    "https://www.wrike.com/open.htm?id=4392400063",
]
FOLDERS = [
    "Marketing/Campaigns/Q3 Launch",
    "Marketing/Campaigns",
    "IEAAB2CDI4AAAAAG",
    "MQAAAAEFzrSO",
    "Engineering/Mobile App",
    "Operations/Hiring",
    "Engineering/Platform/API Revamp/Backend",
    "IEAAB2CDI4AAAAAU",  # Engineering/Mobile App/Releases
    "Marketing/Content",
    "Operations/Finance",
]
PROJECTS = [
    "Marketing/Campaigns/Q3 Launch",
    "Q3 Launch",
    "Engineering/Mobile App",
    "Operations/Office Move",
    "MQAAAAEFzrSO",
    "Spring Campaign",
    "Engineering/Platform/Infrastructure",
    "IEAAB2CDI4AAAAAV",  # Engineering/Legacy Portal
    "Operations/Finance/Annual Budget",
]
PEOPLE = [
    "me",
    "Ann Lee",
    "ben.carter@northwind.example",
    "KUAAAAAB",
    "Chloe Martin",
    "Sam Taylor",
    "diego.alvarez@northwind.example",
]
TASK_STATUSES = ["Active", "Completed", "In Progress", "New", "On Hold", "Cancelled"]
PROJECT_STATUSES = ["Green", "Yellow", "Red", "OnHold", "Completed", "Planning", "In Progress", "Done"]
DATES = ["2026-05-01", "2026-06-30", "2025-01-01T00:00:00Z"]
# Planned tasks, which dependencies may link ("Finalize launch checklist" → "Book launch venue" is seeded).
PLANNED_TASKS = [
    "MAAAAAEFzrS_",
    "IEAAB2CDKQAAAAAC",
    "Approve press kit",
    "IEAAB2CDKQAAAAAF",
    "IEAAB2CDKQAAAAAL",
    "Fix crash on login",
    "MAAAAAEFzrTN",
    "MAAAAAEFzrTU",
    "IEAAB2CDKQAAAAAT",
]
# Seeded ranges always run forwards: every start below comes before every end.
STARTS = ["2025-01-01", "2025-06-01T00:00:00Z"]
ENDS = ["2026-12-31", "2027-01-31T00:00:00Z"]
WORDS = ["Launch plan", "Review the draft", "Notes from the sync", "Budget", "Q3"]
# Timelog categories as a person names them (a hidden one, Travel, filters but takes no new time), and seeded
# time logs (ids come from counters: the first ones of the seed).
CATEGORIES = ["Development", "design", "Meetings", "Client support", "admin", "IEAAB2CDJSAAAAAB"]
TIMELOGS = [ids.entity_id(ids.TIMELOG, number) for number in range(1, 61)]
# Spaces, custom item types and request forms in every form a person gives them (src/wrike_mcp/sandbox/seed_intake.py).
SPACES = [
    "Marketing",
    "Engineering",
    "Operations",
    "marketing",
    "ENGINEERING",
    "IEAAB2CDI4AAAAAB",
    "MQAAAAEFzrSH",
    "https://www.wrike.com/open.htm?id=410000028",
]
ITEM_TYPES = [
    "Bug",
    "feature",
    "Campaign request",
    "Meeting",
    "Blog post",
    "Purchase request",
    "Release",
    "New hire onboarding",
    "IEAAB2CDPYAAAAAE",  # Bug
    "IEAAB2CDPYAAAAAK",  # Meeting
]
BUG_FORMS = [
    "Bug report",
    "bug report",
    "IEAAB2CDPFAAAAAC",
    "https://www.wrike.com/workspace.htm#/forms?formid=960014",
]
CAMPAIGN_FORMS = ["Campaign request", "IEAAB2CDPFAAAAAB", "960007"]
HIRE_FORMS = ["New hire request", "IEAAB2CDPFAAAAAD"]
Hints = dict[str, list[str]]
HINTS: Hints = {
    "task": TASKS,
    "parent_task": TASKS,
    "add_parents": FOLDERS,
    "remove_parents": FOLDERS,
    "folder": FOLDERS,
    "parent": FOLDERS,
    "within": FOLDERS,
    "project": PROJECTS,
    "space": ["Marketing", "Engineering", "Operations"],
    "assignee": PEOPLE,
    "author": PEOPLE,
    "person": PEOPLE,
    "owner": PEOPLE,
    "owners": PEOPLE,
    "add_owners": PEOPLE,
    "remove_owners": PEOPLE,
    "assignees": PEOPLE,
    "add_assignees": PEOPLE,
    "remove_assignees": PEOPLE,
    "add_followers": PEOPLE,
    "users": PEOPLE,
    "status": TASK_STATUSES,
    "app": ["Slack Sync", "zpb4Hn8cLw", "Reporting Bot"],
    "object_type": ["Task", "Folder", "Group", "User", "Workflow"],
    "operations": ["TaskCreated", "GroupMemberAdded", "UserDeactivated", "ApiAppAccessGranted"],
    "object_ids": ["IEAAB2CDKQAAAAAE", "KUAAAAAB"],
    "title": WORDS,
    "text": WORDS,
    "description": WORDS,
    "comment": WORDS,
    "query": ["Ann", "Lee", "carter", "Budget", "Channel"],
    "pending_approver": PEOPLE,
    "predecessor": PLANNED_TASKS,
    "successor": PLANNED_TASKS,
    # the seeded text attachments: launch-brief.md, press-contacts.csv, crash-log.txt, q3-budget.csv
    "attachment": [f"IEAAB2CDIYAAAAA{last}" for last in "BCDF"],
    "name": ["notes.md", "venues.csv", "brief.txt", "data.json", "page.html"],
    "base64": ["aGVsbG8gd29ybGQK", "eyJvayI6IHRydWV9"],
    "blueprint": ["Bug report", "Product launch", "release checklist", "IEAAB2CDKRAAAAAK"],
    "place": [*FOLDERS, "Marketing"],
    "toolsets": ["app_activity", "tasks", "context", "directory"],
    "timelog": TIMELOGS,
    "item_type": ITEM_TYPES,
    "form": [*BUG_FORMS, *CAMPAIGN_FORMS, *HIRE_FORMS],
}
# Tools where a parameter name means something else than in HINTS.
TOOL_HINTS: dict[str, Hints] = {
    **{
        tool: {"category": CATEGORIES}
        for tool in ("list_timelogs", "log_time", "update_timelog", "time_report")
    },
    "create_project": {"status": PROJECT_STATUSES},
    # the seeded projects follow the project workflow (2026 accounts): its statuses and the status groups
    "update_project": {"status": ["Planning", "In Progress", "On Hold", "Done", "Completed", "Cancelled"]},
    "list_projects": {"status": PROJECT_STATUSES, "text": ["Launch", "Q3", "Move"]},
    "list_approvals": {"status": ["Pending", "Approved", "Rejected", "Cancelled"]},
    "update_folder": {"move_to": [*FOLDERS, "Marketing", "Operations"]},
    "list_item_types": {"space": SPACES},
    "list_request_forms": {"space": SPACES},
    # the seeded link, restored after each case (CHANGES_REFERENCES), each task in every form a person gives
    "remove_dependency": {
        "predecessor": [
            "Finalize launch checklist",
            "finalize launch checklist",
            "MAAAAAEFzrS_",
            "https://www.wrike.com/open.htm?id=4392400063",
        ],
        "successor": [
            "Book launch venue",
            "BOOK LAUNCH VENUE",
            "IEAAB2CDKQAAAAAC",
            "https://www.wrike.com/open.htm?id=520000014",
        ],
    },
}
CUSTOM_FIELDS: dict[str, list[Any]] = {
    "Budget": [1200, 99.5],
    "Channel": ["Email", "Web"],
    "Billable": [True, False],
    "Reviewer": ["Ann Lee"],
    "Launch Date": ["2026-05-01"],
    "Notes": ["Checked"],
}


def _one_of_each(*groups: tuple[str, ...]) -> Callable[[dict[str, Any]], bool]:
    """A rule: of each group of parameters, at most one is given."""
    return lambda args: all(sum(name in args for name in group) <= 1 for group in groups)


def _changes_something(target: str) -> Callable[[dict[str, Any]], bool]:
    """A rule: an update names something to change (a flag set to false or an empty list changes nothing)."""
    return lambda args: any(
        name != target and value is not False and value != [] for name, value in args.items()
    )


def _apart(*pairs: tuple[str, str]) -> Callable[[dict[str, Any]], bool]:
    """A rule: no one is both added and removed."""
    return lambda args: all(
        not set(args.get(add) or []) & set(args.get(remove) or []) for add, remove in pairs
    )


# The rules between parameters that tool descriptions state and a JSON Schema cannot: seeded calls keep them.
RULES: dict[str, list[Callable[[dict[str, Any]], bool]]] = {
    "search_tasks": [
        _one_of_each(("folder", "space")),
        lambda args: not (args.get("unassigned") and "assignee" in args),
    ],
    "create_task": [lambda args: "folder" in args or "parent_task" in args],
    "update_task": [
        _changes_something("task"),
        _apart(("add_assignees", "remove_assignees"), ("add_parents", "remove_parents")),
        lambda args: not (args.get("clear_dates") and ({"start_date", "due_date"} & set(args))),
    ],
    "list_audit_log": [
        lambda args: "object_ids" not in args or "object_type" in args,
        lambda args: (
            "object_type" not in args or bool(args.get("operations") and {"since", "until"} & set(args))
        ),
    ],
    "update_project": [
        _changes_something("project"),
        _apart(("add_owners", "remove_owners")),
        lambda args: not (args.get("clear_start_date") and "start_date" in args),
        lambda args: not (args.get("clear_end_date") and "end_date" in args),
    ],
}
RULES["list_attachments"] = [lambda args: ("task" in args) != ("folder" in args)]
RULES["add_attachment"] = [*RULES["list_attachments"], lambda args: ("text" in args) != ("base64" in args)]
RULES["list_approvals"] = [_one_of_each(("task", "folder"))]
RULES["add_dependency"] = [lambda args: args.get("predecessor") != args.get("successor")]
RULES["update_folder"] = [_changes_something("folder")]
RULES["list_timelogs"] = [_one_of_each(("task", "folder"))]
RULES["update_timelog"] = [_changes_something("timelog")]
# Parameters no seed value fits (a cursor comes from a previous answer): left out of seeded calls.
UNGUESSABLE = {"cursor"}
DATE_WORDS = ("date", "_after", "_before", "since", "until", "_from", "_to")
START_WORDS = ("start_date", "_from", "_after", "since")
END_WORDS = ("end_date", "due_date", "_to", "_before", "until")

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


def _mostly(real: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`real` three times in four, `other` otherwise."""
    return st.sampled_from([real, real, real, other]).flatmap(lambda chosen: chosen)


def valid(
    schema: dict[str, Any], name: str = "", hints: Hints = HINTS, seeded: bool = False
) -> st.SearchStrategy[Any]:
    """A value that satisfies this schema. `seeded`: a string with hints is always one of them, the way a
    model that read the account would call; otherwise any string the schema allows, a hint half the time."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([valid(option, name, hints, seeded) for option in schema[key]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([valid({**schema, "type": one}, name, hints, seeded) for one in kind])
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
        real = hints.get(name) or (DATES if name.endswith(DATE_WORDS) else [])
        if seeded and name not in hints and name.endswith(START_WORDS):
            real = STARTS
        if seeded and name not in hints and name.endswith(END_WORDS):  # not move_to: a folder
            real = ENDS
        if "pattern" in schema:  # an id's shape: the real ones (any other string of that shape names nothing)
            matches = re.compile(schema["pattern"]).fullmatch
            real = [value for value in real if matches(value)]
            if real:
                return st.sampled_from(real)
            return st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda text: low <= len(text) <= high
            )
        if real and seeded:
            return st.sampled_from(real)
        if real:
            return st.one_of(st.sampled_from(real), st.one_of(options))
        return st.one_of(options)
    if kind == "array":
        return st.lists(
            valid(schema.get("items", {}), name, hints, seeded),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    if kind == "object" or "properties" in schema:
        return valid_object(schema, hints, seeded)
    return ANY_JSON  # no type: anything goes


def valid_object(
    schema: dict[str, Any], hints: Hints = HINTS, seeded: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = {
        name: sub
        for name, sub in schema.get("properties", {}).items()
        if not (seeded and name in UNGUESSABLE)
    }
    required = set(schema.get("required", []))
    fixed = st.fixed_dictionaries(
        {name: valid(sub, name, hints, seeded) for name, sub in properties.items() if name in required},
        optional={
            name: valid(sub, name, hints, seeded) for name, sub in properties.items() if name not in required
        },
    )
    extra = schema.get("additionalProperties")
    if properties or not isinstance(extra, dict):
        return fixed
    size = min(schema.get("maxProperties", 4), 4)
    if seeded:  # custom fields: the only free-form object tools take
        return st.lists(
            st.sampled_from(sorted(CUSTOM_FIELDS)).flatmap(
                lambda field: st.tuples(st.just(field), st.sampled_from(CUSTOM_FIELDS[field]))
            ),
            max_size=size,
            unique_by=lambda pair: pair[0],
        ).map(dict)
    names = st.text(min_size=1, max_size=schema.get("propertyNames", {}).get("maxLength", 30))
    names = st.one_of(names, st.sampled_from(sorted(CUSTOM_FIELDS)))
    return st.dictionaries(names, valid(extra), max_size=size)


def invalid(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value that breaks this schema (wrong type, out of range, too long, not in the enum, ...)."""
    options: list[st.SearchStrategy[Any]] = []
    kind = schema.get("type")
    # An explicit null is wrong for every type a schema names without "null": it must be refused, never taken
    # as "left out" (the server says so), whatever the type.
    wrong_types = {
        "string": st.one_of(
            st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2), st.none()
        ),
        "integer": st.one_of(
            st.text(max_size=5),
            st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
            st.none(),
        ),
        "number": st.one_of(st.text(max_size=5), st.lists(st.integers(), max_size=2), st.none()),
        "boolean": st.one_of(st.text(max_size=5), st.integers(2, 10), st.none()),
        "array": st.one_of(
            st.text(max_size=5),
            st.integers(),
            st.dictionaries(st.text(max_size=3), st.integers()),
            st.none(),
        ),
        "object": st.one_of(
            st.text(max_size=5), st.lists(st.integers(), max_size=2), st.integers(), st.none()
        ),
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


def invalid_object(schema: dict[str, Any], hints: Hints = HINTS) -> st.SearchStrategy[Any]:
    """An object with exactly one thing wrong: a required property missing, a property of the wrong shape,
    an unknown property, or too many properties."""
    properties: dict[str, Any] = schema.get("properties", {})
    required = list(schema.get("required", []))
    base = valid_object(schema, hints, seeded=True)
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
def add_attachment_arguments() -> st.SearchStrategy[dict[str, Any]]:
    """add_attachment needs exactly one of task/folder and one of text/base64: valid calls built that way."""
    where = st.one_of(
        st.sampled_from(TASKS).map(lambda task: {"task": task}),
        st.sampled_from(FOLDERS).map(lambda folder: {"folder": folder}),
    )
    content = st.one_of(
        st.sampled_from(HINTS["text"]).map(lambda text: {"text": text}),
        st.sampled_from(HINTS["base64"]).map(lambda data: {"base64": data}),
    )
    name = st.sampled_from(HINTS["name"]).map(lambda value: {"name": value})
    return st.builds(
        lambda *parts: {key: value for part in parts for key, value in part.items()}, where, content, name
    )


def plant_jobs(state: Any) -> list[str]:
    """Finished blueprint launches for check_blueprint_launch to find, planted after every (re)seed; a job id
    comes only from an earlier answer, so the fuzzer needs real ones (sandbox ids are deterministic)."""
    return [state.start_job("FolderBlueprintLaunch", 0, dict).id for _ in range(40)]


PLANTED_JOBS = plant_jobs(create_app().state.sandbox)


def plant_comments(state: Any) -> list[str]:
    """Fresh comments by the token's user for update_comment and delete_comment, planted after every (re)seed:
    Wrike lets a comment be edited only in its first 5 minutes, and no seeded comment is that young."""
    user = state.contacts[state.access_tokens["wrike-sandbox-token"].user_id]
    task = next(t for t in state.tasks.values() if t.title == "Draft launch announcement")
    return [state.add_comment(user, f"Planted note {n}", task_id=task.id).id for n in range(40)]


PLANTED_COMMENTS = plant_comments(create_app().state.sandbox)


def check_launch_arguments() -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(PLANTED_JOBS).map(lambda job: {"job": job})


def comment_arguments(with_text: bool) -> Callable[[], st.SearchStrategy[dict[str, Any]]]:
    def arguments() -> st.SearchStrategy[dict[str, Any]]:
        comments = st.sampled_from(PLANTED_COMMENTS)
        if not with_text:
            return comments.map(lambda comment: {"comment": comment})
        return st.tuples(comments, st.sampled_from(WORDS)).map(lambda c: {"comment": c[0], "text": c[1]})

    return arguments


DAYS = ["2026-06-30", "2027-01-31", "tomorrow", "today"]
OWNERS = st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=2, unique=True)


def bug_answers() -> st.SearchStrategy[dict[str, Any]]:
    """Complete answers to the seeded "Bug report" form; a Blocker opens the page of two more required ones."""
    base = st.fixed_dictionaries(
        {
            "Summary": st.sampled_from(WORDS),
            "Severity": st.sampled_from(["Minor", "Major", "major", "Blocker"]),
        },
        optional={
            "Platforms": st.lists(
                st.sampled_from(["Web", "iOS", "Android", "api"]), min_size=1, max_size=3, unique=True
            ),
            "Steps to reproduce": st.sampled_from(WORDS),
            "Fix needed by": st.sampled_from(DAYS),
        },
    )
    blocker = st.fixed_dictionaries({"Customer impact": st.sampled_from(WORDS), "Incident owner": OWNERS})
    return st.tuples(base, blocker).map(lambda p: {**p[0], **p[1]} if p[0]["Severity"] == "Blocker" else p[0])


def campaign_answers() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "Campaign name": st.sampled_from(WORDS),
            "Channel": st.sampled_from(["Email", "Social", "events", "Web"]),
            "Launch date": st.sampled_from(DAYS),
            "Campaign owner": OWNERS,
        },
        optional={"Budget (USD)": st.integers(0, 10**6), "What should it achieve?": st.sampled_from(WORDS)},
    )


def hire_answers() -> st.SearchStrategy[dict[str, Any]]:
    """Answers to "New hire request", whose required file question only Wrike's page takes: prefill only."""
    return st.fixed_dictionaries(
        {},
        optional={
            "Role title": st.sampled_from(WORDS),
            "Hiring manager": OWNERS,
            "Start date": st.sampled_from(DAYS),
            "Team": st.sampled_from(["Marketing", "Engineering", "operations"]),
            "Notes for HR": st.sampled_from(WORDS),
        },
    )


def _form_call(
    forms: list[str], answers: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda form, given: {"form": form, "answers": given}, st.sampled_from(forms), answers)


def submit_form_arguments() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(_form_call(BUG_FORMS, bug_answers()), _form_call(CAMPAIGN_FORMS, campaign_answers()))


def prefill_form_arguments() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(submit_form_arguments(), _form_call(HIRE_FORMS, hire_answers()))


FOCUSED: dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]] = {
    "update_comment": comment_arguments(True),
    "delete_comment": comment_arguments(False),
    "bulk_update_tasks": bulk_update_arguments,
    "add_attachment": add_attachment_arguments,
    "check_blueprint_launch": check_launch_arguments,
    "delete_timelog": lambda: st.sampled_from(TIMELOGS).map(lambda ident: {"timelog": ident}),
    "submit_request_form": submit_form_arguments,
    "prefill_request_form": prefill_form_arguments,
}


def valid_arguments(schema: dict[str, Any], tool: str) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments that satisfy the schema, mostly naming seed entities; a tool in FOCUSED gets them from its
    strategy."""
    hints = {**HINTS, **TOOL_HINTS.get(tool, {})}
    rules = RULES.get(tool, [])
    focused = FOCUSED.get(tool)
    if focused is not None:
        seeded = focused()
    else:
        seeded = valid_object(schema, hints, seeded=True).filter(
            lambda args: all(rule(args) for rule in rules)
        )
    return _mostly(seeded, valid_object(schema, hints))


def invalid_arguments(schema: dict[str, Any], tool: str) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments with one violation of the schema (the arguments object itself stays an object)."""
    return invalid_object(schema, {**HINTS, **TOOL_HINTS.get(tool, {})})


def valid_choices(schema: dict[str, Any], tool: str) -> int | None:
    """How many distinct valid argument objects `valid_arguments` can draw when that is finite (booleans,
    enums, ids of a fixed shape, of which only the real ones are drawn), else None: a tool with few cannot
    get many distinct valid cases."""
    hints = {**HINTS, **TOOL_HINTS.get(tool, {})}
    required = set(schema.get("required", []))
    count = 1
    for name, prop in schema.get("properties", {}).items():
        absent = 0 if name in required else 1
        if prop.get("type") == "boolean":
            count *= 2 + absent
        elif "enum" in prop:
            count *= len(prop["enum"]) + absent
        elif "pattern" in prop and hints.get(name):
            matches = re.compile(prop["pattern"]).fullmatch
            count *= sum(1 for value in hints[name] if matches(value)) + absent
        else:
            return None
    return count
