"""Injected faults: what the control plane (/_sandbox/faults) asked the next matching requests to suffer."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Fault:
    path: str
    method: str | None = None
    times: int = 1
    status: int | None = None
    error: str | None = None
    description: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_ms: int = 0
    malformed: bool = False
    truncate: bool = False
    drop: bool = False
    apply: bool = False

    def describe(self) -> str:
        """What the request log says the fault did."""
        kinds = [name for name in ("drop", "truncate", "malformed") if getattr(self, name)]
        if self.status is not None:
            kinds.append(f"status {self.status}")
        if self.delay_ms:
            kinds.append(f"delay {self.delay_ms} ms")
        return ", ".join(kinds)


class FaultPlan:
    """The faults waiting for requests, in the order they were added; each is used up after `times` hits."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def __iter__(self) -> Iterator[Fault]:
        return iter(self._faults)

    def __len__(self) -> int:
        return len(self._faults)

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault for this request, counted as used once; None: serve it normally."""
        for fault in self._faults:
            if (
                fault.times > 0
                and (fault.method is None or fault.method.upper() == method)
                and fnmatch.fnmatchcase(path, fault.path)
            ):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None
