"""Database outages under load, on a throwaway PostgreSQL cluster of the test's own (initdb, pg_ctl, a free
port, its socket in its own directory; as the `postgres` OS user when the test runs as root): the machine's
own PostgreSQL (5432) is never touched. Skipped without the binaries, failed without them when CI=true.

A restart: the cluster is stopped under two replicas serving a stream of tool calls, kept down, and started
again. While it is down every replica answers 503 with `Retry-After` (never a 500, never a 401) once the 2 s
in which it may serve what it verified from memory have passed (remote/token_cache.py), `/readyz` is
503 and `/healthz` 200, a refresh-token rotation at `/token` is refused before it spends anything, the
Connected apps page answers 503 too, and no Wrike token refresh is attempted. Within seconds of its return the
same MCP access token works again on both replicas (the Wrike token that expired meanwhile is refreshed once),
and the refresh token refused during the outage rotates exactly once.

The outage lasts OUTAGE seconds, not the issue's 30: nothing in the replicas counts time while the database is
away (each request fails fast on a refused connection and is answered 503), so 30 s behaves as 8 s do; 8 s
outlive the sandbox's 8 s Wrike tokens, so a refresh is due the moment the database is back.

A hang: a relay in front of the cluster stops relaying (nothing refused, nothing answered), and requests are
answered 503 within the store timeout instead of waiting for the database (again after those 2 s).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from tests.remote.conftest import SHORT_TOKEN_TTL
from tests.remote.helpers import SECRET_KEY, Replica, free_port, sign_in_raw, start_replica
from tests.remote.test_attacks_account import signed_in
from tests.remote.test_health import FreezableRelay
from tests.remote.test_replicas import refreshes
from wrike_mcp.remote.crypto import KeyRing, parse_keys
from wrike_mcp.remote.health import READY_TIMEOUT
from wrike_mcp.remote.store import STORE_TIMEOUT, Store
from wrike_mcp.remote.token_cache import TTL as TOKEN_TTL
from wrike_mcp.remote.users import open_grant
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

OUTAGE = 8.0  # seconds the database is down (see the module docstring)
RECOVERY = 10.0  # seconds from the database answering again to every replica serving: "within seconds"
AFTER = 3.0  # seconds of load after both replicas served again
WORKERS = 3
PAUSE = 0.2  # seconds between one worker's calls: ~15 calls a second, well under Wrike's 400 a minute
CALLER = "ann.lee@northwind.example"
ROTATOR = "ben.carter@northwind.example"
VISITOR = "chloe.martin@northwind.example"  # on the Connected apps page
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}


def postgres_binaries() -> Path:
    """The newest PostgreSQL's bin directory with initdb and pg_ctl (skipped without one, failed with CI)."""
    candidates = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    usable = [path for path in candidates if (path / "pg_ctl").exists()]
    if usable:
        return usable[0]
    reason = "no initdb and pg_ctl under /usr/lib/postgresql/*/bin: apt-get install -y postgresql"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI restarts a throwaway PostgreSQL cluster here: {reason}")
    pytest.skip(reason)


