"""The authorization server's own rules (remote/provider.py), in this process over a real SQLite store and a
clock the test moves: which redirect URIs a client may register, what is kept of a registration, which
resource a token may be for, and what codes, refresh tokens and access tokens are good for, and for how long.
The SDK's handlers in front of these (PKCE, exact redirect URI at /token) are exercised through real replicas
in test_attacks*.py; these run here so that mutation testing (issue 21) sees the rules themselves."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from mcp.server.auth.provider import (
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    RegistrationError,
    TokenError,
)
from mcp.shared.auth import InvalidRedirectUriError, InvalidScopeError, OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from tests.remote.helpers import DEFAULT_SIGN_IN_LIMITS
from wrike_mcp.remote import cimd
from wrike_mcp.remote.crypto import KeyRing
from wrike_mcp.remote.pending import AuthorizationRequest
from wrike_mcp.remote.policy import ClientPolicy
from wrike_mcp.remote.provider import (
    ACCESS_PREFIX,
    GRANT_VERSION_CLAIM,
    AuthServerConfig,
    RegisteredClient,
    SignInLimits,
    WrikeMCPAuthProvider,
    canonical_resource,
    redirect_uri_problem,
    redirect_uris_problem,
    stored_metadata,
)
from wrike_mcp.remote.store import Store

NOW = 1_800_000_000.0
ISSUER = "https://mcp.example.com"
RESOURCE = ISSUER + "/mcp"
CB = "https://app.example.com/cb"
CONFIG = AuthServerConfig(
    issuer=ISSUER,
    resource=RESOURCE,
    scopes_supported=("wsReadOnly", "wsReadWrite", "amReadOnlyAuditLog"),
    default_scopes=("wsReadWrite",),
    access_token_ttl=3600,
    refresh_token_ttl=86400,
    refresh_reuse_leeway=10.0,
    registration_ttl=7200,
    limits=DEFAULT_SIGN_IN_LIMITS,
)
CONFIDENTIAL_RULE = "must be https, http on a loopback address"
PUBLIC_RULE = CONFIDENTIAL_RULE + ", or a private-use scheme with a host (app://host/path)"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


def provider(store: Store, clock: Clock, **config: Any) -> WrikeMCPAuthProvider:
    settings = {**CONFIG.__dict__, **config}
    return WrikeMCPAuthProvider(
        store, KeyRing([Fernet.generate_key()]), AuthServerConfig(**settings), clock=clock
    )


def client(client_id: str = "client-1", *uris: str, **fields: Any) -> OAuthClientInformationFull:
    return OAuthClientInformationFull(
        client_id=client_id, redirect_uris=[AnyUrl(uri) for uri in uris or (CB,)], **fields
    )


# ---- redirect URIs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "public", "problem"),
    [
        (CB, False, None),
        ("https://app.example.com:8443/cb?x=1", False, None),
        ("http://127.0.0.1:5000/cb", False, None),
        ("http://localhost/cb", False, None),
        ("http://[::1]:1/cb", False, None),
        ("cursor://anysphere.cursor-mcp/oauth/callback", True, None),  # RFC 8252 §7.1, a public client
        ("com.example.app+v2://callback/path", True, None),
        (
            "cursor://anysphere.cursor-mcp/oauth/callback",
            False,
            "redirect URI 'cursor://anysphere.cursor-mcp/oauth/callback': a private-use scheme is for public "
            "clients only (auth method none)",
        ),
        ("http://app.example.com/cb", False, f"redirect URI 'http://app.example.com/cb' {CONFIDENTIAL_RULE}"),
        ("http://app.example.com/cb", True, f"redirect URI 'http://app.example.com/cb' {PUBLIC_RULE}"),
        ("https:///cb", True, f"redirect URI 'https:///cb' {PUBLIC_RULE}"),  # https needs a host
        ("com.example.app:/callback", True, f"redirect URI 'com.example.app:/callback' {PUBLIC_RULE}"),
        ("javascript://x/%0aalert(1)", True, f"redirect URI 'javascript://x/%0aalert(1)' {PUBLIC_RULE}"),
        ("data://x/text", True, f"redirect URI 'data://x/text' {PUBLIC_RULE}"),
        ("file://host/etc/passwd", True, f"redirect URI 'file://host/etc/passwd' {PUBLIC_RULE}"),
        ("wss://app.example.com/cb", True, f"redirect URI 'wss://app.example.com/cb' {PUBLIC_RULE}"),
        ("ftp://app.example.com/cb", True, f"redirect URI 'ftp://app.example.com/cb' {PUBLIC_RULE}"),
        (
            "view-source://app.example.com/cb",
            True,
            f"redirect URI 'view-source://app.example.com/cb' {PUBLIC_RULE}",
        ),
        ("https://app.example.com/cb#x", True, "redirect URIs may not carry a fragment or user info"),
        ("https://ann@app.example.com/cb", True, "redirect URIs may not carry a fragment or user info"),
        ("https://:pw@app.example.com/cb", True, "redirect URIs may not carry a fragment or user info"),
        ("cursor://ann@anysphere.cursor-mcp/cb", True, "redirect URIs may not carry a fragment or user info"),
    ],
)
def test_redirect_uri_rules(uri: str, public: bool, problem: str | None) -> None:
    assert redirect_uri_problem(uri, public=public) == problem


def test_a_refused_redirect_uri_is_shown_shortened() -> None:
    uri = "http://app.example.com/" + "p" * 200
    assert redirect_uri_problem(uri, public=False) == f"redirect URI {uri[:100]!r} {CONFIDENTIAL_RULE}"
    app = "cursor://anysphere.cursor-mcp/" + "p" * 200
    assert redirect_uri_problem(app, public=False) == (
        f"redirect URI {app[:100]!r}: a private-use scheme is for public clients only (auth method none)"
    )


def test_every_redirect_uri_of_a_client_is_checked_by_its_kind() -> None:
    public = client("c", CB, "cursor://anysphere.cursor-mcp/cb", token_endpoint_auth_method="none")
    assert redirect_uris_problem(public) is None
    confidential = client(
        "c", CB, "cursor://anysphere.cursor-mcp/cb", token_endpoint_auth_method="client_secret_post"
    )
    assert redirect_uris_problem(confidential) == (
        "redirect URI 'cursor://anysphere.cursor-mcp/cb': a private-use scheme is for public clients only "
        "(auth method none)"
    )
    second_bad = client("c", CB, "http://app.example.com/cb", token_endpoint_auth_method="none")
    assert redirect_uris_problem(second_bad) == f"redirect URI 'http://app.example.com/cb' {PUBLIC_RULE}"
    none = OAuthClientInformationFull(client_id="c", redirect_uris=None)
    assert redirect_uris_problem(none) == "at least one redirect URI is required"


def registered(*uris: str, scope: str | None = None) -> RegisteredClient:
    return RegisteredClient(client_id="c", redirect_uris=[AnyUrl(uri) for uri in uris], scope=scope)


def test_a_loopback_redirect_uri_matches_on_any_port_and_nothing_else() -> None:
    native = registered("http://127.0.0.1:5000/cb?app=1", CB)
    other_port = AnyUrl("http://127.0.0.1:61234/cb?app=1")
    assert native.validate_redirect_uri(other_port) == other_port  # the one requested, port and all
    for refused in (
        "http://127.0.0.1:61234/other?app=1",  # another path
        "http://127.0.0.1:61234/cb?app=2",  # another query
        "http://localhost:5000/cb?app=1",  # another loopback name
        "https://127.0.0.1:5000/cb?app=1",  # another scheme
        "https://app.example.com:444/cb",  # not loopback: the port counts
    ):
        with pytest.raises(InvalidRedirectUriError):
            native.validate_redirect_uri(AnyUrl(refused))
    for registered_uri, requested in (
        ("https://127.0.0.1:5000/cb", "https://127.0.0.1:6000/cb"),  # any port is for http on loopback only
        ("http://app.example.com:5000/cb", "http://app.example.com:6000/cb"),
        (CB, "https://evil.example/cb"),  # one registered URI: the request must still be it
    ):
        with pytest.raises(InvalidRedirectUriError):
            registered(registered_uri).validate_redirect_uri(AnyUrl(requested))
    assert registered(CB).validate_redirect_uri(None) == AnyUrl(CB)  # the only one registered


def test_a_client_registered_without_scope_may_ask_for_any() -> None:
    assert registered(CB).validate_scope("wsReadOnly amReadOnlyAuditLog") == [
        "wsReadOnly",
        "amReadOnlyAuditLog",
    ]
    assert registered(CB).validate_scope(None) is None
    narrow = registered(CB, scope="wsReadOnly")
    assert narrow.validate_scope("wsReadOnly") == ["wsReadOnly"]
    with pytest.raises(InvalidScopeError):
        narrow.validate_scope("wsReadWrite")


# ---- what is kept of a registration -------------------------------------------------------------------


def registration_refusal(limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS, /, **fields: Any) -> tuple[str, str]:
    with pytest.raises(RegistrationError) as refused:
        metadata = {"redirect_uris": [CB], **fields}
        stored_metadata(OAuthClientInformationFull(client_id="c", **metadata), limits)
    return refused.value.error, refused.value.error_description or ""


def test_what_is_kept_of_a_registration() -> None:
    info = stored_metadata(
        OAuthClientInformationFull(
            client_id="c",
            client_name="Example App",
            redirect_uris=[AnyUrl(CB)],
            tos_uri=AnyUrl("https://app.example.com/tos"),  # not shown anywhere: not kept
            software_id="example",
            client_secret="s3cret",  # the caller encrypts it apart
        ),
        DEFAULT_SIGN_IN_LIMITS,
    )
    assert info["client_name"] == "Example App" and info["redirect_uris"] == [CB]
    assert info["software_id"] == "example"
    assert "tos_uri" not in info and "client_secret" not in info
    assert "logo_uri" not in info  # nothing given, nothing kept
    ten = client("c", *[f"{CB}{n}" for n in range(10)])
    assert stored_metadata(ten, DEFAULT_SIGN_IN_LIMITS)["redirect_uris"][9] == f"{CB}9"
    assert stored_metadata(client("c", CB + "p" * (2000 - len(CB))), DEFAULT_SIGN_IN_LIMITS)  # 2000: kept
    assert stored_metadata(
        OAuthClientInformationFull(client_id="c", redirect_uris=[AnyUrl(CB)], client_name="n" * 200),
        DEFAULT_SIGN_IN_LIMITS,
    )


def test_registrations_beyond_the_bounds_are_refused() -> None:
    eleven = [AnyUrl(f"{CB}{n}") for n in range(11)]
    assert registration_refusal(redirect_uris=eleven) == ("invalid_redirect_uri", "at most 10 redirect URIs")
    assert registration_refusal(redirect_uris=[AnyUrl(CB + "p" * (2001 - len(CB)))]) == (
        "invalid_redirect_uri",
        "redirect URIs are at most 2000 characters",
    )
    assert registration_refusal(client_name="n" * 201) == (
        "invalid_client_metadata",
        "client_name is at most 200 characters",
    )
    for field, value in (
        ("client_name", "Example\u202eApp"),
        ("software_id", "a\x00b"),
        ("scope", "x" * 2001),
        ("grant_types", ["authorization_code", "refresh\u202etoken"]),  # each item of a list too
    ):
        assert registration_refusal(**{field: value}) == (
            "invalid_client_metadata",
            f"{field} is longer than 2000 characters or holds control characters",
        )


def test_the_bounds_are_the_configured_ones() -> None:
    """Lowered settings (WRIKE_MCP_MAX_CLIENT_NAME, _MAX_REDIRECT_URIS, _MAX_URI_LENGTH) are what is applied."""
    low = replace(DEFAULT_SIGN_IN_LIMITS, max_client_name=5, max_redirect_uris=2, max_uri_length=100)
    uris = [f"{CB}{n}" for n in range(3)]
    long_uri = CB + "p" * (100 - len(CB))
    kept = stored_metadata(client("c", *uris[:2]), low)
    assert kept["redirect_uris"] == uris[:2]
    assert stored_metadata(client("c", long_uri), low)["redirect_uris"] == [long_uri]
    named = OAuthClientInformationFull(client_id="c", redirect_uris=[AnyUrl(CB)], client_name="n" * 5)
    assert stored_metadata(named, low)["client_name"] == "nnnnn"
    assert registration_refusal(low, client_name="n" * 6) == (
        "invalid_client_metadata",
        "client_name is at most 5 characters",
    )
    assert registration_refusal(low, redirect_uris=uris) == (
        "invalid_redirect_uri",
        "at most 2 redirect URIs",
    )
    assert registration_refusal(low, redirect_uris=[long_uri + "p"]) == (
        "invalid_redirect_uri",
        "redirect URIs are at most 100 characters",
    )
    assert registration_refusal(low, software_id="s" * 101) == (
        "invalid_client_metadata",
        "software_id is longer than 100 characters or holds control characters",
    )


# ---- the resource -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("HTTPS://MCP.Example.COM:443/mcp/", "https://mcp.example.com/mcp"),
        ("http://mcp.example.com:80/mcp", "http://mcp.example.com/mcp"),
        ("https://mcp.example.com:8443/mcp", "https://mcp.example.com:8443/mcp"),
        ("http://mcp.example.com:443/mcp", "http://mcp.example.com:443/mcp"),  # not http's default port
        ("https://mcp.example.com/MCP", "https://mcp.example.com/MCP"),  # the path exactly
        ("https://mcp.example.com/mcp?x=1#f", "https://mcp.example.com/mcp?x=1#f"),
        ("https://[::1", "https://[::1"),  # not a URI: as given
        ("urn:example:mcp", "urn:example:mcp"),  # no default port to drop
        ("ftp://mcp.example.com:21/mcp/", "ftp://mcp.example.com:21/mcp"),
        ("https://mcp.example.com/MX/", "https://mcp.example.com/MX"),  # only slashes are trailing
    ],
)
def test_canonical_resource(given: str, canonical: str) -> None:
    assert canonical_resource(given) == canonical


async def test_a_server_serves_its_resource_and_its_public_url(store: Store) -> None:
    server = provider(store, Clock())
    for resource in (RESOURCE, RESOURCE + "/", "HTTPS://mcp.example.com:443/mcp", ISSUER, ISSUER + "/"):
        assert server.serves(resource), resource
    for resource in (
        "https://mcp.example.com/other",
        "https://evil.example/mcp",
        "http://mcp.example.com/mcp",
    ):
        assert not server.serves(resource), resource


# ---- clients --------------------------------------------------------------------------------------------


async def test_a_registration_lives_its_ttl_unless_used(store: Store) -> None:
    clock = Clock()
    server = provider(store, clock)
    await server.register_client(client("dcr-1", client_secret="s3cret"))
    found = await server.get_client("dcr-1")
    assert found is not None and found.client_secret == "s3cret"  # stored encrypted, given back decrypted
    clock.now = NOW + 7200
    assert await server.get_client("dcr-1") is not None
    clock.now = NOW + 7200.5
    assert await server.get_client("dcr-1") is None  # never used: gone after registration_ttl
    await server.register_client(client("dcr-2"))
    assert await store.unused_registrations(clock.now) == 1
    await server.exchange_authorization_code(client("dcr-2"), await code_for(server, "dcr-2"))
    assert await store.unused_registrations(clock.now) == 0  # no longer counts against the cap
    used = await store.get_client("dcr-2")
    assert used is not None and used.used_at == clock.now  # as `wrike-mcp admin clients` shows it
    clock.now += 10 * 7200
    assert await server.get_client("dcr-2") is not None  # used once: kept


def counting_reads(monkeypatch: pytest.MonkeyPatch, store: Store, method: str) -> list[str]:
    """The keys `store.<method>` is asked for (PostgreSQL refuses text holding NUL: some must never reach it)."""
    asked: list[str] = []
    read = getattr(store, method)

    async def counted(key: str, *args: Any) -> Any:
        asked.append(key)
        return await read(key, *args)

    monkeypatch.setattr(store, method, counted)
    return asked


async def test_client_ids_that_cannot_exist_are_not_looked_up(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = provider(store, Clock())
    await server.register_client(client("x" * 2000))
    asked = counting_reads(monkeypatch, store, "get_client")
    assert await server.get_client("x" * 2000) is not None
    assert await server.get_client("x" * 2001) is None
    assert await server.get_client("client\x00") is None
    assert await server.get_client("unknown") is None
    assert asked == ["x" * 2000, "unknown"]
    # the bound is WRIKE_MCP_MAX_URI_LENGTH's: lowered, a longer id is not looked up either
    lowered = provider(store, Clock(), limits=replace(DEFAULT_SIGN_IN_LIMITS, max_uri_length=100))
    assert await lowered.get_client("x" * 101) is None
    assert await lowered.get_client("y" * 100) is None
    assert asked == ["x" * 2000, "unknown", "y" * 100]


async def test_registration_refused_by_its_redirect_uris_or_the_policy(store: Store) -> None:
    server = provider(store, Clock())
    with pytest.raises(RegistrationError) as bad_uri:
        await server.register_client(client("c", "http://app.example.com/cb"))
    assert bad_uri.value.error == "invalid_redirect_uri"
    assert bad_uri.value.error_description == f"redirect URI 'http://app.example.com/cb' {CONFIDENTIAL_RULE}"
    by_hosts = provider(store, Clock(), client_policy=ClientPolicy.of(["allowed.example"], []))
    with pytest.raises(RegistrationError) as refused:
        await by_hosts.register_client(client("c"))
    assert refused.value.error == "invalid_redirect_uri"
    assert refused.value.error_description == (
        "this server's administrator does not allow this client: redirect URI host 'app.example.com' is not "
        "in the administrator's WRIKE_MCP_ALLOWED_REDIRECT_HOSTS"
    )
    by_ids = provider(store, Clock(), client_policy=ClientPolicy.of([], ["someone-else"]))
    with pytest.raises(RegistrationError) as refused:
        await by_ids.register_client(client("c"))
    assert refused.value.error == "invalid_client_metadata"
    assert await server.get_client("c") is None  # nothing stored
    await by_hosts.register_client(client("ok", "https://allowed.example/cb"))
    assert await server.get_client("ok") is not None


DOCUMENT_URL = "https://app.example.com/client.json"


def fetching(monkeypatch: pytest.MonkeyPatch, *redirect_uris: str) -> list[str]:
    fetched: list[str] = []

    async def fetch_document(url: str, *, allow_loopback: bool) -> OAuthClientInformationFull:
        fetched.append(url if not allow_loopback else url + " (loopback allowed)")
        return cimd.parse_document(url, json_document(url, list(redirect_uris)))

    monkeypatch.setattr(cimd, "fetch_document", fetch_document)
    return fetched


def json_document(url: str, redirect_uris: list[str]) -> bytes:
    return json.dumps({"client_id": url, "client_name": "Doc App", "redirect_uris": redirect_uris}).encode()


async def test_a_metadata_document_is_fetched_once_an_hour(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched = fetching(monkeypatch, CB)
    clock = Clock()
    server = provider(store, clock)
    first = await server.resolve_client(DOCUMENT_URL)
    assert first is not None and first.client_name == "Doc App"
    clock.now = NOW + 3600
    assert await server.resolve_client(DOCUMENT_URL) is not None
    assert fetched == [DOCUMENT_URL]  # kept for an hour
    clock.now = NOW + 3600.5
    assert await server.resolve_client(DOCUMENT_URL) is not None
    assert fetched == [DOCUMENT_URL, DOCUMENT_URL]


async def test_test_mode_lets_a_document_be_fetched_from_loopback(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched = fetching(monkeypatch, CB)
    clock = Clock()
    assert await provider(store, clock, cimd_allow_loopback=True).resolve_client(DOCUMENT_URL) is not None
    assert fetched == [DOCUMENT_URL + " (loopback allowed)"]
    row = await store.get_client(DOCUMENT_URL)
    assert row is not None and row.kind == "cimd"  # as `wrike-mcp admin clients` lists it
    assert await store.unused_registrations(clock.now) == 0  # documents are not registrations


async def test_a_refused_metadata_document_is_not_fetched_again_for_a_while(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fetched = fetching(monkeypatch, "http://app.example.com/cb")  # not an acceptable redirect URI
    server = provider(store, Clock())
    assert await server.resolve_client(DOCUMENT_URL) is None
    assert await server.resolve_client(DOCUMENT_URL) is None
    assert fetched == [DOCUMENT_URL]
    assert await server.resolve_client("not-a-url") is None
    assert fetched == [DOCUMENT_URL]
    assert provider_log(caplog) == [
        f"client metadata document refused: redirect URI 'http://app.example.com/cb' {PUBLIC_RULE}"
    ]


async def test_a_metadata_document_beyond_the_bounds_is_refused(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fetched = fetching(monkeypatch, *[f"{CB}{n}" for n in range(11)])
    server = provider(store, Clock())
    assert await server.resolve_client(DOCUMENT_URL) is None
    assert await server.resolve_client(DOCUMENT_URL) is None
    assert fetched == [DOCUMENT_URL]
    assert provider_log(caplog) == ["client metadata document refused: at most 10 redirect URIs"]


async def test_only_authorize_fetches_a_metadata_document(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_client (what /token and /revoke look a client up with) reads the store and nothing else; the record
    /authorize stored serves it after the cached document is stale, and resolve_client fetches again."""
    fetched = fetching(monkeypatch, CB)
    clock = Clock()
    server = provider(store, clock)
    assert await server.get_client(DOCUMENT_URL) is None
    assert await server.get_client("https://elsewhere.example/c.json") is None
    assert fetched == []
    assert await server.resolve_client(DOCUMENT_URL) is not None
    clock.now = NOW + 3600.5  # the cached document is stale
    stored = await server.get_client(DOCUMENT_URL)
    assert (
        stored is not None and stored.client_name == "Doc App" and stored.token_endpoint_auth_method == "none"
    )
    assert fetched == [DOCUMENT_URL]
    assert await server.resolve_client(DOCUMENT_URL) is not None
    assert fetched == [DOCUMENT_URL, DOCUMENT_URL]


