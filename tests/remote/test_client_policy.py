"""The administrator's client policy (remote/policy.py) as a table: which clients may sign people in, and the
reason a refused one is told. End to end against a replica: test_admin_controls.py."""

from __future__ import annotations

import pytest

from wrike_mcp.remote.policy import EVERY_CLIENT, HOSTS_SETTING, IDS_SETTING, ClientPolicy

CIMD = "https://app.example.com/client.json"
NOT_LISTED = f"the client is not in the administrator's {IDS_SETTING}"


def host_refused(host: str) -> str:
    return f"redirect URI host {host!r} is not in the administrator's {HOSTS_SETTING}"


# the administrator's lists, as the settings give them; each test builds its policy (`ClientPolicy.of`) itself
LISTS = {
    "every": ([], []),
    "hosts": ([" App.Example.com. ", "[::1]", ""], []),
    "both": (["app.example.com"], [CIMD, "registered-1"]),
    "ids": ([], [CIMD]),
}


def policy(name: str) -> ClientPolicy:
    hosts, ids = LISTS[name]
    return ClientPolicy.of(hosts, ids)


@pytest.mark.parametrize(
    ("listed", "client_id", "redirect_uris", "refusal"),
    [
        # no lists: every client
        ("every", "anyone", ["https://evil.example/cb"], None),
        ("every", None, [], None),
        # hosts: every redirect URI's host must be listed (case, a trailing dot and the port do not count)
        ("hosts", "c", ["https://app.example.com/cb"], None),
        ("hosts", "c", ["https://APP.example.com.:8443/cb", "https://app.example.com/other"], None),
        (
            "hosts",
            "c",
            ["https://app.example.com/cb", "https://evil.example/cb"],
            host_refused("evil.example"),
        ),
        (
            "hosts",
            "c",
            ["https://app.example.com.evil.example/cb"],
            host_refused("app.example.com.evil.example"),
        ),
        ("hosts", "c", ["https://evil.example/cb#app.example.com"], host_refused("evil.example")),
        ("hosts", "c", [], NOT_LISTED),  # nothing to judge by its hosts
        ("hosts", "c", ["not a url"], host_refused("")),
        ("hosts", "c", ["https://[::1/cb"], host_refused("")),  # malformed: no host
        # loopback names are one family, allowed because ::1 is listed
        ("hosts", "c", ["http://127.0.0.1:5555/cb", "http://localhost/cb", "http://[::1]:1/cb"], None),
        ("both", "c", ["http://127.0.0.1:5555/cb"], host_refused("127.0.0.1")),  # no loopback name listed
        # ids: listed ids pass whatever their redirect URIs
        ("ids", CIMD, ["https://anywhere.example/cb"], None),
        ("ids", "https://app.example.com/other.json", ["https://app.example.com/cb"], NOT_LISTED),
        ("ids", None, ["https://app.example.com/cb"], NOT_LISTED),
        ("both", "registered-1", ["https://evil.example/cb"], None),
        ("both", "registered-2", ["https://app.example.com/cb"], None),
        ("both", "registered-2", ["https://evil.example/cb"], host_refused("evil.example")),
    ],
)
def test_refusal(listed: str, client_id: str | None, redirect_uris: list[str], refusal: str | None) -> None:
    assert policy(listed).refusal(client_id, redirect_uris) == refusal


def test_a_refused_host_is_shown_shortened() -> None:
    host = "a" * 150 + ".example"
    assert policy("hosts").refusal("c", [f"https://{host}/cb"]) == host_refused(host[:100])


def test_the_lists_as_configured() -> None:
    assert policy("hosts").redirect_hosts == frozenset({"app.example.com", "::1"})
    assert policy("both").client_ids == frozenset({CIMD, "registered-1"})
    assert policy("hosts").active and policy("ids").active and policy("both").active
    assert not policy("every").active and not EVERY_CLIENT.active
    assert not ClientPolicy.of(["", " ", "."], []).active  # blank entries list nothing


def test_summary_names_what_is_allowed() -> None:
    assert EVERY_CLIENT.summary() == "every client"
    assert policy("hosts").summary() == "only clients allowed by redirect hosts ::1, app.example.com"
    assert policy("ids").summary() == "only clients allowed by 1 listed client id(s)"
    assert (
        policy("both").summary()
        == "only clients allowed by redirect hosts app.example.com or 2 listed client id(s)"
    )
