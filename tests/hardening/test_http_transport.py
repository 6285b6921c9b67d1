"""Attacks on the streamable HTTP transport of the real `wrike-mcp serve --sandbox --transport http`
subprocess, with raw HTTP: foreign Origin, DNS rebinding, oversized and malformed bodies, unknown sessions,
and the default bind address. After every attack the server still answers a normal request."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.e2e_helpers import Served, isolated_env, start_server

INITIALIZE: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_server(["--sandbox"], isolated_env(tmp_path_factory.mktemp("home")))
    yield served
    served.stop()


def still_serving(server: Served) -> None:
    answer = httpx.post(server.url, json=INITIALIZE, headers=HEADERS, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers.get("mcp-session-id")


def test_foreign_origin_is_refused(server: Served) -> None:
    for origin in ("https://evil.example", "null", "http://127.0.0.1.evil.example:80"):
        answer = httpx.post(server.url, json=INITIALIZE, headers={**HEADERS, "Origin": origin}, timeout=10)
        assert answer.status_code == 403, (origin, answer.status_code)
    still_serving(server)


def test_rebinding_host_is_refused(server: Served) -> None:
    for host in ("evil.example", f"evil.example:{server.port}", "localhost", "127.0.0.1.nip.io"):
        answer = httpx.post(server.url, json=INITIALIZE, headers={**HEADERS, "Host": host}, timeout=10)
        assert answer.status_code == 421, (host, answer.status_code)
    still_serving(server)


def test_body_over_the_limit_is_refused(server: Served) -> None:
    big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"x" * (5 * 1024 * 1024) + b'"}}'
    declared = httpx.post(server.url, content=big, headers=HEADERS, timeout=30)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming too
        for start in range(0, len(big), 256 * 1024):
            yield big[start : start + 256 * 1024]

    streamed = httpx.post(server.url, content=chunks(), headers=HEADERS, timeout=30)
    assert streamed.status_code == 413
    still_serving(server)


def test_malformed_json_rpc_is_a_parse_error(server: Served) -> None:
    for body in (b'{"jsonrpc": "2.0", "id": 1, "method": ', b"\xff\xfe not json", b"[" * 100_000):
        answer = httpx.post(server.url, content=body, headers=HEADERS, timeout=10)
        assert answer.status_code == 400, (body[:20], answer.status_code)
        assert answer.json()["error"]["code"] == -32700
    still_serving(server)


def test_not_json_rpc_is_refused(server: Served) -> None:
    for body in ({"id": 1, "method": "initialize"}, [INITIALIZE, INITIALIZE], {"jsonrpc": "2.0", "id": {}}):
        answer = httpx.post(server.url, json=body, headers=HEADERS, timeout=10)
        assert 400 <= answer.status_code < 500, (body, answer.status_code)
        assert answer.json()["error"]["code"] in (-32600, -32602, -32700)
    still_serving(server)


def test_unknown_session_id_is_not_found(server: Served) -> None:
    ping = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    headers = {**HEADERS, "mcp-session-id": "0" * 32, "MCP-Protocol-Version": "2025-11-25"}
    answer = httpx.post(server.url, json=ping, headers=headers, timeout=10)
    assert answer.status_code == 404
    still_serving(server)


def test_session_ids_are_random_and_long(server: Served) -> None:
    ids = {
        httpx.post(server.url, json=INITIALIZE, headers=HEADERS, timeout=10).headers["mcp-session-id"]
        for _ in range(5)
    }
    assert len(ids) == 5
    assert all(len(ident) >= 32 and ident.isascii() and ident.isprintable() for ident in ids)


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on this port, from /proc (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


def test_default_bind_is_loopback(server: Served) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc/net/tcp")
    assert listening_addresses(server.port) == {"0100007F"}  # 127.0.0.1 only, no IPv6, no 0.0.0.0
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outward interface
            outward = probe.getsockname()[0]
    except OSError:
        return  # no outward interface at all
    if outward.startswith("127."):
        return
    with pytest.raises(OSError):
        socket.create_connection((outward, server.port), timeout=2).close()
