"""Reading a list Wrike pages (`nextPageToken`) until enough items are found: the one page scanner; and
reading independent things together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio

from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.tools.inputs import PagePosition
from wrike_mcp.wrike.audit_log import AUDIT_LOG_PATH, AUDIT_PAGE_SIZE_FALLBACK
from wrike_mcp.wrike.errors import InvalidParameter
from wrike_mcp.wrike.models import AuditLogEvent
from wrike_mcp.wrike.pagination import Page

Item = TypeVar("Item")


@dataclass(frozen=True)
class Scan(Generic[Item]):
    items: list[Item]  # the kept items, at most `want`
    next: PagePosition | None  # where the list goes on; None when it was read to its end
    total: int | None  # Wrike's count of the whole list, when it gave one
    pages: int  # pages read
    # Items `keep` accepts in the rest of the last page read, past `next` (read already, not returned): with
    # `tail_ends` (that page was the list's last) the matches still to come are exactly these.
    tail: int = 0
    tail_ends: bool = False


async def scan_pages(
    fetch: Callable[[str | None], Awaitable[Page[Item]]],
    start: PagePosition,
    *,
    want: int,
    max_pages: int,
    keep: Callable[[Item], bool] = lambda _: True,
    on_page: Callable[[int, int], Awaitable[None]] | None = None,
) -> Scan[Item]:
    """Read pages from `start` (`fetch(token)` reads one, always at `start.page_size`) and keep the items
    `keep` accepts, until `want` are kept, the list ends, or `max_pages` were read (bounded work per call).

    `next` points just past the last item looked at, so a continuation neither repeats nor skips one.
    `on_page(pages, kept)` runs after each page that is not the last one read.
    """
    token, skip, size = start.token, start.skip, start.page_size
    found: list[Item] = []
    total: int | None = None
    pages = 0
    while True:
        page = await fetch(token)
        pages += 1
        if page.response_size is not None:
            total = page.response_size
        used = skip
        for item in page.items[skip:]:
            if len(found) >= want:
                break
            used += 1
            if keep(item):
                found.append(item)
        if len(found) >= want:
            if used < len(page.items):
                tail = sum(1 for item in page.items[used:] if keep(item))
                return Scan(found, PagePosition(token, used, size), total, pages, tail, page.is_last)
            if not page.is_last:
                return Scan(found, PagePosition(page.next_page_token, 0, size), total, pages)
            return Scan(found, None, total, pages)
        if page.is_last or page.next_page_token == token:  # an unchanged token would loop forever
            return Scan(found, None, total, pages)
        token, skip = page.next_page_token, 0
        if pages >= max_pages:
            return Scan(found, PagePosition(token, 0, size), total, pages)
        if on_page is not None:
            await on_page(pages, len(found))


async def concurrently(*reads: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run independent reads together (one round trip of waiting, not one each) and return their results
    in order. The first failure is raised as itself, the other reads cancelled."""
    results: list[Any] = [None] * len(reads)
    if len(reads) == 1:
        results[0] = await reads[0]()
        return results

    async def run(index: int) -> None:
        results[index] = await reads[index]()

    try:
        async with anyio.create_task_group() as group:
            for index in range(len(reads)):
                group.start_soon(run, index)
    except BaseExceptionGroup as failures:
        first = failures.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return results


Read = TypeVar("Read")


async def with_page_size(
    deps: WrikeContext, path: str, size: int, fallback: int, read: Callable[[int], Awaitable[Read]]
) -> Read:
    """`read(page size)`: `size`, or `fallback` when Wrike refuses `size` with 400 invalid_parameter (a size
    no description promises); a fallback that works is kept for the path, so only the first refusal costs a
    request. A request refused at the fallback too is Wrike's answer, raised."""
    size = min(size, deps.resolver.page_sizes.get(path, size))
    try:
        return await read(size)
    except InvalidParameter:
        if size <= fallback:
            raise
    answer = await read(fallback)
    deps.resolver.page_sizes[path] = fallback
    return answer


async def audit_log_page(
    deps: WrikeContext, params: dict[str, Any], size: int, token: str | None
) -> Page[AuditLogEvent]:
    """One page of the audit log at `size` events, or at the documented fallback when Wrike refuses it."""
    return await with_page_size(
        deps,
        AUDIT_LOG_PATH,
        size,
        AUDIT_PAGE_SIZE_FALLBACK,
        lambda page_size: deps.client.get_page(
            AUDIT_LOG_PATH, params, page_size=page_size, page_token=token, model=AuditLogEvent
        ),
    )
