"""The rate governor's window edges on a manual clock (wrike/governor.py): when exactly the next request may go,
how long a request in flight or a Retry-After holds the others, and what the wait estimate (the hint a refused
call gives) says meanwhile. Windows of a minute pass instantly: the clock moves only when the governor sleeps."""

from __future__ import annotations

import math

import anyio
import anyio.lowlevel
import pytest

from wrike_mcp.wrike.governor import RateGovernor, SharedBudget, Slot


class ManualTime:
    """The governor's clock and sleep. Each sleep first records what `wait_estimate` said at that moment, then
    moves the clock; a sleep of no time, forever or past 100 sleeps fails (the governor must never poll)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.estimates: list[float] = []
        self.governor: RateGovernor | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert 0 < seconds < math.inf and len(self.slept) < 100, (seconds, self.slept)
        if self.governor is not None:
            self.estimates.append(self.governor.wait_estimate())
        self.slept.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()

    def governing(
        self, limit: int, window: float = 60.0, shared_budget: SharedBudget | None = None
    ) -> RateGovernor:
        self.governor = RateGovernor(
            limit, window, clock=self.clock, sleep=self.sleep, shared_budget=shared_budget
        )
        return self.governor


async def send(governor: RateGovernor, time: ManualTime) -> float:
    """One request that finishes at once; answers when it was sent."""
    slot = await governor.acquire()
    sent = time.now
    governor.release(slot)
    return sent


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^limit must be at least 1$"):
        RateGovernor(0)
    assert RateGovernor(1).limit == 1 and RateGovernor(1).window == 60.0


async def test_a_request_frees_its_slot_exactly_one_window_after_it_finished() -> None:
    time = ManualTime()
    governor = time.governing(2)  # Wrike's window: a minute
    assert [await send(governor, time) for _ in range(6)] == [0, 0, 60, 60, 120, 120]
    assert time.slept == [60, 60]
    assert time.estimates == time.slept  # the estimate while waiting is the wait


async def test_the_oldest_request_decides_when_the_next_may_go() -> None:
    time = ManualTime()
    governor = time.governing(2, window=60)
    assert await send(governor, time) == 0
    time.now = 30
    assert await send(governor, time) == 30
    assert await send(governor, time) == 60  # the one sent at 0 has left the window
    assert await send(governor, time) == 90  # then the one sent at 30


async def test_a_slow_request_counts_until_a_window_after_its_answer() -> None:
    time = ManualTime()
    governor = time.governing(1, window=60)
    slot = await governor.acquire()
    time.now = 45
    governor.release(slot)
    assert await send(governor, time) == 105


async def test_requests_in_flight_hold_the_next_until_one_finishes() -> None:
    time = ManualTime()
    governor = time.governing(1, window=60)
    sent: list[float] = []
    first = await governor.acquire()

    async def wait_and_keep(slots: list[Slot]) -> None:
        slots.append(await governor.acquire())
        sent.append(time.now)

    with anyio.fail_after(5):
        for finished_at in (10, 90):
            slots: list[Slot] = []
            async with anyio.create_task_group() as group:
                group.start_soon(wait_and_keep, slots)
                await anyio.wait_all_tasks_blocked()
                assert governor.wait_estimate() == 60  # in flight: at least a window from now
                time.now = finished_at
                governor.release(first)
            first = slots[0]
    assert sent == [70, 150]  # each waited for the answer, then a window after it


async def test_a_retry_after_holds_every_later_request_and_is_never_shortened() -> None:
    time = ManualTime()
    governor = time.governing(100)
    time.now = 10
    governor.pause_for(30)
    governor.pause_for(5)
    assert governor.wait_estimate() == 30
    assert await send(governor, time) == 40
    assert time.slept == [30]
    assert governor.wait_estimate() == 0


async def test_the_wait_estimate_counts_from_the_oldest_finished_request() -> None:
    time = ManualTime()
    governor = time.governing(2, window=60)
    assert governor.wait_estimate() == 0.0
    await send(governor, time)
    await send(governor, time)
    time.now = 20
    assert governor.wait_estimate() == 40
    time.now = 60
    assert governor.wait_estimate() == 0.0
    time.now = 70
    assert governor.wait_estimate() == 0.0  # never negative


async def test_a_full_shared_budget_is_waited_for_and_shows_in_the_estimate() -> None:
    answers = [5.0, None]

    async def budget() -> float | None:
        return answers.pop(0)

    time = ManualTime()
    governor = time.governing(10, shared_budget=budget)
    assert await send(governor, time) == 5
    assert time.slept == [5] and time.estimates == [5]
    assert answers == []
