"""docs/RELIABILITY.md is the hardening matrix: every row names a test in tests/hardening that exists, and every
test in tests/hardening (each parametrized case) is covered by a row, so the two cannot drift apart."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "RELIABILITY.md"
HERE = "tests/hardening/"
ROW = re.compile(r"^\|\s*([A-Z]\d{2}[a-z]?)\s*\|(.*)\|\s*`([^`]+)`\s*\|\s*$")


def doc_rows() -> dict[str, str]:
    """Row id → the test it names (relative to tests/hardening)."""
    rows: dict[str, str] = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            ident, middle, test = match.groups()
            assert ident not in rows, f"row id {ident} is used twice"
            assert middle.count("|") == 2, (
                f"row {ident} needs: id | fault or attack | expected | observed | test"
            )
            rows[ident] = test
    return rows


def collected_tests() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", HERE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {
        line.removeprefix(HERE) for line in done.stdout.splitlines() if line.startswith(HERE) and "::" in line
    }


def covers(reference: str, node: str) -> bool:
    """A row names one case (`file::test[param]`) or every case of a test (`file::test`)."""
    return node == reference or ("[" not in reference and node.startswith(reference + "["))


def test_matrix_matches_the_tests() -> None:
    rows = doc_rows()
    assert len(rows) >= 50, f"only {len(rows)} rows parsed from {DOC}"
    tests = collected_tests()
    missing = {ident: ref for ident, ref in rows.items() if not any(covers(ref, node) for node in tests)}
    assert not missing, f"rows naming tests that do not exist: {missing}"
    uncovered = sorted(node for node in tests if not any(covers(ref, node) for ref in rows.values()))
    assert not uncovered, f"hardening tests without a row in docs/RELIABILITY.md: {uncovered}"
