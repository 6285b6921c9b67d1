"""`wrike-mcp admin users | clients | revoke --user EMAIL | --client ID | rotate-key` on the remote store."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import anyio

from wrike_mcp.config import Settings
from wrike_mcp.remote.crypto import SecretKeyError, load_keyring
from wrike_mcp.remote.store import Store, sqlite_path
from wrike_mcp.wrike.text import escaped

EXIT_USAGE = 2


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
                        client.kind,
                        f"registered {_when(client.created_at)}",
                        f"first token {_when(client.used_at)}",
                    )
                )
            return 0
        if command == "revoke":
            return await _revoke(store, args)
        return await _rotate(store, settings)
    finally:
        await store.close()


async def _revoke(store: Store, args: argparse.Namespace) -> int:
    if args.client:
        if not await store.delete_client(args.client):
            print(f"wrike-mcp: no client {args.client!r}", file=sys.stderr)
            return 1
        print(f"revoked client {args.client}: its tokens no longer work and it must register again")
        return 0
    users = await store.find_users(args.user)
    if not users:
        print(f"wrike-mcp: no user {args.user!r} (see `wrike-mcp admin users`)", file=sys.stderr)
        return 1
    for user in users:
        await store.forget_user(user.user_id)
        print(f"revoked {escaped(user.email or user.user_id)}: every client must sign in again")
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
