"""The administrator's client policy: which MCP clients may sign people in (docs/REMOTE.md "Admin controls").

With neither list set every client may. Otherwise a client may when its id is listed
(`WRIKE_MCP_ALLOWED_CLIENT_IDS`: a client ID metadata document's URL, or a pre-registered or registered client
id), or when every one of its redirect URIs has a listed host (`WRIKE_MCP_ALLOWED_REDIRECT_HOSTS`): the
redirect URI is where the codes go, so it is what names the app, whatever `client_name` it claims. Ports do not
count. Loopback names (localhost, 127.0.0.1, ::1) are one family, allowed only when one of them is listed:
a native app on the user's computer may use any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from wrike_mcp.hosts import is_loopback_host

HOSTS_SETTING = "WRIKE_MCP_ALLOWED_REDIRECT_HOSTS"
IDS_SETTING = "WRIKE_MCP_ALLOWED_CLIENT_IDS"


def _host(uri: str) -> str:
    try:
        return (urlsplit(uri).hostname or "").rstrip(".")
    except ValueError:
        return ""


@dataclass(frozen=True)
class ClientPolicy:
    redirect_hosts: frozenset[str] = frozenset()
    client_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, redirect_hosts: Iterable[str], client_ids: Iterable[str]) -> ClientPolicy:
        hosts = {host.strip().lower().strip("[]").rstrip(".") for host in redirect_hosts}
        return cls(frozenset(hosts - {""}), frozenset(client_ids))

    @property
    def active(self) -> bool:
        return bool(self.redirect_hosts or self.client_ids)

    def _host_allowed(self, host: str) -> bool:
        if is_loopback_host(host):
            return any(is_loopback_host(listed) for listed in self.redirect_hosts)
        return host in self.redirect_hosts

    def summary(self) -> str:
        """What the policy allows, for the server's start-up message (no secrets: ids and hosts only)."""
        parts = [f"redirect hosts {', '.join(sorted(self.redirect_hosts))}"] if self.redirect_hosts else []
        if self.client_ids:
            parts.append(f"{len(self.client_ids)} listed client id(s)")
        return "only clients allowed by " + " or ".join(parts) if parts else "every client"

    def refusal(self, client_id: str | None, redirect_uris: Sequence[str]) -> str | None:
        """Why the policy does not allow this client, or None. The reason names the setting, never a secret."""
        if not self.active or (client_id is not None and client_id in self.client_ids):
            return None
        if self.redirect_hosts:
            hosts = [_host(uri) for uri in redirect_uris]
            refused = next((host for host in hosts if not self._host_allowed(host)), None)
            if hosts and refused is None:
                return None
            if refused is not None:
                return f"redirect URI host {refused[:100]!r} is not in the administrator's {HOSTS_SETTING}"
        return f"the client is not in the administrator's {IDS_SETTING}"


EVERY_CLIENT = ClientPolicy()  # no lists set
