"""Score a mutmut run per module and per package: `mutmut results --all true | python report.py EQUIVALENT`.

Killed and timed-out mutants count as caught (a timeout is a mutant that changed behaviour into a hang);
mutants listed in the equivalent file (name, tab, reason) leave the denominator; everything else — survived,
no test reaches it, suspicious — counts against the score. Prints a markdown table, then the mutants still to
kill, one per line, so the next step is obvious.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

CAUGHT = {"killed", "timeout"}
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
    for line in sys.stdin:
        match = MUTANT.match(line)
        if match is None:
            continue
        name, module, status = match["name"], match["module"], match["status"]
        if name in equivalent:
            status = "equivalent"
        elif status not in CAUGHT:
            to_kill.append(f"{name}: {status}")
        tally[module][status] += 1
    if not tally:
        sys.exit("no mutants in mutmut's results: did the run start?")
    print("| module | mutants | killed | survived | no test reaches it | equivalent | score |")
    print("|---|---|---|---|---|---|---|")
    total: Counter[str] = Counter()
    for module in sorted(tally):
        print(row(module.removeprefix("wrike_mcp."), tally[module]))
        total.update(tally[module])
    print(row("**all**", total))
    if to_kill:
        print(f"\n{len(to_kill)} mutants to kill (a test) or record as equivalent (a reason):")
        print("\n".join(sorted(to_kill)))


def row(label: str, counts: Counter[str]) -> str:
    mutants = sum(counts.values())
    caught = sum(counts[status] for status in CAUGHT)
    judged = mutants - counts["equivalent"]
    score = f"{100 * caught / judged:.0f} %" if judged else "–"
    return (
        f"| {label} | {mutants} | {caught} | {counts['survived']} | {counts['no tests']} "
        f"| {counts['equivalent']} | {score} |"
    )


if __name__ == "__main__":
    main()
