"""`wrike-mcp auth login | status | logout`: command-line glue over auth/. Output never contains a token or a
secret."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
import webbrowser
from collections.abc import Callable
from typing import TextIO

from wrike_mcp import scopes as scope_names
from wrike_mcp.auth.errors import LoginError, TokenStoreError
from wrike_mcp.auth.login import LoginFlow, login_with_listener, login_with_paste
from wrike_mcp.auth.oauth import api_base_url
from wrike_mcp.auth.store import Grant, TokenStore
from wrike_mcp.config import Settings
from wrike_mcp.runtime import client_from_settings
from wrike_mcp.wrike.errors import WrikeError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

# What `auth login` asks for without --scopes/WRIKE_SCOPES: every non-admin tool (wsReadWrite implies
# wsReadOnly). Admin scopes such as amReadOnlyAuditLog must be asked for explicitly.
DEFAULT_LOGIN_SCOPES = [scope_names.WS_READ_WRITE]


def run_auth_command(
    args: argparse.Namespace,
    settings: Settings,
    *,
    store: TokenStore | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
    open_browser: Callable[[str], object] | None = None,
) -> int:
    """Run one auth subcommand; returns the exit code. Every failure is one line on stderr, no traceback."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        store = store or TokenStore.from_settings(settings)
        if args.auth_command == "login":
            return _login(args, settings, store, out, stdin or sys.stdin, open_browser or webbrowser.open)
        if args.auth_command == "status":
            return _status(settings, store, out)
        if args.auth_command == "logout":
            return _logout(settings, store, out)
        print(f"wrike-mcp: unknown auth command {args.auth_command!r}", file=err)
        return 2
    except WrikeError as exc:
        print(f"wrike-mcp: {exc}", file=err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("wrike-mcp: cancelled; nothing was stored", file=err)
        return EXIT_INTERRUPTED


def requested_scopes(args: argparse.Namespace, settings: Settings) -> list[str]:
    text = getattr(args, "scopes", None)
    chosen = scope_names.parse(text) if text else (settings.scopes or DEFAULT_LOGIN_SCOPES)
    unknown = [s for s in chosen if s not in scope_names.KNOWN_SCOPES]
    if unknown:
        raise LoginError(
            f"unknown Wrike scope(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(scope_names.KNOWN_SCOPES))}"
        )
    return chosen


def _login(
    args: argparse.Namespace,
    settings: Settings,
    store: TokenStore,
    out: TextIO,
    stdin: TextIO,
    open_browser: Callable[[str], object],
) -> int:
    flow = LoginFlow(
        settings,
        requested_scopes(args, settings),
        store,
        open_client=lambda source: client_from_settings(settings, source),
    )
    if getattr(args, "no_browser", False):
        grant = asyncio.run(login_with_paste(flow, out=out, stdin=stdin))
    else:
        grant = asyncio.run(login_with_listener(flow, out=out, open_browser=open_browser))
    print(f"Logged in as {_who(grant)}.", file=out)
    _describe(grant, settings, store, out)
    return EXIT_OK


def _status(settings: Settings, store: TokenStore, out: TextIO) -> int:
    grant = store.current(settings.login_url)
    if grant is None:
        print("not logged in; run `wrike-mcp auth login`", file=out)
        if settings.access_token is not None:
            print("(WRIKE_ACCESS_TOKEN is set: the server uses that permanent token)", file=out)
        return EXIT_FAILED
    print(f"Logged in as {_who(grant)}.", file=out)
    _describe(grant, settings, store, out)
    return EXIT_OK


def _logout(settings: Settings, store: TokenStore, out: TextIO) -> int:
    try:
        grant = store.current(settings.login_url)
    except TokenStoreError:
        store.clear()  # logout is the documented way out of a corrupted store
        print(f"Removed the unreadable token store ({store.description}).", file=out)
        return EXIT_OK
    if grant is None:
        print("not logged in; nothing to delete", file=out)
        return EXIT_OK
    store.delete(grant.key)
    print(
        f"Logged out {_who(grant)}: tokens deleted from {store.description}.\n"
        "Wrike itself still lists the authorization; revoke it under Apps & Integrations if you want.",
        file=out,
    )
    return EXIT_OK


def _who(grant: Grant) -> str:
    user = grant.user or {}
    name = user.get("name") or "an unknown user"
    return f"{name} <{user['email']}>" if user.get("email") else name


def _describe(grant: Grant, settings: Settings, store: TokenStore, out: TextIO) -> None:
    account = grant.account or {}
    scopes = ", ".join(grant.scopes) if grant.scopes is not None else "unknown"
    refresh = (
        "stored (rotates on every refresh)" if grant.refresh_token else "none: log in again when it expires"
    )
    lines = [
        f"  account:   {account.get('name') or 'unknown'} ({account.get('id') or 'id unknown'})",
        f"  API:       {api_base_url(settings, grant.host)} (host {grant.host})",
        f"  scopes:    {scopes}",
        f"  access:    {_expiry(grant)}",
        f"  refresh:   {refresh}",
        f"  stored in: {store.description}",
    ]
    print("\n".join(lines), file=out)


def _expiry(grant: Grant) -> str:
    if grant.expires_at is None:
        return "no expiry given"
    at = dt.datetime.fromtimestamp(grant.expires_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    left = grant.expires_at - time.time()
    if left <= 0:
        return f"expired at {at} (refreshed automatically on next use)"
    return f"expires at {at}, in {_duration(left)} (refreshed automatically)"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
