"""The governor's shared-budget hook: processes using one token count in one budget and wait, in order, when
it is spent (remote mode backs it with the store; here a budget in memory stands for it)."""

from __future__ import annotations

import time

import anyio

from wrike_mcp.wrike.governor import RateGovernor


class Budget:
    """At most `limit` admissions in any `window` seconds, for every governor that consults it."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.admitted: list[float] = []
        self.asked = 0

    async def __call__(self) -> float | None:
        self.asked += 1
        now = time.monotonic()
        live = [t for t in self.admitted if t > now - self.window]
        if len(live) >= self.limit:
            return min(live) + self.window - now
        self.admitted.append(now)
        return None


async def test_two_governors_share_one_budget_and_wait_for_it() -> None:
    budget = Budget(limit=3, window=0.3)
    # each process alone would allow 10 in the window: only the shared budget holds them back
    governors = [RateGovernor(10, window=0.3, shared_budget=budget) for _ in range(2)]
    started = time.monotonic()

    async def request(governor: RateGovernor) -> None:
        governor.release(await governor.acquire())

    async with anyio.create_task_group() as group:
        for number in range(8):
            group.start_soon(request, governors[number % 2])
    times = budget.admitted
    assert len(times) == 8  # every request went ahead: none failed
    for i, first in enumerate(times):
        assert sum(1 for t in times[i:] if t < first + 0.3 - 0.01) <= 3
    assert time.monotonic() - started >= 0.6 - 0.05  # 8 at 3 per 0.3 s need two more windows


async def test_the_shared_budget_is_consulted_only_after_the_local_limit() -> None:
    budget = Budget(limit=100, window=60)
    governor = RateGovernor(1, window=0.2, shared_budget=budget)
    governor.release(await governor.acquire())
    with anyio.move_on_after(0.1):
        await governor.acquire()  # held by this process's own limit
    assert budget.asked == 1  # never counted in the shared budget while held locally
