"""The OAuth token source against a scripted token endpoint (httpx2 mock transport)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import httpx2
import pytest

from tests.auth.auth_helpers import CANARY_ACCESS, CANARY_REFRESH, CANARY_SECRET
from wrike_mcp.auth import (
    AppCredentialsRejected,
    AuthorizationExpired,
    LoginError,
    OAuthTokenSource,
    TokenRefreshUnavailable,
    TokenStore,
    TokenStoreError,
    UntrustedHost,
)
from wrike_mcp.auth.login import LoginFlow
from wrike_mcp.auth.oauth import check_token_host
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.runtime import client_from_settings
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import Token, TokenSource


class TokenEndpoint:
    """A scripted Wrike token endpoint: rotates refresh tokens, records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.counter = 0
        self.valid_refresh = {CANARY_REFRESH}
        self.fail_with: Callable[[], httpx2.Response] | None = None
        self.extra: dict[str, Any] = {}
        self.omit_refresh = False
        self.delay = 0.05

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.requests.append(form)
        await anyio.sleep(self.delay)  # let concurrent callers pile up behind the lock
        if self.fail_with is not None:
            return self.fail_with()
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.valid_refresh:
                return httpx2.Response(
                    400, json={"error": "invalid_grant", "error_description": "used token"}
                )
            self.valid_refresh.discard(form["refresh_token"])
        self.counter += 1
        body = {
            "access_token": f"{CANARY_ACCESS}-{self.counter}",
            "token_type": "bearer",
            "expires_in": 3600,
            "host": "app-eu.wrike.com",
            **self.extra,
        }
        if not self.omit_refresh:
            body["refresh_token"] = f"{CANARY_REFRESH}-{self.counter}"
            self.valid_refresh.add(body["refresh_token"])
        return httpx2.Response(200, json=body)

    @property
    def refreshes(self) -> list[dict[str, str]]:
        return [r for r in self.requests if r.get("grant_type") == "refresh_token"]


def snapshot(path: Path) -> bytes | None:
    """The store file's bytes (None when absent), to prove a failure left it untouched."""
    return path.read_bytes() if path.exists() else None


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def endpoint() -> TokenEndpoint:
    return TokenEndpoint()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def expired_grant(clock: Clock) -> Grant:
    return Grant(
        access_token=CANARY_ACCESS,
        refresh_token=CANARY_REFRESH,
        expires_at=clock.now - 1,
        lifetime=3600,
        host="app-eu.wrike.com",
        scopes=["wsReadWrite"],
        login_url="https://login.wrike.com",
        account={"id": "ACC1", "name": "Acme"},
    )


def make_source(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock, grant: Grant | None = None
) -> OAuthTokenSource:
    grant = grant or expired_grant(clock)
    store.save(grant)
    return OAuthTokenSource(settings, store, grant, transport=httpx2.MockTransport(endpoint), clock=clock)


async def test_concurrent_expired_callers_share_one_refresh(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock
) -> None:
    source = make_source(settings, store, endpoint, clock)
    tokens: list[Token] = []

    async def call() -> None:
        tokens.append(await source.get_token())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(call)
    assert len(endpoint.refreshes) == 1
    assert {t.value for t in tokens} == {f"{CANARY_ACCESS}-1"}
    sent = endpoint.refreshes[0]
    # credentials as form fields, the old refresh token, and no scope (a refresh never widens the grant)
    assert sent == {
        "grant_type": "refresh_token",
        "refresh_token": CANARY_REFRESH,
        "client_id": "test-client",
        "client_secret": CANARY_SECRET,
    }
    stored = store.current("https://login.wrike.com")
    assert stored is not None and stored.refresh_token == f"{CANARY_REFRESH}-1"  # rotated token persisted
    assert stored.expires_at == clock.now + 3600
    assert source.granted_scopes == frozenset({"wsReadWrite"})


async def test_concurrent_401s_share_one_refresh(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock
) -> None:
    grant = expired_grant(clock).model_copy(update={"expires_at": clock.now + 3000})
    source = make_source(settings, store, endpoint, clock, grant)
    rejected = await source.get_token()
    assert endpoint.requests == []  # still valid by the clock: no proactive refresh
    results = []

    async def call() -> None:
        results.append(await source.refresh_after_401(rejected))

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(call)
    assert len(endpoint.refreshes) == 1
    assert {t.value for t in results if t} == {f"{CANARY_ACCESS}-1"}
    # a late 401 for the old token gets the current one, without another refresh
    late = await source.refresh_after_401(rejected)
    assert late is not None and late.value == f"{CANARY_ACCESS}-1"
    assert len(endpoint.refreshes) == 1
    # a 401 for the current token refreshes again, with the rotated refresh token
    again = await source.refresh_after_401(late)
    assert again is not None and again.value == f"{CANARY_ACCESS}-2"
    assert endpoint.refreshes[-1]["refresh_token"] == f"{CANARY_REFRESH}-1"


