#!/usr/bin/env bash
# Mutation testing with mutmut (issue 21): `make mutation [PACKAGES="wrike tools remote"] [MUTATION_SECONDS=1800]`.
# Not run by CI. One run per package, each with its own time budget: what it mutates and which tests it runs
# are in scripts/mutation/<package>.cfg (mutmut's setup.cfg format). mutmut works on a scratch copy of the
# tracked files (it writes a mutants/ tree beside the sources), so the checkout is never touched. Each package
# ends with its score table (scripts/mutation/report.py) and the mutants still alive: kill them with a test,
# or record them as equivalent, with the reason, in scripts/mutation/<package>.equivalent.tsv.
# MUTATION_CHILDREN (default 2) is how many mutants run at once.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
budget=${MUTATION_SECONDS:-1800}
for package in ${PACKAGES:-wrike tools remote}; do
    config="$root/scripts/mutation/$package.cfg"
    [ -f "$config" ] || { echo "mutation: no $config (packages: wrike tools remote)" >&2; exit 2; }
    scratch=$(mktemp -d)
    git ls-files -z | xargs -0 cp --parents -t "$scratch"
    cp "$config" "$scratch/setup.cfg"
    echo "== $package (budget ${budget}s, scratch $scratch)"
    if ! (
        cd "$scratch"
        # the venv's editable install points at the checkout: the mutated copy must come first on the path
        PYTHONPATH="$scratch/src" CI=true timeout "$budget" "$root/.venv/bin/mutmut" run --max-children "${MUTATION_CHILDREN:-2}" \
            >"$scratch/mutmut.log" 2>&1 || echo "mutation: mutmut stopped ($?, $budget s budget?): the table says what it did not check"
        "$root/.venv/bin/mutmut" results --all true \
            | "$root/.venv/bin/python" "$root/scripts/mutation/report.py" "$root/scripts/mutation/$package.equivalent.tsv"
    ); then
        echo "mutation: no score for $package (above: why); its scratch copy stays at $scratch" >&2
    elif [ -z "${KEEP_SCRATCH:-}" ]; then
        rm -rf "$scratch"
    fi
done
