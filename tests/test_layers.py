"""DESIGN §2's dependency rules, checked by import-linter against the contracts in pyproject.toml: the layers
(`cli` on top, `scopes` and `hosts` at the bottom; only the CLI imports the sandbox), a sandbox that imports
nothing else from wrike_mcp, and no import cycle between the modules of any package. `make lint` runs the same.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_import_contracts_hold() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert [contract["id"] for contract in contracts] == ["layers", "sandbox", "cycles"]
    done = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in done.stdout
