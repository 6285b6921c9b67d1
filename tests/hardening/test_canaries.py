"""Canary secrets through the command line: `wrike-mcp call` and `wrike-mcp serve --transport http` run with a
canary permanent token (which the sandbox accepts) at DEBUG log level, through successes and faults. The token
must appear in no stdout, stderr or tool result. (The in-process matrix checks logs, results and errors for the
same canary in tests/hardening/test_faults.py; the conftest guard checks every captured log record.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.e2e_helpers import WRIKE_MCP, isolated_env, start_server
from tests.hardening.helpers import CANARY_TOKEN, add_fault, leaks
from wrike_mcp.sandbox.serve import BackgroundSandbox

TASK = "IEAAB2CDKQAAAAAE"  # "Draft launch announcement" in the seed


def env_for(sandbox: BackgroundSandbox, home: Path) -> dict[str, str]:
    return isolated_env(
        home,
        WRIKE_ACCESS_TOKEN=CANARY_TOKEN,
        WRIKE_BASE_URL=sandbox.api_url,
        WRIKE_LOG_LEVEL="DEBUG",
        WRIKE_MAX_RETRIES="1",
        WRIKE_TIMEOUT="2",
    )


def cli_call(env: dict[str, str], tool: str, arguments: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRIKE_MCP), "call", tool, json.dumps(arguments)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_call_never_prints_the_token(sandbox: BackgroundSandbox, tmp_path: Path) -> None:
    env = env_for(sandbox, tmp_path)
    outputs: list[str] = []

    def run(tool: str, arguments: dict[str, Any], code: int) -> None:
        done = cli_call(env, tool, arguments)
        outputs.extend([done.stdout, done.stderr])
        assert done.returncode == code, done.stderr[-2000:]

    run("get_task", {"task": TASK}, 0)
    add_fault(sandbox, method="GET", path=f"/api/v4/tasks/{TASK}", status=401)
    run("get_task", {"task": TASK}, 1)
    add_fault(sandbox, method="POST", path=f"/api/v4/tasks/{TASK}/comments", status=500, apply=True)
    run("add_comment", {"task": TASK, "text": "canary check"}, 1)
    add_fault(
        sandbox, method="GET", path=f"/api/v4/tasks/{TASK}", status=400, description=f"bad {CANARY_TOKEN}"
    )
    run("get_task", {"task": TASK}, 1)
    add_fault(sandbox, method="GET", path=f"/api/v4/tasks/{TASK}", drop=True, times=5)
    run("get_task", {"task": TASK}, 1)
    everything = "\n".join(outputs)
    assert "outcome unknown" in everything and "rejected the credentials" in everything
    assert "DEBUG" in everything  # the log really was at its most verbose
    assert not leaks({CANARY_TOKEN}, everything)


async def test_http_server_never_logs_the_token(sandbox: BackgroundSandbox, tmp_path: Path) -> None:
    served = start_server([], env_for(sandbox, tmp_path))
    seen: list[str] = []
    try:
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            Client(streamable_http_client(served.url, http_client=http), mode="legacy") as client,
        ):
            ok = await client.call_tool("get_task", {"task": TASK})
            assert not ok.is_error
            add_fault(sandbox, method="GET", path=f"/api/v4/tasks/{TASK}", status=401)
            add_fault(
                sandbox, method="POST", path=f"/api/v4/tasks/{TASK}/comments", truncate=True, apply=True
            )
            for tool, arguments in (
                ("get_task", {"task": TASK}),
                ("add_comment", {"task": TASK, "text": "x"}),
            ):
                failed = await client.call_tool(tool, arguments)
                assert failed.is_error
                seen.append(failed.model_dump_json())
            seen.append(ok.model_dump_json())
    finally:
        out, err = served.stop()
    seen += [out, err]
    assert "DEBUG" in err
    assert not leaks({CANARY_TOKEN}, *seen)
