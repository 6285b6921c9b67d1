"""nextPageToken bookkeeping: what each token the API handed out stands for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.errors import invalid_parameter


@dataclass
class PageQuery:
    """What a task or audit-log nextPageToken stands for: the whole query and where the next page starts."""

    route: str
    params: dict[str, Any]
    offset: int


class PageTokens:
    """The queries behind the page tokens issued since the last reset. A token stands for the whole query
    ("overrides any other parameters in request"), so resuming needs nothing but the token."""

    def __init__(self) -> None:
        self._queries: dict[str, PageQuery] = {}
        self._issued = 0

    def save(self, route: str, params: dict[str, Any], offset: int) -> str:
        """A new token for the page of `route`'s query (its parameter snapshot) starting at `offset`."""
        self._issued += 1
        token = f"{ids.ACCOUNT_ID}PG{ids.base32(self._issued, 8)}"
        self._queries[token] = PageQuery(
            route, {k: v for k, v in params.items() if k != "nextPageToken"}, offset
        )
        return token

    def resume(self, token: str, route: str) -> PageQuery:
        saved = self._queries.get(token)
        if saved is None or saved.route != route:
            raise invalid_parameter("nextPageToken", "is invalid or expired")
        return saved

    def clear(self) -> None:
        """Forget every token, as Wrike does after a while."""
        self._queries.clear()
