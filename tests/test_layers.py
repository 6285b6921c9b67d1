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


def test_the_sandbox_contract_forbids_every_other_module() -> None:
    """A module added to the package is out of the sandbox's reach as soon as it exists: the contract lists
    them all (the layers contract alone would let the sandbox import any module below its layer)."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    sandbox = next(contract for contract in contracts if contract["id"] == "sandbox")
    package = ROOT / "src" / "wrike_mcp"
    modules = {
        f"wrike_mcp.{path.stem}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    assert len(modules) > 10
    assert set(sandbox["forbidden_modules"]) == modules - {"wrike_mcp.sandbox"}
