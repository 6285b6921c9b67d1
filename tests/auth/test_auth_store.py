"""The token store: file mode, atomic replace, corruption handling, backend choice."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest

from tests.auth.auth_helpers import CANARY_ACCESS, CANARY_REFRESH
from wrike_mcp.auth.errors import TokenStoreError
from wrike_mcp.auth.store import FileBackend, Grant, KeyringBackend, TokenStore, backend_from_settings
from wrike_mcp.auth_commands import run_auth_command
from wrike_mcp.config import Settings


def make_grant(access: str = CANARY_ACCESS, refresh: str = CANARY_REFRESH, account: str = "ACC1") -> Grant:
    return Grant(
        access_token=access,
        refresh_token=refresh,
        expires_at=2_000_000_000.0,
        lifetime=3600,
        host="www.wrike.com",
        scopes=["wsReadWrite"],
        login_url="https://login.wrike.com",
        user={"id": "U1", "name": "Ann Lee", "email": "ann@example.com"},
        account={"id": account, "name": "Acme"},
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_and_mode_0600(store: TokenStore, store_path: Path) -> None:
    assert isinstance(store.backend, FileBackend)
    assert store.current("https://login.wrike.com") is None
    store.save(make_grant())
    assert mode(store_path) == 0o600
    assert mode(store_path.parent) == 0o700
    loaded = store.current("https://login.wrike.com/")
    assert loaded == make_grant().model_copy(update={"obtained_at": loaded.obtained_at}) if loaded else False
    assert CANARY_ACCESS not in repr(loaded)
    # per account+host, with a current pointer per login server
    store.save(make_grant(access="other", account="ACC2"))
    current = store.current("https://login.wrike.com")
    assert current is not None and current.key == "ACC2@www.wrike.com"
    assert store.load("ACC1@www.wrike.com") is not None
    assert store.current("http://127.0.0.1:9") is None


def test_mode_0600_even_with_umask_000(store: TokenStore, store_path: Path) -> None:
    old = os.umask(0)
    try:
        store.save(make_grant())
        store.save(make_grant(access="second"))
    finally:
        os.umask(old)
    assert mode(store_path) == 0o600


def test_loosened_mode_is_tightened(store: TokenStore, store_path: Path) -> None:
    store.save(make_grant())
    os.chmod(store_path, 0o644)
    assert store.current("https://login.wrike.com") is not None
    assert mode(store_path) == 0o600


def test_crash_between_write_and_rename_keeps_previous(
    store: TokenStore, store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(make_grant())
    before = store_path.read_bytes()

    def crash(src: Any, dst: Any) -> None:
        raise OSError(5, "simulated crash")

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash)
        with pytest.raises(TokenStoreError, match="cannot write token store"):
            store.save(make_grant(access="new-access", refresh="new-refresh"))
    assert store_path.read_bytes() == before
    current = TokenStore.from_settings(Settings()).current("https://login.wrike.com")
    assert current is not None and current.access_token == CANARY_ACCESS
    assert sorted(p.name for p in store_path.parent.iterdir()) == ["tokens.json"]  # no stray temp file


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe", b"[]", b'{"version": 99}', b'{"version": 1, "entries": []}'],
)
def test_corrupted_file_is_a_clear_error(store: TokenStore, store_path: Path, content: bytes) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(content)
    with pytest.raises(TokenStoreError) as info:
        store.current("https://login.wrike.com")
    message = str(info.value)
    assert str(store_path) in message and "corrupted" in message
    assert f"delete {store_path}" in message and "wrike-mcp auth logout" in message


def test_corrupted_grant_does_not_quote_values(store: TokenStore, store_path: Path) -> None:
    store.save(make_grant())
    text = store_path.read_text().replace("2000000000.0", f'"{CANARY_REFRESH}x"')
    store_path.write_text(text)
    with pytest.raises(TokenStoreError) as info:
        store.current("https://login.wrike.com")
    assert "expires_at" in str(info.value)
    assert CANARY_REFRESH not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_logout_removes_a_corrupted_store(
    settings: Settings, store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_text("garbage")
    status = run_auth_command(argparse.Namespace(auth_command="status"), settings)
    assert status == 1
    assert "corrupted" in capsys.readouterr().err
    assert run_auth_command(argparse.Namespace(auth_command="logout"), settings) == 0
    assert not store_path.exists()
    assert run_auth_command(argparse.Namespace(auth_command="status"), settings) == 1
    assert "not logged in; run `wrike-mcp auth login`" in capsys.readouterr().out


def test_delete_last_grant_removes_file(store: TokenStore, store_path: Path) -> None:
    store.save(make_grant())
    store.delete("ACC1@www.wrike.com")
    assert not store_path.exists()


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring is untyped
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.items:
            raise PasswordDeleteError(username)
        del self.items[(service, username)]


@pytest.fixture
def memory_keyring() -> Any:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_backend_choice(settings: Settings, monkeypatch: pytest.MonkeyPatch, memory_keyring: Any) -> None:
    assert isinstance(backend_from_settings(settings), FileBackend)  # WRIKE_MCP_KEYRING=0 wins
    monkeypatch.delenv("WRIKE_MCP_KEYRING")
    assert isinstance(backend_from_settings(settings), KeyringBackend)  # a usable keyring is preferred
    assert isinstance(backend_from_settings(settings, use_keyring=False), FileBackend)
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    assert isinstance(backend_from_settings(settings), FileBackend)  # the `fail` backend is not usable
    monkeypatch.setenv("WRIKE_MCP_KEYRING", "1")
    with pytest.raises(TokenStoreError, match="no usable OS keyring"):
        backend_from_settings(settings)


def test_keyring_round_trip(settings: Settings, memory_keyring: MemoryKeyring, store_path: Path) -> None:
    store = TokenStore.from_settings(settings, use_keyring=True)
    store.save(make_grant())
    assert not store_path.exists()
    assert {name for _, name in memory_keyring.items} == {"index", "grant:ACC1@www.wrike.com"}
    current = store.current("https://login.wrike.com")
    assert current is not None and current.refresh_token == CANARY_REFRESH
    memory_keyring.items[("wrike-mcp", "index")] = "nonsense"
    with pytest.raises(TokenStoreError, match="auth logout"):
        store.current("https://login.wrike.com")
    store.clear()  # with the index unreadable, the grant items cannot be found; they are orphaned
    assert ("wrike-mcp", "index") not in memory_keyring.items
    assert store.current("https://login.wrike.com") is None
    store.save(make_grant())
    store.clear()
    assert memory_keyring.items == {}
