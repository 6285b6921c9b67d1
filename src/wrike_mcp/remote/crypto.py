"""Encryption at rest for users' Wrike tokens and clients' secrets: Fernet keys with rotation.

`WRIKE_MCP_SECRET_KEY` holds one or more Fernet keys, comma-separated, newest first: the first encrypts,
every one decrypts, so a new key can be put in front while the old one still reads what it wrote. With
SQLite and no key, one is generated into `secret.key` (mode 0600) beside the database; PostgreSQL means
replicas, which must share a key, so there it is required.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_FILE = "secret.key"


class SecretKeyError(Exception):
    """The secret key is missing or unusable (message says what to do)."""


class KeyRing:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise SecretKeyError("no secret key")
        try:
            self._fernets = [Fernet(key) for key in keys]
        except (ValueError, TypeError):
            raise SecretKeyError(
                "WRIKE_MCP_SECRET_KEY must be Fernet keys (32 url-safe base64 bytes), comma-separated; "
                'make one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"'
            ) from None
        self._multi = MultiFernet(self._fernets)
        # Separate keys for signing cookies, derived so an encryption key is never used for two purposes. The
        # newest signs; every one verifies, so during a rotation (`new,old` on some replicas, `old` on others
        # still) a consent form or user cookie signed by one replica is accepted by the other.
        self._signing_keys = [hashlib.sha256(b"wrike-mcp cookie signing\0" + key).digest() for key in keys]
        self.signing_key = self._signing_keys[0]
        # Sealing MCP request state (2026-era multi-round-trip requests, e.g. delete confirmation) with keys
        # every replica shares, so a round trip started on one replica can finish on another.
        self.request_state_keys = [
            hashlib.sha256(b"wrike-mcp request state\0" + key).digest() for key in keys
        ]
        self._derivation_keys = [hashlib.sha256(b"wrike-mcp derived keys\0" + key).digest() for key in keys]

    def derive(self, purpose: str, subject: str) -> bytes:
        """A 32-byte key for one purpose and one subject (e.g. a user's bulk previews): the same on every
        replica sharing the secret key, different for every other purpose or subject. From the newest key:
        what signs."""
        return self.derive_all(purpose, subject)[0]

    def derive_all(self, purpose: str, subject: str) -> tuple[bytes, ...]:
        """`derive` from each configured key, newest first: the first signs, every one verifies, so during a
        rotation (`new,old` on some replicas, `old` on others still) what one replica signed the other takes,
        as for cookies."""
        message = purpose.encode() + b"\0" + subject.encode()
        return tuple(hmac.new(key, message, hashlib.sha256).digest() for key in self._derivation_keys)

    def __repr__(self) -> str:
        return f"KeyRing(<{len(self._fernets)} key(s) hidden>)"

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._multi.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "stored credentials cannot be decrypted with WRIKE_MCP_SECRET_KEY (wrong or dropped key)"
            ) from None

    def is_current(self, ciphertext: str) -> bool:
        """Whether the newest key wrote this (else `rotate` should re-encrypt it)."""
        try:
            self._fernets[0].decrypt(ciphertext.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, ciphertext: str) -> str:
        return self._multi.rotate(ciphertext.encode()).decode()

    def sign(self, value: str) -> str:
        return _signature(self.signing_key, value)

    def verify(self, value: str, signature: str) -> bool:
        # as bytes: compare_digest refuses str holding non-ASCII, and `signature` is whatever a request sent
        given = signature.encode("utf-8", "surrogateescape")
        return any(hmac.compare_digest(_signature(key, value).encode(), given) for key in self._signing_keys)


def _signature(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def parse_keys(text: str) -> list[bytes]:
    return [part.strip().encode() for part in text.split(",") if part.strip()]


def load_keyring(secret_key: str | None, *, sqlite_file: Path | None, is_postgres: bool) -> KeyRing:
    """The configured keys; for SQLite without one, the generated key file beside the database."""
    if secret_key:
        return KeyRing(parse_keys(secret_key))
    if is_postgres or sqlite_file is None:
        raise SecretKeyError(
            "WRIKE_MCP_SECRET_KEY is required with PostgreSQL (every replica must use the same key); "
            'make one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    path = sqlite_file.parent / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key())
    if path.stat().st_mode & 0o077:
        raise SecretKeyError(f"{path} must be readable by its owner only (chmod 600)")
    return KeyRing(parse_keys(path.read_text()))
