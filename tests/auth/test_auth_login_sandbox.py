"""The whole OAuth story against the real sandbox on a loopback port: login (local listener over http and
https, and --no-browser), stored tokens used for API calls, expiry and single-flight refresh, revocation,
transient token-endpoint failures, and canary secrets kept out of every output."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.types import CallToolResult
from pydantic import SecretStr

from wrike_mcp.auth import (
    AuthorizationExpired,
    OAuthTokenSource,
    TokenRefreshUnavailable,
    TokenStore,
    granted_scopes,
    token_source_from_settings,
)
from wrike_mcp.auth_commands import run_auth_command
from wrike_mcp.config import Settings
from wrike_mcp.runtime import client_from_settings
from wrike_mcp.sandbox import SandboxConfig
from wrike_mcp.sandbox.serve import BackgroundSandbox
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext

CLIENT_SECRET = "sandbox-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., BackgroundSandbox]]:
    started: list[BackgroundSandbox] = []

    def start(token_ttl: int = 3600) -> BackgroundSandbox:
        sandbox = BackgroundSandbox(SandboxConfig(token_ttl=token_ttl)).start()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., BackgroundSandbox]) -> BackgroundSandbox:
    return start_sandbox()


def settings_for(sandbox: BackgroundSandbox, scheme: str = "http", **extra: Any) -> Settings:
    return Settings(
        client_id="sandbox-client",
        client_secret=CLIENT_SECRET,
        login_url=sandbox.base_url,
        base_url=sandbox.api_url,
        redirect_uri=f"{scheme}://localhost:{free_port()}/callback",
        **extra,
    )


def login_args(no_browser: bool = False, scopes: str | None = None) -> argparse.Namespace:
    return argparse.Namespace(command="auth", auth_command="login", no_browser=no_browser, scopes=scopes)


def command(name: str) -> argparse.Namespace:
    return argparse.Namespace(command="auth", auth_command=name)


class FakeBrowser:
    """`webbrowser.open`: in a thread, like a real browser, GET the authorize URL and follow the 302 into the
    local listener (accepting its self-signed certificate, as the user is told to)."""

    def __init__(self) -> None:
        self.final: httpx.Response | None = None
        self.thread: threading.Thread | None = None

    def __call__(self, url: str) -> bool:
        def visit() -> None:
            self.final = httpx.get(url, follow_redirects=True, verify=False, timeout=10)

        self.thread = threading.Thread(target=visit, daemon=True)
        self.thread.start()
        return True


class PastingUser(io.StringIO):
    """stdin for --no-browser: reads the printed authorize URL, visits it, pastes where it was sent."""

    def __init__(self, printed: Callable[[], str], tamper: Callable[[str], str] = lambda url: url) -> None:
        super().__init__()
        self.printed = printed
        self.tamper = tamper

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]  # typeshed: _IOBase says bytes
        url = re.search(r"https?://\S+/oauth2/authorize/v4\S*", self.printed())
        assert url, "the authorize URL was not printed"
        answer = httpx.get(url.group(0), follow_redirects=False, timeout=10)
        assert answer.status_code == 302
        return self.tamper(answer.headers["location"]) + "\n"


def snapshot(path: Path) -> bytes:
    return path.read_bytes()


def requests_log(sandbox: BackgroundSandbox) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{sandbox.base_url}/_sandbox/requests").json()
    return entries


def token_requests(sandbox: BackgroundSandbox, grant_type: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in requests_log(sandbox)
        if entry["method"] == "POST"
        and entry["path"] == "/oauth2/token"
        and (entry.get("body") or {}).get("grant_type") == grant_type
    ]


def control(sandbox: BackgroundSandbox, path: str, body: dict[str, Any]) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/{path}", json=body).raise_for_status()


async def whoami(settings: Settings, source: Any | None = None) -> dict[str, Any]:
    source = source or token_source_from_settings(settings)
    async with client_from_settings(settings, source) as client:
        return await client.get_one("/contacts", {"me": True})


def login(settings: Settings) -> None:
    """A --no-browser login, quietly."""
    out = io.StringIO()
    code = run_auth_command(login_args(no_browser=True), settings, out=out, stdin=PastingUser(out.getvalue))
    assert code == 0, out.getvalue()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_login_with_local_listener(
    sandbox: BackgroundSandbox, scheme: str, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(sandbox, scheme)
    browser = FakeBrowser()
    assert (
        run_auth_command(login_args(scopes="wsReadOnly,amReadOnlyAuditLog"), settings, open_browser=browser)
        == 0
    )
    assert browser.thread is not None
    browser.thread.join(5)
    assert browser.final is not None and browser.final.status_code == 200
    assert str(browser.final.url).startswith(f"{scheme}://localhost:")
    out = capsys.readouterr().out
    assert "Logged in as Ann Lee" in out
    assert "amReadOnlyAuditLog, wsReadOnly" in out
    assert f"host {sandbox.host}:{sandbox.port}" in out and "expires at" in out
    assert ("self-signed" in out and "fingerprint" in out) == (scheme == "https")
    # the scope went out comma-separated, and the code exchange used the same redirect URI
    authorize = next(e for e in requests_log(sandbox) if e["path"] == "/oauth2/authorize/v4")
    assert authorize["query"]["scope"] == "wsReadOnly,amReadOnlyAuditLog"
    assert len(token_requests(sandbox, "authorization_code")) == 1

    grant = TokenStore.from_settings(settings).current(settings.login_url)
    assert grant is not None and grant.user and grant.user["name"] == "Ann Lee"
    assert grant.account and grant.account["id"]
    assert grant.key == f"{grant.account['id']}@{sandbox.host}:{sandbox.port}"
    source = token_source_from_settings(settings)
    assert isinstance(source, OAuthTokenSource)
    assert source.granted_scopes == frozenset({"wsReadOnly", "amReadOnlyAuditLog"})
    me = asyncio.run(whoami(settings, source))
    assert me["firstName"] == "Ann"


def test_login_no_browser_then_status_and_logout(
    sandbox: BackgroundSandbox, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(sandbox)
    printed: list[str] = []

    def so_far() -> str:
        printed.append(capsys.readouterr().out)
        return "".join(printed)

    assert run_auth_command(login_args(no_browser=True), settings, stdin=PastingUser(so_far)) == 0
    out = so_far()
    assert "Paste the full address" in out and "Logged in as Ann Lee" in out
    assert "wsReadWrite" in out  # the default request
    assert store_path.exists()
    assert asyncio.run(whoami(settings))["lastName"] == "Lee"

    assert run_auth_command(command("status"), settings) == 0
    status = capsys.readouterr().out
    assert "Logged in as Ann Lee" in status and "scopes:    wsReadWrite" in status
    assert f"file {store_path}" in status

    assert run_auth_command(command("logout"), settings) == 0
    assert "tokens deleted" in capsys.readouterr().out
    assert not store_path.exists()
    assert run_auth_command(command("status"), settings) == 1
    assert "not logged in; run `wrike-mcp auth login`" in capsys.readouterr().out


def test_state_mismatch_and_denied_store_nothing(
    sandbox: BackgroundSandbox, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(sandbox)
    forged = PastingUser(
        lambda: capsys.readouterr().out, tamper=lambda url: re.sub(r"state=[^&]+", "state=x", url)
    )
    assert run_auth_command(login_args(no_browser=True), settings, stdin=forged) == 1
    assert "`state` does not match" in capsys.readouterr().err
    denied = PastingUser(
        lambda: capsys.readouterr().out,
        tamper=lambda url: re.sub(r"code=[^&]+", "error=access_denied", url),
    )
    assert run_auth_command(login_args(no_browser=True), settings, stdin=denied) == 1
    assert "access was denied" in capsys.readouterr().err
    assert not store_path.exists()
    assert token_requests(sandbox, "authorization_code") == []


def test_expired_token_twenty_concurrent_calls_one_refresh(
    start_sandbox: Callable[..., BackgroundSandbox], store_path: Path
) -> None:
    sandbox = start_sandbox(token_ttl=2)
    settings = settings_for(sandbox)
    login(settings)
    before = TokenStore.from_settings(settings).current(settings.login_url)
    assert before is not None
    time.sleep(2.1)  # the access token is now expired on both sides

    async def twenty() -> list[dict[str, Any]]:
        source = token_source_from_settings(settings)
        async with client_from_settings(settings, source) as client:
            return await asyncio.gather(*(client.get_one("/contacts", {"me": True}) for _ in range(20)))

    results = asyncio.run(twenty())
    assert [r["firstName"] for r in results] == ["Ann"] * 20
    assert len(token_requests(sandbox, "refresh_token")) == 1
    api_calls = [e for e in requests_log(sandbox) if e["path"].startswith("/api/v4/contacts")]
    assert all(e["status"] == 200 for e in api_calls)
    after = TokenStore.from_settings(settings).current(settings.login_url)
    assert after is not None and after.refresh_token != before.refresh_token  # the rotated one was saved


def test_rejected_token_twenty_concurrent_401s_one_refresh(
    sandbox: BackgroundSandbox, store_path: Path
) -> None:
    settings = settings_for(sandbox)
    login(settings)
    control(sandbox, "clock", {"advance": 4000})  # the sandbox now sees the token as expired; we do not

    async def twenty() -> list[dict[str, Any]]:
        source = token_source_from_settings(settings)
        async with client_from_settings(settings, source) as client:
            return await asyncio.gather(*(client.get_one("/contacts", {"me": True}) for _ in range(20)))

    assert len(asyncio.run(twenty())) == 20
    assert len(token_requests(sandbox, "refresh_token")) == 1
    statuses = [e["status"] for e in requests_log(sandbox) if e["path"].startswith("/api/v4/")]
    assert statuses.count(401) == 20 and statuses.count(200) == 20 + 2  # 2: the login's who-am-i


def test_revoked_refresh_token_needs_a_new_login(sandbox: BackgroundSandbox, store_path: Path) -> None:
    settings = settings_for(sandbox)
    login(settings)
    grant = TokenStore.from_settings(settings).current(settings.login_url)
    assert grant is not None
    control(
        sandbox, "revoke", {"refresh_token": grant.refresh_token}
    )  # revokes the grant's access tokens too
    before = store_path.read_bytes()

    async def calls() -> list[BaseException]:
        source = token_source_from_settings(settings)
        errors: list[BaseException] = []
        async with client_from_settings(settings, source) as client:
            for _ in range(3):
                with pytest.raises(AuthorizationExpired) as info:
                    await client.get("/contacts", {"me": True})
                errors.append(info.value)
        return errors

    errors = asyncio.run(calls())
    assert all(str(e) == "authorization expired or revoked: run `wrike-mcp auth login`" for e in errors)
    assert len(token_requests(sandbox, "refresh_token")) == 1  # refused once, then no more tries
    assert store_path.read_bytes() == before
    login(settings)  # a new login works again
    assert asyncio.run(whoami(settings))["firstName"] == "Ann"


def test_transient_token_endpoint_failure_keeps_tokens(sandbox: BackgroundSandbox, store_path: Path) -> None:
    settings = settings_for(sandbox)
    login(settings)
    before = store_path.read_bytes()
    control(sandbox, "faults", {"method": "POST", "path": "/oauth2/token", "status": 503, "times": 1})
    control(sandbox, "clock", {"advance": 4000})

    async def two_calls() -> tuple[BaseException, dict[str, Any]]:
        source = token_source_from_settings(settings)
        async with client_from_settings(settings, source) as client:
            with pytest.raises(TokenRefreshUnavailable) as info:
                await client.get_one("/contacts", {"me": True})
            assert snapshot(store_path) == before
            return info.value, await client.get_one("/contacts", {"me": True})

    error, me = asyncio.run(two_calls())
    assert "HTTP 503" in str(error) and "unchanged" in str(error)
    assert me["firstName"] == "Ann"
    assert len(token_requests(sandbox, "refresh_token")) == 2
    assert store_path.read_bytes() != before  # the successful refresh saved the rotated tokens


def test_no_secret_in_any_output(
    start_sandbox: Callable[..., BackgroundSandbox],
    store_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox = start_sandbox()
    settings = settings_for(sandbox)
    seen: list[str] = []
    secrets: set[str] = {CLIENT_SECRET}

    def remember() -> None:
        grant = TokenStore.from_settings(settings).current(settings.login_url)
        if grant is not None:
            secrets.update({grant.access_token, grant.refresh_token or ""} - {""})

    def output() -> str:
        captured = capsys.readouterr()
        seen.extend([captured.out, captured.err])
        return "".join(seen)

    assert run_auth_command(login_args(no_browser=True), settings, stdin=PastingUser(output)) == 0
    remember()
    assert run_auth_command(command("status"), settings) == 0
    control(sandbox, "clock", {"advance": 4000})
    asyncio.run(whoami(settings))  # refresh after a 401
    remember()
    control(sandbox, "faults", {"method": "POST", "path": "/oauth2/token", "status": 503, "times": 1})
    control(sandbox, "clock", {"advance": 4000})
    with pytest.raises(TokenRefreshUnavailable) as transient:
        asyncio.run(whoami(settings))
    seen += [str(transient.value), repr(transient.value)]
    grant = TokenStore.from_settings(settings).current(settings.login_url)
    assert grant is not None
    control(sandbox, "revoke", {"refresh_token": grant.refresh_token})
    with pytest.raises(AuthorizationExpired) as expired:
        asyncio.run(whoami(settings))
    seen += [str(expired.value), repr(expired.value)]
    assert run_auth_command(command("status"), settings) == 0
    assert run_auth_command(command("logout"), settings) == 0
    assert run_auth_command(command("status"), settings) == 1
    output()
    seen += [
        record.getMessage() + str(record.exc_info or "")
        for record in caplog.records
        if not record.name.startswith(("wrike_mcp.sandbox", "uvicorn"))
    ]
    everything = "\n".join(seen)
    assert "Logged in as Ann Lee" in everything and "refreshing" in everything
    assert len(secrets) >= 5  # client secret, two access and two refresh tokens
    for secret in secrets:
        assert secret not in everything


# ---- the app's own credentials refused (unauthorized_client), and refresh answers that leave fields out ----


def test_wrong_client_secret_at_login_says_to_check_the_secret(
    sandbox: BackgroundSandbox, store_path: Path
) -> None:
    settings = settings_for(sandbox).model_copy(update={"client_secret": SecretStr("not-the-apps-secret")})
    out, err = io.StringIO(), io.StringIO()
    code = run_auth_command(
        login_args(no_browser=True), settings, out=out, err=err, stdin=PastingUser(out.getvalue)
    )
    message = err.getvalue()
    assert code == 1 and "unauthorized_client" in message
    assert "WRIKE_CLIENT_SECRET" in message and "registered in Wrike" in message
    assert "auth login" not in message and "again" not in message  # a new login would fail the same way
    assert "not-the-apps-secret" not in message + out.getvalue()
    assert not store_path.exists()


def test_wrong_client_secret_at_refresh_is_a_tool_error_that_keeps_the_login(
    sandbox: BackgroundSandbox, store_path: Path
) -> None:
    settings = settings_for(sandbox)
    login(settings)
    before = store_path.read_bytes()
    control(sandbox, "clock", {"advance": 4000})  # the access token has expired: the next call refreshes
    wrong = settings.model_copy(update={"client_secret": SecretStr("not-the-apps-secret")})

    async def get_me(with_settings: Settings) -> CallToolResult:
        source = token_source_from_settings(with_settings)
        async with client_from_settings(with_settings, source) as client:
            context = WrikeContext(with_settings, client, granted_scopes=granted_scopes(source), mode="oauth")
            server = create_server(with_settings, StaticContext(context))
            async with Client(server) as mcp:
                return await mcp.call_tool("get_me", {})

    refused = asyncio.run(get_me(wrong))
    message = " ".join(block.text for block in refused.content if block.type == "text")
    assert refused.is_error and "unauthorized_client" in message and "WRIKE_CLIENT_SECRET" in message
    assert "auth login" not in message and "revoked" not in message
    assert store_path.read_bytes() == before  # the grant is kept...
    fixed = asyncio.run(get_me(settings))  # ...so fixing the secret (and restarting) is all it takes
    assert not fixed.is_error, fixed.content


def test_refresh_answer_without_scope_or_refresh_token_keeps_both(
    sandbox: BackgroundSandbox, store_path: Path
) -> None:
    settings = settings_for(sandbox)
    out = io.StringIO()
    args = login_args(no_browser=True, scopes="wsReadOnly")
    assert run_auth_command(args, settings, out=out, stdin=PastingUser(out.getvalue)) == 0
    first = TokenStore.from_settings(settings).current(settings.login_url)
    assert first is not None and first.scopes == ["wsReadOnly"]
    control(sandbox, "oauth", {"refresh_omits": ["scope", "refresh_token"]})
    for _ in range(2):  # the second refresh works only if the first kept the refresh token
        control(sandbox, "clock", {"advance": 4000})
        assert asyncio.run(whoami(settings))["firstName"] == "Ann"
    refreshes = token_requests(sandbox, "refresh_token")
    assert [entry["status"] for entry in refreshes] == [200, 200]
    kept = TokenStore.from_settings(settings).current(settings.login_url)
    assert kept is not None and kept.access_token != first.access_token
    assert kept.refresh_token == first.refresh_token and kept.scopes == ["wsReadOnly"]