class Cluster:
    """A PostgreSQL cluster in a temporary directory on a free port, trusting local connections; run as the
    `postgres` OS user when the test runs as root (initdb refuses root)."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="wrike-mcp-pg-"))  # short: the socket path must fit
        self.data = self.root / "data"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                raise RuntimeError("running as root without runuser: cannot run initdb as postgres")
            shutil.chown(self.root, user="postgres", group="postgres")
            self.as_owner = [runuser, "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [*self.as_owner, str(self.binaries / tool), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            log = self.root / "postgres.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} {args[:1]} failed: {done.stdout[-1000:]}{done.stderr[-1000:]}{tail}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "postgres.log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast`: the server ends every connection and shuts down cleanly, as a restart does."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    running = Cluster(postgres_binaries())
    try:
        running.init()
        running.start()
        yield running
    finally:
        running.remove()


@dataclass(frozen=True)
class Answer:
    replica: str
    started: float
    ended: float
    status: int
    retry_after: str | None
    body: Any


@dataclass
class Timeline:
    stopping: float = 0.0  # pg_ctl stop called
    down: float = 0.0  # pg_ctl stop returned: the database refuses connections
    starting: float = 0.0  # pg_ctl start called
    up: float = 0.0  # pg_ctl start returned: the database accepts connections


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:300]


async def call_tool(http: httpx.AsyncClient, replica: Replica, name: str, token: str, number: int) -> Answer:
    started = time.monotonic()
    response = await http.post(
        replica.mcp_url,
        json={
            "jsonrpc": "2.0",
            "id": number,
            "method": "tools/call",
            "params": {"name": "get_me", "arguments": {}},
        },
        headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"},
    )
    return Answer(
        name,
        started,
        time.monotonic(),
        response.status_code,
        response.headers.get("retry-after"),
        body_of(response),
    )


async def readiness(http: httpx.AsyncClient, replica: Replica, name: str, path: str = "/readyz") -> Answer:
    started = time.monotonic()
    response = await http.get(replica.base_url + path)
    return Answer(name, started, time.monotonic(), response.status_code, None, body_of(response))


def refresh(replica: Replica, tokens: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{replica.base_url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": tokens["client_id"],
        },
        timeout=30,
    )


def assert_unavailable(answer: Answer | httpx.Response, what: str) -> None:
    status = answer.status if isinstance(answer, Answer) else answer.status_code
    retry_after = answer.retry_after if isinstance(answer, Answer) else answer.headers.get("retry-after")
    body = answer.body if isinstance(answer, Answer) else body_of(answer)
    assert status == 503, f"{what}: {status} {body}"
    assert retry_after is not None and int(retry_after) >= 1, f"{what}: Retry-After {retry_after!r}"
    assert body["error"] == "temporarily_unavailable", f"{what}: {body}"


async def test_replicas_ride_out_a_database_restart_under_load(
    tmp_path: Path, short_token_sandbox: BackgroundSandbox, cluster: Cluster
) -> None:
    sandbox = short_token_sandbox
    env = {"WRIKE_MCP_USER_RATE_LIMIT": "100000"}  # the load is not what this test limits
    port_a = free_port()
    public = f"http://127.0.0.1:{port_a}"  # as behind one proxy: both serve the same public URL
    replicas = {
        "a": start_replica(
            tmp_path,
            sandbox.base_url,
            cluster.url,
            public_url=public,
            port=port_a,
            name="a",
            extra_args=("--stateless",),
            extra_env=env,
        ),
    }
    try:
        replicas["b"] = start_replica(
            tmp_path,
            sandbox.base_url,
            cluster.url,
            public_url=public,
            name="b",
            extra_args=("--stateless",),
            extra_env=env,
        )
        caller = sign_in_raw(replicas["a"].base_url, CALLER)["access_token"]
        rotator = sign_in_raw(replicas["b"].base_url, ROTATOR)
        visitor = signed_in(replicas["a"].base_url, VISITOR)
        timeline = Timeline()
        calls: list[Answer] = []
        probes: list[Answer] = []
        during: dict[str, httpx.Response] = {}
        wrike_refreshes: dict[str, int] = {}
        stop_load = anyio.Event()

        async with httpx.AsyncClient(timeout=30) as http:

            async def worker(index: int) -> None:
                number = index
                while not stop_load.is_set():
                    name = "ab"[number % 2]
                    calls.append(await call_tool(http, replicas[name], name, caller, number))
                    number += WORKERS
                    await anyio.sleep(PAUSE)

            async def prober() -> None:
                while not stop_load.is_set():
                    for name, replica in replicas.items():
                        probes.append(await readiness(http, replica, name))
                    await anyio.sleep(0.25)

            async def restart() -> None:
                await anyio.sleep(1.5)  # load on a healthy database first
                wrike_refreshes["before"] = refreshes(sandbox)
                timeline.stopping = time.monotonic()
                await anyio.to_thread.run_sync(cluster.stop)
                timeline.down = time.monotonic()
                await anyio.sleep(1.0)
                # a client rotating its refresh token now, on either replica
                for name, replica in replicas.items():
                    during[f"token-{name}"] = await anyio.to_thread.run_sync(refresh, replica, rotator)
                    during[f"healthz-{name}"] = await http.get(replica.base_url + "/healthz")
                during["account"] = await anyio.to_thread.run_sync(
                    visitor.get, f"{replicas['a'].base_url}/account"
                )
                await anyio.sleep(max(0.0, timeline.down + OUTAGE - time.monotonic()))
                wrike_refreshes["down"] = refreshes(sandbox)
                timeline.starting = time.monotonic()
                await anyio.to_thread.run_sync(cluster.start)
                timeline.up = time.monotonic()
                deadline = timeline.up + RECOVERY
                while time.monotonic() < deadline:
                    served = {a.replica for a in calls if a.started >= timeline.up and a.status == 200}
                    ready = {p.replica for p in probes if p.started >= timeline.up and p.status == 200}
                    if served == ready == set(replicas):
                        break
                    await anyio.sleep(0.1)
                await anyio.sleep(AFTER)
                stop_load.set()

            async with anyio.create_task_group() as group:
                for index in range(WORKERS):
                    group.start_soon(worker, index)
                group.start_soon(prober)
                group.start_soon(restart)

        # never a server fault, never a sign-in asked for: 200 or 503 throughout
        assert {a.status for a in calls} <= {200, 503}, sorted({(a.status, str(a.body)[:200]) for a in calls})
        for answer in calls:
            if answer.status == 200:
                result = answer.body["result"]
                assert not result.get("isError"), result
                assert result["structuredContent"]["user"]["name"] == "Ann Lee", result
            else:
                assert_unavailable(answer, f"/mcp on {answer.replica}")

        # before: served and ready; while down: every call 503 with Retry-After, not ready, alive
        before = [a for a in calls if a.ended < timeline.stopping]
        assert before and all(a.status == 200 for a in before)
        # a replica serves what it verified in the last TOKEN_TTL seconds from memory (the access token, the
        # slots of the limits it claimed: docs/REMOTE.md), so calls in that time may be served (checked
        # above); every later one needs the database
        outage = [a for a in calls if a.started > timeline.down + TOKEN_TTL and a.ended < timeline.starting]
        assert {a.replica for a in outage} == set(replicas), "no load reached a replica during the outage"
        from_memory = [
            a for a in calls if a.started > timeline.down and a.started < timeline.down + TOKEN_TTL
        ]
        from_memory = [a for a in from_memory if a.status == 200]
        for answer in outage:
            assert_unavailable(answer, f"/mcp on {answer.replica} while the database is down")
        assert all(p.status == 200 for p in probes if p.ended < timeline.stopping)
        down_probes = [p for p in probes if p.started > timeline.down and p.ended < timeline.starting]
        assert {p.replica for p in down_probes} == set(replicas)
        assert all(p.status == 503 for p in down_probes), [(p.replica, p.status) for p in down_probes]
        for name in replicas:
            assert during[f"healthz-{name}"].status_code == 200
            # the rotation is refused before it spends anything
            assert_unavailable(
                during[f"token-{name}"], f"refresh at /token on {name} while the database is down"
            )
        assert wrike_refreshes["down"] == wrike_refreshes["before"], (
            "a Wrike refresh was tried with no database"
        )
        page = during["account"]  # a browser page: HTML, not JSON
        assert page.status_code == 503 and int(page.headers["retry-after"]) >= 1, (
            page.status_code,
            page.text[:300],
        )

        # back: each replica serves the SAME access token and reports ready within RECOVERY seconds
        recovered: dict[str, float] = {}
        for name in replicas:
            served = [
                a.ended for a in calls if a.replica == name and a.started >= timeline.up and a.status == 200
            ]
            ready = [
                p.ended for p in probes if p.replica == name and p.started >= timeline.up and p.status == 200
            ]
            assert served and ready, f"replica {name} never served again"
            recovered[name] = max(min(served), min(ready)) - timeline.up
            assert recovered[name] < RECOVERY, (
                f"replica {name} served again only after {recovered[name]:.1f} s"
            )
        settled = timeline.up + max(recovered.values())
        late = [a for a in calls if a.started > settled and a.status != 200]
        assert not late, f"{len(late)} calls failed after both replicas served again: {late[:3]}"
        # the Wrike token expired during the outage: refreshed once (per lifetime of the new one), then kept
        took = time.monotonic() - timeline.up
        due_after = SHORT_TOKEN_TTL * 3 / 4
        assert 1 <= refreshes(sandbox) - wrike_refreshes["down"] <= 1 + int(took // due_after), (
            f"{took:.1f} s"
        )

        # the refresh token refused during the outage rotates now, exactly once
        rotated = refresh(replicas["a"], rotator)
        assert rotated.status_code == 200, rotated.text
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await call_tool(http, replicas["b"], "b", rotated.json()["access_token"], 1)
        assert (
            answer.status == 200
            and answer.body["result"]["structuredContent"]["user"]["name"] == "Ben Carter"
        )
        again = refresh(replicas["b"], rotator)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
        page = visitor.get(f"{replicas['a'].base_url}/account")  # the page's session outlived the outage too
        assert page.status_code == 200 and 'id="sign-out"' in page.text, page.text[:300]
        visitor.close()

        print(  # the figures for the report (pytest -s)
            f"outage {timeline.starting - timeline.down:.1f} s; {len(calls)} calls, {len(outage)} during it "
            f"after its first {TOKEN_TTL:g} s, all 503 ({len(from_memory)} in those 2 s served from memory); "
            "recovered after "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in sorted(recovered.items()))
        )
    finally:
        for replica in replicas.values():
            replica.stop()


async def test_a_database_that_stops_answering_gets_503_within_the_store_timeout(
    tmp_path: Path, sandbox: BackgroundSandbox, cluster: Cluster
) -> None:
    """Unreachable rather than down (a partition, a frozen server: connections open, no answers, nothing
    refused): calls, a refresh at `/token` and `/readyz` are answered 503 within their timeouts instead of
    hanging, and everything works again, with the same tokens, once the database answers."""
    relay = FreezableRelay(("127.0.0.1", cluster.port))
    replica = start_replica(
        tmp_path,
        sandbox.base_url,
        f"postgresql://postgres@127.0.0.1:{relay.port}/postgres",
        extra_args=("--stateless",),
    )
    try:
        tokens = sign_in_raw(replica.base_url, CALLER)
        async with httpx.AsyncClient(timeout=60) as http:
            first = await call_tool(http, replica, "a", tokens["access_token"], 1)
            assert first.status == 200, first.body
            relay.freeze()

            async def three_calls() -> list[Answer]:
                answers: list[Answer] = []

                async def one(number: int) -> None:
                    answers.append(await call_tool(http, replica, "a", tokens["access_token"], number))

                async with anyio.create_task_group() as group:
                    for number in range(3):
                        group.start_soon(one, number)
                return answers

            # the token is still in the replica's 2 s cache: served from memory, or 503 if a call needs the store
            cached = await three_calls()
            for answer in cached:
                if answer.status == 200:
                    assert answer.started < first.ended + TOKEN_TTL, answer
                    assert answer.body["result"]["structuredContent"]["user"]["name"] == "Ann Lee"
                else:
                    assert_unavailable(answer, "/mcp while the database hangs, token cached")
                    assert answer.ended - answer.started < STORE_TIMEOUT + 3, answer
            await anyio.sleep(max(0.0, first.ended + TOKEN_TTL - time.monotonic()))
            # then looked up again
            answers = await three_calls()
            for answer in answers:
                assert_unavailable(answer, "/mcp while the database hangs")
                assert answer.ended - answer.started < STORE_TIMEOUT + 3, answer
            started = time.monotonic()
            refused = await anyio.to_thread.run_sync(refresh, replica, tokens)
            assert_unavailable(refused, "refresh at /token while the database hangs")
            assert time.monotonic() - started < STORE_TIMEOUT + 3
            probe = await readiness(http, replica, "a")
            assert probe.status == 503 and probe.ended - probe.started < READY_TIMEOUT + 2, probe
            assert (await readiness(http, replica, "a", "/healthz")).status == 200
            relay.thaw()
            thawed = time.monotonic()
            while (answer := await call_tool(http, replica, "a", tokens["access_token"], 9)).status != 200:
                assert_unavailable(answer, "/mcp just after the database answers again")
                assert time.monotonic() - thawed < RECOVERY, "the replica did not serve again"
                await anyio.sleep(0.2)
            assert answer.body["result"]["structuredContent"]["user"]["name"] == "Ann Lee"
            assert (await readiness(http, replica, "a")).status == 200
            print(  # the figures for the report (pytest -s)
                f"hung database: {sum(a.status == 200 for a in cached)} of 3 calls served from memory, then "
                f"/mcp 503 after {max(a.ended - a.started for a in answers):.1f} s, "
                f"/readyz 503 after {probe.ended - probe.started:.1f} s; "
                f"served again {answer.ended - thawed:.2f} s after it answered"
            )
        rotated = refresh(replica, tokens)
        assert rotated.status_code == 200, rotated.text
        again = refresh(replica, tokens)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text
    finally:
        replica.stop()
        relay.close()


async def stored_refresh_token(database_url: str, email: str) -> str | None:
    """The Wrike refresh token the store holds for a person (decrypted as the replicas do)."""
    store = Store.open(database_url)
    try:
        (user,) = await store.find_users(email)
        return open_grant(KeyRing(parse_keys(SECRET_KEY)), user.grant).refresh_token
    finally:
        await store.close()


async def test_a_wrike_refresh_answered_while_the_database_dies_is_not_lost(
    tmp_path: Path, short_token_sandbox: BackgroundSandbox, cluster: Cluster
) -> None:
    """Wrike rotates its refresh token on every refresh: when the store fails between Wrike's answer and the
    write, the new refresh token exists only in the replica that asked. The database is stopped while the
    sandbox holds that replica's refresh request (a 3 s delay), then started again: the replica writes the
    grant it kept as soon as the database answers, and both replicas go on serving the person with it; no
    refresh is refused by Wrike and the grant is not revoked."""
    sandbox = short_token_sandbox
    port_a = free_port()
    public = f"http://127.0.0.1:{port_a}"
    common: dict[str, Any] = {"public_url": public, "extra_args": ("--stateless",)}
    a = start_replica(tmp_path, sandbox.base_url, cluster.url, port=port_a, name="a", **common)
    b = start_replica(tmp_path, sandbox.base_url, cluster.url, name="b", **common)
    try:
        tokens = sign_in_raw(a.base_url, CALLER)
        signed_at = time.monotonic()
        before = await stored_refresh_token(cluster.url, CALLER)
        async with httpx.AsyncClient(timeout=60) as http:
            first = await call_tool(http, a, "a", tokens["access_token"], 1)
            assert first.status == 200, first.body
            await http.post(
                f"{sandbox.base_url}/_sandbox/faults",
                json={"path": "/oauth2/token", "method": "POST", "delay_ms": 3000, "times": 1},
            )
            await anyio.sleep(max(0.0, signed_at + SHORT_TOKEN_TTL - 1 - time.monotonic()))  # refresh due
            asked = refreshes(sandbox)
            in_flight: list[Answer] = []

            async def call_during_refresh() -> None:
                in_flight.append(await call_tool(http, a, "a", tokens["access_token"], 2))

            def refresh_reached_wrike() -> None:  # which holds it 3 s
                deadline = time.monotonic() + 10
                while refreshes(sandbox) == asked:
                    assert time.monotonic() < deadline, "no Wrike refresh was asked for"
                    time.sleep(0.05)

            async with anyio.create_task_group() as group:
                group.start_soon(call_during_refresh)
                await anyio.to_thread.run_sync(refresh_reached_wrike)
                await anyio.to_thread.run_sync(cluster.stop)  # the database dies before Wrike answers
            assert refreshes(sandbox) == asked + 1
            # the call that needed the refresh was served with the new grant, the database down meanwhile
            (during,) = in_flight
            assert during.status == 200, during.body
            assert during.body["result"]["structuredContent"]["user"]["name"] == "Ann Lee", during.body
            await anyio.to_thread.run_sync(cluster.start)
            back = time.monotonic()
            # the replica that asked writes the grant Wrike gave it, within seconds of the database's return
            while (kept := await stored_refresh_token(cluster.url, CALLER)) == before:
                assert time.monotonic() < back + RECOVERY, "the refreshed Wrike grant was never written"
                await anyio.sleep(0.1)
            assert kept is not None
            print(f"the kept grant was written {time.monotonic() - back:.2f} s after the database was back")
            for number, replica in enumerate((b, a), start=3):  # the other replica first
                answer = await call_tool(http, replica, replica.log.stem, tokens["access_token"], number)
                assert answer.status == 200, (replica.log.stem, answer.body, in_flight)
                assert answer.body["result"]["structuredContent"]["user"]["name"] == "Ann Lee", answer.body
        assert refreshes(sandbox) == asked + 1  # nothing refreshed again, nothing refused
        assert await stored_refresh_token(cluster.url, CALLER) == kept
        log = a.log.read_text()
        assert "kept in this replica" in log and "kept Wrike grant of user" in log, log[-2000:]
        assert "was written" in log, log[-2000:]
        assert "Wrike refused the refresh token" not in log + b.log.read_text()
    finally:
        a.stop()
        b.stop()
