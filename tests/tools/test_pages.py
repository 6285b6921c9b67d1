"""The one page scanner (tools/pages.py): where it stops and where its continuation points; reads run
together; the page size Wrike refuses, and its fallback."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from wrike_mcp.tools.inputs import PagePosition
from wrike_mcp.tools.pages import audit_log_page, concurrently, scan_pages, with_page_size
from wrike_mcp.wrike.errors import InvalidParameter
from wrike_mcp.wrike.models import AuditLogEvent
from wrike_mcp.wrike.pagination import Page

# Three pages of four numbers: tokens "p1", "p2" lead to the second and third page.
PAGES = {
    None: Page(items=[0, 1, 2, 3], next_page_token="p1", response_size=12),
    "p1": Page(items=[4, 5, 6, 7], next_page_token="p2", response_size=12),
    "p2": Page(items=[8, 9, 10, 11], next_page_token=None, response_size=12),
}


async def fetch(token: str | None) -> Page[int]:
    return PAGES[token]


async def test_stops_at_the_wanted_count_and_points_just_past_the_last_item_looked_at() -> None:
    scan = await scan_pages(fetch, PagePosition(None, 0, 4), want=3, max_pages=10, keep=lambda n: n % 2 == 0)
    assert scan.items == [0, 2, 4]
    assert scan.next == PagePosition("p1", 1, 4)  # 4 was the last looked at: 5 comes next
    assert (scan.total, scan.pages) == (12, 2)
    rest = await scan_pages(fetch, scan.next, want=10, max_pages=10, keep=lambda n: n % 2 == 0)
    assert rest.items == [6, 8, 10] and rest.next is None


async def test_a_page_used_up_exactly_continues_on_the_next_page() -> None:
    scan = await scan_pages(fetch, PagePosition(None, 0, 4), want=4, max_pages=10)
    assert scan.items == [0, 1, 2, 3]
    assert scan.next == PagePosition("p1", 0, 4)


async def test_bounded_work_answers_with_where_to_go_on() -> None:
    reported: list[tuple[int, int]] = []

    async def on_page(pages: int, kept: int) -> None:
        reported.append((pages, kept))

    scan = await scan_pages(fetch, PagePosition(None, 0, 4), want=100, max_pages=2, on_page=on_page)
    assert scan.items == list(range(8))
    assert scan.next == PagePosition("p2", 0, 4)
    assert (scan.total, scan.pages) == (12, 2)
    assert reported == [(1, 4)]


async def test_an_unchanged_token_ends_the_scan() -> None:
    async def stuck(token: str | None) -> Page[int]:
        return Page(items=[1], next_page_token="same")

    scan = await scan_pages(stuck, PagePosition("same", 0, 1), want=10, max_pages=10)
    assert scan.items == [1] and scan.next is None and scan.pages == 1


async def test_a_scan_from_the_middle_of_a_page_skips_what_was_given() -> None:
    scan = await scan_pages(fetch, PagePosition("p1", 2, 4), want=3, max_pages=10)
    assert scan.items == [6, 7, 8]
    assert scan.next == PagePosition("p2", 1, 4)


async def test_matches_left_on_the_last_page_are_counted_as_the_rest() -> None:
    """The scan stops inside the list's last page: the matches still on it are all that is left."""
    scan = await scan_pages(fetch, PagePosition("p2", 0, 4), want=1, max_pages=10, keep=lambda n: n != 9)
    assert scan.items == [8]
    assert (scan.tail, scan.tail_ends) == (2, True)  # 10 and 11; 9 does not match
    early = await scan_pages(fetch, PagePosition(None, 0, 4), want=1, max_pages=10)
    assert (early.tail, early.tail_ends) == (3, False)


async def test_a_scan_ending_exactly_at_the_lists_end_has_no_continuation() -> None:
    scan = await scan_pages(fetch, PagePosition("p2", 0, 4), want=4, max_pages=10)
    assert scan.items == [8, 9, 10, 11] and scan.next is None
    assert (scan.total, scan.pages) == (12, 1)
    rest = await scan_pages(fetch, PagePosition("p1", 0, 4), want=100, max_pages=10)
    assert rest.items == list(range(4, 12)) and rest.next is None and (rest.total, rest.pages) == (12, 2)


async def test_a_list_without_a_count_has_no_total() -> None:
    async def uncounted(token: str | None) -> Page[int]:
        return Page(items=[1, 2], next_page_token=None)

    scan = await scan_pages(uncounted, PagePosition(None, 0, 2), want=10, max_pages=10)
    assert scan.items == [1, 2] and scan.total is None


