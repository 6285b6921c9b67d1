"""What `tools/list` costs every conversation, per tool, before and after a change (issues 22 and 24).

Runs `python -m wrike_mcp serve --sandbox` over stdio with raw JSON-RPC, as a client's first turn does:
`initialize` (2025-11-25, a client that can confirm through elicitation, so delete_task is listed), then
`tools/list`. Measured for this checkout (as it starts by default, and with `--toolsets all`) and for the
source of a git revision (`--before`, extracted with `git archive` into a temporary directory; before
issue 24 every toolset was on by default, so its default list is its full list).

Sizes are the compact JSON of what the server sends (bytes), and bytes / 4 as estimated tokens:
- per tool: the tool's entry in the `tools/list` result;
- default list, full list: the whole `tools/list` result;
- a conversation's first turn: the `initialize` result (server info, capabilities, instructions) plus the
  default `tools/list` result, what a model's context holds before the user's first word (a client that does
  not pass the instructions on saves their part).

    PYTHONPATH=src .venv/bin/python bench/bench_tools_list.py --before 9c7a85f
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {"elicitation": {}},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def compact(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


@dataclass
class Listing:
    initialize: dict[str, Any]  # the initialize result
    tools: list[dict[str, Any]]  # the tools/list result's tools

    @property
    def list_bytes(self) -> int:
        return compact({"tools": self.tools})

    @property
    def first_turn_bytes(self) -> int:
        return compact(self.initialize) + self.list_bytes

    def per_tool(self) -> dict[str, tuple[str, int]]:
        return {t["name"]: (t.get("_meta", {}).get("wrike-mcp/toolset", ""), compact(t)) for t in self.tools}


def first_turn(source: Path, *args: str) -> Listing:
    """initialize + tools/list against `python -m wrike_mcp serve --sandbox ARGS` from `source` (a src dir)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WRIKE_")}
    env["PYTHONPATH"] = str(source)
    command = [sys.executable, "-m", "wrike_mcp", "serve", "--sandbox", *args]
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None
    for message in (INIT, INITIALIZED, LIST):
        proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()
    answers: dict[int, dict[str, Any]] = {}
    while len(answers) < 2:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{' '.join(command)} exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        message = json.loads(line)
        if message.get("id") in (1, 2):
            answers[message["id"]] = message["result"]
    proc.stdin.close()
    proc.wait(timeout=10)
    return Listing(initialize=answers[1], tools=answers[2]["tools"])


def extract(revision: str, into: Path) -> Path:
    """The `src` directory of a git revision, extracted into `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "src"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def tokens(size: int) -> str:
    return f"{size:,} ({size / 4:,.0f})"


def report(before: Listing | None, default: Listing, full: Listing, revision: str | None) -> str:
    rows = [
        "| tool | toolset | on by default | bytes before | bytes after | change |",
        "|---|---|---|---|---|---|",
    ]
    old = before.per_tool() if before else {}
    new = full.per_tool()
    on = set(default.per_tool())
    for name in [*new, *(name for name in old if name not in new)]:
        toolset, after = new.get(name, (old.get(name, ("", 0))[0], 0))
        was = old.get(name, ("", 0))[1]
        state = "yes" if name in on else ("no" if name in new else "removed")
        change = f"{after - was:+,}" if name in old and name in new else ("new" if name in new else "removed")
        rows.append(
            f"| {name} | {toolset} | {state} | {f'{was:,}' if name in old else ''} | "
            f"{f'{after:,}' if name in new else ''} | {change} |"
        )
    toolsets: dict[str, list[int]] = {}
    for toolset, size in new.values():
        toolsets.setdefault(toolset, []).append(size)
    sets = ["| toolset | tools | bytes (est. tokens) | on by default |", "|---|---|---|---|"]
    for toolset, sizes in toolsets.items():
        default_on = any(default.per_tool().get(name, ("", 0))[0] == toolset for name in on)
        sets.append(f"| {toolset} | {len(sizes)} | {tokens(sum(sizes))} | {'yes' if default_on else 'no'} |")
    label = f"before ({revision})" if revision else "before"
    totals = [f"| measure | {label} | after |", "|---|---|---|"]
    b_default = tokens(before.list_bytes) if before else ""
    totals.append(
        f"| tools in the default list | {len(before.tools) if before else ''} | {len(default.tools)} |"
    )
    totals.append(f"| default tools/list, bytes (est. tokens) | {b_default} | {tokens(default.list_bytes)} |")
    totals.append(
        f"| full tools/list (`--toolsets all`), bytes (est. tokens) | {b_default} | {tokens(full.list_bytes)} |"
    )
    totals.append(
        f"| initialize result, bytes (est. tokens) | {tokens(compact(before.initialize)) if before else ''} | "
        f"{tokens(compact(default.initialize))} |"
    )
    totals.append(
        f"| a conversation's first turn (initialize + default tools/list) | "
        f"{tokens(before.first_turn_bytes) if before else ''} | {tokens(default.first_turn_bytes)} |"
    )
    return "\n".join([*totals, "", *sets, "", *rows]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", help="a git revision to compare with (e.g. main)")
    args = parser.parse_args()
    here = ROOT / "src"
    default = first_turn(here)
    full = first_turn(here, "--toolsets", "all")
    before = None
    if args.before:
        with tempfile.TemporaryDirectory() as scratch:
            before = first_turn(extract(args.before, Path(scratch)))
    print(report(before, default, full, args.before), end="")


if __name__ == "__main__":
    main()
