"""A database written by the first release of schema v2, opened by this release: what people held still works.

The v2 schema is frozen here as that release made it (its tables, without the tokens' expiry index that a later
v2 release added), on SQLite and on a throwaway PostgreSQL database. Its rows have the shapes that release wrote
(captured from it running against the sandbox): a public and a confidential DCR registration, a user keyed by
Wrike contact id alone (before grants were per account), the user's sealed Wrike grant, access and refresh
tokens stored as SHA-256 hashes with a rotated refresh token among them, consents without a redirect URI, a code
and a consent transaction in flight, a rate count. Then a current replica (a real process) starts on it and
migrates it, and the people's tokens are used over HTTP, as the CHANGELOG's "Upgrading" note promises.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
)

from tests.remote.helpers import (
    REDIRECT_URI,
    SECRET_KEY,
    Replica,
    admin,
    free_port,
    pkce,
    sandbox_wrike_tokens,
    start_replica,
)
from tests.remote.test_attacks import assert_invalid_token, mcp
from tests.remote.test_attacks_account import csrf_of, revoke, signed_in
from tests.remote.test_attacks_spec import get_me
from wrike_mcp.remote.store import SCHEMA_VERSION, Consent, Store
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

ANN = "ann.lee@northwind.example"
TIMEOUT = 30.0

# ---- schema v2, as its first release created it ----------------------------------------------------------

v2 = MetaData()
Table("schema_version", v2, Column("version", Integer, nullable=False))
Table(
    "oauth_clients",
    v2,
    Column("client_id", String(2048), primary_key=True),
    Column("info", Text, nullable=False),
    Column("secret", Text),
    Column("kind", String(8), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("used_at", Float),
    Column("expires_at", Float),
)
Table(
    "users",
    v2,
    Column("user_id", String(64), primary_key=True),
    Column("email", String(320)),
    Column("name", String(255)),
    Column("host", String(255), nullable=False),
    Column("grant", Text, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("grant_version", Integer, nullable=False, server_default="0"),
)
Table(
    "consents",
    v2,
    Column("user_id", String(64), primary_key=True),
    Column("client_id", String(2048), primary_key=True),
    Column("scopes", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)
Table(
    "pending_authorizations",
    v2,
    Column("txn", String(64), primary_key=True),
    Column("client_id", String(2048), nullable=False),
    Column("params", Text, nullable=False),
    Column("browser", String(64)),
    Column("upstream_state", String(64), unique=True),
    Column("expires_at", Float, nullable=False),
)
Table(
    "authorization_codes",
    v2,
    Column("code", String(64), primary_key=True),
    Column("client_id", String(2048), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used", Boolean, nullable=False),
)
Table(
    "tokens",
    v2,
    Column("token", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("family", String(64), nullable=False),
    Column("client_id", String(2048), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("resource", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used", Boolean, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("tokens_family", "family"),
    Index("tokens_user", "user_id"),
)
Table(
    "rate_counters",
    v2,
    Column("key", String(200), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("hits", Integer, nullable=False),
)


def hashed(secret: str) -> str:
    """How v2 stored its own codes and tokens."""
    return hashlib.sha256(secret.encode()).hexdigest()


def sealed(value: str) -> str:
    """How v2 encrypted Wrike grants and client secrets: Fernet under the configured key."""
    return Fernet(SECRET_KEY.encode()).encrypt(value.encode()).decode()


def opened(value: str) -> str:
    return Fernet(SECRET_KEY.encode()).decrypt(value.encode()).decode()


def registration(client_id: str, name: str, method: str, issued: int) -> dict[str, Any]:
    """A DCR registration as v2 stored it: the SDK's model dumped without None fields and the secret."""
    info: dict[str, Any] = {
        "response_types": ["code"],
        "scope": "wsReadWrite",
        "client_name": name,
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": method,
        "grant_types": ["authorization_code", "refresh_token"],
        "application_type": "native",
        "client_id": client_id,
        "client_id_issued_at": issued,
    }
    if method != "none":
        info["client_secret_expires_at"] = 0
    return info


@dataclass
class Held:
    """What people and clients held when the server was upgraded."""

    user_id: str
    wrike_access: str
    public_id: str
    public_access: str
    public_refresh: str
    confidential_id: str
    confidential_secret: str
    confidential_refresh: str
    spent_refresh: str  # the confidential client's, rotated under v2
    code: str  # issued to the public client, not yet exchanged
    verifier: str
    txn: str  # a consent page not yet opened