async def test_progress_is_reported_for_each_page_but_the_last() -> None:
    reported: list[tuple[int, int]] = []

    async def on_page(pages: int, kept: int) -> None:
        reported.append((pages, kept))

    scan = await scan_pages(
        fetch, PagePosition(None, 0, 4), want=100, max_pages=10, keep=lambda n: n > 2, on_page=on_page
    )
    assert scan.items == list(range(3, 12)) and scan.next is None and scan.pages == 3
    assert reported == [(1, 1), (2, 5)]


# ---- reads together ------------------------------------------------------------------------------------


async def test_reads_run_together_and_answer_in_order() -> None:
    started: list[str] = []
    both_started = asyncio.Event()

    def read(name: str, delay: float) -> Any:
        async def run() -> str:
            started.append(name)
            if len(started) == 2:
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 1)  # fails unless the other read runs meanwhile
            await asyncio.sleep(delay)
            return name

        return run

    assert await concurrently(read("slow", 0.02), read("fast", 0)) == ["slow", "fast"]
    assert await concurrently(lambda: asyncio.sleep(0, "one")) == ["one"]


async def test_the_first_failure_is_raised_as_itself_and_the_rest_cancelled() -> None:
    cancelled = asyncio.Event()

    async def fails() -> None:
        raise InvalidParameter(400, "invalid_parameter", "bad")

    async def waits() -> None:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(InvalidParameter):
        await concurrently(waits, fails)
    assert cancelled.is_set()
    with pytest.raises(InvalidParameter):
        await concurrently(fails)


async def test_a_failure_inside_a_group_of_failures_is_raised_as_itself() -> None:
    async def fails_in_a_group() -> None:
        raise ExceptionGroup("inner", [InvalidParameter(400, "invalid_parameter", "bad")])

    async def waits() -> None:
        await asyncio.sleep(5)

    with pytest.raises(InvalidParameter):
        await concurrently(waits, fails_in_a_group)


# ---- the page size Wrike refuses -----------------------------------------------------------------------


def sizes_context() -> Any:
    return SimpleNamespace(resolver=SimpleNamespace(page_sizes={}))


async def test_a_refused_page_size_falls_back_once_and_is_remembered_for_the_path() -> None:
    deps, asked = sizes_context(), []

    async def read(size: int) -> str:
        asked.append(size)
        if size > 500:
            raise InvalidParameter(400, "invalid_parameter", "pageSize")
        return f"page of {size}"

    assert await with_page_size(deps, "/audit_log", 1000, 500, read) == "page of 500"
    assert await with_page_size(deps, "/audit_log", 1000, 500, read) == "page of 500"
    assert asked == [1000, 500, 500]  # the second read goes straight to the size that works
    assert await with_page_size(deps, "/other", 1000, 500, read) == "page of 500"
    assert asked[3:] == [1000, 500]  # remembered per path


async def test_a_size_that_works_is_kept_and_a_refusal_at_the_fallback_is_wrikes_answer() -> None:
    deps, asked = sizes_context(), []

    async def read(size: int) -> int:
        asked.append(size)
        return size

    assert await with_page_size(deps, "/audit_log", 1000, 500, read) == 1000
    assert deps.resolver.page_sizes == {}

    async def refuses(size: int) -> int:
        asked.append(size)
        raise InvalidParameter(400, "invalid_parameter", "pageSize")

    asked.clear()
    with pytest.raises(InvalidParameter):
        await with_page_size(deps, "/audit_log", 500, 500, refuses)
    assert asked == [500]  # the fallback itself refused: no second try


async def test_an_audit_log_page_falls_back_to_the_documented_size_when_refused() -> None:
    reads: list[tuple[str, dict[str, Any], int, str | None, Any]] = []
    answer: Page[Any] = Page(items=["event"], next_page_token=None)

    async def get_page(
        path: str, params: dict[str, Any], *, page_size: int, page_token: str | None, model: Any
    ) -> Page[Any]:
        reads.append((path, params, page_size, page_token, model))
        if page_size > 100:
            raise InvalidParameter(400, "invalid_parameter", "pageSize")
        return answer

    deps = sizes_context()
    deps.client = SimpleNamespace(get_page=get_page)
    params = {"operations": ["TaskCreated"]}
    page = await audit_log_page(deps, params, 1000, "tok")
    assert page is answer
    assert reads == [
        ("/audit_log", params, 1000, "tok", AuditLogEvent),
        ("/audit_log", params, 100, "tok", AuditLogEvent),  # Wrike's documented fallback
    ]
    assert deps.resolver.page_sizes == {"/audit_log": 100}
