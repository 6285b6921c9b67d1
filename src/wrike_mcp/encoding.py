"""Unpadded URL-safe base64 and short fingerprints of JSON-able values: the one form of each for the package
(list cursors, bulk preview tokens, the consent page's user cookie).

It imports nothing from the package, like `hosts`, so every layer may use it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


def b64url(raw: bytes) -> str:
    """URL-safe base64 without padding: fits a cursor, a token or a cookie as is."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    """The bytes of `b64url` text; binascii.Error (a ValueError) when it is not base64."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(value: Any, length: int) -> str:
    """The first `length` hex digits of the SHA-256 of `value` as canonical JSON (keys sorted, no spaces,
    anything else as text): equal values, equal fingerprints."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:length]
