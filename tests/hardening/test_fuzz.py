"""Fuzzing every tool through the MCP client: arguments generated from its inputSchema, half valid and half
with one violation. Every call must end as a result (never a protocol error), and every failure must be an
isError result whose first line is under 200 characters and not the "failed unexpectedly" of an uncaught
exception. Valid arguments mostly name real seed entities (tests/hardening/schema_strategies.py), and at least
MIN_SUCCESS_SHARE of them must succeed, so the fuzz reaches every tool's success path, writes included (on the
same examples every run; FUZZ_RANDOM=1 draws new ones). The sandbox runs in process (ASGI) for speed; each
tool gets a fresh one."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from mcp import Client, MCPError
from mcp.types import Tool

from tests.hardening.helpers import CANARY_TOKEN, FIRST_LINE_MAX, leaks, text_of
from tests.hardening.schema_strategies import (
    PLANTED_COMMENTS,
    PLANTED_JOBS,
    invalid_arguments,
    plant_comments,
    plant_jobs,
    valid_arguments,
    valid_choices,
)
from tests.tools.tool_helpers import SANDBOX_BASE_URL
from wrike_mcp.config import Settings
from wrike_mcp.sandbox import create_app
from wrike_mcp.sandbox.state import DEMO_TOKEN, SandboxState
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.tools.registry import all_tools, enforced_input_schema
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.resolve import Resolver
from wrike_mcp.wrike.tokens import StaticTokenSource

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
# The 2026-07-28 era dispatches in memory; the 2025-11-25 era ("legacy") goes through JSON-RPC messages, where
# a protocol error would show. Every tool gets EXAMPLES cases in the first and half as many in the second.
MODES = {"auto": EXAMPLES, "legacy": EXAMPLES // 2}
TOOLS = [spec.name for spec in all_tools()]
# Writes that rename or delete what the seeded references name: the sandbox goes back to its seed after each.
# (The other writes only add entities, under titles no seeded reference uses.)
CHANGES_REFERENCES = {
    "update_task", "update_project", "delete_task", "add_dependency", "remove_dependency", "update_folder",
    "delete_comment", "delete_timelog",
}  # fmt: skip
# Valid arguments draw real references from the seed, so most of them must reach the tool's success path:
# a fuzzer that only ever meets "not found" proves nothing about the code behind it.
MIN_SUCCESS_SHARE = 0.30
# The share is a property of a sample, and Hypothesis's random samples cluster (runs of near-identical cases):
# measured on 9 to 77 valid cases per run, it swung from 6% to 90% for one tool. So the share is asserted on
# the same examples every run: drawn from FUZZ_SEED, not from `derandomize`, whose seed is a hash of the test
# function's source (two harmless lines added to the test once moved create_task from 30% to 28%), and never
# from an example database. FUZZ_RANDOM=1 draws new examples, which still check every call's error contract,
# and reports the share without asserting it.
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
FUZZ_SEED = 20261204
# A share of a handful of cases says nothing: every tool gets at least this many valid ones.
MIN_VALID_CASES = 20
PREFIX = re.compile(r"^Error executing tool \w+: ")


class Harness:
    """An MCP client on a fresh in-process sandbox, kept open on an event loop in a helper thread so that
    hypothesis (synchronous) can drive it example by example."""

    def __init__(
        self,
        portal: anyio.from_thread.BlockingPortal,
        client: Client,
        tools: dict[str, Tool],
        schemas: dict[str, dict[str, Any]],
        examples: int,
        sandbox: SandboxState,
        resolver: Resolver,
    ) -> None:
        self.examples = examples
        self.portal = portal
        self.client = client
        self.tools = tools
        self.schemas = schemas  # as enforced: tools/list's inputSchema leaves out the length limits
        self.sandbox = sandbox
        self.resolver = resolver

    def call(self, name: str, args: dict[str, Any]) -> Any:
        return self.portal.call(self.client.call_tool, name, args)

    def reset(self) -> None:
        """The sandbox back at its seed, so that the next case finds what this one renamed or deleted, and
        the server's cached folder tree and people forgotten, so that it sees the seed again."""
        self.portal.call(reseed, self.sandbox)
        self.resolver.forget_everything()


def reseed(state: SandboxState) -> None:
    state.reset()
    plant_canary(state)
    plant_job(state)
    plant_comment(state)


def plant_comment(state: SandboxState) -> None:
    assert plant_comments(state) == PLANTED_COMMENTS


def plant_job(state: SandboxState) -> None:
    assert plant_jobs(state) == PLANTED_JOBS  # what the strategies offer is what the sandbox holds


def plant_canary(state: SandboxState) -> None:
    state.access_tokens[CANARY_TOKEN] = dataclasses.replace(
        state.access_tokens[DEMO_TOKEN], value=CANARY_TOKEN
    )