def provider_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "wrike_mcp.remote.provider"]


# ---- authorization -------------------------------------------------------------------------------------


def params(**changes: Any) -> AuthorizationParams:
    values: dict[str, Any] = {
        "state": "client-state",
        "scopes": ["wsReadOnly"],
        "code_challenge": "c" * 43,
        "redirect_uri": AnyUrl(CB),
        "redirect_uri_provided_explicitly": True,
        "resource": RESOURCE,
    }
    return AuthorizationParams(**{**values, **changes})


async def test_authorize_keeps_the_request_for_ten_minutes(store: Store) -> None:
    clock = Clock()
    server = provider(store, clock)
    location = await server.authorize(client("client-1"), params(scopes=None, resource=ISSUER + "/"))
    assert location.startswith(f"{ISSUER}/consent?txn=")
    txn = parse_qs(urlsplit(location).query)["txn"][0]
    assert len(txn) == 43  # 32 random bytes, url-safe base64
    found = await store.get_pending(txn, NOW + 600)
    assert found is not None
    client_id, request, _ = found
    assert client_id == "client-1"
    assert (request.scopes, request.resource, request.state) == (["wsReadWrite"], RESOURCE, "client-state")
    assert (request.redirect_uri, request.code_challenge) == (CB, "c" * 43)
    assert await store.get_pending(txn, NOW + 600.5) is None  # expired: the consent page refuses it
    other = await server.authorize(client("client-1"), params(resource=None))
    assert other != location


