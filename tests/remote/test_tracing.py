"""OpenTelemetry traces, exported to an OTLP/HTTP receiver this test starts: a span per MCP request (the MCP
SDK's, with the tool's name and `error.type = tool_error` for a result with isError) and, under it, a span per
request sent to Wrike (route template, status, retries, the rate governor's wait). Off unless the standard
`OTEL_*` variables ask, and then nothing of OpenTelemetry's SDK (nor prometheus-client) is even imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Browser, oauth_provider, start_replica, structured
from tests.remote.test_metrics import fault, plain_server
from wrike_mcp.sandbox.serve import BackgroundSandbox
from wrike_mcp.tracing import route_template, wanted

MISSING_TASK = "IEAAAAAAKZZZZZZZ"


@dataclass
class Span:
    name: str
    kind: int
    trace_id: bytes
    span_id: bytes
    parent_id: bytes
    attributes: dict[str, Any]
    error: bool
    service: str


@dataclass
class Receiver:
    """An OTLP/HTTP trace receiver on loopback: what every export request carried."""

    server: ThreadingHTTPServer
    spans: list[Span] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, name: str, count: int = 1, timeout: float = 20) -> list[Span]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [span for span in self.spans if span.name == name]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no {name!r} span; got {sorted({span.name for span in self.spans})}")


def value_of(any_value: Any) -> Any:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    spans: list[Span] = []
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            bodies.append(body)
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource_spans in request.resource_spans:
                resource = {a.key: value_of(a.value) for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        spans.append(
                            Span(
                                name=span.name,
                                kind=span.kind,
                                trace_id=span.trace_id,
                                span_id=span.span_id,
                                parent_id=span.parent_span_id,
                                attributes={a.key: value_of(a.value) for a in span.attributes},
                                error=span.status.code == 2,
                                service=str(resource.get("service.name")),
                            )
                        )
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(server, spans, bodies)
    finally:
        server.shutdown()
        server.server_close()


def otel_env(receiver: Receiver) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}


def children(spans: list[Span], parent: Span) -> list[Span]:
    return [span for span in spans if span.parent_id == parent.span_id and span.trace_id == parent.trace_id]


def test_off_unless_the_environment_asks_and_then_imports_nothing() -> None:
    assert not wanted({})
    assert not wanted({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"})
    assert not wanted({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"})
    assert wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert wanted({"OTEL_TRACES_EXPORTER": "console"})
    assert route_template("/tasks/IEAAAAAQKQAAAAAB,IEAAAAAQKQAAAAAC/comments") == "/tasks/{id}/comments"
    assert route_template("/folders/IEAB:x-y=/tasks") == "/folders/{id}/tasks"
    # what `serve` imports before it answers anything, with tracing and metrics off
    probe = (
        "import sys, wrike_mcp.cli, wrike_mcp.server_commands, wrike_mcp.server, wrike_mcp.remote.app;"
        "from wrike_mcp.tracing import start_tracing; assert start_tracing() is None;"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter',"
        " 'prometheus_client', 'google.protobuf'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


@pytest.mark.slow
async def test_single_user_server_exports_mcp_and_wrike_spans(
    tmp_path: Path, sandbox: BackgroundSandbox, receiver: Receiver
) -> None:
    await fault(
        sandbox, method="GET", path="/api/v4/tasks", status=429, times=1, headers={"Retry-After": "1"}
    )
    with plain_server(tmp_path, sandbox, metrics=False, extra_env=otel_env(receiver)) as base:
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
        ):
            structured(await client.call_tool("get_me", {}))
            structured(await client.call_tool("search_tasks", {"limit": 2}))
            assert (await client.call_tool("get_task", {"task": MISSING_TASK})).is_error
        (get_me,) = receiver.wait_for("tools/call get_me")
        (search,) = receiver.wait_for("tools/call search_tasks")
        (missing,) = receiver.wait_for("tools/call get_task")
        receiver.wait_for("GET /tasks/{id}")
    spans = receiver.spans
    assert get_me.service == "wrike-mcp" and get_me.kind == 2  # SERVER
    assert get_me.attributes["gen_ai.tool.name"] == "get_me" and not get_me.error
    assert missing.error and missing.attributes["error.type"] == "tool_error"  # isError is an error

    wrike = children(spans, get_me)
    assert wrike and all(span.kind == 3 for span in wrike)  # CLIENT, under the MCP request's span
    assert {span.name for span in wrike} >= {"GET /contacts"}
    assert all(span.attributes["http.response.status_code"] == 200 for span in wrike)

    tries = [span for span in children(spans, search) if span.name == "GET /tasks"]
    assert [span.attributes["http.response.status_code"] for span in tries] == [429, 200]
    assert tries[0].error and tries[0].attributes["error.type"] == "429"
    assert tries[1].attributes["http.request.resend_count"] == 1
    assert all(span.attributes["wrike_mcp.rate_governor.wait_ms"] >= 0 for span in tries)

    (lookup,) = [span for span in children(spans, missing) if span.name == "GET /tasks/{id}"]
    assert (
        lookup.attributes["url.template"] == "/tasks/{id}"
        and lookup.attributes["http.response.status_code"] == 404
    )
    exported = b"".join(receiver.bodies)
    assert MISSING_TASK.encode() not in exported  # neither the argument nor the id in a path
    assert b"wrike-sandbox-token" not in exported and b"Bearer" not in exported


@pytest.mark.slow
async def test_remote_replica_exports_spans_per_user_request(
    tmp_path: Path, sandbox: BackgroundSandbox, receiver: Receiver
) -> None:
    replica = start_replica(
        tmp_path, sandbox.base_url, f"sqlite:///{tmp_path / 'db.sqlite3'}", extra_env=otel_env(receiver)
    )
    try:
        async with AsyncExitStack() as stack:
            provider, storage = oauth_provider(
                replica.mcp_url, Browser(user="chloe.martin@northwind.example")
            )
            http = await stack.enter_async_context(httpx2.AsyncClient(auth=provider, timeout=30))
            client = await stack.enter_async_context(
                Client(streamable_http_client(replica.mcp_url, http_client=http))
            )
            structured(await client.call_tool("get_me", {}))
        (get_me,) = receiver.wait_for("tools/call get_me")
        assert {span.name for span in children(receiver.spans, get_me)} >= {"GET /contacts"}
        assert storage.tokens is not None
        exported = b"".join(receiver.bodies)
        assert storage.tokens.access_token.encode() not in exported
        assert b"chloe" not in exported  # no user in any attribute
    finally:
        replica.stop()
    async with httpx.AsyncClient() as control:  # the sandbox saw the calls the spans describe
        log = (await control.get(f"{sandbox.base_url}/_sandbox/requests")).json()
    assert any(entry["path"] == "/api/v4/contacts" for entry in log)


def test_console_spans_over_stdio_go_to_stderr_never_into_the_mcp_stream(tmp_path: Path) -> None:
    """OTEL_TRACES_EXPORTER=console with `serve` over stdio: stdout carries only JSON-RPC messages (a span
    there breaks the client's stream); the spans are still written, to stderr."""
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "stdio-probe", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_me", "arguments": {}}},
    ]
    stdin = "".join(json.dumps(message) + "\n" for message in messages)
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "HOME": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "wrike_mcp", "serve", "--sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(stdin)
    server.stdin.flush()
    answers: list[dict[str, Any]] = []
    while len(answers) < 2:  # the initialize and tools/call answers
        line = server.stdout.readline()
        assert line, "the server closed stdout before answering"
        answers.append(json.loads(line))
    time.sleep(1)  # the batch processor's 100 ms schedule exports the spans meanwhile
    rest, errors = server.communicate(timeout=60)  # closes stdin: the server ends, flushing its spans
    lines = [line for line in rest.splitlines() if line.strip()]
    assert all(json.loads(line).get("jsonrpc") == "2.0" for line in lines), rest[:500]
    assert answers[1]["id"] == 2 and not answers[1]["result"].get("isError")
    assert '"trace_id"' in errors  # the spans were exported, where they belong
