"""Fixtures for end-to-end tests (helpers are in tests/e2e/e2e_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.e2e_helpers import isolated_env


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment minus every WRIKE_* setting; HOME and the token store in a temp dir; no keyring."""
    return isolated_env(tmp_path)
