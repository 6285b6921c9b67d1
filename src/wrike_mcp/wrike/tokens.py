"""The token-source seam between the Wrike client and whatever holds credentials.

The client asks a source for the current token before each request and, on a 401, asks it to refresh once.
`wrike_mcp.auth` implements sources (permanent token, OAuth); tests can pass any object with this shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Token:
    """An access token and what came with it. `repr` never shows the value."""

    value: str = field(repr=False)
    host: str | None = None
    scopes: frozenset[str] | None = None  # None: unknown (a permanent token)


class TokenSource(Protocol):
    async def get_token(self) -> Token:
        """The token to send now (refreshing first if it is known to be expired)."""
        ...

    async def refresh_after_401(self, rejected: Token) -> Token | None:
        """Called when Wrike answered 401 to `rejected`. Return a new token to replay with once, or None.

        Concurrent callers with the same rejected token must share one refresh.
        """
        ...


class StaticTokenSource:
    """A token that never changes (Wrike's permanent access token)."""

    def __init__(self, value: str, *, host: str | None = None, scopes: frozenset[str] | None = None) -> None:
        self._token = Token(value=value, host=host, scopes=scopes)

    def __repr__(self) -> str:
        return "StaticTokenSource(<token hidden>)"

    async def get_token(self) -> Token:
        return self._token

    async def refresh_after_401(self, rejected: Token) -> Token | None:
        return None
