"""Fetching and reading a client ID metadata document (remote/cimd.py), in this process: the document's rules,
and the fetch's guards (the address checked is the address connected to, no redirects, 5 KiB, 5 s). The
transport is httpx's mock and name resolution a stand-in, so nothing leaves the machine; which addresses are
refused is test_cimd_addresses.py's table."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from wrike_mcp.remote import cimd
from wrike_mcp.remote.cimd import (
    MetadataDocumentError,
    RecentFailures,
    _check_url,
    fetch_document,
    is_metadata_url,
    parse_document,
)

URL = "https://app.example.com/oauth/client.json"
DOCUMENT = {
    "client_id": URL,
    "client_name": "Example App",
    "redirect_uris": ["https://app.example.com/cb"],
    "scope": "wsReadWrite",
    "client_uri": "https://app.example.com/",
    "logo_uri": "https://app.example.com/logo.png",
    "tos_uri": "https://app.example.com/tos",  # not kept: nothing here shows it
    "policy_uri": None,
}


def refusal(url: str, body: Any) -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(MetadataDocumentError) as refused:
        parse_document(url, raw)
    return str(refused.value)


# ---- the document --------------------------------------------------------------------------------------


def test_a_document_describes_a_public_client() -> None:
    client = parse_document(URL, json.dumps(DOCUMENT).encode())
    assert client.client_id == URL
    assert client.client_name == "Example App"
    assert [str(uri) for uri in client.redirect_uris or []] == ["https://app.example.com/cb"]
    assert client.scope == "wsReadWrite"
    assert str(client.client_uri) == "https://app.example.com/"
    assert str(client.logo_uri) == "https://app.example.com/logo.png"
    assert client.tos_uri is None and client.policy_uri is None
    assert client.client_secret is None
    assert client.token_endpoint_auth_method == "none"
    assert client.grant_types == ["authorization_code", "refresh_token"]
    assert client.response_types == ["code"]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "client metadata document is not JSON"),
        (b"\xff\xfe", "client metadata document is not JSON"),
        ([DOCUMENT], "client metadata document is not a JSON object"),
        ({**DOCUMENT, "client_id": URL + "?x"}, "client metadata document's client_id is not its own URL"),
        ({key: value for key, value in DOCUMENT.items() if key != "client_id"}, "its own URL"),
        ({**DOCUMENT, "redirect_uris": []}, "client metadata document lists no redirect_uris"),
        ({**DOCUMENT, "redirect_uris": "https://app.example.com/cb"}, "lists no redirect_uris"),
        ({**DOCUMENT, "redirect_uris": None}, "lists no redirect_uris"),
        ({**DOCUMENT, "redirect_uris": ["not a url"]}, "client metadata document has invalid fields"),
        ({**DOCUMENT, "client_uri": 5}, "client metadata document has invalid fields"),
        (
            {**DOCUMENT, "token_endpoint_auth_method": "client_secret_basic"},
            "token_endpoint_auth_method 'client_secret_basic' is not supported (use none)",
        ),
        (
            {
                **DOCUMENT,
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_post"],
            },
            "'private_key_jwt' is not supported",
        ),
        (
            {
                **DOCUMENT,
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_methods_supported": "none",  # not a list
            },
            "'private_key_jwt' is not supported",
        ),
        ({**DOCUMENT, "token_endpoint_auth_method": "x" * 60}, f"{'x' * 40!r} is not supported"),
    ],
)
def test_documents_refused(body: Any, why: str) -> None:
    assert why in refusal(URL, body)


def test_a_client_that_also_uses_none_is_accepted_as_public() -> None:
    """ChatGPT's document: private_key_jwt preferred, `none` among the methods it can use."""
    document = {
        **DOCUMENT,
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
    }
    assert parse_document(URL, json.dumps(document).encode()).token_endpoint_auth_method == "none"
    explicit = {**DOCUMENT, "token_endpoint_auth_method": "none"}
    assert parse_document(URL, json.dumps(explicit).encode()).token_endpoint_auth_method == "none"


# ---- the URL -----------------------------------------------------------------------------------------


def test_metadata_urls_are_the_http_ones() -> None:
    assert is_metadata_url(URL)
    assert is_metadata_url("http://127.0.0.1:5000/c.json")
    assert not is_metadata_url("registered-client-id")
    assert not is_metadata_url("ftp://app.example.com/c.json")


@pytest.mark.parametrize(
    ("url", "allow_loopback", "checked"),
    [
        (URL, False, ("app.example.com", 443, "https")),
        ("https://app.example.com:8443/c.json", False, ("app.example.com", 8443, "https")),
        ("http://127.0.0.1/c.json", True, ("127.0.0.1", 80, "http")),
        ("http://localhost:5000/c.json", True, ("localhost", 5000, "http")),
        ("https://app.example.com/a/c.json?v=1", False, ("app.example.com", 443, "https")),
    ],
)
def test_urls_accepted(url: str, allow_loopback: bool, checked: tuple[str, int, str]) -> None:
    assert _check_url(url, allow_loopback=allow_loopback) == checked


