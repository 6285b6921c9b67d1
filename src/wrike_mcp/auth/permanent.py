"""Wrike's permanent access token (`WRIKE_ACCESS_TOKEN`): never expires, cannot be refreshed."""

from __future__ import annotations

from wrike_mcp.config import Settings
from wrike_mcp.wrike.tokens import StaticTokenSource


class PermanentTokenSource(StaticTokenSource):
    """A StaticTokenSource that also says which scopes it has: those in WRIKE_SCOPES, else unknown (None)."""

    def __init__(self, value: str, *, host: str | None = None, scopes: frozenset[str] | None = None) -> None:
        super().__init__(value, host=host, scopes=scopes)
        self.granted_scopes = scopes

    def __repr__(self) -> str:
        return "PermanentTokenSource(<token hidden>)"

    @classmethod
    def from_settings(cls, settings: Settings) -> PermanentTokenSource | None:
        if settings.access_token is None or not settings.access_token.get_secret_value().strip():
            return None
        scopes = frozenset(settings.scopes) if settings.scopes else None
        # with an explicit base URL the host plays no part (the Wrike client uses the base URL)
        host = None if settings.base_url else settings.host
        return cls(settings.access_token.get_secret_value().strip(), host=host, scopes=scopes)