@pytest.mark.parametrize(
    ("changes", "error", "description"),
    [
        (
            {"resource": "https://evil.example/mcp"},
            "invalid_target",
            f"this server only issues tokens for {RESOURCE}",
        ),
        ({"scopes": ["wsReadOnly", "admin"]}, "invalid_scope", "unknown scope 'admin'"),
        ({"scopes": ["s" * 100]}, "invalid_scope", f"unknown scope {'s' * 60!r}"),
    ],
)
async def test_authorize_refuses(store: Store, changes: dict[str, Any], error: str, description: str) -> None:
    with pytest.raises(AuthorizeError) as refused:
        await provider(store, Clock()).authorize(client(), params(**changes))
    assert (refused.value.error, refused.value.error_description) == (error, description)


async def test_authorize_refuses_a_client_the_policy_does_not_allow(store: Store) -> None:
    server = provider(store, Clock(), client_policy=ClientPolicy.of([], ["someone-else"]))
    with pytest.raises(AuthorizeError) as refused:
        await server.authorize(client(), params())
    assert (refused.value.error, refused.value.error_description) == (
        "access_denied",
        "this server's administrator does not allow this client",
    )


async def test_the_administrator_reads_who_was_refused_where(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    server = provider(store, Clock())
    code = await server.issue_code("client-1", "ACC1/USER1", REQUEST)
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    assert tokens.refresh_token is not None
    strict = provider(store, Clock(), client_policy=ClientPolicy.of([], ["someone-else"]))
    named = client("client-1", client_name="Example App")
    with pytest.raises(RegistrationError):
        await strict.register_client(named)
    with pytest.raises(AuthorizeError):
        await strict.authorize(named, params())
    assert await strict.load_authorization_code(named, code) is None
    assert await strict.load_refresh_token(client("c" * 300), tokens.refresh_token) is None
    refusal = "the client is not in the administrator's WRIKE_MCP_ALLOWED_CLIENT_IDS"
    assert provider_log(caplog) == [
        f"client 'client-1' ('Example App') refused at /register by the administrator's policy: {refusal}",
        f"client 'client-1' ('Example App') refused at /authorize by the administrator's policy: {refusal}",
        f"client 'client-1' ('Example App') refused at /token by the administrator's policy: {refusal}",
        f"client {'c' * 200!r} ('-') refused at /token by the administrator's policy: {refusal}",
    ]
    caplog.clear()
    assert await strict.load_authorization_code(client("client-1", client_name="n" * 150), code) is None
    assert provider_log(caplog) == [
        f"client 'client-1' ({'n' * 100!r}) refused at /token by the administrator's policy: {refusal}",
    ]


async def test_a_client_listed_by_id_is_allowed_whatever_its_redirect_uris(store: Store) -> None:
    server = provider(store, Clock(), client_policy=ClientPolicy.of(["allowed.example"], ["client-1"]))
    assert (await server.authorize(client("client-1"), params())).startswith(f"{ISSUER}/consent?txn=")
    with pytest.raises(AuthorizeError):
        await server.authorize(client("client-2"), params())


async def test_a_loopback_redirect_uri_registered_without_a_path_is_authorized_on_any_port(
    store: Store,
) -> None:
    # The SDK keeps a registered URI's empty path (http://127.0.0.1:3000, no '/'), while the URI the client
    # then sends to /authorize is parsed with the '/' added: the two must still match, on any port.
    server = provider(store, Clock())
    registration = OAuthClientInformationFull.model_validate(
        {
            "client_id": "native",
            "redirect_uris": ["http://127.0.0.1:3000"],
            "token_endpoint_auth_method": "none",
        }
    )
    await server.register_client(registration)
    native = await server.get_client("native")
    assert native is not None
    assert [str(uri) for uri in native.redirect_uris or []] == ["http://127.0.0.1:3000"]
    requested = AnyUrl("http://127.0.0.1:4000/")
    assert native.validate_redirect_uri(requested) == requested
    location = await server.authorize(native, params(redirect_uri=requested))
    txn = parse_qs(urlsplit(location).query)["txn"][0]
    found = await store.get_pending(txn, NOW)
    assert found is not None
    assert found[1].redirect_uri == "http://127.0.0.1:4000/"
    with pytest.raises(InvalidRedirectUriError):  # any port, but the loopback address it registered
        native.validate_redirect_uri(AnyUrl("http://localhost:4000/"))


# ---- codes and tokens ------------------------------------------------------------------------------------


REQUEST = AuthorizationRequest(
    redirect_uri=CB,
    redirect_uri_provided_explicitly=True,
    code_challenge="c" * 43,
    state="client-state",
    scopes=["wsReadOnly", "amReadOnlyAuditLog"],
    resource=RESOURCE,
)


async def code_for(server: WrikeMCPAuthProvider, client_id: str = "client-1", **changes: Any) -> Any:
    request = REQUEST.model_copy(update=changes)
    code = await server.issue_code(client_id, "ACC1/USER1", request)
    loaded = await server.load_authorization_code(client(client_id), code)
    assert loaded is not None
    return loaded


async def test_a_code_carries_the_request_and_lives_five_minutes(store: Store) -> None:
    server = provider(store, Clock())
    code = await code_for(server)
    assert (code.client_id, code.subject, code.scopes, code.resource) == (
        "client-1",
        "ACC1/USER1",
        ["wsReadOnly", "amReadOnlyAuditLog"],
        RESOURCE,
    )
    assert (str(code.redirect_uri), code.redirect_uri_provided_explicitly, code.code_challenge) == (
        CB,
        True,
        "c" * 43,
    )
    assert code.expires_at == NOW + 300
    assert len(code.code) == 43  # 32 random bytes, url-safe base64
    assert await server.load_authorization_code(client(), "no-such-code") is None


async def test_a_code_is_good_once_and_a_replay_revokes_what_it_gave(store: Store) -> None:
    server = provider(store, Clock())
    code = await code_for(server)
    tokens = await server.exchange_authorization_code(client(), code)
    assert await server.load_access_token(tokens.access_token) is not None
    assert await server.load_authorization_code(client(), code.code) is None  # replayed
    assert await server.load_access_token(tokens.access_token) is None  # and what it produced is revoked
    with pytest.raises(TokenError) as spent:
        await server.exchange_authorization_code(client(), code)
    assert (spent.value.error, spent.value.error_description) == (
        "invalid_grant",
        "authorization code was already used",
    )


async def test_a_code_spent_twice_at_once_revokes_the_first_tokens(store: Store) -> None:
    server = provider(store, Clock())
    code = await code_for(server)
    tokens = await server.exchange_authorization_code(client(), code)
    with pytest.raises(TokenError):
        await server.exchange_authorization_code(client(), code)  # loaded before the first spent it
    assert await server.load_access_token(tokens.access_token) is None


async def test_a_code_for_another_server_or_a_client_no_longer_allowed_gives_nothing(store: Store) -> None:
    server = provider(store, Clock())
    elsewhere = await server.issue_code(
        "client-1", "ACC1/USER1", REQUEST.model_copy(update={"resource": "https://other.example/mcp"})
    )
    assert await server.load_authorization_code(client(), elsewhere) is None
    code = await server.issue_code("client-1", "ACC1/USER1", REQUEST)
    strict = provider(store, Clock(), client_policy=ClientPolicy.of([], ["someone-else"]))
    assert await strict.load_authorization_code(client(), code) is None
    assert await server.load_authorization_code(client(), code) is not None  # not spent by the refusal


async def test_tokens_for_the_grant_and_their_lifetimes(store: Store) -> None:
    clock = Clock()
    server = provider(store, clock)
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    assert tokens.token_type == "Bearer"
    assert tokens.expires_in == 3600
    assert tokens.scope == "wsReadOnly amReadOnlyAuditLog"
    assert tokens.access_token.startswith(ACCESS_PREFIX) and tokens.refresh_token
    assert len(tokens.access_token) == len(ACCESS_PREFIX) + 43  # 32 random bytes, url-safe base64
    assert len(tokens.refresh_token) == len(ACCESS_PREFIX) + 43
    access = await server.load_access_token(tokens.access_token)
    assert access is not None
    assert (access.client_id, access.subject, access.scopes, access.resource) == (
        "client-1",
        "ACC1/USER1",
        ["wsReadOnly", "amReadOnlyAuditLog"],
        RESOURCE,
    )
    assert access.expires_at == NOW + 3600
    assert (
        access.claims is not None and access.claims["iss"] == ISSUER and GRANT_VERSION_CLAIM in access.claims
    )
    clock.now = NOW + 3600
    assert await server.load_access_token(tokens.access_token) is not None
    clock.now = NOW + 3601
    assert await server.load_access_token(tokens.access_token) is None  # expired
    refresh = await server.load_refresh_token(client(), tokens.refresh_token)
    assert refresh is not None and refresh.expires_at == NOW + 86400
    assert (refresh.client_id, refresh.subject, refresh.scopes, refresh.resource) == (
        "client-1",
        "ACC1/USER1",
        ["wsReadOnly", "amReadOnlyAuditLog"],
        RESOURCE,
    )
    clock.now = NOW + 86400
    assert await server.load_refresh_token(client(), tokens.refresh_token) is not None  # its last second
    clock.now = NOW + 86400.5
    assert await server.load_refresh_token(client(), tokens.refresh_token) is None


async def test_access_tokens_that_are_not_ours_are_refused_unread(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = provider(store, Clock())
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    assert tokens.refresh_token is not None
    asked = counting_reads(monkeypatch, store, "get_token")
    assert await server.load_access_token(tokens.refresh_token) is None  # a refresh token is no access token
    assert await server.load_access_token("wrike-token\x00") is None
    assert asked == []  # not even read: not our access tokens' prefix
    assert await server.load_access_token(ACCESS_PREFIX + "x" * 192) is None  # 200 characters, unknown
    assert asked == [ACCESS_PREFIX + "x" * 192]
    longer = tokens.access_token + "x" * (201 - len(tokens.access_token))
    assert await server.load_access_token(longer) is None
    assert asked == [ACCESS_PREFIX + "x" * 192]  # over 200 characters: not read
    assert await server.load_access_token(tokens.access_token[len(ACCESS_PREFIX) :]) is None
    assert await server.load_refresh_token(client(), tokens.access_token) is None  # nor the other way
    assert await server.load_refresh_token(client(), "unknown") is None


async def test_a_refresh_narrows_the_access_token_not_the_grant(store: Store) -> None:
    server = provider(store, Clock())
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    assert tokens.refresh_token is not None
    refresh = await server.load_refresh_token(client(), tokens.refresh_token)
    assert refresh is not None
    narrowed = await server.exchange_refresh_token(client(), refresh, ["wsReadOnly"])
    assert narrowed.scope == "wsReadOnly"
    access = await server.load_access_token(narrowed.access_token)
    assert access is not None and access.scopes == ["wsReadOnly"]
    assert narrowed.refresh_token is not None
    again = await server.load_refresh_token(client(), narrowed.refresh_token)
    assert again is not None and again.scopes == ["wsReadOnly", "amReadOnlyAuditLog"]  # the whole grant
    assert await server.load_access_token(tokens.access_token) is not None  # the old access token still lives


async def rotate(
    server: WrikeMCPAuthProvider, clock: Clock, client_id: str = "client-1"
) -> tuple[str, OAuthToken]:
    """A grant whose first refresh token was rotated a second after it was issued: (that token, the new pair)."""
    tokens = await server.exchange_authorization_code(client(client_id), await code_for(server, client_id))
    assert tokens.refresh_token is not None
    clock.now += 1
    refresh = await server.load_refresh_token(client(client_id), tokens.refresh_token)
    assert refresh is not None
    return tokens.refresh_token, await server.exchange_refresh_token(
        client(client_id), refresh, refresh.scopes
    )


async def still_works(server: WrikeMCPAuthProvider, pair: OAuthToken, client_id: str = "client-1") -> bool:
    assert pair.refresh_token is not None
    access = await server.load_access_token(pair.access_token)
    return (
        access is not None
        and await server.load_refresh_token(client(client_id), pair.refresh_token) is not None
    )


async def test_a_reused_refresh_token_ends_the_whole_grant(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    server = provider(store, clock)
    spent, rotated = await rotate(server, clock)
    clock.now += 10.001  # just past the 10 s leeway
    assert await server.load_refresh_token(client(), spent) is None  # reused: theft or a bug
    assert provider_log(caplog) == ["refresh token reused for client client-1; revoking its grant"]
    assert not await still_works(server, rotated)
    caplog.clear()
    long_id = "c" * 100
    other_spent, _ = await rotate(server, clock, long_id)
    clock.now += 11
    assert await server.load_refresh_token(client(long_id), other_spent) is None
    assert provider_log(caplog) == [f"refresh token reused for client {'c' * 80}; revoking its grant"]


async def test_a_refresh_token_presented_again_within_the_leeway_is_refused_and_the_grant_kept(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wrike_mcp.remote.provider")
    clock = Clock()
    server = provider(store, clock)
    spent, rotated = await rotate(server, clock)
    for elapsed in (0, 4, 10):  # up to and including the leeway's last instant
        clock.now = NOW + 1 + elapsed
        assert await server.load_refresh_token(client(), spent) is None
        assert await still_works(server, rotated), elapsed
    assert provider_log(caplog) == [
        f"refresh token of client client-1 presented again {elapsed:.1f} s after its rotation: refused, grant kept"
        for elapsed in (0, 4, 10)
    ]
    # and the rotated pair rotates on as usual
    assert rotated.refresh_token is not None
    refresh = await server.load_refresh_token(client(), rotated.refresh_token)
    assert refresh is not None
    assert await still_works(server, await server.exchange_refresh_token(client(), refresh, refresh.scopes))


async def test_the_leeway_counts_from_that_tokens_own_rotation(store: Store) -> None:
    clock = Clock()
    server = provider(store, clock)
    spent, rotated = await rotate(server, clock)  # rotated at NOW + 1
    clock.now += 9
    assert rotated.refresh_token is not None
    refresh = await server.load_refresh_token(client(), rotated.refresh_token)
    assert refresh is not None
    latest = await server.exchange_refresh_token(
        client(), refresh, refresh.scopes
    )  # the family's at NOW + 10
    clock.now += 2  # 11 s after the first token's rotation, 2 s after the family's latest
    assert await store.rotated_at(spent) == NOW + 1
    assert await server.load_refresh_token(client(), spent) is None
    assert not await still_works(server, latest)


async def test_the_leeway_is_for_the_client_the_token_was_issued_to(store: Store) -> None:
    clock = Clock()
    server = provider(store, clock)
    spent, rotated = await rotate(server, clock)
    clock.now += 2
    assert await server.load_refresh_token(client("client-2"), spent) is None  # another client: theft
    assert not await still_works(server, rotated)


async def test_a_leeway_of_zero_revokes_at_once(store: Store) -> None:
    clock = Clock()
    server = provider(store, clock, refresh_reuse_leeway=0)
    spent, rotated = await rotate(server, clock)
    assert await server.load_refresh_token(client(), spent) is None  # the same instant as its rotation
    assert not await still_works(server, rotated)


async def test_a_reuse_without_a_later_token_of_its_family_revokes(store: Store) -> None:
    """With no record of when the rotation happened (its tokens purged, or a clock that did not advance),
    the reuse cannot be shown to be a race: the family goes."""
    clock = Clock()
    server = provider(store, clock)
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    assert tokens.refresh_token is not None
    refresh = await server.load_refresh_token(client(), tokens.refresh_token)
    assert refresh is not None
    rotated = await server.exchange_refresh_token(client(), refresh, refresh.scopes)  # the same instant
    clock.now += 1
    await server.exchange_authorization_code(
        client(), await code_for(server)
    )  # another grant: not its rotation
    assert await store.rotated_at(tokens.refresh_token) is None
    assert await server.load_refresh_token(client(), tokens.refresh_token) is None
    assert not await still_works(server, rotated)


async def test_two_refreshes_racing_keep_the_winners_tokens(store: Store) -> None:
    clock = Clock()
    server = provider(store, clock)
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    assert tokens.refresh_token is not None
    clock.now += 1
    refresh = await server.load_refresh_token(client(), tokens.refresh_token)
    assert refresh is not None
    first = await server.exchange_refresh_token(client(), refresh, refresh.scopes)
    clock.now += 0.5
    with pytest.raises(TokenError) as second:  # loaded before the first spent it
        await server.exchange_refresh_token(client(), refresh, refresh.scopes)
    assert (second.value.error, second.value.error_description) == (
        "invalid_grant",
        "refresh token was already used",
    )
    assert await still_works(server, first)
    # past the leeway, the same race is a reuse like any other
    clock.now += 1
    assert first.refresh_token is not None
    again = await server.load_refresh_token(client(), first.refresh_token)
    assert again is not None
    later = await server.exchange_refresh_token(client(), again, again.scopes)
    clock.now += 11
    with pytest.raises(TokenError):
        await server.exchange_refresh_token(client(), again, again.scopes)
    assert not await still_works(server, later)


async def test_a_refresh_token_gone_meanwhile_is_an_invalid_grant(store: Store) -> None:
    gone = RefreshToken(token="wmcp_rt_gone", client_id="client-1", scopes=["wsReadOnly"])
    with pytest.raises(TokenError) as refused:
        await provider(store, Clock()).exchange_refresh_token(client(), gone, ["wsReadOnly"])
    assert (refused.value.error, refused.value.error_description) == (
        "invalid_grant",
        "refresh token does not exist",
    )


async def test_a_refresh_token_for_another_server_or_a_refused_client_gives_nothing(store: Store) -> None:
    server = provider(store, Clock())
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    assert tokens.refresh_token is not None
    other = provider(store, Clock(), resource="https://other.example/mcp", issuer="https://other.example")
    assert await other.load_refresh_token(client(), tokens.refresh_token) is None
    strict = provider(store, Clock(), client_policy=ClientPolicy.of([], ["someone-else"]))
    assert await strict.load_refresh_token(client(), tokens.refresh_token) is None
    assert await server.load_refresh_token(client(), tokens.refresh_token) is not None  # not spent


async def test_revoking_a_token_revokes_its_grant(store: Store) -> None:
    server = provider(store, Clock())
    tokens = await server.exchange_authorization_code(client(), await code_for(server))
    kept = await server.exchange_authorization_code(client(), await code_for(server))
    access = await server.load_access_token(tokens.access_token)
    assert access is not None and tokens.refresh_token is not None
    await server.revoke_token(access)
    assert await server.load_access_token(tokens.access_token) is None
    assert await server.load_refresh_token(client(), tokens.refresh_token) is None
    assert await server.load_access_token(kept.access_token) is not None  # another grant


async def test_the_identity_assertion_grant_is_not_supported(store: Store) -> None:
    with pytest.raises(TokenError) as refused:
        await provider(store, Clock()).exchange_identity_assertion(client(), None)  # type: ignore[arg-type]
    assert (refused.value.error, refused.value.error_description) == (
        "unsupported_grant_type",
        "the JWT bearer grant is not supported",
    )