@pytest.mark.parametrize(
    ("url", "allow_loopback", "why"),
    [
        ("https://a:99999/c.json", False, "client_id URL is malformed"),
        ("http://127.0.0.1/c.json", False, "client_id URL must be https"),
        ("http://app.example.com/c.json", True, "client_id URL must be https"),  # test mode: loopback only
        ("ftp://127.0.0.1/c.json", True, "client_id URL must be https"),
        ("https://user@app.example.com/c.json", False, "must have a host and no user info or fragment"),
        ("https://:secret@app.example.com/c.json", False, "no user info"),
        ("https://app.example.com/c.json#x", False, "no user info or fragment"),
        ("https:///c.json", False, "must have a host"),
        ("https://app.example.com", False, "client_id URL must have a path without dot segments"),
        ("https://app.example.com/", False, "a path without dot segments"),
        ("https://app.example.com/a/./c.json", False, "without dot segments"),
        ("https://app.example.com/a/../c.json", False, "without dot segments"),
        ("https://app.example.com/c\x7f.json", False, "ASCII without spaces or control characters"),
        ("https://app.example.com/c\x20.json", False, "ASCII without spaces or control characters"),
        ("https://app.example.com/ü.json", False, "ASCII without spaces or control characters"),
    ],
)
def test_urls_refused(url: str, allow_loopback: bool, why: str) -> None:
    with pytest.raises(MetadataDocumentError) as refused:
        _check_url(url, allow_loopback=allow_loopback)
    assert why in str(refused.value)


def test_the_first_printable_character_is_allowed() -> None:
    assert _check_url("https://app.example.com/!c.json", allow_loopback=False)[0] == "app.example.com"


