"""The `wrike-mcp` command line as a user runs it: tools, call, and serve without credentials."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.e2e.e2e_helpers import WRIKE_MCP

pytestmark = pytest.mark.slow


def run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRIKE_MCP), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_tools_json(clean_env: dict[str, str]) -> None:
    result = run(clean_env, "tools", "--json", "--toolsets", "all")
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    names = [row["name"] for row in rows]
    assert names[0] == "get_me" and {"search_tasks", "list_app_activity", "list_audit_log"} <= set(names)
    default = [row["name"] for row in json.loads(run(clean_env, "tools", "--json").stdout)]
    assert "enable_toolsets" in default and not {"list_app_activity", "list_audit_log"} & set(default)
    assert len(names) == len(set(names))
    for row in rows:  # enable_toolsets needs no Wrike scope
        assert row["toolset"] and (row["scopes"] or row["name"] == "enable_toolsets")
        assert isinstance(row["read_only"], bool)
    audit = next(row for row in rows if row["name"] == "list_audit_log")
    assert audit == {"name": "list_audit_log", "toolset": "app_activity", "scopes": ["amReadOnlyAuditLog"],
                     "read_only": True}  # fmt: skip


def test_tools_filters(clean_env: dict[str, str]) -> None:
    read_only = json.loads(run(clean_env, "tools", "--json", "--read-only").stdout)
    assert read_only and all(row["read_only"] for row in read_only)
    chosen = json.loads(run(clean_env, "tools", "--json", "--toolsets", "app_activity").stdout)
    assert [row["name"] for row in chosen] == ["list_app_activity", "list_audit_log"]
    scoped = json.loads(run(clean_env, "tools", "--json", "--scopes", "wsReadOnly").stdout)
    assert {row["name"] for row in scoped}.isdisjoint({"list_app_activity", "list_audit_log", "create_task"})
    typo = run(clean_env, "tools", "--toolsets", "app_activty")
    assert typo.returncode == 2 and "unknown toolset 'app_activty'" in typo.stderr
    no_traceback(typo)


def test_call_get_me(clean_env: dict[str, str]) -> None:
    result = run(clean_env, "call", "get_me", "{}", "--sandbox")
    assert result.returncode == 0, result.stderr
    me = json.loads(result.stdout)
    assert me["user"]["name"] == "Ann Lee" and me["mode"] == "sandbox"
    no_traceback(result)


def test_call_app_activity(clean_env: dict[str, str]) -> None:
    result = run(clean_env, "call", "list_app_activity", '{"app": "Slack Sync"}', "--sandbox")
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)["items"]
    assert row["client_id"] == "slk7Q2mVx9" and row["authorized_user_count"] == 3


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["call", "get_task", '{"task": "IEAAAAAAAAAAAAAA"}', "--sandbox"], 1, "not found"),
        (["call", "list_audit_log", '{"operations": ["task delete"]}', "--sandbox"], 1, "did you mean"),
        (["call", "no_such_tool", "{}", "--sandbox"], 1, "no_such_tool"),
        (["call", "get_me", "{not json", "--sandbox"], 2, "not JSON"),
        (["call", "get_me", "[1, 2]", "--sandbox"], 2, "JSON object"),
    ],
)
def test_failing_calls(clean_env: dict[str, str], args: list[str], code: int, expected: str) -> None:
    result = run(clean_env, *args)
    assert result.returncode == code, (result.stdout, result.stderr)
    assert expected in result.stderr
    assert result.stdout == ""
    no_traceback(result)


def test_serve_without_credentials(clean_env: dict[str, str]) -> None:
    result = run(clean_env, "serve", timeout=30)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "WRIKE_ACCESS_TOKEN" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 6
    assert result.stdout == ""
    no_traceback(result)
