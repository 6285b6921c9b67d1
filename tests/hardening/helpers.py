"""Shared pieces of the hardening suite: a live sandbox with a planted canary token, fast client settings,
the MCP server on it, and the checks every matrix row makes (first line, request counts, deadline)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from mcp.types import CallToolResult

from wrike_mcp.config import Settings
from wrike_mcp.sandbox.serve import BackgroundSandbox
from wrike_mcp.sandbox.state import DEMO_TOKEN
from wrike_mcp.server import WrikeMCPServer, create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource, TokenSource

# A permanent token the sandbox accepts (planted in its state) and that must never appear in any output.
CANARY_TOKEN = "canary-permanent-token-4be1d07c9f"
OAUTH_CLIENT_ID = "sandbox-client"
OAUTH_CLIENT_SECRET = "sandbox-secret"

# Small timeouts and retry budgets keep the matrix fast; deadlines below are derived from them.
TIMEOUT = 0.5
MAX_RETRIES = 2
RETRY_BUDGET = 3.0
FAST_CLIENT: dict[str, Any] = {
    "timeout": TIMEOUT,
    "max_retries": MAX_RETRIES,
    "retry_budget": RETRY_BUDGET,
    "backoff_base": 0.02,
    "backoff_max": 0.1,
    "retry_after_cap": 5.0,
}
SLACK = 1.5  # scheduling, thread hand-offs and the tool's own work on a loaded CI machine
READ_DEADLINE = (MAX_RETRIES + 1) * TIMEOUT + RETRY_BUDGET + SLACK
WRITE_DEADLINE = TIMEOUT + SLACK
FIRST_LINE_MAX = 200


def plant_token(sandbox: BackgroundSandbox, value: str = CANARY_TOKEN) -> None:
    """Make the sandbox accept `value` as a permanent token of the demo user (all scopes)."""
    state = sandbox.app.state.sandbox
    state.access_tokens[value] = dataclasses.replace(state.access_tokens[DEMO_TOKEN], value=value)


def control(sandbox: BackgroundSandbox, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{sandbox.base_url}/_sandbox/{path}", json=body, timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


def reset(sandbox: BackgroundSandbox) -> None:
    control(sandbox, "POST", "reset")
    plant_token(sandbox)


def add_fault(sandbox: BackgroundSandbox, **fault: Any) -> None:
    control(sandbox, "POST", "faults", fault)


def requests_to(sandbox: BackgroundSandbox, method: str, path: str) -> list[dict[str, Any]]:
    """Logged API requests with exactly this method and path."""
    return [
        entry
        for entry in control(sandbox, "GET", "requests")
        if entry["method"] == method and entry["path"] == path
    ]


def make_client(sandbox: BackgroundSandbox, source: TokenSource | None = None, **options: Any) -> WrikeClient:
    return WrikeClient(
        source or StaticTokenSource(CANARY_TOKEN),
        base_url=sandbox.api_url,
        **{**FAST_CLIENT, **options},
    )


def make_server(client: WrikeClient, **overrides: Any) -> WrikeMCPServer:
    """Every toolset on (some are off by default) and delete_task offered, unless overridden."""
    overrides.setdefault("toolsets", ["all"])
    settings = Settings(base_url=str(client.base_url), allow_delete=True, **overrides)
    return create_server(settings, StaticContext(WrikeContext(settings, client, mode="permanent token")))


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def first_line(result: CallToolResult) -> str:
    return text_of(result).split("\n", 1)[0]


def oauth_grant(sandbox: BackgroundSandbox) -> dict[str, Any]:
    """A fresh OAuth grant from the sandbox's authorization-code flow (what `auth login` stores)."""
    redirect = "http://127.0.0.1:9/callback"
    answer = httpx.get(
        f"{sandbox.base_url}/oauth2/authorize/v4",
        params={
            "client_id": OAUTH_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": redirect,
            "state": "s",
        },
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    token = httpx.post(
        f"{sandbox.base_url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": OAUTH_CLIENT_SECRET,
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    body: dict[str, Any] = token.json()
    return body


def leaks(secrets: Iterable[str], *texts: str) -> list[str]:
    """The secrets (shown masked) that occur in any of the texts."""
    everything = "\n".join(texts)
    return [f"{secret[:4]}…" for secret in secrets if secret and secret in everything]


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.monotonic()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.started