async def test_proactive_refresh_margin(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock
) -> None:
    grant = expired_grant(clock).model_copy(update={"expires_at": clock.now + 61})
    source = make_source(settings, store, endpoint, clock, grant)
    await source.get_token()
    assert endpoint.requests == []
    clock.now += 2  # now 59 s left: inside the 60 s margin
    await source.get_token()
    assert len(endpoint.refreshes) == 1


async def test_response_without_refresh_token_keeps_the_old_one(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock
) -> None:
    endpoint.omit_refresh = True
    endpoint.extra = {"scope": "wsReadOnly,amReadOnlyAuditLog"}
    source = make_source(settings, store, endpoint, clock)
    await source.get_token()
    stored = store.current("https://login.wrike.com")
    assert stored is not None and stored.refresh_token == CANARY_REFRESH
    assert source.granted_scopes == frozenset({"wsReadOnly", "amReadOnlyAuditLog"})


async def test_invalid_grant_is_sticky_and_leaves_the_store_alone(
    settings: Settings, store: TokenStore, store_path: Path, endpoint: TokenEndpoint, clock: Clock
) -> None:
    endpoint.valid_refresh.clear()  # revoked
    source = make_source(settings, store, endpoint, clock)
    before = snapshot(store_path)
    for _ in range(3):
        with pytest.raises(AuthorizationExpired, match="run `wrike-mcp auth login`"):
            await source.get_token()
    assert len(endpoint.refreshes) == 1  # no retry storm
    assert snapshot(store_path) == before
    # a new login (another refresh token in the store) brings the source back
    endpoint.valid_refresh.add("fresh-login-refresh")
    store.save(expired_grant(clock).model_copy(update={"refresh_token": "fresh-login-refresh"}))
    token = await source.get_token()
    assert token.value == f"{CANARY_ACCESS}-1"


@pytest.mark.parametrize("error", ["unauthorized_client", "invalid_client"])
async def test_app_credentials_refused_is_not_sticky_and_keeps_the_grant(
    settings: Settings, store: TokenStore, store_path: Path, endpoint: TokenEndpoint, clock: Clock, error: str
) -> None:
    endpoint.fail_with = lambda: httpx2.Response(400, json={"error": error})
    source = make_source(settings, store, endpoint, clock)
    before = snapshot(store_path)
    with pytest.raises(AppCredentialsRejected) as refused:
        await source.get_token()
    assert not isinstance(refused.value, AuthorizationExpired)
    assert "WRIKE_CLIENT_SECRET" in str(refused.value) and "auth login" not in str(refused.value)
    assert snapshot(store_path) == before
    endpoint.fail_with = None  # the secret was fixed: the same grant refreshes
    assert (await source.get_token()).value == f"{CANARY_ACCESS}-1"


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx2.Response(503, text="down"),
        lambda: httpx2.Response(429, json={"error": "too_many_requests"}),
        lambda: httpx2.Response(502, json={"error": "server_error"}),
        lambda: httpx2.Response(400, text="<html>proxy</html>"),
    ],
)
async def test_transient_failures_keep_tokens(
    settings: Settings,
    store: TokenStore,
    store_path: Path,
    endpoint: TokenEndpoint,
    clock: Clock,
    failure: Callable[[], httpx2.Response],
) -> None:
    endpoint.fail_with = failure
    source = make_source(settings, store, endpoint, clock)
    before = snapshot(store_path)
    with pytest.raises(TokenRefreshUnavailable, match="stored tokens are unchanged"):
        await source.get_token()
    assert snapshot(store_path) == before
    endpoint.fail_with = None
    assert (await source.get_token()).value == f"{CANARY_ACCESS}-1"


@pytest.mark.parametrize("exc", [httpx2.ConnectError("refused"), httpx2.ReadTimeout("slow")])
async def test_network_failures_are_transient(
    settings: Settings,
    store: TokenStore,
    store_path: Path,
    endpoint: TokenEndpoint,
    clock: Clock,
    exc: Exception,
) -> None:
    def boom() -> httpx2.Response:
        raise exc

    endpoint.fail_with = boom
    source = make_source(settings, store, endpoint, clock)
    before = snapshot(store_path)
    with pytest.raises(TokenRefreshUnavailable):
        await source.get_token()
    assert snapshot(store_path) == before


