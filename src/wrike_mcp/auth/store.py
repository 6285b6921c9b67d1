"""Where OAuth grants live between runs: the OS keyring when a usable one exists, else a 0600 JSON file.

A grant (access token, refresh token, expiry, API host, scopes, who it belongs to) is stored per account and
API host (`<accountId>@<host>`), and an index remembers which grant is current for each login server, so a
sandbox login never shadows a real one.

Backend choice, in order:
- `WRIKE_MCP_KEYRING=0` (or `false`/`no`/`off`) forces the file; tests set it together with
  `WRIKE_MCP_TOKEN_STORE=<tmp path>`. `WRIKE_MCP_KEYRING=1` requires a usable keyring.
- otherwise the keyring when `keyring.get_keyring()` is a real backend (not `fail`, `null`, or a chainer
  with nothing behind it), else the file: `WRIKE_MCP_TOKEN_STORE`, default
  `platformdirs.user_config_dir("wrike-mcp")/tokens.json`.

The file is replaced atomically (0600 temp file in the same directory, fsync, `os.replace`, fsync of the
directory), so a crash mid-write leaves the previous file in place. It is not encrypted: an encryption key
kept beside it would add nothing, which is why the keyring is preferred.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wrike_mcp.auth.errors import TokenStoreError
from wrike_mcp.config import Settings

log = logging.getLogger(__name__)

KEYRING_SERVICE = "wrike-mcp"
KEYRING_ENV = "WRIKE_MCP_KEYRING"
FILE_VERSION = 1
INDEX = "index"


class Grant(BaseModel):
    """One OAuth grant as stored. Token fields are hidden from `repr`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    access_token: str = Field(repr=False, min_length=1)
    refresh_token: str | None = Field(default=None, repr=False)
    token_type: str = "bearer"  # noqa: S105 - the token kind, not a secret
    expires_at: float | None = None  # epoch seconds; None: unknown, treated as never expiring
    lifetime: float | None = None  # the `expires_in` it came with, to size the refresh margin
    host: str  # API host from the token response, already checked against the allow-list
    scopes: list[str] | None = None  # granted scopes; None: unknown
    login_url: str
    client_id: str | None = None
    user: dict[str, str] | None = None  # {"id", "name", "email"}
    account: dict[str, str] | None = None  # {"id", "name"}
    obtained_at: float = Field(default_factory=time.time)

    @property
    def key(self) -> str:
        account_id = (self.account or {}).get("id") or "unknown"
        return f"{account_id}@{self.host}"


class Index(BaseModel):
    model_config = ConfigDict(extra="ignore")

    current: dict[str, str] = Field(default_factory=dict)  # login URL -> grant key
    keys: list[str] = Field(default_factory=list)


class StoreBackend(Protocol):
    """A tiny key-value store of JSON objects."""

    description: str
    fix_hint: str  # how to get out of a corrupted store

    def read(self, name: str) -> dict[str, Any] | None: ...

    def update(self, changes: Mapping[str, dict[str, Any] | None]) -> None:
        """Set (dict) or delete (None) several names at once, as atomically as the backend allows."""
        ...

    def clear(self) -> None:
        """Remove everything, including data that cannot be parsed."""
        ...


def default_store_path() -> Path:
    return Path(platformdirs.user_config_dir("wrike-mcp")) / "tokens.json"


