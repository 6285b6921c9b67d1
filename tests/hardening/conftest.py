"""Hardening fixtures: one live sandbox (real loopback socket) per module, reset before every test, and a
guard that fails any test whose captured log contains a canary secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.hardening.helpers import CANARY_TOKEN, leaks, reset
from wrike_mcp.sandbox.serve import BackgroundSandbox


@pytest.fixture(scope="module")
def live_sandbox() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(live_sandbox: BackgroundSandbox) -> BackgroundSandbox:
    """The live sandbox back at its seed, with the canary token planted, no faults and an empty log."""
    reset(live_sandbox)
    return live_sandbox


@pytest.fixture
def secrets() -> set[str]:
    """Canary secrets of this test; tests add the OAuth tokens they obtain."""
    return {CANARY_TOKEN}


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture, secrets: set[str]) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    lines = [record.getMessage() + (caplog.text if record.exc_info else "") for record in caplog.records]
    found = leaks(secrets, *lines)
    assert not found, f"canary secrets in the log: {found}"
