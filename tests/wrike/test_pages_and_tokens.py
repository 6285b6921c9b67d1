"""Wrike's `nextPageToken` paging (wrike/pagination.py), which must end on the last page and never loop on a
token Wrike repeats, and the permanent-token source (wrike/tokens.py), which must never show the token."""

from __future__ import annotations

from wrike_mcp.wrike.pagination import Page, iterate_pages
from wrike_mcp.wrike.tokens import StaticTokenSource, Token


def test_a_page_is_the_last_without_a_next_token_or_without_items() -> None:
    assert not Page(items=[1], next_page_token="A").is_last
    assert Page(items=[1], next_page_token=None).is_last
    assert Page(items=[], next_page_token="A").is_last
    assert Page().is_last and Page().items == [] and Page().response_size is None


class Pages:
    """Answers `fetch(token)` from a table of token → page and records the tokens asked for; refuses to be
    asked more than `most` times, so that a paging loop fails instead of hanging."""

    def __init__(self, table: dict[str | None, Page[int]], most: int = 10) -> None:
        self.table = table
        self.most = most
        self.asked: list[str | None] = []

    async def __call__(self, token: str | None) -> Page[int]:
        self.asked.append(token)
        assert len(self.asked) <= self.most, f"still paging after {self.most} pages: {self.asked}"
        return self.table[token]


async def test_pages_are_followed_until_there_is_no_next_token() -> None:
    fetch = Pages({None: Page([1, 2], "A"), "A": Page([3], "B"), "B": Page([4], None)})
    items = [item async for page in iterate_pages(fetch) for item in page.items]
    assert items == [1, 2, 3, 4]
    assert fetch.asked == [None, "A", "B"]


async def test_an_empty_page_with_a_token_ends_the_list() -> None:
    fetch = Pages({None: Page([1], "A"), "A": Page([], "B"), "B": Page([2], None)})
    assert [page.items async for page in iterate_pages(fetch)] == [[1], []]
    assert fetch.asked == [None, "A"]


async def test_a_token_that_comes_back_ends_the_list() -> None:
    repeated = Pages({None: Page([1], "A"), "A": Page([2], "A")})
    assert [page.items async for page in iterate_pages(repeated)] == [[1], [2]]
    cycle = Pages({None: Page([1], "A"), "A": Page([2], "B"), "B": Page([3], "A")})
    assert [page.items async for page in iterate_pages(cycle)] == [[1], [2], [3]]
    assert cycle.asked == [None, "A", "B"]


async def test_the_permanent_token_is_given_as_is_and_never_shown() -> None:
    scopes = frozenset({"wsReadOnly"})
    source = StaticTokenSource("perm-secret-123", host="app-eu.wrike.com", scopes=scopes)
    token = await source.get_token()
    assert token == Token(value="perm-secret-123", host="app-eu.wrike.com", scopes=scopes)
    assert "perm-secret-123" not in repr(token) and "perm-secret-123" not in repr(source)
    assert repr(source) == "StaticTokenSource(<token hidden>)"
    assert await source.refresh_after_401(token) is None  # nothing to refresh: a 401 stays a 401
    assert await StaticTokenSource("t").get_token() == Token(value="t", host=None, scopes=None)