@pytest.fixture(params=list(MODES))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    app = create_app()
    state = app.state.sandbox
    plant_canary(state)
    plant_job(state)
    plant_comment(state)
    state.config = dataclasses.replace(state.config, rate_limit=1_000_000)  # fuzzing is not a rate test
    state.async_job_polls = 0  # blueprint launches complete at their first poll
    wrike = WrikeClient(
        StaticTokenSource(CANARY_TOKEN),
        base_url=SANDBOX_BASE_URL,
        transport=httpx.ASGITransport(app=app),
        rate_limit_per_minute=1_000_000,
        max_retries=0,
    )
    settings = Settings(base_url=SANDBOX_BASE_URL, allow_delete=True, toolsets=["all"])
    server = create_server(settings, StaticContext(WrikeContext(settings, wrike, mode="sandbox")))
    with anyio.from_thread.start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(Client(server, mode=request.param)) as client:
            tools = {tool.name: tool for tool in portal.call(client.list_tools).tools}
            for name in tools:
                server.build_tool(name)
            schemas = {name: enforced_input_schema(server, name) for name in tools}
            yield Harness(
                portal,
                client,
                tools,
                schemas,
                MODES[request.param],
                state,
                server.contexts.current().resolver,
            )
        portal.call(wrike.aclose)


@pytest.mark.parametrize("tool", TOOLS)
def test_fuzz_tool(tool: str, harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)  # DEBUG for thousands of calls is slow; errors and warnings still count
    assert tool in harness.tools, f"{tool} is not offered"
    schema = harness.schemas[tool]
    published = harness.tools[tool].input_schema
    checkers = [jsonschema.Draft202012Validator(one) for one in (published, schema)]

    def forbidden(args: dict[str, Any]) -> bool:
        """Whether the schema clients see, or the one the server enforces (with length limits), rules out
        these arguments: then the call must be refused, whatever the tool would make of them."""
        return any(not checker.is_valid(args) for checker in checkers)

    seen = {"valid": 0, "valid ok": 0, "ok": 0, "error": 0}
    valid_failures: list[str] = []  # why valid cases failed, for the message when too many do

    def one_call(is_valid: bool, args: dict[str, Any]) -> None:
        seen["valid"] += is_valid
        if is_valid:  # what the server accepts, the schema clients see must admit
            jsonschema.validate(args, published)
        try:
            result = harness.call(tool, args)
        except MCPError as exc:  # a JSON-RPC error instead of a result
            raise AssertionError(f"protocol error {exc.error.code}: {exc.error.message[:300]}") from None
        text = text_of(result)
        assert not leaks({CANARY_TOKEN}, text), "the token in a result"
        if not result.is_error:
            assert is_valid or not forbidden(args), (
                f"{tool} accepted arguments its schema forbids: {args!r:.300}"
            )
            seen["ok"] += 1
            seen["valid ok"] += is_valid
            assert result.structured_content is not None, text[:300]
            if tool in CHANGES_REFERENCES:
                harness.reset()
            return
        seen["error"] += 1
        line = text.split("\n", 1)[0]
        if is_valid and len(valid_failures) < 5:
            valid_failures.append(f"{args!r:.200} -> {line[:200]}")
        assert len(line) < FIRST_LINE_MAX, f"first line of {len(line)} characters: {line[:300]}"
        message = PREFIX.sub("", line)
        assert message.strip(), f"an error with no message: {line!r}"
        assert "failed unexpectedly" not in line, line
        assert "Traceback" not in text, text[:500]

    def run(strategy: st.SearchStrategy[dict[str, Any]], is_valid: bool) -> None:
        @settings(
            max_examples=harness.examples // 2,
            derandomize=False,
            database=None,
            suppress_health_check=[
                HealthCheck.function_scoped_fixture,
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        )
        @given(strategy)
        def case(args: dict[str, Any]) -> None:
            one_call(is_valid, args)

        (case if RANDOM else seed(FUZZ_SEED)(case))()

    # Valid and invalid cases drawn apart, half the examples each: in one mixed draw, valid cases (fewer
    # distinct ones: they name seed entities) were 4 to 13 of a tool's cases.
    run(valid_arguments(schema, tool), True)
    run(invalid_arguments(schema, tool), False)
    unexpected = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not unexpected, unexpected[:3]
    choices = valid_choices(schema, tool)
    assert seen["valid"] >= min(MIN_VALID_CASES, choices or MIN_VALID_CASES), (
        f"only {seen['valid']} valid cases"
    )
    share = seen["valid ok"] / seen["valid"]
    print(
        f"{tool}: {seen['valid ok']} of {seen['valid']} valid cases succeeded ({share:.0%}); {seen['error']} errors"
    )
    assert RANDOM or share >= MIN_SUCCESS_SHARE, (
        f"only {share:.0%} of the valid cases reach a success path; e.g. " + "\n".join(valid_failures)
    )