async def test_store_write_failure_keeps_working_from_memory(
    settings: Settings,
    store: TokenStore,
    endpoint: TokenEndpoint,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = make_source(settings, store, endpoint, clock)
    real_save = store.save

    def failing_save(grant: Grant, **kw: Any) -> None:
        raise TokenStoreError("disk full")

    monkeypatch.setattr(store, "save", failing_save)
    assert (await source.get_token()).value == f"{CANARY_ACCESS}-1"
    # no second refresh: the old refresh token is spent, the new one lives in memory
    assert (await source.get_token()).value == f"{CANARY_ACCESS}-1"
    assert len(endpoint.refreshes) == 1
    monkeypatch.setattr(store, "save", real_save)
    await source.get_token()  # retries the write
    stored = store.current("https://login.wrike.com")
    assert stored is not None and stored.refresh_token == f"{CANARY_REFRESH}-1"


async def test_refresh_adopts_a_rotation_done_by_another_process(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock
) -> None:
    source = make_source(settings, store, endpoint, clock)
    # another process refreshed first and saved the rotated grant
    other = expired_grant(clock).model_copy(
        update={
            "access_token": "other-access",
            "refresh_token": "other-refresh",
            "expires_at": clock.now + 3600,
        }
    )
    store.save(other)
    assert (await source.get_token()).value == "other-access"
    assert endpoint.requests == []


async def test_untrusted_host_in_refresh_is_refused(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock
) -> None:
    endpoint.extra = {"host": "www.wrike.com.evil.example"}
    source = make_source(settings, store, endpoint, clock)
    with pytest.raises(UntrustedHost, match=r"not an https \*\.wrike\.com host"):
        await source.get_token()


WRIKE = Settings()
LOOPBACK = Settings(base_url="http://127.0.0.1:8100/api/v4", login_url="http://127.0.0.1:8100")


@pytest.mark.parametrize(
    ("host", "settings", "expected"),
    [
        ("www.wrike.com", WRIKE, "www.wrike.com"),
        ("app-eu.wrike.com", WRIKE, "app-eu.wrike.com"),
        ("https://app-us2.wrike.com/", WRIKE, "app-us2.wrike.com"),
        ("APP-EU.Wrike.com", WRIKE, "app-eu.wrike.com"),
        (None, WRIKE, "www.wrike.com"),
        ("127.0.0.1:8100", LOOPBACK, "127.0.0.1:8100"),
        ("localhost:8100", LOOPBACK, "localhost:8100"),
        ("app-eu.wrike.com", LOOPBACK, "app-eu.wrike.com"),
    ],
)
def test_host_allowed(host: object, settings: Settings, expected: str) -> None:
    assert check_token_host(host, settings) == expected


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "www.wrike.com.evil.example",
        "wrike.com.evil.example",
        "evilwrike.com",
        "http://www.wrike.com",
        "127.0.0.1",
        "localhost:8100",
        "www.wrike.com:8443",
        "www.wrike.com/api",
        "user@www.wrike.com",
        "www.wrike.com#x",
        "ftp://www.wrike.com",
        42,
        ["www.wrike.com"],
    ],
)
def test_host_refused(host: object) -> None:
    with pytest.raises(UntrustedHost):
        check_token_host(host, WRIKE)


def test_loopback_needs_both_urls_on_loopback() -> None:
    half = Settings(base_url="http://127.0.0.1:8100/api/v4")
    with pytest.raises(UntrustedHost):
        check_token_host("127.0.0.1:8100", half)


def no_api(source: TokenSource) -> WrikeClient:
    raise AssertionError("this login must not reach Wrike's API")


