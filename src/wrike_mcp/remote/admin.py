"""`wrike-mcp admin users | clients | register-client | revoke --user EMAIL | --client ID | rotate-key | audit`
on the remote store."""

from __future__ import annotations

import argparse
import csv
import json
import secrets
import sys
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime

import anyio
from mcp.server.auth.provider import RegistrationError
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import ValidationError

from wrike_mcp import scopes as scope_names
from wrike_mcp.config import Settings
from wrike_mcp.remote.app import SCOPES_SUPPORTED
from wrike_mcp.remote.crypto import SecretKeyError, load_keyring
from wrike_mcp.remote.policy import ClientPolicy
from wrike_mcp.remote.provider import SignInLimits, redirect_uris_problem, stored_metadata
from wrike_mcp.remote.store import Store, sqlite_path
from wrike_mcp.wrike.text import escaped

EXIT_USAGE = 2
KIND_NAMES = {"pre": "pre-registered"}  # as stored (8 characters at most) → as shown


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M") if epoch else "-"


def _row(*fields: str) -> str:
    """One output line, fields tab-separated. Stored text comes from anyone who registered a client or signed
    in, so its control, bidi and line-breaking characters are escaped: it can neither drive the terminal nor
    forge a row."""
    return "\t".join(escaped(field) for field in fields)


def run_admin_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return anyio.run(_run, args, settings)
    except (SecretKeyError, ValueError) as exc:
        print(f"wrike-mcp: {exc}", file=sys.stderr)
        return EXIT_USAGE


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.open(settings.database_url)
    try:
        await store.migrate()
        command = args.admin_command
        if command == "users":
            for user in await store.list_users():
                state = "revoked" if user.revoked else "active"
                clients = ", ".join(client for client, _ in await store.consents_of(user.user_id)) or "-"
                print(
                    _row(
                        user.email or "-",
                        user.name or "-",
                        user.user_id,
                        user.host,
                        ",".join(user.scopes),
                        state,
                        f"updated {_when(user.updated_at)}",
                        f"clients: {clients}",
                    )
                )
            return 0
        if command == "clients":
            for client in await store.list_clients():
                print(
                    _row(
                        client.client_id,
                        str(client.info.get("client_name") or "-"),
                        KIND_NAMES.get(client.kind, client.kind),
                        f"registered {_when(client.created_at)}",
                        f"first token {_when(client.used_at)}",
                    )
                )
            return 0
        if command == "revoke":
            return await _revoke(store, args)
        if command == "register-client":
            return await _register(store, args, settings)
        if command == "audit":
            return await _audit(store, args)
        return await _rotate(store, settings)
    finally:
        await store.close()


async def _register(store: Store, args: argparse.Namespace, settings: Settings) -> int:
    """A confidential client registered by the administrator: kept until revoked, its secret shown once."""
    scopes = scope_names.parse(args.scope) if args.scope else None
    unknown = [scope for scope in scopes or [] if scope not in SCOPES_SUPPORTED]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; supported: {', '.join(SCOPES_SUPPORTED)}")
    secret = secrets.token_hex(32)
    try:
        client = OAuthClientInformationFull(
            client_id=str(uuid.uuid4()),
            client_id_issued_at=int(time.time()),
            client_secret=secret,
            client_secret_expires_at=0,  # never (RFC 7591 §3.2.1)
            client_name=args.name,
            redirect_uris=args.redirect_uris,
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method=args.auth_method,
            scope=" ".join(scopes) if scopes else None,
        )
        info = stored_metadata(client, SignInLimits.from_settings(settings))
    except ValidationError as exc:
        raise ValueError(f"invalid client: {exc.errors()[0]['msg']}") from None
    except RegistrationError as exc:
        raise ValueError(exc.error_description) from None
    problem = redirect_uris_problem(client)
    if problem:
        raise ValueError(problem)
    keyring = load_keyring(
        settings.secret_key.get_secret_value() if settings.secret_key else None,
        sqlite_file=sqlite_path(settings.database_url),
        is_postgres=store.is_postgres,
    )
    client_id = client.client_id or ""
    await store.save_client(client_id, info, keyring.encrypt(secret), "pre", time.time(), None)
    print(f"client_id\t{client_id}")
    print(f"client_secret\t{secret}")
    print(f"token_endpoint_auth_method\t{args.auth_method}")
    print("The secret is shown only this once: copy it into the client now.", file=sys.stderr)
    policy = ClientPolicy.of(settings.allowed_redirect_hosts, settings.allowed_client_ids)
    refusal = policy.refusal(client_id, args.redirect_uris)
    if refusal:
        print(
            f"wrike-mcp: note: the client policy as set now refuses this client: {refusal}", file=sys.stderr
        )
    return 0


