"""The sandbox imports nothing from the rest of the package, so it keeps its own copies of Wrike's scope names
and of the loopback names. These tests hold each copy equal to the package's rule and to Wrike's reference."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wrike_mcp import hosts, scopes
from wrike_mcp.sandbox.middleware import LOOPBACK_HOSTS
from wrike_mcp.sandbox.routes import all_routes
from wrike_mcp.sandbox.state import ALL_SCOPES

REFERENCE = Path(__file__).parent.parent / "data" / "wrike-api-v4-reference-2020.json"


def reference_scope_groups() -> list[frozenset[str]]:
    """The accepted-scope list of every method group in Wrike's 2020 reference (the only one with scopes)."""
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return [
        frozenset(group["scopes"])
        for entity in ref["entities"]
        for group in entity["methodGroups"]
        if group["scopes"]
    ]


def test_the_scope_names_are_wrikes_in_the_sandbox_and_the_package() -> None:
    documented = frozenset().union(*reference_scope_groups())
    assert documented == ALL_SCOPES
    assert documented == scopes.KNOWN_SCOPES


def accepts(accepted: frozenset[str], granted: str) -> bool:
    """What the package believes: a token holding `granted` may call a method accepting `accepted`."""
    return bool(scopes.expand({granted}) & accepted)


@pytest.mark.parametrize("source", ["sandbox routes", "Wrike's reference"])
def test_every_accepted_scope_list_follows_the_packages_implications(source: str) -> None:
    # The sandbox checks a token's scopes against a method's list as they are, with no implication; so does
    # Wrike. That agrees with `scopes.expand` only when every list already holds each scope implying one of
    # its members (wsReadWrite wherever wsReadOnly is, amReadWriteX wherever amReadOnlyX is).
    if source == "sandbox routes":
        lists = {route.scopes for route in all_routes() if route.scopes is not None}
    else:
        lists = set(reference_scope_groups())
    assert len(lists) >= 5
    for accepted in lists:
        for granted in sorted(scopes.KNOWN_SCOPES):
            assert (granted in accepted) == accepts(accepted, granted), (sorted(accepted), granted)


def test_the_sandbox_loopback_names_are_the_packages() -> None:
    assert LOOPBACK_HOSTS == hosts.LOOPBACK_HOSTS


def test_the_running_sandbox_loads_nothing_else_of_the_package() -> None:
    # the static import check is in test_audit_log.py; this one catches a package __init__ that drags more in
    probe = (
        "import sys, wrike_mcp.sandbox.serve; "
        "print(sorted(m for m in sys.modules if m.startswith('wrike_mcp') and not m.startswith('wrike_mcp.sandbox')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == str(["wrike_mcp", "wrike_mcp.wrike", "wrike_mcp.wrike.audit_log"])
