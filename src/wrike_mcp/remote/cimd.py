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


class MetadataDocumentError(Exception):
    """The document could not be fetched or is not acceptable (the message says why; no secrets in it)."""


def is_metadata_url(client_id: str) -> bool:
    return client_id.startswith(("https://", "http://"))


def _check_url(url: str, *, allow_loopback: bool) -> tuple[str, int, str]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback_http = allow_loopback and parts.scheme == "http" and is_loopback_host(host)
    if parts.scheme != "https" and not loopback_http:
        raise MetadataDocumentError("client_id URL must be https")
    if parts.username or parts.password or parts.fragment or not host:
        raise MetadataDocumentError("client_id URL must have a host and no user info or fragment")
    if parts.path in ("", "/") or "/./" in parts.path or "/../" in parts.path:
        raise MetadataDocumentError("client_id URL must have a path without dot segments")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return host, port, parts.scheme


async def _public_address(host: str, port: int, *, allow_loopback: bool) -> str:
    """One address of `host` after checking that every address it resolves to may be fetched."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise MetadataDocumentError(f"cannot resolve {host}") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_loopback and allow_loopback:
            continue
        if not ip.is_global or ip.is_multicast:
            raise MetadataDocumentError(f"{host} resolves to a non-public address")
    if not addresses:
        raise MetadataDocumentError(f"cannot resolve {host}")
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
    except httpx.HTTPError as exc:
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