async def write_v2_database(database_url: str, sandbox: BackgroundSandbox, resource: str) -> Held:
    """The v2 schema and the rows a v2 server wrote for Ann, whose Wrike grant is real (the sandbox's)."""
    wrike = await anyio.to_thread.run_sync(lambda: sandbox_wrike_tokens(sandbox.base_url, "wsReadWrite", ANN))
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        me = (
            await http.get(
                f"{sandbox.api_url}/contacts",
                params={"me": "true"},
                headers={"Authorization": f"Bearer {wrike['access_token']}"},
            )
        ).json()["data"][0]
    user_id = me["id"]  # v2 keyed a user by Wrike contact id alone
    now = time.time()
    made = now - 3 * 86400  # signed in three days before the upgrade
    grant = {  # v2's Grant model, dumped: its fields and no others
        "access_token": wrike["access_token"],
        "refresh_token": wrike["refresh_token"],
        "token_type": "bearer",
        "expires_at": now
        - 60,  # Wrike's access token ran out during the upgrade: the first call refreshes it
        "lifetime": 3600.0,
        "host": wrike["host"],
        "scopes": ["wsReadWrite"],
        "login_url": sandbox.base_url,
        "client_id": "sandbox-client",
        "user": None,
        "account": None,
        "obtained_at": made,
    }
    held = Held(
        user_id=user_id,
        wrike_access=wrike["access_token"],
        public_id="a9e97321-0197-4127-b2ee-f0a949d37eec",
        public_access="wmcp_at_" + secrets.token_urlsafe(32),
        public_refresh="wmcp_rt_" + secrets.token_urlsafe(32),
        confidential_id="7924225c-5f29-443a-880d-29d24c047131",
        confidential_secret=secrets.token_hex(32),
        confidential_refresh="wmcp_rt_" + secrets.token_urlsafe(32),
        spent_refresh="wmcp_rt_" + secrets.token_urlsafe(32),
        code=secrets.token_urlsafe(32),
        verifier="",
        txn=secrets.token_urlsafe(32),
    )
    held.verifier, challenge = pkce()

    def request(state: str, challenge: str) -> str:  # v2's authorization parameters, as JSON
        return json.dumps(
            {
                "redirect_uri": REDIRECT_URI,
                "redirect_uri_provided_explicitly": True,
                "code_challenge": challenge,
                "state": state,
                "scopes": ["wsReadWrite"],
                "resource": resource,
            }
        )

    def token(
        value: str, kind: str, family: str, client_id: str, at: float, used: bool = False
    ) -> dict[str, Any]:
        lifetime = 3600 if kind == "access" else 30 * 86400
        return {
            "token": hashed(value),
            "kind": kind,
            "family": family,
            "client_id": client_id,
            "user_id": user_id,
            "scopes": "wsReadWrite",
            "resource": resource,
            "expires_at": at + lifetime,
            "used": used,
            "revoked": False,
            "created_at": at,
        }

    public_family, confidential_family = hashed(secrets.token_urlsafe(32)), hashed(secrets.token_urlsafe(32))
    fresh = now - 600  # the access token the public client holds was issued ten minutes ago
    rows: dict[str, list[dict[str, Any]]] = {
        "schema_version": [{"version": 2}],
        "oauth_clients": [
            {
                "client_id": held.public_id,
                "info": json.dumps(registration(held.public_id, "Claude-like public", "none", int(made))),
                "secret": None,
                "kind": "dcr",
                "created_at": made,
                "used_at": made,
                "expires_at": None,
            },
            {
                "client_id": held.confidential_id,
                "info": json.dumps(
                    registration(
                        held.confidential_id, "Copilot-like confidential", "client_secret_post", int(made)
                    )
                ),
                "secret": sealed(held.confidential_secret),
                "kind": "dcr",
                "created_at": made,
                "used_at": made,
                "expires_at": None,
            },
        ],
        "users": [
            {
                "user_id": user_id,
                "email": ANN,
                "name": "Ann Lee",
                "host": wrike["host"],
                "grant": sealed(json.dumps(grant)),
                "scopes": "wsReadWrite",
                "revoked": False,
                "created_at": made,
                "updated_at": made,
                "grant_version": 0,
            }
        ],
        "consents": [
            {"user_id": user_id, "client_id": client_id, "scopes": "wsReadWrite", "created_at": made}
            for client_id in (held.public_id, held.confidential_id)
        ],
        "pending_authorizations": [
            {
                "txn": hashed(held.txn),
                "client_id": held.public_id,
                "params": request("in-flight", pkce()[1]),
                "browser": None,
                "upstream_state": None,
                "expires_at": now + 540,
            }
        ],
        "authorization_codes": [
            {
                "code": hashed(held.code),
                "client_id": held.public_id,
                "user_id": user_id,
                "params": request("s1", challenge),
                "expires_at": now + 240,
                "used": False,
            }
        ],
        "tokens": [
            token(held.public_access, "access", public_family, held.public_id, fresh),
            token(held.public_refresh, "refresh", public_family, held.public_id, fresh),
            token(
                "wmcp_at_" + secrets.token_urlsafe(32),
                "access",
                confidential_family,
                held.confidential_id,
                made,
            ),
            token(held.spent_refresh, "refresh", confidential_family, held.confidential_id, made, used=True),
            token(
                "wmcp_at_" + secrets.token_urlsafe(32),
                "access",
                confidential_family,
                held.confidential_id,
                fresh,
            ),
            token(held.confidential_refresh, "refresh", confidential_family, held.confidential_id, fresh),
        ],
        "rate_counters": [{"key": f"user:{user_id}", "bucket": int(now // 10) * 10, "hits": 3}],
    }
    store = Store.open(database_url)  # only for its engine: nothing of today's schema is used
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(v2.create_all)
            for name, table_rows in rows.items():
                await conn.execute(v2.tables[name].insert(), table_rows)
    finally:
        await store.close()
    return held


def token_form(held: Held, refresh_token: str, *, confidential: bool) -> dict[str, str]:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if confidential:
        return {**form, "client_id": held.confidential_id, "client_secret": held.confidential_secret}
    return {**form, "client_id": held.public_id}


async def test_a_v2_database_keeps_working_after_the_upgrade(
    tmp_path: Path, sandbox: BackgroundSandbox, database_url: str
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    held = await write_v2_database(database_url, sandbox, f"{public}/mcp")
    replica = start_replica(tmp_path, sandbox.base_url, database_url, public_url=public, port=port)
    try:
        await anyio.to_thread.run_sync(use_what_people_held, replica, held)
        await check_what_is_stored(held, database_url)
        await anyio.to_thread.run_sync(end_an_old_client_on_the_account_page, replica, held)
    finally:
        replica.stop()
    listed = admin(tmp_path, database_url, "users")
    assert listed.returncode == 0 and ANN in listed.stdout and held.user_id in listed.stdout, listed


def use_what_people_held(replica: Replica, held: Held) -> None:
    """Over HTTP, what each client held before the upgrade."""
    base = replica.base_url
    ready = httpx.get(f"{base}/readyz", timeout=TIMEOUT)
    assert ready.status_code == 200, ready.text  # migrated to this release's schema on start

    # the access token issued under v2 authenticates, and Ann's Wrike grant answers for her (refreshed first:
    # Wrike's access token had expired)
    me = get_me(base, held.public_access)
    assert me["user"]["name"] == "Ann Lee" and me["user"]["id"] == held.user_id, me

    # the refresh tokens rotate: the public client's, and the confidential client's with its v2-sealed secret
    for refresh_token, confidential in ((held.public_refresh, False), (held.confidential_refresh, True)):
        rotated = httpx.post(
            f"{base}/token", data=token_form(held, refresh_token, confidential=confidential), timeout=TIMEOUT
        )
        assert rotated.status_code == 200, rotated.text
        assert get_me(base, rotated.json()["access_token"])["user"]["id"] == held.user_id

    # the code issued just before the upgrade is exchanged; the consent page left open still opens
    exchanged = httpx.post(
        f"{base}/token",
        data={
            "grant_type": "authorization_code",
            "code": held.code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": held.verifier,
            "client_id": held.public_id,
        },
        timeout=TIMEOUT,
    )
    assert exchanged.status_code == 200, exchanged.text
    page = httpx.get(f"{base}/consent", params={"txn": held.txn}, timeout=TIMEOUT)
    assert page.status_code == 200 and "<form" in page.text, page.text[:300]
    assert "Claude-like public" in page.text

    # a refresh token spent under v2, presented now: long past any leeway, so its family is revoked
    reused = httpx.post(
        f"{base}/token", data=token_form(held, held.spent_refresh, confidential=True), timeout=TIMEOUT
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant", reused.text


def end_an_old_client_on_the_account_page(replica: Replica, held: Held) -> None:
    """Ann's Connected apps page lists the client she signed in with before the upgrade (its tokens are under
    her contact id alone), and ends it there."""
    base = replica.base_url
    assert get_me(base, held.public_access)["user"]["id"] == held.user_id
    ann = signed_in(base, ANN)
    assert "Claude-like public" in ann.get(f"{base}/account").text
    ended = revoke(ann, base, held.public_id, csrf_of(ann, base), Origin=base)
    assert ended.status_code == 303, ended.text
    assert_invalid_token(mcp(replica, held.public_access))
    assert "Claude-like public" not in ann.get(f"{base}/account").text


async def check_what_is_stored(held: Held, database_url: str) -> None:
    """The user kept their grant under their v2 key, refreshed, not revoked; the schema is current."""
    store = Store.open(database_url)
    try:
        user = await store.get_user(held.user_id)
        assert user is not None and not user.revoked, user
        grant = json.loads(opened(user.grant))
        assert grant["access_token"] != held.wrike_access and grant["expires_at"] > time.time(), grant.keys()
        # consents remembered under v2 name no redirect URI, so they skip no page
        assert await store.consent_of(held.user_id, held.public_id) == Consent(["wsReadWrite"], None)
        async with store.engine.connect() as conn:
            version = (await conn.execute(select(v2.tables["schema_version"].c.version))).scalar_one()
            indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("tokens"))
        assert version == SCHEMA_VERSION
        assert "tokens_expiry" in {index["name"] for index in indexes}  # the purge's index, added by v2 later
    finally:
        await store.close()
