"""Prometheus metrics of an HTTP server, at `/metrics` behind a bearer secret (WRIKE_MCP_METRICS_TOKEN).

Counted where the events already flow, never by the code that causes them: each finished tool call (the
record `calls.observe_tool_calls` hands its sinks), each exchange with Wrike (the Wrike client's event
hooks), each Wrike token refresh (the remote token source's hook) and, in remote mode, the answers of the
sign-in routes (remote/observe.py). Labels are tool names, outcomes, HTTP methods, statuses and route names:
never a user, a client id, an argument or a token. Active users are a count of distinct users, nothing more.

Each process counts its own: with several replicas, Prometheus scrapes each one (docs/REMOTE.md).
prometheus-client is imported only when a metrics token is set (this module is loaded only then).
"""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from wrike_mcp.calls import ToolCall
from wrike_mcp.wrike.client import EventHook, Exchanged

METRICS_PATH = "/metrics"
# how far back "active" reaches: the gauge's `window` label
ACTIVE_WINDOWS = {"5m": 300, "1h": 3600, "24h": 86400}
MAX_TRACKED_USERS = 100_000  # distinct users remembered for the gauge; past it the least recent go first
CALL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
WRIKE_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REFRESH_OUTCOMES = ("ok", "refused", "failed")
SIGN_IN_OUTCOMES = ("completed", "refused", "failed")
DENIAL_PLACES = ("consent_page", "wrike")


class ActiveUsers(Collector):
    """Distinct users who called a tool within each window, from the last call of each (kept in memory)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._last: OrderedDict[str, float] = OrderedDict()

    def seen(self, user: str) -> None:
        self._last.pop(user, None)
        self._last[user] = self.clock()
        while len(self._last) > MAX_TRACKED_USERS:
            self._last.popitem(last=False)

    def counts(self) -> dict[str, int]:
        now = self.clock()
        longest = max(ACTIVE_WINDOWS.values())
        while self._last and next(iter(self._last.values())) < now - longest:
            self._last.popitem(last=False)
        return {
            window: sum(1 for at in self._last.values() if at >= now - seconds)
            for window, seconds in ACTIVE_WINDOWS.items()
        }

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "wrike_mcp_active_users",
            "Distinct users who called a tool on this replica within the window",
            labels=["window"],
        )
        for window, count in self.counts().items():
            gauge.add_metric([window], count)
        yield gauge


class Metrics:
    """One process's metrics and its `/metrics` endpoint. `remote` adds the multi-user families."""

    def __init__(self, token: str, *, remote: bool, clock: Callable[[], float] = time.time) -> None:
        if not token:
            raise ValueError("a metrics token is needed")
        self._token = token.encode()
        self.registry = registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=registry)
        self.tool_calls = Counter(
            "wrike_mcp_tool_calls",
            "Tool calls by tool and outcome (a result with isError counts as an error)",
            ["tool", "outcome"],
            registry=registry,
        )
        self.tool_call_seconds = Histogram(
            "wrike_mcp_tool_call_duration_seconds",
            "Tool call duration",
            ["tool"],
            buckets=CALL_BUCKETS,
            registry=registry,
        )
        self.wrike_requests = Counter(
            "wrike_mcp_wrike_requests",
            "Requests sent to Wrike's API, by method and HTTP status (no_answer: timeout or dropped)",
            ["method", "status"],
            registry=registry,
        )
        self.wrike_seconds = Histogram(
            "wrike_mcp_wrike_request_duration_seconds",
            "Wrike API request duration",
            buckets=WRIKE_BUCKETS,
            registry=registry,
        )
        self.wrike_rate_limited = Counter(
            "wrike_mcp_wrike_rate_limited", "Wrike API answers HTTP 429", registry=registry
        )
        self.wrike_retries = Counter(
            "wrike_mcp_wrike_retries",
            "Wrike API reads retried (after a 429, a 5xx or no answer)",
            registry=registry,
        )
        self.active_users: ActiveUsers | None = None
        if not remote:
            return
        self.active_users = ActiveUsers(clock)
        registry.register(self.active_users)
        self.token_refreshes = Counter(
            "wrike_mcp_token_refreshes",
            "Refreshes of users' Wrike tokens, by outcome (refused: Wrike ended the grant)",
            ["outcome"],
            registry=registry,
        )
        self.sign_ins = Counter(
            "wrike_mcp_sign_ins",
            "Sign-ins through Wrike finished at the callback, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.consent_denials = Counter(
            "wrike_mcp_consent_denials",
            "Sign-ins the person declined, on the consent page or at Wrike",
            ["where"],
            registry=registry,
        )
        self.rate_limit_refusals = Counter(
            "wrike_mcp_rate_limit_refusals",
            "Requests refused with HTTP 429 by this server's own limits, by route",
            ["route"],
            registry=registry,
        )
        # zeros from the start: a rate() over a series that appears only with its first event misses it
        for outcome in REFRESH_OUTCOMES:
            self.token_refreshes.labels(outcome)
        for outcome in SIGN_IN_OUTCOMES:
            self.sign_ins.labels(outcome)
        for where in DENIAL_PLACES:
            self.consent_denials.labels(where)

    # ---- sinks and hooks ----------------------------------------------------------------------------

    def tool_call(self, call: ToolCall) -> None:
        tool = call.tool  # a declared name or "unknown" (calls.declared_name)
        outcome = "ok" if call.outcome == "ok" else "error"
        self.tool_calls.labels(tool, outcome).inc()
        self.tool_call_seconds.labels(tool).observe(call.seconds)
        if call.user and self.active_users is not None:
            self.active_users.seen(call.user)

    def wrike_event(self, event: Exchanged) -> None:
        if event.retry:
            self.wrike_retries.inc()
            return
        status = str(event.status) if event.status is not None else "no_answer"
        self.wrike_requests.labels(event.method, status).inc()
        self.wrike_seconds.observe(event.seconds)
        if event.status == 429:
            self.wrike_rate_limited.inc()

    @property
    def event_hooks(self) -> list[EventHook]:
        return [self.wrike_event]

    def token_refresh(self, outcome: str) -> None:
        self.token_refreshes.labels(outcome).inc()

    # ---- the endpoint -------------------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        # constant time over bytes: a timing difference would tell how much of a guess was right
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token)

    async def endpoint(self, request: Request) -> Response:
        if not self.authorized(request):
            return PlainTextResponse(
                "a bearer token (WRIKE_MCP_METRICS_TOKEN) is needed\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
            )
        return Response(
            generate_latest(self.registry),
            media_type=CONTENT_TYPE_LATEST,
            headers={"Cache-Control": "no-store"},
        )
