"""Build the MCP Bundle for Claude Desktop: `dist/wrike-mcp.mcpb` (what `make mcpb` runs).

The bundle is a `python` server whose dependencies are vendored in `server/lib` (installed from the wheel with
`pip --target`), so it starts from its own contents with nothing but a Python interpreter. Some dependencies
are compiled (pydantic-core, cryptography), so a bundle runs on the platform and Python minor version that
built it; its manifest says which (`compatibility`), and Claude Desktop refuses it elsewhere.

The manifest is written here, from the tool registry and the package version, then checked and packed with the
official CLI (`@anthropic-ai/mcpb`, run with the Node 22 of scripts/node22.sh).

    python scripts/build_mcpb.py --wheel dist/wrike_mcp-0.1.0-py3-none-any.whl [--out dist/wrike-mcp.mcpb]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MCPB_CLI = "@anthropic-ai/mcpb@2.1.1"
REPOSITORY = "https://github.com/wrike-mcp/wrike-mcp"

ENTRY_POINT = '''\
"""wrike-mcp from this bundle: its own server/lib first on the path, whatever the host passes."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from wrike_mcp.cli import main  # noqa: E402

sys.exit(main())
'''

USER_CONFIG: dict[str, dict[str, Any]] = {
    "wrike_access_token": {
        "type": "string",
        "title": "Wrike permanent access token",
        "description": "In Wrike: Apps & Integrations → API → create an app → Obtain token. "
        "Claude Desktop keeps it in your OS keychain.",
        "sensitive": True,
        "required": True,
    },
    "wrike_host": {
        "type": "string",
        "title": "Wrike data centre",
        "description": "The host your Wrike opens at: www.wrike.com (US) or app-eu.wrike.com (EU).",
        "default": "www.wrike.com",
        "required": False,
    },
    "read_only": {
        "type": "boolean",
        "title": "Read-only",
        "description": "Offer only the tools that read; nothing can be changed in Wrike.",
        "default": False,
        "required": False,
    },
    "toolsets": {
        "type": "string",
        "title": "Toolsets",
        "description": "Comma-separated toolsets to offer: default, plus any of context, folders, projects, "
        "tasks, directory, app_activity; or all. Empty: the default ones (all but app_activity and intake).",
        "default": "",
        "required": False,
    },
}


def tool_entries() -> list[dict[str, str]]:
    from wrike_mcp.tools.registry import all_tools

    return [
        {"name": spec.name, "description": " ".join(spec.description.split("\n\n", 1)[0].split())}
        for spec in all_tools()
    ]


def manifest() -> dict[str, Any]:
    from wrike_mcp import __version__

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {
        "manifest_version": "0.3",
        "name": "wrike-mcp",
        "display_name": "Wrike",
        "version": __version__,
        "description": "Wrike for your assistant: projects, tasks, folders, spaces, comments, time logs, "
        "people and API-app activity.",
        "long_description": "Query projects, manage tasks, browse folders and spaces, and list API-app "
        "activity in your Wrike account. Tools take what you would paste: ids, permalinks, paths, names, `me`. "
        "Each tool declares the Wrike scopes it needs, writes are never repeated silently, and deleting a "
        "task asks you first.",
        "author": {"name": "wrike-mcp contributors", "url": REPOSITORY},
        "repository": {"type": "git", "url": f"{REPOSITORY}.git"},
        "homepage": REPOSITORY,
        "documentation": f"{REPOSITORY}#readme",
        "support": f"{REPOSITORY}/issues",
        "icon": "icon.png",
        "license": "MIT",
        "keywords": ["wrike", "project management", "tasks", "time tracking"],
        "privacy_policies": ["https://www.wrike.com/security/privacy/"],
        "server": {
            "type": "python",
            "entry_point": "server/main.py",
            "mcp_config": {
                "command": "python3",
                "args": ["${__dirname}/server/main.py", "serve"],
                "env": {
                    "PYTHONPATH": "${__dirname}/server/lib",
                    "PYTHONNOUSERSITE": "1",
                    "WRIKE_ACCESS_TOKEN": "${user_config.wrike_access_token}",
                    "WRIKE_HOST": "${user_config.wrike_host}",
                    "WRIKE_READ_ONLY": "${user_config.read_only}",
                    "WRIKE_TOOLSETS": "${user_config.toolsets}",
                },
            },
        },
        "tools": tool_entries(),
        "tools_generated": False,
        "prompts_generated": True,  # the prompts depend on the configuration; the server lists them
        "compatibility": {
            "claude_desktop": ">=0.10.0",
            "platforms": [sys.platform],
            "runtimes": {"python": f">={python},<{sys.version_info.major}.{sys.version_info.minor + 1}"},
        },
        "user_config": USER_CONFIG,
    }


def stage(wheel: Path, staging: Path) -> None:
    """The bundle's tree: manifest, icon, entry point and the vendored dependencies."""
    if staging.exists():
        shutil.rmtree(staging)
    lib = staging / "server" / "lib"
    lib.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(lib), str(wheel)],
        check=True,
    )
    shutil.rmtree(lib / "bin", ignore_errors=True)  # console scripts point at this build machine's Python
    (staging / "server" / "main.py").write_text(ENTRY_POINT)
    shutil.copy(ROOT / "packaging" / "icon.png", staging / "icon.png")
    (staging / "manifest.json").write_text(json.dumps(manifest(), indent=2, ensure_ascii=False) + "\n")


def run_mcpb(*args: str) -> None:
    node_bin = subprocess.run(
        [str(ROOT / "scripts" / "node22.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    env = {**os.environ, "PATH": f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(["npx", "--yes", MCPB_CLI, *args], check=True, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, required=True, help="the wrike-mcp wheel to vendor")
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "wrike-mcp.mcpb")
    parser.add_argument("--staging", type=Path, default=ROOT / "build" / "mcpb")
    args = parser.parse_args()
    stage(args.wheel.resolve(), args.staging.resolve())
    run_mcpb("validate", str(args.staging / "manifest.json"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    run_mcpb("pack", str(args.staging), str(args.out.resolve()))
    print(f"built {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
