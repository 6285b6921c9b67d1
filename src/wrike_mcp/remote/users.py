"""Each signed-in user's own Wrike client: their tokens, their data-centre host, their own rate governor.

A user's Wrike access token is refreshed single-flight across every replica: callers in this process queue
on a local lock, then the one that refreshes holds the store's lock on the user (a PostgreSQL advisory lock,
or a process lock and a write transaction with SQLite), re-reads the grant (another replica may have
refreshed it already), calls Wrike, and commits the rotated refresh token before anyone uses the new access
token. A grant Wrike refuses ends the user's MCP tokens, so their client gets a 401 and signs in again.

Wrike rotates its refresh token on every refresh, so a store that fails between Wrike's answer and the commit
(the database restarting, or hanging: the write has the store's timeout, and is not cancelled with the
request) would lose the only live refresh token. The source keeps that grant in memory instead, serves with
it, and `UserClients.write_kept_grants` writes it as soon as the store answers (before this replica refreshes
the user again, or builds a new client of theirs). Still lost: the grant of a replica that stops before the database
comes back, and the race with another replica refreshing the user with the spent token in the second or so
between the database's return and the write (Wrike refuses it, and that replica ends the grant).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
import httpx
import httpx2
from sqlalchemy.exc import SQLAlchemyError

from wrike_mcp.auth.errors import AuthError, AuthorizationExpired
from wrike_mcp.auth.oauth import (
    APP_CREDENTIAL_ERRORS,
    REFUSED_GRANT_ERRORS,
    TokenEndpointRejected,
    grant_from_response,
    grant_token,
    post_token_request,
    refresh_due,
)
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.remote.crypto import KeyRing
from wrike_mcp.remote.store import STORE_TIMEOUT, Store
from wrike_mcp.runtime import client_from_settings
from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.wrike.client import EventHook, WrikeClient
from wrike_mcp.wrike.governor import SharedBudget
from wrike_mcp.wrike.resolve import Resolver
from wrike_mcp.wrike.tokens import Token

log = logging.getLogger(__name__)

SIGN_IN_AGAIN = "your Wrike authorization ended (revoked or expired): sign in to wrike-mcp again"
APP_REFUSED = (
    "Wrike refused wrike-mcp's app credentials ({error}): the administrator should check that "
    "WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET match the app registered in Wrike; your sign-in is kept"
)


def seal_grant(keyring: KeyRing, grant: Grant) -> str:
    return keyring.encrypt(grant.model_dump_json())


def open_grant(keyring: KeyRing, sealed: str) -> Grant:
    return Grant.model_validate_json(keyring.decrypt(sealed))


class StoredGrantSource:
    """A TokenSource over one user's Wrike grant in the shared store."""

    def __init__(
        self,
        store: Store,
        keyring: KeyRing,
        settings: Settings,
        user_id: str,
        grant: Grant,
        *,
        login_transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        on_refresh: Callable[[str], None] | None = None,
        on_kept: Callable[[StoredGrantSource], None] | None = None,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._settings = settings
        self._user_id = user_id
        self._grant = grant
        self._login_transport = login_transport
        self._clock = clock
        self._lock = anyio.Lock()
        # told each refresh's outcome: "ok", "refused" (Wrike ended the grant) or "failed" (no answer)
        self._on_refresh = on_refresh or (lambda outcome: None)
        # a grant Wrike gave while the store was failing, and the refresh token it replaced; `on_kept` is told
        # so that someone writes it (UserClients.write_kept_grants)
        self._kept: tuple[Grant, str | None] | None = None
        self._on_kept = on_kept or (lambda source: None)

    def __repr__(self) -> str:
        return f"StoredGrantSource({self._user_id}, <tokens hidden>)"

    def _stale(self, grant: Grant) -> bool:
        return refresh_due(grant, self._clock())

    async def get_token(self) -> Token:
        grant = self._grant
        if not self._stale(grant):
            return grant_token(grant)
        return await self._refresh(grant.access_token)

    async def refresh_after_401(self, rejected: Token) -> Token | None:
        return await self._refresh(rejected.value)

    async def _refresh(self, stale: str) -> Token:
        async with self._lock:
            current = self._grant
            if current.access_token != stale and not self._stale(current):
                return grant_token(current)  # refreshed by another caller in this process meanwhile
            # a kept grant holds the only live refresh token: written first, or the store would refresh with
            # the one Wrike already spent (a store still failing fails this refresh, as it would anyway)
            await self._write_kept()
            answered: tuple[Grant, str | None] | None = None
            try:
                with anyio.fail_after(None) as after_wrike:
                    async with self._store.locked(f"user:{self._user_id}") as conn:
                        row = await self._store.get_user(self._user_id, conn)
                        if row is None or row.revoked:
                            raise AuthorizationExpired(SIGN_IN_AGAIN)
                        stored = open_grant(self._keyring, row.grant)
                        if stored.access_token != stale and not self._stale(stored):
                            self._grant = stored  # another replica refreshed it
                            return grant_token(stored)
                        try:
                            fresh = await self._call_wrike(stored)
                        except Exception:
                            self._on_refresh("failed")
                            raise
                        self._on_refresh("ok" if fresh is not None else "refused")
                        # Wrike has answered: the write and its commit get the store's timeout (a hung
                        # database then keeps the grant, below) and are not cancelled with the request (a
                        # client gone would take with it the only live refresh token)
                        after_wrike.deadline = anyio.current_time() + STORE_TIMEOUT
                        after_wrike.shield = True
                        if fresh is None:
                            # inside the lock and committed with it, so no replica refreshes a grant Wrike
                            # refused
                            await self._store.revoke_grant(conn, self._user_id, self._clock())
                        else:
                            answered = (fresh, stored.refresh_token)
                            await self._store.update_grant(
                                conn, self._user_id, seal_grant(self._keyring, fresh), self._clock()
                            )
            except (SQLAlchemyError, OSError) as exc:  # a refused connection is an OSError, a hung one too
                if answered is None:
                    raise  # Wrike was not asked, or refused: nothing is lost
                self._keep(answered, exc)
                return grant_token(answered[0])
            if fresh is None:
                raise AuthorizationExpired(SIGN_IN_AGAIN)
            # committed: the rotated refresh token is safe before the new access token is used
            self._grant = fresh
            log.info("refreshed the Wrike token of user %s", self._user_id)
            return grant_token(fresh)

    def _keep(self, answered: tuple[Grant, str | None], exc: Exception) -> None:
        """Wrike answered and the store failed: Wrike has spent the stored refresh token, so the grant it gave is
        the user's only live one. Serve with it and have it written once the store answers."""
        self._grant = answered[0]
        self._kept = answered
        self._on_kept(self)
        log.warning(
            "refreshed the Wrike token of user %s but the store failed (%s): the new grant is kept in this "
            "replica and written once the database answers",
            self._user_id,
            type(exc).__name__,
        )

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def holds_unwritten_grant(self) -> bool:
        return self._kept is not None

    async def write_kept(self) -> None:
        """Write the grant kept while the store was failing (nothing when none is); raises while it still fails."""
        async with self._lock:
            await self._write_kept()

    async def _write_kept(self) -> None:
        if self._kept is None:
            return
        grant, replaced = self._kept
        async with self._store.locked(f"user:{self._user_id}") as conn:
            row = await self._store.get_user(self._user_id, conn)
            # only over the grant it was refreshed from: a new sign-in may have replaced it meanwhile, or the
            # grant ended, and either is newer than what this replica kept
            if (
                row is not None
                and not row.revoked
                and open_grant(self._keyring, row.grant).refresh_token == replaced
            ):
                await self._store.update_grant(
                    conn, self._user_id, seal_grant(self._keyring, grant), self._clock()
                )
                outcome = "written"
            else:
                outcome = "dropped: the user's grant changed meanwhile"
        self._kept = None
        log.warning("the kept Wrike grant of user %s was %s", self._user_id, outcome)

    async def _call_wrike(self, stored: Grant) -> Grant | None:
        """The refreshed grant; None when Wrike refused the grant itself (revoked or expired)."""
        if not stored.refresh_token:
            return None
        try:
            response = await post_token_request(
                self._settings,
                grant_type="refresh_token",
                params={"refresh_token": stored.refresh_token},
                transport=self._login_transport,
            )
        except TokenEndpointRejected as exc:
            if exc.error in APP_CREDENTIAL_ERRORS:
                # Wrike's answer to an app secret that does not match (live observation): the server's
                # configuration is wrong, the user's grant is not; keep it
                raise AuthError(APP_REFUSED.format(error=exc.error)) from None
            if exc.error not in REFUSED_GRANT_ERRORS:
                raise
            log.warning("Wrike refused the refresh token of user %s (%s)", self._user_id, exc.error)
            return None
        return grant_from_response(
            response, self._settings, requested_scopes=None, previous=stored, now=self._clock()
        )


# Wrike counts 400 requests per token in a sliding minute, from when each request arrives. The shared count
# is step-aligned (Store.hit), so it keeps each request for 70 s in 5 s steps: at least 65 s after it was
# sent, which leaves 5 s for it to reach Wrike and never lets more than the limit into any 60 s of arrivals.
WRIKE_WINDOW = 70
KEPT_GRANT_RETRY = 1.0  # seconds between tries to write a Wrike grant refreshed while the store was failing
WRIKE_WINDOW_STEPS = 14


@dataclass(eq=False)
class _UserClient:
    client: WrikeClient
    resolver: Resolver
    preview_keys: tuple[bytes, ...] = field(repr=False)
    version: int  # the grant_version it was built from
    leases: int = 0  # requests using it now
    retired: bool = False  # dropped from the cache: closed when the last lease ends


class UserClients:
    """The Wrike client of each recently active user (least recently used ones are closed).

    A cached client is checked against the user's grant version on every request (read with the access token,
    so a new sign-in or a revocation on any replica is seen as soon as that token's lookup is: at once for a
    new token, within the token cache's 2 s for one already cached); it is closed only when no request is
    using it any more.
    """

    def __init__(
        self,
        store: Store,
        keyring: KeyRing,
        settings: Settings,
        *,
        api_transport: httpx.AsyncBaseTransport | None = None,
        login_transport: httpx2.AsyncBaseTransport | None = None,
        capacity: int = 1000,
        clock: Callable[[], float] = time.time,
        event_hooks: Sequence[EventHook] = (),
        on_refresh: Callable[[str], None] | None = None,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._settings = settings
        self._api_transport = api_transport
        self._login_transport = login_transport
        self._capacity = capacity
        self._clock = clock
        self._clients: OrderedDict[str, _UserClient] = OrderedDict()
        self._lock = anyio.Lock()
        # sources holding a Wrike grant refreshed while the store was failing (StoredGrantSource._keep)
        self._unwritten: set[StoredGrantSource] = set()
        # observers of every Wrike exchange and token refresh of every user (the metrics, when on)
        self.event_hooks = list(event_hooks)
        self._on_refresh = on_refresh

    @asynccontextmanager
    async def lease(
        self, user_id: str, scopes: frozenset[str], version: int | None = None
    ) -> AsyncIterator[WrikeContext]:
        """What the tools see for this user and this token's scopes, for the length of one request.

        `version` is the user's grant version as read with the access token (the gate passes it; None means
        the user is gone or revoked, or the caller did not read it: then it is read here)."""
        if version is None:
            version = await self._store.grant_version(user_id)
        if version is None:
            await self.forget(user_id)
            raise AuthorizationExpired(SIGN_IN_AGAIN)
        entry = self._clients.get(user_id)
        if entry is None or entry.version != version:
            entry = await self._open(user_id, version)
        self._clients.move_to_end(user_id)
        entry.leases += 1
        try:
            yield WrikeContext(
                settings=self._settings,
                client=entry.client,
                given_resolver=entry.resolver,
                granted_scopes=scopes,
                mode="oauth (remote, multi-user)",
                preview_keys=entry.preview_keys,
            )
        finally:
            entry.leases -= 1
            if entry.retired and entry.leases == 0:
                await _close(entry)

    async def _open(self, user_id: str, version: int) -> _UserClient:
        async with self._lock:
            cached = self._clients.get(user_id)
            if cached is not None and cached.version >= version:
                return cached
            # a grant of this user refreshed while the store was failing, still unwritten (its client evicted
            # meanwhile): the stored one is spent, and refreshing it would end the person's sign-in; so it is
            # written first (a store still failing fails this request, as reading the grant would)
            for source in [source for source in self._unwritten if source.user_id == user_id]:
                await self._write_kept_grant(source)
            row = await self._store.get_user(user_id)
            if row is None or row.revoked:
                raise AuthorizationExpired(SIGN_IN_AGAIN)
            if not self._keyring.is_current(row.grant):
                await self._rewrap(user_id)
                row = await self._store.get_user(user_id) or row
            grant = open_grant(self._keyring, row.grant)
            source = StoredGrantSource(
                self._store,
                self._keyring,
                self._settings,
                user_id,
                grant,
                login_transport=self._login_transport,
                on_refresh=self._on_refresh,
                on_kept=self._unwritten.add,
            )
            client = client_from_settings(
                self._settings,
                source,
                transport=self._api_transport,
                host=row.host,
                # SQLite means one replica: its own governor is the whole budget, no write per request
                shared_budget=self._shared_budget(user_id) if self._store.is_postgres else None,
                event_hooks=self.event_hooks,
            )
            entry = _UserClient(
                client=client,
                resolver=Resolver(client),
                preview_keys=self._keyring.derive_all("bulk preview", user_id),
                version=row.grant_version,
            )
            await self._retire(self._clients.pop(user_id, None))
            self._clients[user_id] = entry
            while len(self._clients) > self._capacity:
                _, evicted = self._clients.popitem(last=False)
                await self._retire(evicted)
            return entry

    async def count_wrike_requests(self, user_id: str, count: int) -> None:
        """Count requests made with a new grant outside its client (at sign-in) in the user's budget."""
        if not self._store.is_postgres:
            return
        hit = self._shared_budget(user_id)
        for _ in range(count):
            await hit()

    def _shared_budget(self, user_id: str) -> SharedBudget:
        """The user's Wrike budget, counted in the store by every replica (one grant, one budget)."""
        key = f"wrike:{user_id}"
        limit = self._settings.rate_limit_per_minute

        async def hit() -> float | None:
            try:
                with anyio.fail_after(STORE_TIMEOUT):
                    return await self._store.hit(
                        key, limit, WRIKE_WINDOW, self._clock(), buckets=WRIKE_WINDOW_STEPS
                    )
            except (SQLAlchemyError, OSError) as exc:  # a refused connection is an OSError, a hung one too
                # the store is down: this replica's own governor and Wrike's 429s still hold the line
                log.warning(
                    "shared Wrike budget unavailable (%s); counting in this replica only", type(exc).__name__
                )
                return None

        return hit

    async def _retire(self, entry: _UserClient | None) -> None:
        if entry is None:
            return
        entry.retired = True
        if entry.leases == 0:
            await _close(entry)

    async def _rewrap(self, user_id: str) -> None:
        """Key rotation on use: re-encrypt a grant written with an older key."""
        async with self._store.locked(f"user:{user_id}") as conn:
            row = await self._store.get_user(user_id, conn)
            if row is not None and not self._keyring.is_current(row.grant):
                await self._store.update_grant(conn, user_id, self._keyring.rotate(row.grant), row.updated_at)

    async def forget(self, user_id: str) -> None:
        """Drop a user's cached client here (other replicas see the grant version move); requests using it
        finish with it, and the last one closes it."""
        await self._retire(self._clients.pop(user_id, None))

    async def write_kept_grants(self, every: float = KEPT_GRANT_RETRY) -> None:
        """Forever: write the Wrike grants refreshed while the store was failing, once it answers (each is
        its user's only live refresh token, whether or not its client is still cached)."""
        while True:
            await anyio.sleep(every)
            await self._write_kept_grants()

    async def _write_kept_grants(self) -> None:
        for source in list(self._unwritten):
            try:
                await self._write_kept_grant(source)
            except (SQLAlchemyError, OSError):  # still failing: the next round tries again
                continue
            except Exception as exc:
                # e.g. a grant sealed by another replica with a key this one lacks (mid-rotation): this source
                # keeps its grant for the next round, and the others are written; escaping, it would end the
                # task group this loop shares with the purge and the audit trail
                log.error(
                    "writing the kept Wrike grant of %r failed (%s); it stays kept for the next round",
                    source,
                    type(exc).__name__,
                )

    async def _write_kept_grant(self, source: StoredGrantSource) -> None:
        """Write one source's kept grant; raises while the store fails (within STORE_TIMEOUT)."""
        with anyio.fail_after(STORE_TIMEOUT):
            await source.write_kept()
        if not source.holds_unwritten_grant:
            self._unwritten.discard(source)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._write_kept_grants()  # a last try: what is not written now is lost with this process
        for source in self._unwritten:
            log.error(
                "the refreshed Wrike grant of %r could not be written: that user signs in again", source
            )
        for entry in self._clients.values():
            await _close(entry)
        self._clients.clear()


async def _close(entry: _UserClient) -> None:
    with anyio.CancelScope(shield=True):
        await entry.client.aclose()
