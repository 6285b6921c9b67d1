"""Fault injection (in process and over a real socket), the request log and the control plane."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import BASE_URL, TOKEN, bearer, folder_id
from wrike_mcp.sandbox import SandboxState, create_app
from wrike_mcp.sandbox.serve import BackgroundSandbox


async def fault(raw: httpx.AsyncClient, **spec: Any) -> None:
    response = await raw.post("/_sandbox/faults", json=spec)
    assert response.status_code == 200, response.text


async def test_status_fault_with_headers_then_normal(raw: httpx.AsyncClient) -> None:
    await fault(
        raw,
        method="GET",
        path="/api/v4/tasks*",
        status=503,
        error="server_error",
        description="maintenance",
        headers={"Retry-After": "1"},
        times=2,
    )
    for _ in range(2):
        response = await raw.get("/api/v4/tasks", headers=bearer(TOKEN))
        assert response.status_code == 503
        assert response.json() == {"error": "server_error", "errorDescription": "maintenance"}
        assert response.headers["Retry-After"] == "1"
    assert (await raw.get("/api/v4/tasks", headers=bearer(TOKEN))).status_code == 200
    assert (await raw.get("/_sandbox/faults")).json() == []


async def test_fault_matches_method_and_glob(raw: httpx.AsyncClient) -> None:
    await fault(raw, method="POST", path="/api/v4/tasks*", status=500)
    assert (await raw.get("/api/v4/tasks", headers=bearer(TOKEN))).status_code == 200
    await fault(raw, path="/api/v4/account", status=429)
    limited = await raw.get("/api/v4/account", headers=bearer(TOKEN))
    assert (limited.status_code, limited.json()["error"]) == (429, "rate_limit_exceeded")


async def test_faulted_write_is_logged_and_not_applied(raw: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Operations/Office Move")
    before = len(state.tasks)
    await fault(raw, method="POST", path="/api/v4/folders/*/tasks", status=500)
    response = await raw.post(
        f"/api/v4/folders/{folder}/tasks", data={"title": "Lost"}, headers=bearer(TOKEN)
    )
    assert response.status_code == 500 and len(state.tasks) == before
    log = (await raw.get("/_sandbox/requests")).json()
    assert log[-1]["method"] == "POST" and log[-1]["status"] == 500 and log[-1]["applied"] is False
    assert log[-1]["body"] == {"title": "Lost"}


async def test_applied_write_then_fault(raw: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Operations/Office Move")
    await fault(raw, method="POST", path="/api/v4/folders/*/tasks", status=504, apply=True)
    response = await raw.post(
        f"/api/v4/folders/{folder}/tasks", data={"title": "Happened"}, headers=bearer(TOKEN)
    )
    assert response.status_code == 504
    assert any(t.title == "Happened" for t in state.tasks.values())


async def test_delay_only_serves_normally(raw: httpx.AsyncClient) -> None:
    await fault(raw, path="/api/v4/version", delay_ms=150)
    started = time.monotonic()
    response = await raw.get("/api/v4/version")
    assert response.status_code == 200 and time.monotonic() - started >= 0.14


async def test_malformed_and_truncated_in_process(raw: httpx.AsyncClient) -> None:
    await fault(raw, path="/api/v4/contacts", malformed=True)
    malformed = await raw.get("/api/v4/contacts", headers=bearer(TOKEN))
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    await fault(raw, path="/api/v4/contacts", truncate=True)
    truncated = await raw.get("/api/v4/contacts", headers=bearer(TOKEN))
    assert len(truncated.content) < int(truncated.headers["content-length"])
    with pytest.raises(json.JSONDecodeError):
        truncated.json()


async def test_drop_in_process_raises_transport_error(raw: httpx.AsyncClient) -> None:
    await fault(raw, path="/api/v4/account", drop=True)
    with pytest.raises(httpx.TransportError):
        await raw.get("/api/v4/account", headers=bearer(TOKEN))


async def test_bad_fault_specs(raw: httpx.AsyncClient) -> None:
    for spec in [
        {},
        {"path": "/x", "times": 0},
        {"path": "/x", "colour": "red"},
        {"path": "/x", "status": "500"},
    ]:
        response = await raw.post("/_sandbox/faults", json=spec)
        assert response.status_code == 400, spec
    await fault(raw, path="/api/v4/*", status=500)
    await raw.delete("/_sandbox/faults")
    assert (await raw.get("/api/v4/version")).status_code == 200


async def test_request_log_masks_credentials(raw: httpx.AsyncClient) -> None:
    await raw.get("/api/v4/account", headers=bearer(TOKEN))
    await raw.get("/api/v4/account", params={"access_token": TOKEN, "fields": '["metadata"]'})
    await raw.post(
        "/oauth2/token",
        data={
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "grant_type": "refresh_token",
            "refresh_token": "r" * 40,
        },
    )
    await raw.post(
        "/oauth2/token",
        data={
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "grant_type": "authorization_code",
            "code": "abcdefgh12345678",
        },
    )
    log = (await raw.get("/_sandbox/requests")).json()
    text = json.dumps(log)
    for secret in (TOKEN, "sandbox-secret", "r" * 40, "abcdefgh12345678"):
        assert secret not in text
    assert log[0]["token"] == "wrik…oken" and log[1]["query"]["access_token"] == "wrik…oken"
    assert log[1]["query"]["fields"] == '["metadata"]'
    assert log[2]["body"]["client_secret"] == "***" and log[3]["body"]["code"] == "***"
    assert not any(entry["path"].startswith("/_sandbox") for entry in log)
    await raw.delete("/_sandbox/requests")
    assert (await raw.get("/_sandbox/requests")).json() == []


async def test_control_plane_is_loopback_only(app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as remote:
        refused = await remote.post("/_sandbox/reset")
        assert refused.status_code == 403
        assert (await remote.get("/api/v4/version")).status_code == 200  # the API itself is not restricted


async def test_health_and_reset(raw: httpx.AsyncClient, state: SandboxState) -> None:
    assert (await raw.get("/_sandbox/health")).json()["status"] == "ok"
    first = list(state.tasks)
    await raw.delete(f"/api/v4/tasks/{first[0]}", headers=bearer(TOKEN))
    await raw.post("/_sandbox/reset")
    assert not state.tasks[first[0]].deleted


def test_seed_ids_are_deterministic_across_resets_and_apps() -> None:
    one: SandboxState = create_app().state.sandbox
    two: SandboxState = create_app().state.sandbox
    snapshot = (
        list(one.tasks),
        list(one.folders),
        list(one.contacts),
        list(one.comments),
        list(one.timelogs),
    )
    assert snapshot == (
        list(two.tasks),
        list(two.folders),
        list(two.contacts),
        list(two.comments),
        list(two.timelogs),
    )
    assert [t.title for t in one.tasks.values()] == [t.title for t in two.tasks.values()]
    one.reset()
    assert list(one.tasks) == snapshot[0]
    assert len(one.audit) >= 40 and len(one.folders) >= 28


# -- over a real socket -------------------------------------------------------------------------------------
def test_drop_and_truncate_over_a_real_socket(live: BackgroundSandbox) -> None:
    with httpx.Client(base_url=live.base_url, headers=bearer(TOKEN), timeout=5) as client:
        client.post("/_sandbox/faults", json={"path": "/api/v4/account", "drop": True})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/api/v4/account")
        client.post("/_sandbox/faults", json={"path": "/api/v4/contacts", "truncate": True})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/api/v4/contacts")
        assert client.get("/api/v4/account").status_code == 200  # the next request is served normally
        log = client.get("/_sandbox/requests").json()
        assert [entry.get("fault") for entry in log[-3:]] == ["drop", "truncate", None]


def test_cli_serves_over_loopback() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "wrike_mcp", "sandbox", "--port", str(port), "--token-ttl", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline() + process.stdout.readline()
        assert f"http://127.0.0.1:{port}/api/v4" in banner
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/v4/contacts",
                    params={"me": "true"},
                    headers=bearer(TOKEN),
                    timeout=2,
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.json()["data"][0]["firstName"] == "Ann"
    finally:
        process.terminate()
        process.wait(timeout=10)
