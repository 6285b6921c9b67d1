"""Client ID metadata documents: a `client_id` that is an https URL names a JSON document describing the client.

The URL is attacker-chosen, so fetching it is guarded like any server-side request to a URL we did not pick:
https only, no user info or fragment, every resolved address public (no loopback, private, link-local or
reserved ranges) and the connection made to the address that was checked (no DNS rebinding between check and
use), no redirects, a 5 s deadline and a 5 KiB cap. Test mode (`WRIKE_MCP_CIMD_ALLOW_LOOPBACK`) also allows
http on loopback, for documents served by the tests themselves.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import ValidationError

from wrike_mcp.hosts import is_loopback_host

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 5 * 1024
FETCH_TIMEOUT = 5.0
MAX_REMEMBERED_FAILURES = 10_000


class MetadataDocumentError(Exception):
    """The document could not be fetched or is not acceptable (the message says why; no secrets in it)."""


class RecentFailures:
    """Client ID URLs refused in the last `ttl` seconds (per replica), so that retrying one costs no fetch."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._until: OrderedDict[str, float] = OrderedDict()  # in expiry order: the TTL is constant

    def refused(self, url: str) -> bool:
        now = self.clock()
        while self._until and next(iter(self._until.values())) <= now:
            self._until.popitem(last=False)
        return url in self._until

    def add(self, url: str) -> None:
        self._until.pop(url, None)
        self._until[url] = self.clock() + self.ttl
        while len(self._until) > MAX_REMEMBERED_FAILURES:
            self._until.popitem(last=False)


def is_metadata_url(client_id: str) -> bool:
    return client_id.startswith(("https://", "http://"))


def _check_url(url: str, *, allow_loopback: bool) -> tuple[str, int, str]:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port out of range, a broken [IPv6] literal
        raise MetadataDocumentError("client_id URL is malformed") from None
    loopback_http = allow_loopback and parts.scheme == "http" and is_loopback_host(host)
    if parts.scheme != "https" and not loopback_http:
        raise MetadataDocumentError("client_id URL must be https")
    if parts.username or parts.password or parts.fragment or not host:
        raise MetadataDocumentError("client_id URL must have a host and no user info or fragment")
    if parts.path in ("", "/") or "/./" in parts.path or "/../" in parts.path:
        raise MetadataDocumentError("client_id URL must have a path without dot segments")
    if not url.isascii() or any(ord(char) < 0x21 or char == "\x7f" for char in url):
        raise MetadataDocumentError("client_id URL must be ASCII without spaces or control characters")
    return host, port, parts.scheme


# Never fetched from, whatever `is_global` says: checked one by one so that a Python version's idea of
# "global" cannot open a hole (3.11 calls 64:ff9b::/96 global whatever IPv4 address it carries).
REFUSED_NETWORKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # with 255.255.255.255, broadcast
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
_REFUSED = tuple((ipaddress.ip_network(net), why) for net, why in REFUSED_NETWORKS)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _carried_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, list[ipaddress.IPv4Address]] | None:
    """The IPv4 addresses an IPv6 address leads to (mapped, compatible, NAT64, 6to4, Teredo), by form."""
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", [ip.ipv4_mapped]
    if ip in _IPV4_COMPATIBLE:
        return "IPv4-compatible", [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip in _NAT64:
        return "NAT64", [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return "6to4", [ip.sixtofour]
    if ip.teredo is not None:
        return "Teredo", list(ip.teredo)
    return None


def address_refusal(address: str) -> str | None:
    """Why a client-metadata document may not be fetched from `address`, or None for a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address[:60]!r} is not an IP address"
    for network, why in _REFUSED:
        if ip in network:
            return f"{ip} is {why}"
    if isinstance(ip, ipaddress.IPv6Address):
        carried = _carried_ipv4(ip)
        if carried is not None:
            form, inner = carried
            for v4 in inner:
                problem = address_refusal(str(v4))
                if problem:
                    return f"{ip} is {form} of a refused address ({problem})"
            return None
    if not ip.is_global:  # the backstop for whatever special range the list above does not name
        return f"{ip} is not globally reachable"
    return None


async def _public_address(host: str, port: int, *, allow_loopback: bool) -> str:
    """One address of `host` after checking that every address it resolves to may be fetched."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # unknown names, and names IDNA cannot encode
        raise MetadataDocumentError(f"cannot resolve {host[:100]}") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        if allow_loopback and ipaddress.ip_address(address.split("%", 1)[0]).is_loopback:
            continue
        if address_refusal(address):
            raise MetadataDocumentError(f"{host[:100]} resolves to a non-public address")
    if not addresses:
        raise MetadataDocumentError(f"cannot resolve {host[:100]}")
    return addresses[0]


async def fetch_document(
    url: str, *, allow_loopback: bool = False, transport: httpx.AsyncBaseTransport | None = None
) -> OAuthClientInformationFull:
    host, port, scheme = _check_url(url, allow_loopback=allow_loopback)
    address = await _public_address(host, port, allow_loopback=allow_loopback)
    literal = f"[{address}]" if ":" in address else address
    parts = urlsplit(url)
    pinned = parts._replace(netloc=f"{literal}:{port}").geturl()
    body = bytearray()
    try:
        async with httpx.AsyncClient(
            transport=transport, follow_redirects=False, timeout=FETCH_TIMEOUT
        ) as client:
            with anyio.fail_after(FETCH_TIMEOUT):
                async with client.stream(
                    "GET",
                    pinned,
                    headers={"Host": parts.netloc, "Accept": "application/json"},
                    extensions={"sni_hostname": host} if scheme == "https" else {},
                ) as response:
                    if response.status_code != 200:
                        raise MetadataDocumentError(f"client_id URL answered HTTP {response.status_code}")
                    async for chunk in response.aiter_bytes():
                        body.extend(chunk)
                        if len(body) > MAX_DOCUMENT_BYTES:
                            raise MetadataDocumentError("client metadata document is larger than 5 KiB")
    except TimeoutError:
        raise MetadataDocumentError("client_id URL did not answer within 5 s") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise MetadataDocumentError(f"cannot fetch client_id URL ({type(exc).__name__})") from None
    return parse_document(url, bytes(body))


def parse_document(url: str, body: bytes) -> OAuthClientInformationFull:
    try:
        document: Any = json.loads(body)
    except ValueError:
        raise MetadataDocumentError("client metadata document is not JSON") from None
    if not isinstance(document, dict):
        raise MetadataDocumentError("client metadata document is not a JSON object")
    if document.get("client_id") != url:
        raise MetadataDocumentError("client metadata document's client_id is not its own URL")
    redirect_uris = document.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise MetadataDocumentError("client metadata document lists no redirect_uris")
    method = document.get("token_endpoint_auth_method") or "none"
    # ChatGPT's document prefers private_key_jwt and lists `none` among the methods it can also use
    # (token_endpoint_auth_methods_supported); it uses `none` with a server whose metadata offers no other.
    also = document.get("token_endpoint_auth_methods_supported")
    if method != "none" and not (isinstance(also, list) and "none" in also):
        raise MetadataDocumentError(
            f"token_endpoint_auth_method {str(method)[:40]!r} is not supported (use none)"
        )
    fields = {
        key: document[key]
        for key in ("client_name", "client_uri", "logo_uri", "scope", "redirect_uris")
        if document.get(key) is not None
    }
    try:
        return OAuthClientInformationFull(
            client_id=url,
            token_endpoint_auth_method="none",  # noqa: S106 - a method name, not a secret
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            **fields,
        )
    except ValidationError:
        raise MetadataDocumentError("client metadata document has invalid fields") from None
