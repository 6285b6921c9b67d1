"""Score a mutmut run per module and per package: `mutmut results --all true | python report.py EQUIVALENT`.

Caught: killed, timed out (a mutant that turned a call into a hang) and caught by the type check. Mutants
recorded in the equivalent file (name, tab, reason) leave the denominator, and so do mutants the run never
checked (its time budget ran out): they get their own column, so a cut-short run says so instead of scoring
them as alive. Everything else (survived, no test reaches it, suspicious, segfault, skipped) counts against
the score. A recorded equivalent that was killed, or that the run no longer produces (mutmut renumbers a
function's mutants when the function changes), is stale: it is reported and not counted as equivalent.
Prints a markdown table, then what is still to kill or to re-check, one per line.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

CAUGHT = {"killed", "timeout", "caught by type check"}
NOT_CHECKED = "not checked"
MUTANT = re.compile(r"^\s*(?P<name>(?P<module>[\w.]+)\.x[_ǁ]\S*__mutmut_\d+):\s*(?P<status>.+?)\s*$")


def equivalent_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition("\t")
            if not reason.strip():
                sys.exit(f"{path}: {name} is recorded as equivalent without a reason")
            names.add(name.strip())
    return names


def main() -> None:
    equivalent = equivalent_names(Path(sys.argv[1]))
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    to_kill: list[str] = []
    stale: list[str] = []
    seen: set[str] = set()
    for line in sys.stdin:
        match = MUTANT.match(line)
        if match is None:
            continue
        name, module, status = match["name"], match["module"], match["status"]
        seen.add(name)
        if name in equivalent and status in CAUGHT:
            stale.append(f"{name}: recorded as equivalent, but it was {status}")
        elif name in equivalent and status != NOT_CHECKED:
            status = "equivalent"
        if status not in CAUGHT | {NOT_CHECKED, "equivalent"}:
            to_kill.append(f"{name}: {status}")
        tally[module][status] += 1
    if not tally:
        sys.exit("no mutants in mutmut's results: did the run start?")
    stale += [
        f"{name}: recorded as equivalent, but this run has no such mutant" for name in equivalent - seen
    ]
    print(
        "| module | mutants | caught | survived | no test reaches it | other | equivalent | not checked | score |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    total: Counter[str] = Counter()
    for module in sorted(tally):
        print(row(module.removeprefix("wrike_mcp."), tally[module]))
        total.update(tally[module])
    print(row("**all**", total))
    if total[NOT_CHECKED]:
        print(
            f"\nThe run stopped before checking {total[NOT_CHECKED]} mutants (its time budget): the score leaves them out."
        )
    if stale:
        print(f"\n{len(stale)} stale equivalent records (re-check them against `mutmut show`):")
        print("\n".join(sorted(stale)))
    if to_kill:
        print(f"\n{len(to_kill)} mutants to kill (a test) or record as equivalent (a reason):")
        print("\n".join(sorted(to_kill)))


def row(label: str, counts: Counter[str]) -> str:
    mutants = sum(counts.values())
    caught = sum(counts[status] for status in CAUGHT)
    named = CAUGHT | {"survived", "no tests", "equivalent", NOT_CHECKED}
    other = sum(count for status, count in counts.items() if status not in named)
    judged = mutants - counts["equivalent"] - counts[NOT_CHECKED]
    score = f"{100 * caught / judged:.0f} %" if judged else "–"
    return (
        f"| {label} | {mutants} | {caught} | {counts['survived']} | {counts['no tests']} | {other} "
        f"| {counts['equivalent']} | {counts[NOT_CHECKED]} | {score} |"
    )


if __name__ == "__main__":
    main()
