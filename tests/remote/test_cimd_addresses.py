"""Which addresses a client ID metadata document may be fetched from: an explicit table, case by case."""

from __future__ import annotations

import pytest

from wrike_mcp.remote.cimd import (
    MAX_REMEMBERED_FAILURES,
    MetadataDocumentError,
    RecentFailures,
    _check_url,
    address_refusal,
)

# (address, why it is refused — a word of the reason — or None when it may be fetched)
TABLE = [
    # public: allowed
    ("8.8.8.8", None),
    ("1.1.1.1", None),
    ("2606:4700::1111", None),
    ("2a00:1450:4001:80b::200e", None),
    ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
    ("::ffff:8.8.8.8", None),  # IPv4-mapped 8.8.8.8
    ("2002:808:808::1", None),  # 6to4 of 8.8.8.8
    ("::808:808", None),  # IPv4-compatible 8.8.8.8
    ("2001:0:808:808::f7f7:f7f7", None),  # Teredo: server 8.8.8.8, client 8.8.8.8
    # loopback
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    # private
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    # just outside the private ranges: public
    ("172.15.255.254", None),
    ("172.32.0.1", None),
    ("11.0.0.1", None),
    # link-local, including the cloud metadata address
    ("169.254.169.254", "link-local"),
    ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    # shared address space (carrier-grade NAT)
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("100.128.0.1", None),
    # multicast
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    # reserved, unspecified, broadcast, this-network
    ("0.0.0.0", "this-network"),
    ("0.1.2.3", "this-network"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("::", "unspecified"),
    ("192.0.0.8", "IETF"),
    ("192.88.99.1", "6to4 relay"),
    # special IPv6 ranges the list does not name: the `is_global` backstop refuses them
    ("2001:2::1", "not globally reachable"),  # benchmarking
    ("2001:10::1", "not globally reachable"),  # ORCHID
    ("198.18.0.1", "benchmarking"),
    ("100::1", "discard"),
    ("fec0::1", "site-local"),
    # documentation
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    # NAT64 carrying a non-public IPv4; local-use NAT64 altogether
    ("64:ff9b::7f00:1", "NAT64"),  # 127.0.0.1
    ("64:ff9b::a00:1", "NAT64"),  # 10.0.0.1
    ("64:ff9b::a9fe:a9fe", "NAT64"),  # 169.254.169.254
    ("64:ff9b::6440:1", "NAT64"),  # 100.64.0.1 (CGNAT)
    ("64:ff9b::e000:1", "NAT64"),  # 224.0.0.1 (multicast)
    ("64:ff9b::f000:1", "NAT64"),  # 240.0.0.1 (reserved)
    ("64:ff9b:1::808:808", "local-use NAT64"),
    # 6to4 carrying a non-public IPv4
    ("2002:7f00:1::1", "6to4"),  # 127.0.0.1
    ("2002:a00:1::1", "6to4"),  # 10.0.0.1
    ("2002:c0a8:101::1", "6to4"),  # 192.168.1.1
    ("2002:a9fe:a9fe::1", "6to4"),  # 169.254.169.254
    ("2002:6440:1::1", "6to4"),  # 100.64.0.1
    ("2002:e000:1::1", "6to4"),  # 224.0.0.1
    ("2002:f000:1::1", "6to4"),  # 240.0.0.1
    # Teredo carrying a non-public IPv4 (server 10.0.0.1; client 192.168.1.1 obfuscated by XOR)
    ("2001:0:a00:1::3f57:fefe", "Teredo"),
    ("2001:0:808:808::3f57:fefe", "Teredo"),  # a public server, the client 192.168.1.1
    ("2001:0:808:808::80ff:fffe", "Teredo"),  # the client 127.0.0.1
    ("2001:0:808:808::9bbf:fffe", "Teredo"),  # the client 100.64.0.1
    ("2001:0:6440:1::f7f7:f7f7", "Teredo"),  # the server 100.64.0.1, the client 8.8.8.8
    # IPv4-mapped and IPv4-compatible forms
    ("::ffff:10.0.0.1", "IPv4-mapped"),
    ("::ffff:127.0.0.1", "IPv4-mapped"),
    ("::ffff:169.254.169.254", "IPv4-mapped"),
    ("::ffff:192.168.1.1", "IPv4-mapped"),
    ("::ffff:100.64.0.1", "IPv4-mapped"),
    ("::ffff:224.0.0.1", "IPv4-mapped"),
    ("::ffff:240.0.0.1", "IPv4-mapped"),
    ("::10.0.0.1", "IPv4-compatible"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("::a9fe:a9fe", "IPv4-compatible"),
    ("::100.64.0.1", "IPv4-compatible"),
    ("::224.0.0.1", "IPv4-compatible"),
    ("::240.0.0.1", "IPv4-compatible"),
    # not an address at all
    ("example.com", "not an IP address"),
]


@pytest.mark.parametrize(("address", "why"), TABLE, ids=[address for address, _ in TABLE])
def test_address_table(address: str, why: str | None) -> None:
    refusal = address_refusal(address)
    if why is None:
        assert refusal is None, refusal
    else:
        assert refusal is not None and why in refusal, refusal


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("fe80::1%eth0", "fe80::1 is link-local"),  # the zone is not part of the address shown
        ("::ffff:10.0.0.1", "::ffff:a00:1 is IPv4-mapped of a refused address (10.0.0.1 is private)"),
        ("::10.0.0.1", "::a00:1 is IPv4-compatible of a refused address (10.0.0.1 is private)"),
        ("64:ff9b::7f00:1", "64:ff9b::7f00:1 is NAT64 of a refused address (127.0.0.1 is loopback)"),
        ("2002:a00:1::1", "2002:a00:1::1 is 6to4 of a refused address (10.0.0.1 is private)"),
        (
            "2001:0:808:808::3f57:fefe",
            "2001:0:808:808::3f57:fefe is Teredo of a refused address (192.168.1.1 is private)",
        ),
        ("x" * 100, f"{'x' * 60!r} is not an IP address"),
    ],
)
def test_a_refusal_names_the_address_and_the_form_that_carries_it(address: str, refusal: str) -> None:
    """What the administrator reads in the log when a client's document is refused."""
    assert address_refusal(address) == refusal


