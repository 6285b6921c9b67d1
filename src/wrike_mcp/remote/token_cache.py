"""Access tokens this replica verified moments ago, so that a client's burst of calls does not look its
bearer token up in the store every time (the lookup was most of `--auth oauth`'s cost per call).

An entry lives at most `TTL` seconds and is forgotten as soon as any token or grant is revoked through this
process's store (`Store.revocations` moves): a revocation takes effect at once on the replica that made it
and within `TTL` on every other replica sharing the store. A token read before a revocation and answered
after it is not cached, so a lookup racing a revocation cannot keep the token alive here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mcp.server.auth.provider import AccessToken

from wrike_mcp.remote.store import Store

TTL = 2.0  # seconds; docs/REMOTE.md promises revocation on every replica within this bound
CAPACITY = 10_000


class TokenCache:
    def __init__(
        self,
        store: Store,
        *,
        ttl: float = TTL,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._entries: dict[str, tuple[float, AccessToken]] = {}  # insertion order is expiry order
        self._revocations = store.revocations

    def revocations(self) -> int:
        """Take this before reading a token from the store and hand it to `put`."""
        return self._store.revocations

    def get(self, token: str) -> AccessToken | None:
        if self._store.revocations != self._revocations:
            self._entries.clear()
            self._revocations = self._store.revocations
        entry = self._entries.get(token)
        if entry is None:
            return None
        until, access = entry
        if until <= self._clock():
            del self._entries[token]
            return None
        return access

    def put(self, token: str, access: AccessToken, revocations: int) -> None:
        """Remember a token verified from a store read that began when the store had seen `revocations`."""
        if revocations != self._store.revocations or self._ttl <= 0:
            return  # a revocation happened meanwhile: this read may predate it
        self._entries.pop(token, None)
        while len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]  # the oldest, so the soonest to expire
        self._entries[token] = (self._clock() + self._ttl, access)
