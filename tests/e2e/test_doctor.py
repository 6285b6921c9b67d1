"""`wrike-mcp doctor` as a user runs it: the installed command against a sandbox served on a loopback port."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from tests.e2e.e2e_helpers import WRIKE_MCP, free_port
from wrike_mcp.doctor import MAX_CLOCK_SKEW, clock_check
from wrike_mcp.tools.registry import OFF_BY_DEFAULT, all_tools

SANDBOX_TOKEN = "wrike-sandbox-token"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wrike_mcp", "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/v4"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/version", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WRIKE_MCP), "doctor", *args], env=env, capture_output=True, text=True, timeout=60
    )


def lines_by_check(output: str) -> dict[str, tuple[str, str]]:
    """`{check: (status, detail)}` from doctor's one line per check."""
    found = {}
    for line in output.splitlines()[1:]:
        status, _, rest = line.partition("  ")
        name, _, detail = rest.strip().partition(": ")
        found[name] = (status.strip(), detail)
    return found


OFF = "blueprints,attachments,dependencies,bulk,intake,app_activity"


def test_a_working_token_passes_every_check_and_no_secret_is_printed(
    clean_env: dict[str, str], sandbox_url: str
) -> None:
    env = {**clean_env, "WRIKE_BASE_URL": sandbox_url, "WRIKE_ACCESS_TOKEN": SANDBOX_TOKEN}
    result = doctor(env)
    checks = lines_by_check(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert checks["credential"] == ("ok", "permanent token (WRIKE_ACCESS_TOKEN is set)")
    assert checks["Wrike"][0] == "ok"
    assert checks["Wrike"][1].startswith(f"signed in as Ann Lee <ann.lee@northwind.example> at {sandbox_url}")
    off = [spec for spec in all_tools() if spec.toolset in OFF_BY_DEFAULT]
    assert checks["tools"] == (
        "ok",
        f"{len(all_tools()) - len(off)} offered (context, folders, projects, tasks, time, directory); "
        f"{len(off)} more in toolsets off by default: {OFF} (--toolsets default,{OFF}, or enable_toolsets)",
    )
    assert checks["clock"] == ("ok", f"within {MAX_CLOCK_SKEW:.0f} s of Wrike's")  # uvicorn sends Date
    assert checks["token store"][0] == "warn"  # the test machine has no keyring
    assert SANDBOX_TOKEN not in result.stdout + result.stderr


def test_scopes_narrow_the_tools_it_reports(clean_env: dict[str, str], sandbox_url: str) -> None:
    env = {**clean_env, "WRIKE_BASE_URL": sandbox_url, "WRIKE_ACCESS_TOKEN": SANDBOX_TOKEN}
    checks = lines_by_check(doctor(env, "--scopes", "amReadOnlyAuditLog").stdout)
    assert checks["scopes"] == ("ok", "amReadOnlyAuditLog (from WRIKE_SCOPES)")
    # the grant covers only tools off by default: doctor says how to reach them
    assert checks["tools"] == (
        "ok",
        "1 offered (context); 2 more in toolsets off by default: app_activity (--toolsets "
        "default,app_activity, or enable_toolsets)",
    )


def test_a_refused_token_says_to_make_a_new_one(clean_env: dict[str, str], sandbox_url: str) -> None:
    env = {**clean_env, "WRIKE_BASE_URL": sandbox_url, "WRIKE_ACCESS_TOKEN": "revoked-token-value"}
    result = doctor(env)
    assert result.returncode == 1
    assert lines_by_check(result.stdout)["Wrike"] == (
        "fail",
        "the token was refused (401): create a new permanent token",
    )
    assert "revoked-token-value" not in result.stdout + result.stderr


def test_an_unreachable_host_names_the_setting_to_check(clean_env: dict[str, str]) -> None:
    env = {**clean_env, "WRIKE_BASE_URL": f"http://127.0.0.1:{free_port()}/api/v4", "WRIKE_ACCESS_TOKEN": "x"}
    result = doctor(env)
    status, detail = lines_by_check(result.stdout)["Wrike"]
    assert (result.returncode, status) == (1, "fail")
    assert detail.startswith("cannot reach http://127.0.0.1:") and "WRIKE_HOST" in detail


def test_no_credential_says_both_ways_to_get_one(clean_env: dict[str, str]) -> None:
    result = doctor(clean_env)
    status, detail = lines_by_check(result.stdout)["credential"]
    assert (result.returncode, status) == (1, "fail")
    assert "WRIKE_ACCESS_TOKEN" in detail and "wrike-mcp auth login" in detail
    assert "Traceback" not in result.stderr


def test_clock_skew_beyond_a_minute_is_a_warning_that_says_which_way() -> None:
    wrike_now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    header = format_datetime(wrike_now, usegmt=True)
    ahead = clock_check(header, now=lambda: wrike_now.timestamp() + 300)
    close = clock_check(header, now=lambda: wrike_now.timestamp() - 20)
    assert (ahead.status, ahead.detail.split(":")[0]) == ("warn", "this machine is 300 s ahead of Wrike")
    assert close.status == "ok"
    assert clock_check("not a date").status == "warn"


def test_version() -> None:
    from wrike_mcp import __version__

    result = subprocess.run([str(WRIKE_MCP), "--version"], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == f"wrike-mcp {__version__}"