class FileBackend:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"file {path} (mode 0600)"
        self.fix_hint = f"delete {path} or run `wrike-mcp auth logout`"

    def _corrupted(self, reason: str) -> TokenStoreError:
        return TokenStoreError(f"token store {self.path} is corrupted ({reason}): {self.fix_hint}")

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
            mode = stat.S_IMODE(self.path.stat().st_mode)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise TokenStoreError(f"cannot read token store {self.path}: {exc.strerror}") from None
        if mode & 0o077:
            # someone loosened it; tokens must not stay readable by others
            log.warning("token store %s had mode %o; setting it to 0600", self.path, mode)
            with contextlib.suppress(OSError):
                os.chmod(self.path, 0o600)
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            # the exception text may quote file content: keep it out of the message
            raise self._corrupted("not valid JSON") from None
        if not isinstance(doc, dict) or doc.get("version") != FILE_VERSION:
            raise self._corrupted(f"expected a JSON object with version {FILE_VERSION}")
        entries = doc.get("entries")
        if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
            raise self._corrupted("bad `entries`")
        return entries

    def read(self, name: str) -> dict[str, Any] | None:
        return self._load().get(name)

    def update(self, changes: Mapping[str, dict[str, Any] | None]) -> None:
        entries = self._load()
        for name, value in changes.items():
            if value is None:
                entries.pop(name, None)
            else:
                entries[name] = value
        if entries:
            self._write({"version": FILE_VERSION, "entries": entries})
        else:
            self.clear()

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _write(self, doc: dict[str, Any]) -> None:
        directory = self.path.parent
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            # mkstemp creates the file 0600 whatever the umask, so the tokens are never readable by others
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise TokenStoreError(f"cannot write token store {self.path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)  # atomic: readers see the old file or the new one, never half
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise TokenStoreError(f"cannot write token store {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class KeyringBackend:
    """One keyring item per name (grants stay small, under Windows' credential size limit)."""

    def __init__(self) -> None:
        import keyring

        self._keyring = keyring
        self.description = f"OS keyring ({type(keyring.get_keyring()).__name__}, service {KEYRING_SERVICE!r})"
        self.fix_hint = "run `wrike-mcp auth logout`"

    def read(self, name: str) -> dict[str, Any] | None:
        from keyring.errors import KeyringError

        try:
            raw = self._keyring.get_password(KEYRING_SERVICE, name)
        except KeyringError as exc:
            raise TokenStoreError(f"cannot read the OS keyring: {type(exc).__name__}") from None
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise TokenStoreError(f"keyring item {KEYRING_SERVICE}/{name} is corrupted: {self.fix_hint}")
        return value

    def update(self, changes: Mapping[str, dict[str, Any] | None]) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            for name, value in changes.items():
                if value is None:
                    with contextlib.suppress(PasswordDeleteError):
                        self._keyring.delete_password(KEYRING_SERVICE, name)
                else:
                    self._keyring.set_password(KEYRING_SERVICE, name, json.dumps(value))
        except KeyringError as exc:
            raise TokenStoreError(f"cannot write the OS keyring: {type(exc).__name__}") from None

    def clear(self) -> None:
        from keyring.errors import KeyringError, PasswordDeleteError

        names = [INDEX]
        with contextlib.suppress(TokenStoreError, ValidationError):
            names += [_grant_name(key) for key in Index.model_validate(self.read(INDEX) or {}).keys]
        for name in names:
            with contextlib.suppress(PasswordDeleteError, KeyringError):
                self._keyring.delete_password(KEYRING_SERVICE, name)


def keyring_usable() -> bool:
    """True when `keyring` has a backend that really stores secrets."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return False
        if isinstance(backend, chainer.ChainerBackend):
            return bool(backend.backends)
        return float(backend.priority) > 0
    except Exception:  # any import or probing failure means: not usable
        return False


def backend_from_settings(settings: Settings, *, use_keyring: bool | None = None) -> StoreBackend:
    """Pick the backend; `use_keyring` (or WRIKE_MCP_KEYRING) overrides the automatic choice."""
    if use_keyring is None:
        flag = os.environ.get(KEYRING_ENV, "").strip().lower()
        if flag in {"0", "false", "no", "off"}:
            use_keyring = False
        elif flag in {"1", "true", "yes", "on"}:
            use_keyring = True
    if use_keyring is None:
        use_keyring = keyring_usable()
    elif use_keyring and not keyring_usable():
        raise TokenStoreError(f"{KEYRING_ENV}=1 but no usable OS keyring backend was found")
    if use_keyring:
        return KeyringBackend()
    return FileBackend(settings.token_store or default_store_path())


def _grant_name(key: str) -> str:
    return f"grant:{key}"


def normalize_login_url(url: str) -> str:
    return url.rstrip("/").lower()


class TokenStore:
    """Grants by key, and the current grant per login server. Thread-safe within one process."""

    def __init__(self, backend: StoreBackend) -> None:
        self.backend = backend
        self._lock = threading.Lock()  # read-modify-write of the index must not interleave

    @classmethod
    def from_settings(cls, settings: Settings, *, use_keyring: bool | None = None) -> TokenStore:
        return cls(backend_from_settings(settings, use_keyring=use_keyring))

    @property
    def description(self) -> str:
        return self.backend.description

    def _index(self) -> Index:
        raw = self.backend.read(INDEX)
        try:
            return Index.model_validate(raw or {})
        except ValidationError:
            raise TokenStoreError(f"token store index is corrupted: {self.backend.fix_hint}") from None

    def load(self, key: str) -> Grant | None:
        raw = self.backend.read(_grant_name(key))
        if raw is None:
            return None
        try:
            return Grant.model_validate(raw)
        except ValidationError as exc:
            # name the bad fields only: pydantic's message would quote the (secret) values
            fields = ", ".join(sorted({".".join(map(str, e["loc"])) for e in exc.errors()}))
            raise TokenStoreError(
                f"stored grant {key} is corrupted (bad {fields}): {self.backend.fix_hint}"
            ) from None

    def current(self, login_url: str) -> Grant | None:
        """The grant `auth login` last stored for this login server, if any."""
        key = self._index().current.get(normalize_login_url(login_url))
        return self.load(key) if key else None

    def save(self, grant: Grant, *, make_current: bool = True) -> None:
        with self._lock:
            index = self._index()
            if grant.key not in index.keys:
                index.keys.append(grant.key)
            if make_current:
                index.current[normalize_login_url(grant.login_url)] = grant.key
            self.backend.update(
                {_grant_name(grant.key): grant.model_dump(mode="json"), INDEX: index.model_dump(mode="json")}
            )

    def delete(self, key: str) -> None:
        with self._lock:
            index = self._index()
            index.keys = [k for k in index.keys if k != key]
            index.current = {url: k for url, k in index.current.items() if k != key}
            changes: dict[str, dict[str, Any] | None] = {_grant_name(key): None}
            changes[INDEX] = index.model_dump(mode="json") if index.keys else None
            self.backend.update(changes)

    def clear(self) -> None:
        """Remove every grant, even from a store too corrupted to parse."""
        with self._lock:
            self.backend.clear()
