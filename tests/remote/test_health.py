"""Health routes of a real replica: `/healthz` (alive) and `/readyz` (database reachable, schema current).

Both answer without authentication and whatever the Host header (a load balancer probes with the container's
address), and say nothing but their status. `/readyz` turns 503, with a reason that names no database, when
the database is dropped under the running replica, hangs (a TCP relay in front of PostgreSQL that stops
relaying: the answer comes within the readiness timeout), or holds a schema older or newer than the code.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from sqlalchemy import update

from tests.remote.conftest import POSTGRES_ADMIN_URL, throwaway_postgres
from tests.remote.helpers import (
    WRIKE_MCP,
    Replica,
    base_env,
    free_port,
    sign_in_raw,
    start_replica,
    wait_for_port,
)
from wrike_mcp.remote.health import READY_TIMEOUT
from wrike_mcp.remote.store import SCHEMA_VERSION, Store, schema_version
from wrike_mcp.remote.token_cache import TTL as TOKEN_TTL
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

TIMEOUT = 15.0
FOREIGN_HOST = "172.18.0.5:8000"  # what a load balancer in a container network sends as Host
OK = {"status": "ok"}


def get(replica_url: str, path: str, host: str | None = None) -> httpx.Response:
    headers = {"Host": host} if host else {}
    return httpx.get(replica_url + path, headers=headers, timeout=TIMEOUT)


def assert_ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == OK  # nothing else: no version, no database, no user count
    assert response.headers["cache-control"] == "no-store"


def assert_not_ready(response: httpx.Response, reason: str, database_url: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "unavailable" and reason in body["reason"], body
    assert set(body) == {"status", "reason"}, body
    for secret in (database_url, database_url.rsplit("/", 1)[-1], "postgres", "sqlite", "127.0.0.1"):
        assert secret not in response.text, f"{secret!r} leaked: {response.text}"


async def set_schema_version(database_url: str, version: int) -> None:
    """Write the schema version as another release of wrike-mcp would, from outside the replica."""
    store = Store.open(database_url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(update(schema_version).values(version=version))
    finally:
        await store.close()


@pytest.fixture
def replica(tmp_path: Path, sandbox: BackgroundSandbox, database_url: str) -> Iterator[Replica]:
    running = start_replica(tmp_path, sandbox.base_url, database_url)
    try:
        yield running
    finally:
        running.stop()


def test_healthz_and_readyz_answer_any_host_and_reveal_nothing(replica: Replica) -> None:
    for path in ("/healthz", "/readyz"):
        assert_ok(get(replica.base_url, path))
        assert_ok(get(replica.base_url, path, host=FOREIGN_HOST))
        assert httpx.post(replica.base_url + path, timeout=TIMEOUT).status_code == 405


async def test_readyz_refuses_a_schema_older_or_newer_than_the_code(
    replica: Replica, database_url: str
) -> None:
    assert_ok(get(replica.base_url, "/readyz"))
    await set_schema_version(database_url, SCHEMA_VERSION + 1)  # a newer release migrated the database
    assert_not_ready(get(replica.base_url, "/readyz"), "newer than this wrike-mcp", database_url)
    assert_ok(get(replica.base_url, "/healthz"))  # alive all the same: nothing to restart
    await set_schema_version(database_url, SCHEMA_VERSION - 1)  # e.g. an older backup restored under it
    assert_not_ready(get(replica.base_url, "/readyz"), "older than this wrike-mcp", database_url)
    await set_schema_version(database_url, SCHEMA_VERSION)
    assert_ok(get(replica.base_url, "/readyz"))


async def test_readyz_when_the_database_is_dropped_under_the_replica(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    async with throwaway_postgres() as url:
        replica = start_replica(tmp_path, sandbox.base_url, url)
        try:
            assert_ok(get(replica.base_url, "/readyz"))
            admin = await asyncpg_admin()
            try:
                await admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')
            finally:
                await admin.close()
            started = time.monotonic()
            assert_not_ready(get(replica.base_url, "/readyz"), "cannot be reached or queried", url)
            assert time.monotonic() - started < READY_TIMEOUT + 1.0
            assert_ok(get(replica.base_url, "/healthz"))
        finally:
            replica.stop()


async def test_mcp_answers_503_not_500_while_the_database_is_gone(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    """A signed-in client whose replica loses its database gets 503 with `Retry-After` (come back), never a
    500: at once for anything the replica must ask the database, within the 2 s of its token cache for a
    token it had verified (served from memory meanwhile, within the slots of the limits it claimed)."""
    async with throwaway_postgres() as url:
        replica = start_replica(tmp_path, sandbox.base_url, url, extra_args=("--stateless",))
        try:
            token = sign_in_raw(replica.base_url, "ann.lee@northwind.example")["access_token"]
            listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-06-18",
            }
            http = httpx.AsyncClient(timeout=30)
            answered = await http.post(replica.mcp_url, json=listing, headers=headers)
            assert answered.status_code == 200, answered.text
            verified = time.monotonic()
            admin = await asyncpg_admin()
            try:
                await admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')
            finally:
                await admin.close()
            sent = time.monotonic()
            cached = await http.post(replica.mcp_url, json=listing, headers=headers)
            if cached.status_code == 200:  # served from memory: only within the token cache's 2 s
                assert sent < verified + TOKEN_TTL
            else:
                assert cached.status_code == 503 and cached.json()["error"] == "temporarily_unavailable"
            # the token's lookup, the cache's 2 s after it was verified, fails: 503
            await anyio.sleep(max(0.0, verified + TOKEN_TTL + 0.1 - time.monotonic()))
            gone = await http.post(replica.mcp_url, json=listing, headers=headers)
            assert gone.status_code == 503, gone.text
            assert gone.json()["error"] == "temporarily_unavailable"
            assert int(gone.headers["retry-after"]) >= 1
            registering = await http.post(
                f"{replica.base_url}/register", json={"redirect_uris": ["http://127.0.0.1:9/cb"]}
            )
            assert registering.status_code == 503, registering.text  # saving the registration fails too
            await http.aclose()
        finally:
            replica.stop()


async def asyncpg_admin() -> Any:  # an asyncpg connection (asyncpg has no type hints)
    import asyncpg

    return await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)


class FreezableRelay:
    """A TCP relay to PostgreSQL that can stop relaying (a hung database: connections open, no answers).
    Thawing closes the connections it held, as a database restart would, and relays new ones again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.frozen = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self.lock:
            self.sockets.append(client)
        while self.frozen.is_set():
            time.sleep(0.05)  # accepted, never answered
        try:
            server = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        with self.lock:
            self.sockets.append(server)
        threading.Thread(target=self._pump, args=(server, client), daemon=True).start()
        self._pump(client, server)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.frozen.is_set():
                    time.sleep(0.05)
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            sock.close()

    def freeze(self) -> None:
        self.frozen.set()

    def thaw(self) -> None:
        with self.lock:
            held, self.sockets = self.sockets, []
        for sock in held:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.frozen.clear()

    def close(self) -> None:
        self.listener.close()
        self.thaw()


