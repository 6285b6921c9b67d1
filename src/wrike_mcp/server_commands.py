"""`wrike-mcp serve | tools | call`: command-line glue. What runs is built by `runtime` (and `remote/`)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import SecretStr

from wrike_mcp.auth.errors import NoCredentialsError
from wrike_mcp.calls import observe_tool_calls
from wrike_mcp.config import Settings
from wrike_mcp.hosts import LOOPBACK_HOST_HEADERS, LOOPBACK_ORIGINS
from wrike_mcp.runtime import Sandbox, connect
from wrike_mcp.server import create_server, offered_tools, tool_filter
from wrike_mcp.tools.deps import StaticContext
from wrike_mcp.tools.registry import (
    DEFAULT_TOOLSETS,
    OFF_BY_DEFAULT,
    ToolInfo,
    declared_tool,
    switchable_toolsets,
)
from wrike_mcp.tracing import start_tracing
from wrike_mcp.wrike.client import EventHook
from wrike_mcp.wrike.errors import WrikeError

if TYPE_CHECKING:
    from wrike_mcp.metrics import Metrics

EXIT_TOOL_ERROR = 1
EXIT_USAGE = 2

NO_CREDENTIALS = """\
wrike-mcp: no Wrike credentials.
  - permanent token: export WRIKE_ACCESS_TOKEN=... (Wrike → Apps & Integrations → API)
  - OAuth: set WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET, then run `wrike-mcp auth login`
  - or try it without an account: wrike-mcp serve --sandbox"""


def configure_logging(settings: Settings) -> None:
    """Logs go to stderr only: stdout is the stdio transport's wire."""
    logging.basicConfig(
        stream=sys.stderr,
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every URL at INFO, search words included; wrike_mcp.wrike logs requests at DEBUG instead
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


def run_server_command(args: argparse.Namespace, settings: Settings, sandbox: Sandbox | None) -> int:
    """`serve`, `tools` or `call`; `sandbox` when run with --sandbox."""
    configure_logging(settings)
    problems = tool_filter(settings, None).validate_names()
    if problems:
        print(f"wrike-mcp: {'; '.join(problems)}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "tools":
        return list_tools(settings, as_json=args.json, as_markdown=args.markdown)
    try:
        if args.command == "serve":
            anyio.run(serve, args, settings, sandbox)
            return 0
        return anyio.run(call_tool, args, settings, sandbox)
    except NoCredentialsError as exc:
        print(str(exc) or NO_CREDENTIALS, file=sys.stderr)
        return EXIT_USAGE
    except RemoteStartError as exc:
        print(f"wrike-mcp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0


def tools_markdown(infos: Sequence[ToolInfo]) -> str:
    """The tool table of the README (kept current by a test)."""
    rows = ["| tool | toolset | Wrike scopes | read-only | what it does |", "|---|---|---|---|---|"]
    for info in infos:
        summary = " ".join(info.description.split("\n\n", 1)[0].split())
        flag = "yes" if info.read_only else ("no (destructive)" if info.kind == "destructive" else "no")
        toolset = f"{info.toolset} (off by default)" if info.toolset in OFF_BY_DEFAULT else info.toolset
        needs = ", ".join(info.scopes) or "none"
        rows.append(f"| `{info.name}` | {toolset} | {needs} | {flag} | {summary} |")
    return "\n".join(rows) + "\n"


def list_tools(settings: Settings, *, as_json: bool, as_markdown: bool = False) -> int:
    specs = offered_tools(settings)
    if as_markdown:
        print(tools_markdown(specs), end="")
        return 0
    rows: list[dict[str, object]] = [
        {"name": spec.name, "toolset": spec.toolset, "scopes": list(spec.scopes), "read_only": spec.read_only}
        for spec in specs
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max((len(spec.name) for spec in specs), default=4)
    print(f"{'tool':<{width}}  {'toolset':<12}  {'read-only':<9}  scopes")
    for spec in specs:
        flag = "yes" if spec.read_only else "no"
        print(f"{spec.name:<{width}}  {spec.toolset:<12}  {flag:<9}  {', '.join(spec.scopes)}")
    off = sorted(switchable_toolsets(settings.toolsets))
    if off:
        print(
            f"\noff by default: {', '.join(off)} (--toolsets default,{','.join(off)}, or enable_toolsets in a "
            "session; docs/TOOLSETS.md)"
        )
    return 0


async def serve(args: argparse.Namespace, settings: Settings, sandbox: Sandbox | None) -> None:
    if settings.auth == "oauth":
        await serve_remote(args, settings, sandbox)
        return
    metrics = None
    if args.transport == "http" and settings.metrics_token:
        from wrike_mcp.metrics import Metrics  # prometheus-client, loaded only when metrics are on

        metrics = Metrics(settings.metrics_token.get_secret_value(), remote=False)
    tracing = start_tracing()
    hooks = [*(metrics.event_hooks if metrics else []), *(tracing.event_hooks if tracing else [])]
    try:
        await _serve_one_user(args, settings, sandbox, metrics, hooks)
    finally:
        if tracing is not None:
            tracing.shutdown()


async def _serve_one_user(
    args: argparse.Namespace,
    settings: Settings,
    sandbox: Sandbox | None,
    metrics: Metrics | None,
    hooks: list[EventHook],
) -> None:
    async with connect(settings, sandbox=sandbox, event_hooks=hooks) as context:
        middleware = [observe_tool_calls([metrics.tool_call])] if metrics else None
        server = create_server(settings, StaticContext(context), middleware=middleware)
        if args.transport == "stdio":
            await server.run_stdio_async()
            return
        import uvicorn

        from wrike_mcp.health import HEALTHZ_PATH, healthz

        server.custom_route(HEALTHZ_PATH, methods=["GET"])(healthz)
        if metrics is not None:
            from wrike_mcp.metrics import METRICS_PATH

            server.custom_route(METRICS_PATH, methods=["GET"])(metrics.endpoint)
        app = server.streamable_http_app(
            stateless_http=args.stateless,
            json_response=args.stateless,
            host=args.host,
            transport_security=transport_security(settings),
        )
        print(
            f"wrike-mcp: streamable HTTP on http://{args.host}:{args.port}/mcp", file=sys.stderr, flush=True
        )
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level=settings.log_level.lower())
        await uvicorn.Server(config).serve()


class RemoteStartError(Exception):
    pass


async def serve_remote(args: argparse.Namespace, settings: Settings, sandbox: Sandbox | None) -> None:
    """Multi-user HTTP: wrike-mcp's own OAuth in front of Wrike's (docs/REMOTE.md)."""
    import uvicorn

    from wrike_mcp.remote.app import RemoteConfigError, build_remote_server

    if args.transport != "http":
        raise RemoteStartError("--auth oauth serves HTTP: add --transport http")
    if not settings.public_url and sandbox is not None:
        settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{args.port}"})
    with contextlib.ExitStack() as stack:
        if sandbox is not None:
            # A real loopback port: the browser must reach the sandbox's sign-in page, as it would Wrike's.
            site = stack.enter_context(sandbox.on_loopback())
            settings = settings.model_copy(
                update={
                    "base_url": site.api_url,
                    "login_url": site.login_url,
                    "client_id": site.client_id,
                    "client_secret": SecretStr(site.client_secret),
                }
            )
        tracing = start_tracing()
        if tracing is not None:
            stack.callback(tracing.shutdown)
        try:
            remote = await build_remote_server(
                settings, stateless=args.stateless, event_hooks=tracing.event_hooks if tracing else ()
            )
        except RemoteConfigError as exc:
            raise RemoteStartError(str(exc)) from None
        public = (settings.public_url or "").rstrip("/")
        print(
            f"wrike-mcp: multi-user streamable HTTP on http://{args.host}:{args.port}/mcp (public: {public}/mcp)\n"
            f"  register this redirect URI in your Wrike app: {public}/oauth/wrike/callback",
            file=sys.stderr,
            flush=True,
        )
        controls = remote.provider.config
        if controls.client_policy.active or not controls.registration:
            registration = "on" if controls.registration else "off"
            print(
                f"  admin controls: {controls.client_policy.summary()}; dynamic registration {registration}",
                file=sys.stderr,
                flush=True,
            )
        config = uvicorn.Config(
            remote.app,
            host=args.host,
            port=args.port,
            log_level=settings.log_level.lower(),
            # the client address of the per-address limits: X-Forwarded-For is believed only from the
            # proxies in FORWARDED_ALLOW_IPS (uvicorn's default: loopback), docs/REMOTE.md "Limits"
            proxy_headers=True,
        )
        await uvicorn.Server(config).serve()


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host/Origin checks stay on whatever the bind address: loopback names unless others are allowed.

    (The SDK turns the checks off when bound to a non-loopback address; a container bound to 0.0.0.0 and
    published on 127.0.0.1 still receives loopback Host headers, so this default keeps it safe.)
    """
    hosts = settings.allowed_hosts or LOOPBACK_HOST_HEADERS
    origins = settings.allowed_origins or (
        LOOPBACK_ORIGINS
        if not settings.allowed_hosts
        else [f"https://{host}" for host in settings.allowed_hosts]
    )
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def with_toolset_of(tool: str, settings: Settings) -> Settings:
    """`call` names its tool: a toolset off by default that a session could turn on is on for the call."""
    try:
        toolset = declared_tool(tool).toolset
    except KeyError:
        return settings  # the server answers an unknown tool
    if toolset not in switchable_toolsets(settings.toolsets):
        return settings
    return settings.model_copy(update={"toolsets": [*(settings.toolsets or [DEFAULT_TOOLSETS]), toolset]})


async def call_tool(args: argparse.Namespace, settings: Settings, sandbox: Sandbox | None) -> int:
    from mcp import Client

    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        print(f"wrike-mcp: arguments are not JSON: {exc.msg} at position {exc.pos}", file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(arguments, dict):
        print("wrike-mcp: arguments must be a JSON object", file=sys.stderr)
        return EXIT_USAGE
    settings = with_toolset_of(args.tool, settings)
    async with connect(settings, sandbox=sandbox) as context:
        server = create_server(settings, StaticContext(context))
        try:
            async with Client(server) as client:
                result = await client.call_tool(args.tool, arguments)
        except WrikeError as exc:
            print(f"wrike-mcp: {exc.message}", file=sys.stderr)
            return EXIT_TOOL_ERROR
    if result.is_error:
        text = " ".join(block.text for block in result.content if block.type == "text")
        print(text, file=sys.stderr)
        return EXIT_TOOL_ERROR
    print(json.dumps(result.structured_content, indent=2, ensure_ascii=False))
    return 0
