"""Wrike OAuth scope names and what implies what.

`Default` equals `wsReadWrite` (Wrike's 2015 changelog), `wsReadWrite` implies `wsReadOnly`, and every
`amReadWriteX` implies `amReadOnlyX`. A tool is offered when the granted scopes imply all of its required ones.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT = "Default"
WS_READ_ONLY = "wsReadOnly"
WS_READ_WRITE = "wsReadWrite"
AUDIT_LOG = "amReadOnlyAuditLog"

KNOWN_SCOPES: frozenset[str] = frozenset(
    {
        DEFAULT,
        WS_READ_ONLY,
        WS_READ_WRITE,
        "amReadOnlyWorkflow",
        "amReadWriteWorkflow",
        "amReadOnlyInvitation",
        "amReadWriteInvitation",
        "amReadOnlyGroup",
        "amReadWriteGroup",
        "amReadOnlyUser",
        "amReadWriteUser",
        "amReadOnlyTimelogCategory",
        "amReadWriteTimelogCategory",
        "amReadOnlyWorkSchedule",
        "amReadWriteWorkSchedule",
        AUDIT_LOG,
        "amReadOnlyAccessRole",
        "dataExportFull",
    }
)


def expand(granted: Iterable[str]) -> frozenset[str]:
    """Every scope the granted ones imply, the granted ones included."""
    result: set[str] = set()
    for scope in granted:
        result.add(scope)
        if scope == DEFAULT:
            result.update({WS_READ_WRITE, WS_READ_ONLY})
        elif scope == WS_READ_WRITE:
            result.add(WS_READ_ONLY)
        elif scope.startswith("amReadWrite"):
            result.add("amReadOnly" + scope.removeprefix("amReadWrite"))
    return frozenset(result)


def satisfies(granted: Iterable[str], required: Iterable[str]) -> bool:
    """True when the granted scopes imply every required scope."""
    return set(required) <= expand(granted)


def missing(granted: Iterable[str], required: Iterable[str]) -> list[str]:
    """The required scopes the granted ones do not imply, in the order given."""
    have = expand(granted)
    return [scope for scope in required if scope not in have]


def parse(text: str) -> list[str]:
    """Parse Wrike's comma-separated scope list (spaces tolerated), keeping order, dropping blanks."""
    seen: dict[str, None] = {}
    for part in text.replace(" ", ",").split(","):
        if part:
            seen[part] = None
    return list(seen)
