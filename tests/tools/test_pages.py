"""The one page scanner (tools/pages.py): where it stops and where its continuation points."""

from __future__ import annotations

from wrike_mcp.tools.inputs import PagePosition
from wrike_mcp.tools.pages import scan_pages
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
    assert reported == [(1, 4)]


async def test_an_unchanged_token_ends_the_scan() -> None:
    async def stuck(token: str | None) -> Page[int]:
        return Page(items=[1], next_page_token="same")

    scan = await scan_pages(stuck, PagePosition("same", 0, 1), want=10, max_pages=10)
    assert scan.items == [1] and scan.next is None and scan.pages == 1
