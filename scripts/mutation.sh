#!/usr/bin/env bash
# Mutation testing with mutmut (issue 21): `make mutation [MUTATION_SECONDS=1800]`. Not run by CI.
# mutmut works on a scratch copy of the tracked files (it writes a mutants/ tree beside the sources), so the
# checkout is never touched. What it mutates and which tests it runs are [tool.mutmut] in pyproject.toml;
# add a module there with the tests that guard it. Survivors are listed at the end: kill them with a test,
# or record them as equivalent (with the reason) in bench/RESULTS.md "Mutation testing".
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
budget=${MUTATION_SECONDS:-1800}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git ls-files -z | xargs -0 cp --parents -t "$scratch"
cd "$scratch"
# the venv's editable install points at the checkout: the mutated copy must come first on the path
PYTHONPATH="$scratch/src" CI=true timeout "$budget" "$root/.venv/bin/mutmut" run --max-children 2 || true
"$root/.venv/bin/mutmut" results --all true 2>/dev/null | sed -E 's/^ +//' | sort | awk -F': ' '
    $2 != "killed" { print }
    { n[$2]++ }
    END { printf "\nkilled %d, survived %d, no tests %d, timeout %d\n", n["killed"], n["survived"], n["no tests"], n["timeout"] }'
