"""The `wrike-mcp` command line: parses, builds settings, calls into the packages. No logic lives here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from wrike_mcp.runtime import SandboxSite

EXIT_USAGE = 2


class BuiltInSandbox:
    """`--sandbox`: the emulator, as `runtime.Sandbox`. Only the CLI imports it (DESIGN §2), when used."""

    def app(self) -> ASGIApp:
        from wrike_mcp.sandbox import create_app

        return create_app()

    @contextmanager
    def on_loopback(self) -> Iterator[SandboxSite]:
        from wrike_mcp.runtime import SandboxSite
        from wrike_mcp.sandbox.serve import BackgroundSandbox
        from wrike_mcp.sandbox.state import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

        with BackgroundSandbox() as sandbox:
            yield SandboxSite(sandbox.api_url, sandbox.base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)


def _add_filter_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-only", action="store_true", default=None, help="offer only read tools")
    parser.add_argument(
        "--toolsets",
        help="comma-separated toolsets to offer: 'default' for those on by default, plus others "
        "(e.g. default,app_activity), or 'all' (default: default)",
    )
    parser.add_argument("--tools", help="comma-separated tool names to offer (default: all)")
    parser.add_argument("--exclude-tools", help="comma-separated tool names to hide")
    parser.add_argument(
        "--allow-delete",
        action="store_true",
        default=None,
        help="offer destructive tools (delete_task) to clients that cannot confirm through elicitation",
    )
    parser.add_argument("--scopes", help="granted Wrike scopes for a permanent token, comma-separated")
    parser.add_argument(
        "--output-schemas",
        action="store_true",
        default=None,
        help="publish each tool's outputSchema in tools/list (larger; results are typed anyway)",
    )
    parser.add_argument("--sandbox", action="store_true", help="run against the built-in Wrike sandbox")


def build_parser() -> argparse.ArgumentParser:
    from wrike_mcp import __version__

    parser = argparse.ArgumentParser(prog="wrike-mcp", description="MCP server for Wrike")
    parser.add_argument("--version", action="version", version=f"wrike-mcp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve the Wrike API v4 emulator on loopback")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8100)
    sandbox.add_argument("--token-ttl", type=int, default=3600, help="OAuth access-token lifetime, seconds")
    sandbox.add_argument("--rate-limit", type=int, default=400, help="requests per minute per token")
    sandbox.add_argument(
        "--plan",
        choices=["enterprise", "team"],
        default="enterprise",
        help="the account's Wrike plan; team refuses task `status`, time logging and account-wide comments",
    )

    serve = commands.add_parser("serve", help="run the MCP server (stdio by default)")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="HTTP bind address")
    serve.add_argument("--port", type=int, default=8000, help="HTTP port")
    serve.add_argument("--stateless", action="store_true", help="stateless JSON mode for HTTP")
    serve.add_argument(
        "--allowed-hosts", help="HTTP Host values to accept, comma-separated (default: loopback)"
    )
    serve.add_argument("--allowed-origins", help="HTTP Origin values to accept, comma-separated")
    serve.add_argument(
        "--auth",
        choices=["none", "oauth"],
        help="HTTP client authentication: oauth = multi-user, wrike-mcp's own OAuth in front of Wrike's",
    )
    serve.add_argument("--public-url", help="the server's public base URL (with --auth oauth)")
    _add_filter_flags(serve)

    tools = commands.add_parser("tools", help="list the tools this configuration offers")
    tools.add_argument("--json", action="store_true", help="machine-readable output")
    tools.add_argument("--markdown", action="store_true", help="a Markdown table (as in the README)")
    _add_filter_flags(tools)

    call = commands.add_parser("call", help="call one tool and print its result as JSON")
    call.add_argument("tool")
    call.add_argument("arguments", nargs="?", default="{}", help="JSON object of arguments")
    _add_filter_flags(call)

    doctor = commands.add_parser("doctor", help="check the configuration and say what to fix (no secrets)")
    _add_filter_flags(doctor)

    auth = commands.add_parser("auth", help="OAuth login, status, logout")
    auth_commands = auth.add_subparsers(dest="auth_command", required=True)
    login = auth_commands.add_parser("login", help="authorize wrike-mcp with your Wrike account")
    login.add_argument(
        "--no-browser", action="store_true", help="print the URL and read the redirect from stdin"
    )
    login.add_argument("--scopes", help="scopes to request, comma-separated")
    auth_commands.add_parser("status", help="who is logged in, scopes, expiry (never a token)")
    auth_commands.add_parser("logout", help="delete the stored tokens")

    admin = commands.add_parser(
        "admin", help="remote mode: users, clients, client registration, revocation, key rotation, audit"
    )
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    admin_commands.add_parser("users", help="signed-in users (never a token)")
    admin_commands.add_parser("clients", help="registered MCP clients")
    revoke = admin_commands.add_parser("revoke", help="end a user's or a client's access")
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="the user's email or Wrike contact id")
    target.add_argument("--client", help="the MCP client id")
    admin_commands.add_parser("rotate-key", help="re-encrypt stored secrets with the newest key")
    audit = admin_commands.add_parser(
        "audit", help="export the audit trail of tool calls (never arguments or tokens)"
    )
    audit.add_argument("--user", help="only this user: email, Wrike contact id or user id")
    audit.add_argument("--client", help="only this MCP client id")
    audit.add_argument("--since", help="only calls from this date or time on (ISO 8601, UTC unless it says)")
    audit.add_argument("--format", choices=["csv", "json"], default="csv", dest="output_format")
    pre = admin_commands.add_parser(
        "register-client",
        help="pre-register a confidential MCP client (e.g. Copilot Studio's manual OAuth); prints its secret once",
    )
    pre.add_argument("--name", required=True, help="the name people see on the consent page")
    pre.add_argument(
        "--redirect-uri", action="append", required=True, dest="redirect_uris", help="repeat for several"
    )
    pre.add_argument("--scope", help="scopes it may ask for, space- or comma-separated; default: any")
    pre.add_argument(
        "--auth-method",
        choices=["client_secret_post", "client_secret_basic"],
        default="client_secret_post",
        help="how it sends its secret to /token",
    )
    return parser


def settings_overrides(args: argparse.Namespace) -> dict[str, object]:
    """CLI flags that map onto Settings fields; unset flags leave env vars in charge."""
    names = (
        "read_only",
        "toolsets",
        "tools",
        "exclude_tools",
        "allow_delete",
        "output_schemas",
        "scopes",
        "allowed_hosts",
        "allowed_origins",
        "auth",
        "public_url",
    )
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sandbox":
            from wrike_mcp.sandbox.serve import run_sandbox

            return run_sandbox(
                host=args.host,
                port=args.port,
                token_ttl=args.token_ttl,
                rate_limit=args.rate_limit,
                plan=args.plan,
            )
        from wrike_mcp.config import Settings

        settings = Settings(**settings_overrides(args))  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        print(
            f"wrike-mcp: invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr
        )
        return EXIT_USAGE
    if args.command == "auth":
        from wrike_mcp.auth_commands import run_auth_command

        return run_auth_command(args, settings)
    if args.command == "admin":
        from wrike_mcp.remote.admin import run_admin_command

        return run_admin_command(args, settings)
    sandbox = BuiltInSandbox() if args.sandbox else None
    if args.command == "doctor":
        from wrike_mcp.doctor import run_doctor

        return run_doctor(settings, sandbox=sandbox, out=sys.stdout)
    from wrike_mcp.server_commands import run_server_command

    return run_server_command(args, settings, sandbox)
