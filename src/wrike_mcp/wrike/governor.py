"""A sliding-window rate governor: at most `limit` requests in any `window` seconds.

Wrike allows 400 requests per minute per access token and answers 429 beyond that. Staying under the limit on
our side is cheaper than being refused, and a 429's `Retry-After` pauses every later request, not only the one
that was refused.

A request occupies its slot from when it is sent until `window` seconds after it *finished*. Counting from
the send time alone is not enough: Wrike counts a request when it arrives, and arrival times jitter with the
network, so a request sent exactly one window after another can still land inside Wrike's window for it.

Several processes using one token (remote-mode replicas) share Wrike's budget: a `shared_budget` callable,
consulted after this process's own check, counts the request in a budget they all see and answers None when
it may be sent or the seconds to wait. The governor knows nothing of where that budget lives.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

import anyio

# Counts one request in a budget shared with other processes: None when admitted, else seconds to wait.
SharedBudget = Callable[[], Awaitable[float | None]]


class Slot:
    """One granted request; `done_at` is infinite while it is in flight."""

    __slots__ = ("done_at",)

    def __init__(self) -> None:
        self.done_at = math.inf


class RateGovernor:
    """Grants request slots in arrival order; waits by sleeping or on a completion, never by polling."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        shared_budget: SharedBudget | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._slots: list[Slot] = []  # slots that still count: in flight, or finished within the window
        self._paused_until = 0.0
        self._shared_budget = shared_budget
        self._shared_until = 0.0  # when the shared budget last said one more would fit
        self._finished = anyio.Event()
        # anyio's Lock is fair (first come, first served), so holding it while waiting queues the callers.
        self._lock = anyio.Lock()

    async def acquire(self) -> Slot:
        """Wait until one more request may be sent and return its slot; `release` it when it is done."""
        async with self._lock:
            while True:
                now = self._clock()
                self._slots = [slot for slot in self._slots if slot.done_at > now - self.window]
                wait = self._paused_until - now
                if len(self._slots) >= self.limit:
                    oldest = min(slot.done_at for slot in self._slots)
                    wait = max(wait, oldest + self.window - now)
                if wait <= 0:
                    shared = await self._shared_budget() if self._shared_budget else None
                    if shared is None:
                        slot = Slot()
                        self._slots.append(slot)
                        return slot
                    wait = shared
                    self._shared_until = now + shared
                if math.isinf(wait):  # every slot is in flight: wait for one to finish
                    await self._finished.wait()
                else:
                    await self._sleep(wait)

    def wait_estimate(self) -> float:
        """Seconds until one more request could be sent if nobody else were waiting (0 when it could now)."""
        now = self._clock()
        live = [slot.done_at for slot in self._slots if slot.done_at > now - self.window]
        wait = max(self._paused_until, self._shared_until) - now
        if len(live) >= self.limit:
            oldest = min(live)
            wait = max(wait, (oldest if math.isfinite(oldest) else now) + self.window - now)
        return max(0.0, wait)

    def release(self, slot: Slot) -> None:
        """The request finished (with or without an answer); its slot expires one window from now."""
        slot.done_at = self._clock()
        self._finished.set()
        self._finished = anyio.Event()

    def pause_for(self, seconds: float) -> None:
        """Hold every later request for `seconds` (Wrike's `Retry-After`); never shortens a longer pause."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
