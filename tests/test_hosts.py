"""The one rule for which hosts may receive a Wrike token, and the one set of loopback names."""

from __future__ import annotations

import pytest

from wrike_mcp.hosts import (
    LOOPBACK_HOST_HEADERS,
    LOOPBACK_ORIGINS,
    is_loopback_host,
    is_loopback_url,
    wrike_host,
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.wrike.com", "www.wrike.com"),
        (" App-EU.Wrike.com. ", "app-eu.wrike.com"),
        ("wrike.com", "wrike.com"),
        ("wrike.com.evil.example", None),
        ("evilwrike.com", None),
        ("evil.example/.wrike.com", None),
        ("user@evil.example?.wrike.com", None),
        ("www.wrike.com:8443", None),
        ("127.0.0.1", None),
        ("", None),
    ],
)
def test_only_wrikes_own_hosts_pass(host: str, expected: str | None) -> None:
    assert wrike_host(host) == expected


def test_loopback_names_and_their_header_patterns() -> None:
    assert [is_loopback_host(name) for name in ("127.0.0.1", "::1", "localhost", "127.0.0.2", None)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert is_loopback_url("http://[::1]:8100/api/v4") and not is_loopback_url(
        "https://localhost.evil.example"
    )
    assert not is_loopback_url(None)
    assert LOOPBACK_HOST_HEADERS == ["127.0.0.1:*", "[::1]:*", "localhost:*"]
    assert LOOPBACK_ORIGINS == ["http://127.0.0.1:*", "http://[::1]:*", "http://localhost:*"]
