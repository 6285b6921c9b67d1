# One entry point for humans and CI. `make test` works on a fresh clone with only Python 3.11 and make.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test check lint typecheck format snapshots run sandbox inspect conformance node22 ci docker dist mcpb clean mutation

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV) || { \
	    rm -rf $(VENV); \
	    echo "make: could not create $(VENV) with $(PYTHON) (or python3): is its venv module installed?" \
	        "On Debian/Ubuntu: apt-get install $(notdir $(PYTHON))-venv" >&2; \
	    exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python -m wrike_mcp.tools.manifest --check
	$(BIN)/lint-imports  # DESIGN §2's layers, the sandbox's independence, no import cycles (pyproject.toml)

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# After changing what a model sees of a tool: the tool manifest, the schema snapshots and the README table.
# Review the diff: every schema change is an API change for the models using the server.
snapshots: $(STAMP)
	$(BIN)/python -m wrike_mcp.tools.manifest  # first: tools/list, and so the snapshots, come from it
	UPDATE_SNAPSHOTS=1 $(BIN)/python -m pytest -q tests/tools/test_schemas.py tests/tools/test_manifest.py
	UPDATE_README=1 $(BIN)/python -m pytest -q tests/test_readme.py

sandbox: $(STAMP)
	$(BIN)/wrike-mcp sandbox

# The MCP server over streamable HTTP on 127.0.0.1:$(PORT)/mcp against the built-in sandbox.
# `make run RUN_FLAGS=` serves your real account instead (WRIKE_ACCESS_TOKEN or `wrike-mcp auth login`).
PORT      ?= 8000
RUN_FLAGS ?= --sandbox
run: $(STAMP)
	@PORT='$(PORT)' RUN_FLAGS='$(RUN_FLAGS)' scripts/run.sh

# Real third-party MCP clients (Node >= 22, installed into .node22/ on first use).
inspect: $(STAMP)
	scripts/inspect.sh

conformance: $(STAMP)
	scripts/conformance.sh

node22:
	@scripts/node22.sh

ci:
	.ci/run

# Mutation testing with mutmut, one run per package (scripts/mutation/<package>.cfg says what and with which
# tests): `make mutation PACKAGES=tools MUTATION_SECONDS=1200`. Not in CI; minutes to an hour per package.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	scripts/mutation.sh

docker:
	docker build -t wrike-mcp .

# The sdist and wheel (what `pip install`, `uvx` and `pipx run` take) into dist/.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
dist: $(STAMP)
	rm -f dist/wrike_mcp-*
	$(BIN)/python -m build --outdir dist .

# The MCP Bundle for Claude Desktop (dependencies vendored, checked and packed with the official mcpb CLI).
mcpb: dist
	$(BIN)/python scripts/build_mcpb.py --wheel dist/wrike_mcp-$(VERSION)-py3-none-any.whl --out dist/wrike-mcp.mcpb

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .node22 dist build
