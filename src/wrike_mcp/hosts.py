"""Which hosts may receive a Wrike token, and which names are this machine: one rule each for the package.

It imports nothing from the package, so the client, the settings, the login and the remote mode all use it
without an import cycle. (The sandbox keeps its own copy of the loopback names; a test holds them equal.)
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_HOST = "www.wrike.com"  # Wrike's API host for accounts in its US data centre

# The names a browser or a client uses for this machine; the loopback listeners bind to the first two.
LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "::1", "localhost")
# The same as Host header and Origin patterns (any port) for the MCP SDK's DNS-rebinding protection.
LOOPBACK_HOST_HEADERS = [f"[{host}]:*" if ":" in host else f"{host}:*" for host in LOOPBACK_HOSTS]
LOOPBACK_ORIGINS = [f"http://{pattern}" for pattern in LOOPBACK_HOST_HEADERS]

_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def wrike_host(host: str) -> str | None:
    """The host name, normalised, if it is one of Wrike's `*.wrike.com` hosts (which may receive a token)."""
    name = host.strip().lower().rstrip(".")
    if _HOST_NAME.match(name) and (name == "wrike.com" or name.endswith(".wrike.com")):
        return name
    return None


def is_loopback_host(host: str | None) -> bool:
    return host in LOOPBACK_HOSTS


def is_loopback_url(url: str | None) -> bool:
    return bool(url) and is_loopback_host(urlsplit(url or "").hostname)