async def test_readyz_answers_503_within_its_timeout_when_the_database_hangs(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    database = urlsplit(postgres_url)
    relay = FreezableRelay((database.hostname or "127.0.0.1", database.port or 5432))
    via_relay = postgres_url.replace(database.netloc, f"{database.username}@127.0.0.1:{relay.port}", 1)
    replica = start_replica(tmp_path, sandbox.base_url, via_relay)
    try:
        assert_ok(get(replica.base_url, "/readyz"))
        relay.freeze()
        for _ in range(2):  # the pooled connection hangs, and so does a new one
            started = time.monotonic()
            assert_not_ready(get(replica.base_url, "/readyz"), "did not answer within", via_relay)
            assert READY_TIMEOUT - 0.1 < time.monotonic() - started < READY_TIMEOUT + 1.5
        assert_ok(get(replica.base_url, "/healthz"))  # the process itself is fine
        relay.thaw()
        deadline = time.monotonic() + 10
        while get(replica.base_url, "/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the replica did not become ready again"
            await anyio.sleep(0.2)
        assert_ok(get(replica.base_url, "/readyz"))
    finally:
        replica.stop()
        relay.close()


# ---- the single-user HTTP server -------------------------------------------------------------------------


def test_plain_http_server_has_healthz_for_any_host(tmp_path: Path, sandbox: BackgroundSandbox) -> None:
    port = free_port()
    env = base_env(tmp_path)
    env.update(WRIKE_BASE_URL=sandbox.api_url, WRIKE_ACCESS_TOKEN="wrike-sandbox-token")
    log = tmp_path / "plain.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(WRIKE_MCP), "serve", "--transport", "http", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log)
        base = f"http://127.0.0.1:{port}"
        assert_ok(get(base, "/healthz"))
        assert_ok(get(base, "/healthz", host=FOREIGN_HOST))
        assert get(base, "/readyz").status_code == 404  # no database to be ready for
        # the Host check still guards the MCP endpoint, which here acts with the configured Wrike token
        refused = httpx.post(f"{base}/mcp", headers={"Host": FOREIGN_HOST}, json={}, timeout=TIMEOUT)
        assert refused.status_code == 421, refused.text
    finally:
        process.terminate()
        process.wait(timeout=10)
