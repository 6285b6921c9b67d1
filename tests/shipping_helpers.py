"""Checks shared by the tests of what ships: client configs, install links, bundle manifest, server.json."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from wrike_mcp.cli import build_parser
from wrike_mcp.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def parse_cli(argv: list[str]) -> Any:
    """Parse argv (without the program name) with the real CLI parser; a usage error fails the test."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on bad flags
        pytest.fail(f"wrike-mcp rejects {shlex.join(argv)!r} (exit {exc.code})")


def setting_env_names() -> set[str]:
    """The environment variables Settings reads: WRIKE_<FIELD> plus explicit WRIKE_* aliases."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(f"WRIKE_{name.upper()}")
        alias = field.validation_alias
        for choice in getattr(alias, "choices", [alias]):
            if isinstance(choice, str) and choice.startswith("WRIKE_"):
                names.add(choice)
    return names
