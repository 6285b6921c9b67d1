"""Wrike's `nextPageToken` pagination (task lists, audit log, approvals)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

MAX_PAGE_SIZE = 1000  # Wrike refuses larger pages

Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page of a list: its items, the token for the next page (None at the end) and Wrike's total."""

    items: list[Item] = field(default_factory=list)
    next_page_token: str | None = None
    response_size: int | None = None  # total matches as Wrike counts them, when it says

    @property
    def is_last(self) -> bool:
        return self.next_page_token is None or not self.items


async def iterate_pages(fetch: Callable[[str | None], Awaitable[Page[Item]]]) -> AsyncIterator[Page[Item]]:
    """Yield pages from `fetch(token)` until Wrike gives no next token or an empty page.

    An empty page with a token happens (reported by third parties); stopping there avoids an endless loop,
    as does a token that comes back unchanged.
    """
    token: str | None = None
    seen: set[str] = set()
    while True:
        page = await fetch(token)
        yield page
        if page.is_last or page.next_page_token in seen:
            return
        token = page.next_page_token
        assert token is not None  # is_last covers None
        seen.add(token)