async def _revoke(store: Store, args: argparse.Namespace) -> int:
    if args.client:
        row = await store.get_client(args.client)
        if not await store.delete_client(args.client):
            print(f"wrike-mcp: no client {args.client!r}", file=sys.stderr)
            return 1
        again = "it is gone" if row is not None and row.kind == "pre" else "it must register again"
        print(f"revoked client {escaped(args.client)}: its tokens no longer work and {again}")
        return 0
    users = await store.find_users(args.user)
    if not users:
        print(f"wrike-mcp: no user {args.user!r} (see `wrike-mcp admin users`)", file=sys.stderr)
        return 1
    for user in users:
        await store.forget_user(user.user_id)
        await store.end_account_sessions(user.user_id)  # their Connected apps page too, on every replica
        print(
            f"revoked {escaped(user.email or user.user_id)}: every client must sign in again, and so must "
            "their Connected apps page"
        )
    return 0


AUDIT_FIELDS = (
    "time",
    "user_email",
    "user_id",
    "client_id",
    "client_name",
    "tool",
    "outcome",
    "duration_ms",
    "wrike_requests",
)
FORMULA_STARTS = ("=", "+", "-", "@")


def since_epoch(text: str) -> float:
    """`--since`: a date (midnight UTC) or an ISO 8601 time, UTC unless it names its offset."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is not a date or time like 2026-12-01 or 2026-12-01T09:30"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def _cell(value: object) -> str:
    """A CSV cell: escaped like every admin output, and never read as a formula by a spreadsheet (a tool or
    client name is whatever a client sent)."""
    text = escaped(str(value) if value is not None else "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def _audit(store: Store, args: argparse.Namespace) -> int:
    user_ids = None
    if args.user:
        found = await store.find_users(args.user)
        if not found:
            print(f"wrike-mcp: no user {escaped(args.user)!r} (see `wrike-mcp admin users`)", file=sys.stderr)
            return 1
        user_ids = [user.user_id for user in found]
    since = since_epoch(args.since) if args.since else None
    rows = await store.audit(user_ids=user_ids, client_id=args.client, since=since)
    records = [
        {
            "time": datetime.fromtimestamp(row.at, UTC).isoformat(timespec="milliseconds"),
            "user_email": row.email,
            **{key: value for key, value in asdict(row).items() if key not in ("at", "email")},
        }
        for row in rows
    ]
    if args.output_format == "json":
        # ensure_ascii: every control, bidi or other non-ASCII character arrives as a \u escape
        print(json.dumps([{key: record[key] for key in AUDIT_FIELDS} for record in records], indent=1))
        return 0
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(AUDIT_FIELDS)
    for record in records:
        writer.writerow([_cell(record[key]) for key in AUDIT_FIELDS])
    return 0


async def _rotate(store: Store, settings: Settings) -> int:
    keyring = load_keyring(
        settings.secret_key.get_secret_value() if settings.secret_key else None,
        sqlite_file=sqlite_path(settings.database_url),
        is_postgres=store.is_postgres,
    )
    rotated = 0
    for user_id, sealed in await store.all_grants():
        if not keyring.is_current(sealed):
            async with store.locked(f"user:{user_id}") as conn:
                row = await store.get_user(user_id, conn)
                if row is not None and not keyring.is_current(row.grant):
                    await store.update_grant(conn, user_id, keyring.rotate(row.grant), row.updated_at)
                    rotated += 1
    for client_id, sealed in await store.all_client_secrets():
        if not keyring.is_current(sealed):
            await store.set_client_secret(client_id, keyring.rotate(sealed))
            rotated += 1
    print(f"re-encrypted {rotated} secret(s) with the newest key; older keys can now be removed")
    return 0