def test_authorize_url_joins_scopes_with_commas(settings: Settings, store: TokenStore) -> None:
    flow = LoginFlow(settings, ["wsReadOnly", "amReadOnlyAuditLog"], store, open_client=no_api)
    url = flow.authorization_url()
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://login.wrike.com/oauth2/authorize/v4"
    query = parse_qs(parts.query)
    assert query["scope"] == ["wsReadOnly,amReadOnlyAuditLog"]
    assert query["client_id"] == ["test-client"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://localhost:8765/callback"]
    assert len(query["state"][0]) >= 32
    assert CANARY_SECRET not in url
    assert LoginFlow(settings, ["wsReadOnly"], store, open_client=no_api).state != flow.state


async def test_login_checks_state_and_errors(settings: Settings, store: TokenStore, store_path: Path) -> None:
    flow = LoginFlow(settings, ["wsReadOnly"], store, open_client=no_api)
    cb = "http://localhost:8765/callback"
    with pytest.raises(LoginError, match="`state` does not match"):
        await flow.complete(f"{cb}?code=abc&state=forged")
    with pytest.raises(LoginError, match="`state` does not match"):
        await flow.complete(f"{cb}?code=abc")
    with pytest.raises(LoginError, match="access was denied"):
        await flow.complete(f"{cb}?error=access_denied&state={flow.state}")
    with pytest.raises(LoginError, match="no `code`"):
        await flow.complete(f"{cb}?state={flow.state}")
    with pytest.raises(LoginError, match="not the redirected URL"):
        await flow.complete("hello")
    assert snapshot(store_path) is None


async def test_login_refuses_untrusted_host_and_sends_it_nothing(
    settings: Settings, store: TokenStore, store_path: Path, endpoint: TokenEndpoint
) -> None:
    endpoint.extra = {"host": "evil.example"}
    api_requests: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        api_requests.append(request)
        return httpx.Response(500)

    flow = LoginFlow(
        settings,
        ["wsReadOnly"],
        store,
        open_client=partial(client_from_settings, settings, transport=httpx.MockTransport(api)),
        oauth_transport=httpx2.MockTransport(endpoint),
    )
    with pytest.raises(UntrustedHost):
        await flow.complete(f"http://localhost:8765/callback?code=abc&state={flow.state}")
    assert api_requests == []
    assert snapshot(store_path) is None
    assert endpoint.requests[0] == {
        "grant_type": "authorization_code",
        "code": "abc",
        "redirect_uri": "http://localhost:8765/callback",
        "client_id": "test-client",
        "client_secret": CANARY_SECRET,
    }


async def test_login_with_rejected_code(settings: Settings, store: TokenStore, store_path: Path) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(400, json={"error": "invalid_grant", "error_description": "code expired"})

    flow = LoginFlow(
        settings, ["wsReadOnly"], store, open_client=no_api, oauth_transport=httpx2.MockTransport(handler)
    )
    with pytest.raises(LoginError, match="refused the authorization code \\(invalid_grant\\)"):
        await flow.complete(f"http://localhost:8765/callback?code=abc&state={flow.state}")
    assert snapshot(store_path) is None


async def test_no_canary_in_logs_or_errors(
    settings: Settings,
    store: TokenStore,
    endpoint: TokenEndpoint,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    source = make_source(settings, store, endpoint, clock)
    texts.append(repr(source))
    texts.append(repr(await source.get_token()))
    texts.append(repr(store.current("https://login.wrike.com")))
    # the server quotes the secret and the refresh token back in its error description
    endpoint.fail_with = lambda: httpx2.Response(
        400,
        json={"error": "invalid_client", "error_description": f"bad {CANARY_SECRET} for {CANARY_REFRESH}-1"},
    )
    token = await source.get_token()
    with pytest.raises(Exception) as info:
        await source.refresh_after_401(token)
    texts += [str(info.value), repr(info.value)]
    endpoint.fail_with = None
    endpoint.valid_refresh.clear()
    with pytest.raises(AuthorizationExpired) as expired:
        await source.refresh_after_401(token)
    texts += [str(expired.value), repr(expired.value)]
    texts += [record.getMessage() for record in caplog.records]
    everything = "\n".join(texts)
    assert caplog.records  # the refresh was logged...
    for canary in (CANARY_ACCESS, CANARY_REFRESH, CANARY_SECRET):
        assert canary not in everything  # ...without any secret


async def test_invalid_grant_after_another_process_rotated_is_not_a_logout(
    settings: Settings, store: TokenStore, endpoint: TokenEndpoint, clock: Clock
) -> None:
    source = make_source(settings, store, endpoint, clock)
    rotated = expired_grant(clock).model_copy(
        update={"access_token": "theirs", "refresh_token": "their-refresh", "expires_at": clock.now + 3600}
    )

    async def race(request: httpx2.Request) -> httpx2.Response:
        # the other process wins the race: it spends our refresh token and saves its result first
        store.save(rotated)
        return httpx2.Response(400, json={"error": "invalid_grant"})

    source._transport = httpx2.MockTransport(race)
    assert (await source.get_token()).value == "theirs"


async def test_logout_elsewhere_is_not_undone_by_a_refresh(
    settings: Settings, store: TokenStore, store_path: Path, endpoint: TokenEndpoint, clock: Clock
) -> None:
    source = make_source(settings, store, endpoint, clock)
    store.delete("ACC1@app-eu.wrike.com")  # `wrike-mcp auth logout` in another process
    with pytest.raises(AuthorizationExpired, match="logged out"):
        await source.get_token()
    with pytest.raises(AuthorizationExpired):
        await source.get_token()
    assert endpoint.requests == [] and snapshot(store_path) is None
