"""The secret key's rules a reviewer reads (remote/crypto.py) beyond encryption at rest (test_store.py):
the keys derived for cookies, request state and per-subject keys, which replicas of another release must
derive alike during a rolling upgrade; the command a refused configuration tells the operator to run; where
the generated key file is made."""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from wrike_mcp.remote.crypto import KEY_FILE, KeyRing, SecretKeyError, load_keyring

NEW, OLD = Fernet.generate_key(), Fernet.generate_key()


def derived(label: bytes, key: bytes) -> bytes:
    """The documented derivation: SHA-256 of a purpose label, a NUL and the Fernet key as configured."""
    return hashlib.sha256(label + b"\0" + key).digest()


def test_cookie_signatures_are_the_same_on_every_release_sharing_the_key() -> None:
    ring = KeyRing([NEW, OLD])
    signing = derived(b"wrike-mcp cookie signing", NEW)
    assert ring.signing_key == signing
    assert ring.sign("user:ACC1/USER1") == hmac.new(signing, b"user:ACC1/USER1", hashlib.sha256).hexdigest()
    # a cookie signed before the new key was put in front (by the old key's derived key) still verifies
    signed_by_old = hmac.new(derived(b"wrike-mcp cookie signing", OLD), b"v", hashlib.sha256).hexdigest()
    assert ring.verify("v", signed_by_old)
    assert not KeyRing([NEW]).verify("v", signed_by_old)


def test_request_state_keys_are_one_per_key_newest_first() -> None:
    ring = KeyRing([NEW, OLD])
    assert ring.request_state_keys == [
        derived(b"wrike-mcp request state", NEW),
        derived(b"wrike-mcp request state", OLD),
    ]


def test_derived_keys_depend_on_purpose_subject_and_the_newest_key() -> None:
    ring = KeyRing([NEW, OLD])
    expected = hmac.new(
        derived(b"wrike-mcp derived keys", NEW), b"bulk preview\0ann", hashlib.sha256
    ).digest()
    assert ring.derive("bulk preview", "ann") == expected
    assert KeyRing([NEW]).derive("bulk preview", "ann") == expected  # the older keys play no part
    assert ring.derive("bulk preview", "bob") != expected
    every_key = {ring.signing_key, *ring.request_state_keys, expected, NEW, OLD}
    assert len(every_key) == 6  # no key serves two purposes


def test_derived_keys_are_one_per_key_newest_first() -> None:
    """What a rotation needs: the newest signs (derive), each verifies, so what a replica still on the old key
    signed is read by one on new,old."""

    def from_key(key: bytes) -> bytes:
        return hmac.new(
            derived(b"wrike-mcp derived keys", key), b"bulk preview\0ann", hashlib.sha256
        ).digest()

    ring = KeyRing([NEW, OLD])
    assert ring.derive_all("bulk preview", "ann") == (from_key(NEW), from_key(OLD))
    assert ring.derive("bulk preview", "ann") == from_key(NEW)
    assert KeyRing([OLD]).derive_all("bulk preview", "ann") == (from_key(OLD),)


def test_a_signature_that_is_not_text_is_refused_not_a_crash() -> None:
    ring = KeyRing([NEW])
    assert ring.verify("v", "\udcff" + ring.sign("v")[1:]) is False  # a cookie's undecodable byte
    assert ring.verify("v", "é" * 64) is False


def suggested_command(message: str) -> str:
    found = re.search(r'python -c "([^"]+)"', message)
    assert found is not None, message
    return found.group(1)


def test_the_command_a_refusal_suggests_makes_a_working_key(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError) as bad_key:
        KeyRing([b"not-a-key"])
    with pytest.raises(SecretKeyError) as no_key:
        load_keyring(None, sqlite_file=None, is_postgres=True)
    for refusal in (bad_key.value, no_key.value):
        assert str(refusal).startswith("WRIKE_MCP_SECRET_KEY ")
        made = subprocess.run(
            [sys.executable, "-c", suggested_command(str(refusal))],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        ring = load_keyring(made, sqlite_file=None, is_postgres=True)
        assert ring.decrypt(ring.encrypt("grant")) == "grant"


def test_the_generated_key_file_goes_in_new_owner_only_folders(tmp_path: Path) -> None:
    database = tmp_path / "data" / "wrike-mcp" / "remote.sqlite3"
    ring = load_keyring(None, sqlite_file=database, is_postgres=False)
    assert (database.parent / KEY_FILE).is_file()
    assert database.parent.stat().st_mode & 0o777 == 0o700
    assert load_keyring(None, sqlite_file=database, is_postgres=False).decrypt(ring.encrypt("x")) == "x"