def test_is_global_alone_would_let_these_through() -> None:
    """The reason for the explicit table: Python's `is_global` calls these public."""
    import ipaddress

    for address in ("64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe"):  # 10.0.0.1, 127.0.0.1, …
        assert ipaddress.ip_address(address).is_global
        assert address_refusal(address) is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://a:99999/c.json",  # port out of range
        "https://[::1/c.json",  # broken IPv6 literal
        "https://a.example/c json",
        "https://a.example/c\x00.json",
        "https://ä.example/c.json",
        "http://a.example/c.json",
        "https://user@a.example/c.json",
        "https://a.example/",
    ],
)
def test_malformed_client_id_urls_are_refused(url: str) -> None:
    with pytest.raises(MetadataDocumentError):
        _check_url(url, allow_loopback=False)


def test_recent_failures_last_a_minute_and_are_bounded() -> None:
    now = [1000.0]
    failures = RecentFailures(60, clock=lambda: now[0])  # WRIKE_MCP_CIMD_FAILURE_TTL's default
    failures.add("https://a.example/c.json")
    assert failures.refused("https://a.example/c.json")
    assert not failures.refused("https://b.example/c.json")
    now[0] += 59.5
    assert failures.refused("https://a.example/c.json")  # still within the minute: not fetched again
    now[0] += 1
    assert not failures.refused("https://a.example/c.json")  # a minute later it may be tried again
    for n in range(MAX_REMEMBERED_FAILURES + 5):
        failures.add(f"https://x.example/{n}.json")
    assert not failures.refused("https://x.example/0.json")  # the oldest went first
    assert failures.refused(f"https://x.example/{MAX_REMEMBERED_FAILURES + 4}.json")
    assert len(failures._until) == MAX_REMEMBERED_FAILURES
