"""`wrike-mcp serve | tools | call`: connect to Wrike (or the in-process sandbox) and run the server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from wrike_mcp.config import Settings
from wrike_mcp.hosts import LOOPBACK_HOST_HEADERS, LOOPBACK_ORIGINS
from wrike_mcp.server import create_server, offered_tools, tool_filter
from wrike_mcp.tools.registry import ToolInfo
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.governor import SharedBudget
from wrike_mcp.wrike.tokens import TokenSource

EXIT_TOOL_ERROR = 1
EXIT_USAGE = 2

SANDBOX_TOKEN = "wrike-sandbox-token"  # noqa: S105  (the emulator's documented demo token)
SANDBOX_BASE_URL = "http://127.0.0.1/api/v4"  # in-process: requests never leave the process

NO_CREDENTIALS = """\
wrike-mcp: no Wrike credentials.
  - permanent token: export WRIKE_ACCESS_TOKEN=... (Wrike → Apps & Integrations → API)
  - OAuth: set WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET, then run `wrike-mcp auth login`
  - or try it without an account: wrike-mcp serve --sandbox"""


@dataclass
class Connection:
    client: WrikeClient
    granted_scopes: frozenset[str] | None
    mode: str


class NoCredentials(Exception):
    pass


def client_from_settings(
    settings: Settings,
    token_source: TokenSource,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    host: str | None = None,
    shared_budget: SharedBudget | None = None,
) -> WrikeClient:
    """A Wrike client configured by the settings; `host` overrides WRIKE_HOST (a remote user's data centre),
    `shared_budget` counts its requests where other processes with the same grant count theirs."""
    return WrikeClient(
        token_source,
        base_url=settings.base_url,
        host=host or settings.host,
        timeout=settings.timeout,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        max_retries=settings.max_retries,
        retry_budget=settings.retry_budget,
        max_queue_wait=settings.max_queue_wait,
        transport=transport,
        shared_budget=shared_budget,
    )


@asynccontextmanager
async def connect(settings: Settings, *, sandbox: bool) -> AsyncIterator[Connection]:
    """A Wrike client for these settings: the in-process sandbox, OAuth, or a permanent token."""
    from wrike_mcp.wrike.tokens import StaticTokenSource

    if sandbox:
        transport = httpx.ASGITransport(app=SandboxOnFirstRequest())
        settings = settings.model_copy(update={"base_url": SANDBOX_BASE_URL})
        client = client_from_settings(settings, StaticTokenSource(SANDBOX_TOKEN), transport=transport)
        async with client:
            yield Connection(client, granted_scopes=None, mode="sandbox")
        return

    from wrike_mcp.auth import NoCredentialsError, token_source_from_settings

    try:
        source = token_source_from_settings(settings)
    except NoCredentialsError as exc:
        raise NoCredentials(str(exc)) from None
    granted = getattr(source, "granted_scopes", None)
    mode = "permanent token" if isinstance(source, StaticTokenSource) else "oauth"
    async with client_from_settings(settings, source) as client:
        yield Connection(client, granted_scopes=granted, mode=mode)


class SandboxOnFirstRequest:
    """The in-process sandbox, imported and seeded at the first Wrike request rather than at start-up.

    Answering `initialize` and `tools/list` needs no Wrike data, and building the emulator would otherwise
    be a good part of the stdio cold start.
    """

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            from wrike_mcp.sandbox import create_app

            self.app = create_app()
        await self.app(scope, receive, send)


def configure_logging(settings: Settings) -> None:
    """Logs go to stderr only: stdout is the stdio transport's wire."""
    logging.basicConfig(
        stream=sys.stderr,
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every URL at INFO, search words included; wrike_mcp.wrike logs requests at DEBUG instead
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


def run_server_command(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings)
    problems = tool_filter(settings, None).validate_names()
    if problems:
        print(f"wrike-mcp: {'; '.join(problems)}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "tools":
        return list_tools(settings, as_json=args.json, as_markdown=args.markdown)
    try:
        if args.command == "serve":
            anyio.run(serve, args, settings)
            return 0
        return anyio.run(call_tool, args, settings)
    except NoCredentials as exc:
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
        rows.append(f"| `{info.name}` | {info.toolset} | {', '.join(info.scopes)} | {flag} | {summary} |")
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
    return 0


async def serve(args: argparse.Namespace, settings: Settings) -> None:
    if settings.auth == "oauth":
        await serve_remote(args, settings)
        return
    async with connect(settings, sandbox=args.sandbox) as conn:
        server = create_server(settings, conn.client, granted_scopes=conn.granted_scopes, mode=conn.mode)
        if args.transport == "stdio":
            await server.run_stdio_async()
            return
        import uvicorn

        from wrike_mcp.health import HEALTHZ_PATH, healthz

        server.custom_route(HEALTHZ_PATH, methods=["GET"])(healthz)
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


async def serve_remote(args: argparse.Namespace, settings: Settings) -> None:
    """Multi-user HTTP: wrike-mcp's own OAuth in front of Wrike's (docs/REMOTE.md)."""
    import uvicorn

    from wrike_mcp.remote.app import RemoteConfigError, build_remote_server

    if args.transport != "http":
        raise RemoteStartError("--auth oauth serves HTTP: add --transport http")
    if not settings.public_url and args.sandbox:
        settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{args.port}"})
    sandbox = None
    if args.sandbox:
        from wrike_mcp.sandbox.serve import BackgroundSandbox
        from wrike_mcp.sandbox.state import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

        # A real loopback port: the browser must reach the sandbox's sign-in page, as it would Wrike's.
        sandbox = BackgroundSandbox().start()
        settings = settings.model_copy(
            update={
                "base_url": sandbox.api_url,
                "login_url": sandbox.base_url,
                "client_id": DEMO_CLIENT_ID,
                "client_secret": SecretStr(DEMO_CLIENT_SECRET),
            }
        )
    try:
        try:
            remote = await build_remote_server(settings, stateless=args.stateless)
        except RemoteConfigError as exc:
            raise RemoteStartError(str(exc)) from None
        public = (settings.public_url or "").rstrip("/")
        print(
            f"wrike-mcp: multi-user streamable HTTP on http://{args.host}:{args.port}/mcp (public: {public}/mcp)\n"
            f"  register this redirect URI in your Wrike app: {public}/oauth/wrike/callback",
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
    finally:
        if sandbox is not None:
            sandbox.stop()


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


async def call_tool(args: argparse.Namespace, settings: Settings) -> int:
    from mcp import Client

    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        print(f"wrike-mcp: arguments are not JSON: {exc.msg} at position {exc.pos}", file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(arguments, dict):
        print("wrike-mcp: arguments must be a JSON object", file=sys.stderr)
        return EXIT_USAGE
    async with connect(settings, sandbox=args.sandbox) as conn:
        server = create_server(settings, conn.client, granted_scopes=conn.granted_scopes, mode=conn.mode)
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
