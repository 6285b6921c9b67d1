"""Write the tool manifest (tools/manifest.json, see registry.py) from the live declarations.

    python -m wrike_mcp.tools.manifest          # rewrite it
    python -m wrike_mcp.tools.manifest --check  # exit 1 when it is out of date

Run it after changing a tool's name, description, arguments, annotations, toolset or scopes (`make manifest`
does); tests/tools/test_manifest.py fails until it matches.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from wrike_mcp.tools.registry import MANIFEST, all_tools, register


async def build() -> dict[str, Any]:
    """The manifest as the declarations give it: every tool's `tools/list` entry, in `all_tools()` order."""
    specs = all_tools()
    server: MCPServer[Any] = MCPServer(name="wrike-mcp manifest")
    register(server, specs)
    listed = {tool.name: tool for tool in await server.list_tools()}
    return {
        "tools": [
            {
                "module": spec.module,
                "listing": listed[spec.name].model_dump(mode="json", by_alias=True, exclude_none=True),
            }
            for spec in specs
        ]
    }


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wrike_mcp.tools.manifest", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the manifest is out of date")
    args = parser.parse_args(argv)
    text = render(anyio.run(build))
    current = MANIFEST.read_text(encoding="utf-8") if MANIFEST.exists() else ""
    if args.check:
        if current != text:
            print(f"{MANIFEST} is out of date: run python -m wrike_mcp.tools.manifest", file=sys.stderr)
            return 1
        return 0
    if current != text:
        MANIFEST.write_text(text, encoding="utf-8")
        print(f"wrote {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
