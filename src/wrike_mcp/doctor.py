"""`wrike-mcp doctor`: checks the configuration a user has and prints what to fix, one line per check.

Every line is `ok`, `warn` or `fail`, the thing checked, and what was found or what to do. Nothing secret is
printed: a token is only ever "set" or "not set", a person is their name and email.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal, TextIO

from wrike_mcp.auth.errors import NoCredentialsError, TokenStoreError
from wrike_mcp.config import Settings
from wrike_mcp.runtime import Sandbox, connect
from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.wrike.errors import ConnectionFailed, NotAuthorized, WrikeError, WrikeTimeout
from wrike_mcp.wrike.models import Contact

Status = Literal["ok", "warn", "fail"]
MAX_CLOCK_SKEW = 60.0  # seconds; beyond it OAuth expiry and date filters are visibly off
NO_CREDENTIAL_FIX = (
    "none: set WRIKE_ACCESS_TOKEN (Wrike → Apps & Integrations → API → permanent token), or set "
    "WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET and run `wrike-mcp auth login`"
)


@dataclass(frozen=True)
class Check:
    status: Status
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def credential_check(settings: Settings, *, sandbox: bool) -> Check:
    if sandbox:
        return Check("ok", "credential", "the built-in sandbox (no Wrike account used)")
    if settings.client_id:
        from wrike_mcp.auth.store import TokenStore

        try:
            grant = TokenStore.from_settings(settings).current(settings.login_url)
        except TokenStoreError as exc:
            return Check(
                "fail", "credential", f"the token store cannot be read ({exc}); run `wrike-mcp auth logout`"
            )
        if grant is not None:
            return Check("ok", "credential", "OAuth grant from `wrike-mcp auth login`")
    if settings.access_token is not None:
        return Check("ok", "credential", "permanent token (WRIKE_ACCESS_TOKEN is set)")
    if settings.client_id:
        return Check("fail", "credential", "not logged in: run `wrike-mcp auth login`")
    return Check("fail", "credential", NO_CREDENTIAL_FIX)


def keyring_check(settings: Settings) -> Check:
    from wrike_mcp.auth.store import KeyringBackend, backend_from_settings

    try:
        backend = backend_from_settings(settings)
    except TokenStoreError as exc:
        return Check("fail", "token store", str(exc))
    if isinstance(backend, KeyringBackend):
        return Check("ok", "token store", backend.description)
    return Check(
        "warn", "token store", f"{backend.description}: no OS keyring found, a file only you can read"
    )


def account_check(me: Contact, connection: WrikeContext, elapsed: float) -> Check:
    who = f"{me.name} <{me.email}>" if me.email else me.name
    return Check(
        "ok", "Wrike", f"signed in as {who} at {connection.client.base_url} ({elapsed * 1000:.0f} ms)"
    )


def failure_check(error: WrikeError, settings: Settings, url: str) -> Check:
    if isinstance(error, NotAuthorized):
        fix = "run `wrike-mcp auth login` again" if settings.client_id else "create a new permanent token"
        return Check("fail", "Wrike", f"the token was refused (401): {fix}")
    if isinstance(error, ConnectionFailed | WrikeTimeout):
        return Check(
            "fail",
            "Wrike",
            f"cannot reach {url}: check the network or proxy, and WRIKE_HOST ({settings.host})",
        )
    return Check("fail", "Wrike", str(error).splitlines()[0])


def scope_check(connection: WrikeContext, settings: Settings) -> Check:
    if connection.mode == "oauth" and connection.granted_scopes is not None:
        return Check("ok", "scopes", ", ".join(sorted(connection.granted_scopes)) + " (granted by OAuth)")
    if settings.scopes:
        return Check("ok", "scopes", ", ".join(settings.scopes) + " (from WRIKE_SCOPES)")
    return Check(
        "ok",
        "scopes",
        "unknown for a permanent token: every tool is offered and a 403 names a missing scope "
        "(set WRIKE_SCOPES to narrow them)",
    )


def tools_check(settings: Settings, granted: frozenset[str] | None) -> Check:
    from wrike_mcp.server import offered_tools

    offered = offered_tools(settings, granted)
    if not offered:
        return Check(
            "fail", "tools", "none offered: loosen --toolsets/--tools/--read-only or grant more scopes"
        )
    toolsets = ", ".join(dict.fromkeys(spec.toolset for spec in offered))
    names = {spec.name for spec in offered}
    more = [spec for spec in offered_tools(settings, granted, reachable=True) if spec.name not in names]
    off = ",".join(dict.fromkeys(spec.toolset for spec in more))
    later = (
        f"; {len(more)} more in toolsets off by default: {off} (--toolsets default,{off}, or enable_toolsets)"
        if more
        else ""
    )
    return Check("ok", "tools", f"{len(offered)} offered ({toolsets}){later}")


def clock_check(server_date: str | None, now: Callable[[], float] = time.time) -> Check:
    if server_date is None:
        return Check("ok", "clock", "not checked (the server sent no Date header)")
    try:
        skew = now() - parsedate_to_datetime(server_date).timestamp()
    except (TypeError, ValueError):
        return Check("warn", "clock", "not checked (the server's Date header is unreadable)")
    if abs(skew) > MAX_CLOCK_SKEW:
        direction = "ahead of" if skew > 0 else "behind"
        return Check(
            "warn",
            "clock",
            f"this machine is {abs(skew):.0f} s {direction} Wrike: sync the clock (token expiry and date "
            "filters depend on it)",
        )
    return Check("ok", "clock", f"within {MAX_CLOCK_SKEW:.0f} s of Wrike's")


async def diagnose(settings: Settings, *, sandbox: Sandbox | None) -> list[Check]:
    checks = [credential_check(settings, sandbox=sandbox is not None)]
    if sandbox is None:
        checks.append(keyring_check(settings))
    if checks[0].status == "fail":
        return checks
    try:
        async with connect(settings, sandbox=sandbox) as connection:
            started = time.perf_counter()
            try:
                me = await connection.client.get_one("/contacts", {"me": True}, model=Contact)
            except WrikeError as error:
                return [*checks, failure_check(error, settings, connection.client.base_url)]
            checks.append(account_check(me, connection, time.perf_counter() - started))
            checks.append(scope_check(connection, settings))
            checks.append(tools_check(settings, connection.granted_scopes))
            checks.append(clock_check(connection.client.server_date))
    except NoCredentialsError as exc:
        checks.append(Check("fail", "credential", str(exc).splitlines()[0]))
    except WrikeError as error:  # the token source itself (refresh) failed
        checks.append(failure_check(error, settings, settings.base_url or f"https://{settings.host}/api/v4"))
    return checks


def run_doctor(settings: Settings, *, sandbox: Sandbox | None, out: TextIO) -> int:
    import anyio

    checks = anyio.run(lambda: diagnose(settings, sandbox=sandbox))
    print(f"wrike-mcp doctor, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", file=out)
    for check in checks:
        print(check.line(), file=out)
    return 1 if any(check.status == "fail" for check in checks) else 0
