"""The README stays true: its tool table is the registry's, and every setting is documented."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import AliasChoices

from wrike_mcp.config import Settings
from wrike_mcp.server_commands import tools_markdown
from wrike_mcp.tools.registry import all_tools

README = Path(__file__).parent.parent / "README.md"
START, END = "<!-- tools:start -->\n", "<!-- tools:end -->"


def test_tool_table_is_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    table = tools_markdown(all_tools())
    if os.environ.get("UPDATE_README") == "1":
        head, rest = text.split(START, 1)
        text = head + START + table + END + rest.split(END, 1)[1]
        README.write_text(text, encoding="utf-8")
    documented = text.split(START, 1)[1].split(END, 1)[0]
    assert documented == table, (
        "README tool table is stale: run `UPDATE_README=1 pytest tests/test_readme.py`"
    )


def env_name(name: str) -> str:
    """The environment variable that sets the Settings field `name`."""
    alias = Settings.model_fields[name].validation_alias
    return str(alias.choices[0]) if isinstance(alias, AliasChoices) else f"WRIKE_{name.upper()}"


def test_every_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        env = env_name(name)
        assert f"`{env}`" in text, f"{env} ({field.description or name}) missing from the README"


def test_quick_start_is_two_make_targets() -> None:
    quick_start = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("```bash", 1)[1]
    commands = re.findall(r"^(make \w+)", quick_start.split("```", 1)[0], flags=re.M)
    assert commands == ["make run", "make test"]
    makefile = (README.parent / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run:", makefile, flags=re.M) and re.search(r"^test:", makefile, flags=re.M)
