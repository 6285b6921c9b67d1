"""The request log the control plane shows at /_sandbox/requests (credentials already masked by the caller)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class RequestLog:
    """Every API request since the last reset or clear, oldest first; entries stay mutable so the middleware
    can fill in the status once the response is known."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.entries[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def record(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)

    def clear(self) -> None:
        self.entries.clear()
