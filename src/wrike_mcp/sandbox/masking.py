"""Masking of credentials in the request log: nothing secret leaves through /_sandbox/requests."""

from __future__ import annotations

from typing import Any

# Identify which credential was used without revealing it: first and last four characters.
TOKEN_KEYS = frozenset({"access_token", "refresh_token"})
# Never shown at all.
SECRET_KEYS = frozenset({"client_secret", "code", "password", "authorization"})


def mask_token(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) < 12:
        return "***"
    return f"{value[:4]}…{value[-4:]}"


def mask_values(values: Any) -> Any:
    if isinstance(values, dict):
        masked: dict[str, Any] = {}
        for key, value in values.items():
            if key in SECRET_KEYS:
                masked[key] = "***"
            elif key in TOKEN_KEYS and isinstance(value, str):
                masked[key] = mask_token(value)
            else:
                masked[key] = mask_values(value)
        return masked
    if isinstance(values, list):
        return [mask_values(item) for item in values]
    return values
