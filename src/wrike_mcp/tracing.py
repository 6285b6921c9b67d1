"""OpenTelemetry traces, off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_TRACES_EXPORTER`) is set.

The MCP SDK already opens a span for each MCP request (`tools/call get_task`, with `mcp.method.name`,
`gen_ai.tool.name`, and `error.type = tool_error` for a result with isError) through the OpenTelemetry API,
which is a no-op until a tracer provider is installed. `start_tracing` installs one (the SDK's, exporting by
OTLP/HTTP or to the console, configured by the standard `OTEL_*` variables) and returns the Wrike client
event hook that adds a child span per request sent to Wrike: method, route template (ids replaced),
status, retry count and the rate governor's wait. Never an argument, a query string or a token.

When off, nothing here imports anything: the packages (`pip install wrike-mcp[otel]`) are loaded only by
`start_tracing` once the environment asks for traces.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wrike_mcp import __version__
from wrike_mcp.wrike.client import EventHook, Exchanged

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)

ID_SEGMENT = re.compile(r"^[a-z_]+$")  # Wrike's path words; anything else (ids, id lists) is an id


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces (the standard OpenTelemetry variables)."""
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(
        exporter
        or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def route_template(path: str) -> str:
    """`/tasks/IEAAAAAQKQAAAAAB/comments` → `/tasks/{id}/comments`: no ids (nor what they name) in a span."""
    return "/".join(
        segment if not segment or ID_SEGMENT.match(segment) else "{id}" for segment in path.split("/")
    )


class Tracing:
    """The installed tracer provider and the Wrike client hook that adds its spans."""

    def __init__(self, provider: TracerProvider) -> None:
        from opentelemetry import trace

        self.provider = provider
        self._trace = trace
        self.tracer = provider.get_tracer("wrike_mcp", __version__)

    @property
    def event_hooks(self) -> list[EventHook]:
        return [self.wrike_event]

    def wrike_event(self, event: Exchanged) -> None:
        """A client span for one attempt, ended now, begun `seconds` ago, under the current span (the MCP
        request's)."""
        if event.retry:
            return  # the next attempt's span carries its count
        trace = self._trace
        end = time.time_ns()
        template = route_template(event.path)
        attributes: dict[str, Any] = {
            "http.request.method": event.method,
            "url.template": template,
            "wrike_mcp.rate_governor.wait_ms": round(event.waited * 1000, 1),
        }
        if event.attempt:
            attributes["http.request.resend_count"] = event.attempt
        if event.status is not None:
            attributes["http.response.status_code"] = event.status
        span = self.tracer.start_span(
            f"{event.method} {template}",
            kind=trace.SpanKind.CLIENT,
            attributes=attributes,
            start_time=end - int(event.seconds * 1e9),
        )
        if event.status is None or event.status >= 400:
            span.set_attribute("error.type", str(event.status) if event.status is not None else "no_answer")
            span.set_status(trace.StatusCode.ERROR)
        span.end(end_time=end)

    def shutdown(self) -> None:
        """Export what is still queued (at exit)."""
        self.provider.shutdown()


def start_tracing() -> Tracing | None:
    """Install a tracer provider when the environment asks for traces; None when it does not, or when the
    packages are missing (then a warning says what to install). The exporter reads the OTEL_* variables."""
    environ = os.environ
    if not wanted(environ):
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
    except ImportError:
        log.warning(
            "OTEL_* asks for traces but OpenTelemetry's SDK is not installed: pip install 'wrike-mcp[otel]'"
        )
        return None
    exporter: SpanExporter
    names = [name.strip() for name in environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",")]
    if "console" in names:
        # stderr: over stdio, stdout carries only MCP messages (a span there would break the client's stream)
        exporter = ConsoleSpanExporter(out=sys.stderr)
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning(
                "OTEL_* asks for OTLP traces but the exporter is not installed: pip install 'wrike-mcp[otel]'"
            )
            return None
        exporter = (
            OTLPSpanExporter()
        )  # endpoint, headers, timeout, compression: the OTEL_EXPORTER_OTLP_* variables
    attributes = {SERVICE_VERSION: __version__}
    named = environ.get("OTEL_SERVICE_NAME") or "service.name=" in environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    if not named:  # the operator's name wins
        attributes[SERVICE_NAME] = "wrike-mcp"
    resource = Resource.create(attributes)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))  # OTEL_BSP_* tune it
    trace.set_tracer_provider(provider)
    log.info("tracing on: spans exported by %s", type(exporter).__name__)
    return Tracing(provider)
