"""A sliding-window rate governor: at most `limit` requests in any `window` seconds.

Wrike allows 400 requests per minute per access token and answers 429 beyond that. Staying under the limit on
our side is cheaper than being refused, and a 429's `Retry-After` pauses every later request, not only the one
that was refused.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable

import anyio


class RateGovernor:
    """Grants request slots in arrival order; waits by sleeping, never by polling."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()  # send times within the current window, oldest first
        self._paused_until = 0.0
        # anyio's Lock is fair (first come, first served), so holding it while sleeping queues the waiters.
        self._lock = anyio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request may be sent, and count it."""
        async with self._lock:
            while True:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                wait = self._paused_until - now
                if len(self._sent) >= self.limit:
                    wait = max(wait, self._sent[0] + self.window - now)
                if wait <= 0:
                    self._sent.append(now)
                    return
                await self._sleep(wait)

    def pause_for(self, seconds: float) -> None:
        """Hold every later request for `seconds` (Wrike's `Retry-After`); never shortens a longer pause."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @property
    def in_window(self) -> int:
        """Requests counted in the current window (for tests and diagnostics)."""
        now = self._clock()
        return sum(1 for sent in self._sent if sent > now - self.window)
