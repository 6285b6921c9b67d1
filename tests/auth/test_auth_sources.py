"""Which token source the settings give, and what it says about scopes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.auth.auth_helpers import CANARY_ACCESS
from wrike_mcp.auth import (
    NoCredentialsError,
    OAuthTokenSource,
    PermanentTokenSource,
    TokenStore,
    TokenStoreError,
    granted_scopes,
    token_source_from_settings,
)
from wrike_mcp.auth.store import Grant
from wrike_mcp.cli import main
from wrike_mcp.config import Settings
from wrike_mcp.wrike.tokens import StaticTokenSource


def grant(login_url: str = "https://login.wrike.com") -> Grant:
    return Grant(
        access_token="a", refresh_token="r", host="www.wrike.com", scopes=["wsReadOnly"], login_url=login_url
    )


def test_no_credentials_is_a_clear_error() -> None:
    with pytest.raises(NoCredentialsError) as info:
        token_source_from_settings(Settings())
    message = str(info.value)
    assert "WRIKE_ACCESS_TOKEN" in message and "wrike-mcp auth login" in message and "--sandbox" in message
    with pytest.raises(NoCredentialsError, match="not logged in: run `wrike-mcp auth login`"):
        token_source_from_settings(Settings(client_id="x"))


async def test_permanent_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRIKE_ACCESS_TOKEN", CANARY_ACCESS)
    source = token_source_from_settings(Settings())
    assert isinstance(source, PermanentTokenSource) and isinstance(source, StaticTokenSource)
    assert granted_scopes(source) is None  # unknown: every tool is offered
    assert CANARY_ACCESS not in repr(source)
    token = await source.get_token()
    assert token.value == CANARY_ACCESS and token.host == "www.wrike.com"
    assert await source.refresh_after_401(token) is None
    monkeypatch.setenv("WRIKE_SCOPES", "wsReadOnly,amReadOnlyAuditLog")
    assert granted_scopes(token_source_from_settings(Settings())) == frozenset(
        {"wsReadOnly", "amReadOnlyAuditLog"}
    )


def test_stored_login_wins_for_its_login_server(monkeypatch: pytest.MonkeyPatch, store: TokenStore) -> None:
    monkeypatch.setenv("WRIKE_ACCESS_TOKEN", CANARY_ACCESS)
    store.save(grant())
    # without the app's client id a stored grant could not be refreshed: the permanent token is used
    assert isinstance(token_source_from_settings(Settings()), PermanentTokenSource)
    monkeypatch.setenv("WRIKE_CLIENT_ID", "app-client-id")
    source = token_source_from_settings(Settings())
    assert isinstance(source, OAuthTokenSource)
    assert (
        granted_scopes(source) == frozenset({"wsReadOnly"})
        and source.api_base_url == "https://www.wrike.com/api/v4"
    )
    # a sandbox login server has no stored login: the permanent token is used there
    sandbox = Settings(base_url="http://127.0.0.1:8100/api/v4", login_url="http://127.0.0.1:8100")
    assert isinstance(token_source_from_settings(sandbox), PermanentTokenSource)


def test_corrupted_store(monkeypatch: pytest.MonkeyPatch, store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_text("{")
    with pytest.raises(TokenStoreError, match="corrupted"):
        token_source_from_settings(Settings())
    monkeypatch.setenv("WRIKE_ACCESS_TOKEN", CANARY_ACCESS)
    assert isinstance(token_source_from_settings(Settings()), PermanentTokenSource)


def test_cli_auth_commands(capsys: pytest.CaptureFixture[str], store: TokenStore) -> None:
    assert main(["auth", "status"]) == 1
    assert "not logged in; run `wrike-mcp auth login`" in capsys.readouterr().out
    assert main(["auth", "login", "--no-browser"]) == 1
    assert "set WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET" in capsys.readouterr().err
    assert main(["auth", "logout"]) == 0
    store.save(grant())
    assert main(["auth", "status"]) == 0
    assert "scopes:    wsReadOnly" in capsys.readouterr().out


def test_cli_login_refuses_unknown_scopes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WRIKE_CLIENT_ID", "x")
    monkeypatch.setenv("WRIKE_CLIENT_SECRET", "y")
    assert main(["auth", "login", "--no-browser", "--scopes", "wsReadOnly,everything"]) == 1
    assert "unknown Wrike scope(s): everything" in capsys.readouterr().err