# ---- the fetch -----------------------------------------------------------------------------------------


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[tuple[str, int]]:
    """Name resolution answering `addresses` for any name; returns the (name, port) asked."""
    asked: list[tuple[str, int]] = []

    async def getaddrinfo(host: str, port: int, *, type: int = 0) -> list[Any]:
        # the real resolver refuses a type that is no socket type (None, say) with a TypeError
        assert isinstance(type, int), f"getaddrinfo type must be a socket type, not {type!r}"
        asked.append((host, port))
        if not addresses:
            raise socket.gaierror("unknown name")
        family = socket.AF_INET6
        return [
            (family if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    monkeypatch.setattr(anyio, "getaddrinfo", getaddrinfo)
    return asked


def serving(
    answer: Callable[[httpx.Request], httpx.Response],
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return httpx.MockTransport(handle), seen


def the_document(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=DOCUMENT)


async def fetch_refusal(url: str, transport: httpx.MockTransport, **kwargs: Any) -> str:
    with pytest.raises(MetadataDocumentError) as refused:
        await fetch_document(url, transport=transport, **kwargs)
    return str(refused.value)


async def test_the_fetch_connects_to_the_address_it_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = resolving_to(monkeypatch, "2606:4700::1111", "8.8.8.8")
    transport, seen = serving(the_document)
    client = await fetch_document(URL, transport=transport)
    assert client.client_name == "Example App"
    assert asked == [("app.example.com", 443)]
    [request] = seen
    assert request.method == "GET"
    assert str(request.url) == "https://[2606:4700::1111]/oauth/client.json"  # pinned: no second lookup
    assert request.headers["host"] == "app.example.com"
    assert request.headers["accept"] == "application/json"
    assert request.extensions["sni_hostname"] == "app.example.com"
    # every step of the exchange has the 5 s deadline, not only the whole of it
    assert request.extensions["timeout"] == {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}


async def test_the_fetch_keeps_the_port_and_query(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://app.example.com:8443/client.json?v=2"
    asked = resolving_to(monkeypatch, "8.8.8.8")
    transport, seen = serving(lambda _: httpx.Response(200, json={**DOCUMENT, "client_id": url}))
    await fetch_document(url, transport=transport)
    assert asked == [("app.example.com", 8443)]
    assert str(seen[0].url) == "https://8.8.8.8:8443/client.json?v=2"
    assert seen[0].headers["host"] == "app.example.com:8443"


@pytest.mark.parametrize(
    "addresses",
    [("10.0.0.7",), ("8.8.8.8", "169.254.169.254"), ("2606:4700::1111", "::1"), ("127.0.0.1",)],
)
async def test_a_name_with_any_non_public_address_is_not_fetched(
    monkeypatch: pytest.MonkeyPatch, addresses: tuple[str, ...]
) -> None:
    resolving_to(monkeypatch, *addresses)
    transport, seen = serving(the_document)
    assert await fetch_refusal(URL, transport) == "app.example.com resolves to a non-public address"
    assert seen == []


async def test_a_name_that_does_not_resolve_is_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch)
    transport, seen = serving(the_document)
    assert await fetch_refusal(URL, transport) == "cannot resolve app.example.com"
    assert seen == []


async def test_a_name_resolving_to_nothing_is_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    async def nothing(host: str, port: int, **_: Any) -> list[Any]:
        return []

    monkeypatch.setattr(anyio, "getaddrinfo", nothing)
    transport, seen = serving(the_document)
    assert await fetch_refusal(URL, transport) == "cannot resolve app.example.com"
    assert seen == []


async def test_test_mode_fetches_from_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "http://localhost:5000/client.json"
    resolving_to(monkeypatch, "127.0.0.1", "::1")
    transport, seen = serving(lambda _: httpx.Response(200, json={**DOCUMENT, "client_id": url}))
    assert (await fetch_document(url, allow_loopback=True, transport=transport)).client_id == url
    assert str(seen[0].url) == "http://127.0.0.1:5000/client.json"
    assert "sni_hostname" not in seen[0].extensions
    assert await fetch_refusal(url, transport) == "client_id URL must be https"  # not in test mode
    resolving_to(monkeypatch, "127.0.0.1", "10.0.0.7")  # loopback allowed, private never
    assert (
        await fetch_refusal(url, transport, allow_loopback=True)
        == "localhost resolves to a non-public address"
    )


async def test_the_fetch_resolves_with_the_real_resolver() -> None:
    url = "http://127.0.0.1:5000/client.json"
    transport, seen = serving(lambda _: httpx.Response(200, json={**DOCUMENT, "client_id": url}))
    assert (await fetch_document(url, allow_loopback=True, transport=transport)).client_id == url
    assert str(seen[0].url) == url


LONG_HOST = "a" * 60 + "." + "b" * 60 + ".example.com"  # 133 characters, a name DNS allows
HOST_SHOWN = "a" * 60 + "." + "b" * 39  # its first 100


@pytest.mark.parametrize(
    ("resolution", "refusal"),
    [
        ("unknown", f"cannot resolve {HOST_SHOWN}"),
        ("no address", f"cannot resolve {HOST_SHOWN}"),
        ("private", f"{HOST_SHOWN} resolves to a non-public address"),
    ],
)
async def test_a_refusal_names_a_long_host_cut_to_100_characters(
    monkeypatch: pytest.MonkeyPatch, resolution: str, refusal: str
) -> None:
    if resolution == "no address":

        async def nothing(host: str, port: int, *, type: int = 0) -> list[Any]:
            return []

        monkeypatch.setattr(anyio, "getaddrinfo", nothing)
    else:
        resolving_to(monkeypatch, *(["10.0.0.7"] if resolution == "private" else []))
    transport, seen = serving(the_document)
    assert await fetch_refusal(f"https://{LONG_HOST}/c.json", transport) == refusal
    assert seen == []


@pytest.mark.parametrize("status", [302, 404, 500, 201])
async def test_only_a_200_is_read_and_redirects_are_not_followed(
    monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    resolving_to(monkeypatch, "8.8.8.8")
    transport, seen = serving(
        lambda _: httpx.Response(status, headers={"location": "https://169.254.169.254/"}, json=DOCUMENT)
    )
    assert await fetch_refusal(URL, transport) == f"client_id URL answered HTTP {status}"
    assert len(seen) == 1


async def test_documents_up_to_5_kib(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "8.8.8.8")
    body = json.dumps(DOCUMENT).encode()
    padded = body + b" " * (5 * 1024 - len(body))
    transport, _ = serving(lambda _: httpx.Response(200, content=padded))
    assert (await fetch_document(URL, transport=transport)).client_id == URL
    transport, _ = serving(lambda _: httpx.Response(200, content=padded + b" "))
    assert await fetch_refusal(URL, transport) == "client metadata document is larger than 5 KiB"


async def test_a_document_that_is_not_json_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "8.8.8.8")
    transport, _ = serving(lambda _: httpx.Response(200, content=b"<html>"))
    assert await fetch_refusal(URL, transport) == "client metadata document is not JSON"


async def test_a_failed_connection_names_only_its_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "8.8.8.8")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused to 8.8.8.8", request=request)

    assert (
        await fetch_refusal(URL, httpx.MockTransport(refuse)) == "cannot fetch client_id URL (ConnectError)"
    )


async def test_a_server_that_does_not_answer_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving_to(monkeypatch, "8.8.8.8")
    monkeypatch.setattr(cimd, "FETCH_TIMEOUT", 0.2)

    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return httpx.Response(200, json=DOCUMENT)

    assert await fetch_refusal(URL, httpx.MockTransport(slow)) == "client_id URL did not answer within 5 s"


# ---- refused URLs are remembered ---------------------------------------------------------------------


def test_a_refused_url_is_remembered_for_exactly_the_ttl_and_renewed_when_refused_again() -> None:
    now = [1000.0]
    failures = RecentFailures(45, clock=lambda: now[0])
    failures.add("https://a.example/c.json")
    now[0] += 10
    failures.add("https://b.example/c.json")  # until 1010 + 45
    now[0] += 10
    failures.add("https://a.example/c.json")  # refused again: until 1020 + 45
    now[0] = 1005 + 45  # a TTL other than the default, so that the one passed is the one kept
    assert failures.refused("https://a.example/c.json")
    assert failures.refused("https://b.example/c.json")
    now[0] = 1010 + 45
    assert not failures.refused("https://b.example/c.json")  # exactly the TTL after
    assert failures.refused("https://a.example/c.json")
    now[0] = 1020 + 45
    assert not failures.refused("https://a.example/c.json")
