"""The remote mode's store: clients, consents, pending authorizations, codes, tokens and users' Wrike grants.

One SQL code path (SQLAlchemy Core, async) for an embedded SQLite file and for PostgreSQL shared by replicas.
Secrets are never stored as given: our own codes and tokens as SHA-256 hashes, Wrike tokens and client secrets
encrypted by the caller (remote/crypto.py). The schema is versioned and migrated on start (`migrate`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import platformdirs
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from wrike_mcp.remote.pending import AuthorizationRequest, PendingAuthorization

SCHEMA_VERSION = 5
MAX_RATE_WINDOW = 3600  # seconds: no shared limit counts over a longer window
MIGRATION_LOCK = 0x77726B6D6370  # PostgreSQL advisory lock id while migrating ("wrkmcp")
# With PostgreSQL a replica claims a shared count's slots this many at a time: a claim of limit // 20 (at
# least 1) in one transaction, then spent in this process. The table then holds what replicas claimed, never
# more than the limit; slots claimed and not spent are at most (claim - 1) per replica and key, so with N
# replicas the limit may refuse up to N × 5 % of it early, never admit one more (docs/REMOTE.md §5).
CLAIM_SHARE = 20
# seconds a request waits for the store's shared counts before it goes on without them or is answered 503: a
# database that is unreachable rather than down (a partition, a frozen server) refuses nothing, it never answers
STORE_TIMEOUT = 5.0

log = logging.getLogger(__name__)

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(2048), primary_key=True),
    Column("info", Text, nullable=False),  # the registration as JSON, secret left out
    Column("secret", Text),  # encrypted; None for public clients
    Column("kind", String(8), nullable=False),  # "dcr", "cimd" or "pre" (`wrike-mcp admin register-client`)
    Column("created_at", Float, nullable=False),
    Column("used_at", Float),  # first token issued
    Column("expires_at", Float),  # unused DCR registrations and cached CIMD documents expire
)

users = Table(
    "users",
    metadata,
    # one person in one Wrike account: "{account id}/{contact id}" (users.user_key)
    Column("user_id", String(64), primary_key=True),
    Column("email", String(320)),
    Column("name", String(255)),
    Column("host", String(255), nullable=False),  # the user's Wrike data-centre host
    Column("grant", Text, nullable=False),  # encrypted JSON: Wrike access/refresh tokens, expiry
    Column("scopes", Text, nullable=False),  # Wrike scopes granted, comma-separated
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # bumped whenever the user's Wrike grant is replaced or revoked: each replica compares it with the one
    # its cached client was built from, and drops the cache when it moved
    Column("grant_version", Integer, nullable=False, server_default="0"),
)

consents = Table(
    "consents",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("client_id", String(2048), primary_key=True),
    Column("scopes", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    # the redirect URI the person approved, port included: a remembered consent covers only that one (a
    # loopback client may use any port, and another program on this computer may be listening on another);
    # None for consents recorded before schema v5, which cover none
    Column("redirect_uri", Text),
)

pending = Table(
    "pending_authorizations",
    metadata,
    Column("txn", String(64), primary_key=True),  # hash of the consent transaction id
    Column("client_id", String(2048), nullable=False),
    Column("params", Text, nullable=False),  # JSON: a PendingAuthorization (remote/pending.py)
    # hash of the browser's consent-form cookie from the first page view; at Allow (or a skip) replaced by
    # the hash of the binding cookie issued then, which Wrike's callback checks
    Column("browser", String(64)),
    Column("upstream_state", String(64), unique=True),  # hash of the state sent to Wrike, after consent
    Column("expires_at", Float, nullable=False),
)

codes = Table(
    "authorization_codes",
    metadata,
    Column("code", String(64), primary_key=True),  # hash
    Column("client_id", String(2048), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("params", Text, nullable=False),  # JSON: an AuthorizationRequest (remote/pending.py)
    Column("expires_at", Float, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token", String(64), primary_key=True),  # hash
    Column("kind", String(8), nullable=False),  # "access" or "refresh"
    Column("family", String(64), nullable=False),  # one authorization: its code's hash
    Column("client_id", String(2048), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("resource", Text, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used", Boolean, nullable=False, default=False),  # a refresh token spent by rotation
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    Index("tokens_family", "family"),
    Index("tokens_user", "user_id"),
    Index("tokens_expiry", "expires_at"),  # the purge of expired tokens
)


rate_counters = Table(
    "rate_counters",
    metadata,
    # what is counted, e.g. "addr:register:203.0.113.9", "wrike:<token hash>", "user:<user key>"
    Column("key", String(200), primary_key=True),
    Column("bucket", Integer, primary_key=True),  # the epoch second its bucket starts
    Column("hits", Integer, nullable=False),
)


audit_log = Table(
    "audit_log",
    metadata,
    # one finished tool call (calls.ToolCall): who, through which client, which tool, how it went; never its
    # arguments, its result or a token
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),  # epoch seconds the call started
    Column("user_id", String(64)),
    Column("client_id", String(2048)),
    Column("tool", String(100), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok, tool_error, error
    Column("duration_ms", Float, nullable=False),
    Column("wrike_requests", Integer, nullable=False),
    Index("audit_log_at", "at"),  # the export's --since and the retention purge
    Index("audit_log_user", "user_id"),
)


account_sessions = Table(
    "account_sessions",
    metadata,
    # one person's sign-ins to the Connected apps page (/account): its session cookie names the generation it
    # was issued in, and signing out (or `admin revoke --user`) moves to the next, ending every earlier
    # session on every replica. No row: generation 0 (the person never signed out).
    Column("user_id", String(64), primary_key=True),
    Column("generation", Integer, nullable=False),
)


def _create_v1(connection: Connection) -> None:
    metadata.create_all(connection, tables=[clients, users, consents, pending, codes, tokens])


def _v2(connection: Connection) -> None:
    """Shared rate counters (limits that hold across replicas), users' grant versions, the tokens' expiry
    index (the periodic purge)."""
    metadata.create_all(connection, tables=[rate_counters])
    # a database made at v1 lacks the column; one made fresh got it from _create_v1's current table
    if "grant_version" not in {column["name"] for column in inspect(connection).get_columns("users")}:
        connection.execute(text("ALTER TABLE users ADD COLUMN grant_version INTEGER NOT NULL DEFAULT 0"))
    if "tokens_expiry" not in {index["name"] for index in inspect(connection).get_indexes("tokens")}:
        connection.execute(text("CREATE INDEX tokens_expiry ON tokens (expires_at)"))


def _v3(connection: Connection) -> None:
    """The audit trail of tool calls (`wrike-mcp admin audit`), shared by every replica."""
    metadata.create_all(connection, tables=[audit_log])


def _v4(connection: Connection) -> None:
    """Server-side sign-out of the Connected apps page: each person's session generation."""
    metadata.create_all(connection, tables=[account_sessions])


def _v5(connection: Connection) -> None:
    """Consents remember the redirect URI they were given for. And the tokens' expiry index once more: `_v2`
    gained it after the first v2 release, so a database that release made is at v2 without it."""
    if "redirect_uri" not in {column["name"] for column in inspect(connection).get_columns("consents")}:
        connection.execute(text("ALTER TABLE consents ADD COLUMN redirect_uri TEXT"))
    if "tokens_expiry" not in {index["name"] for index in inspect(connection).get_indexes("tokens")}:
        connection.execute(text("CREATE INDEX tokens_expiry ON tokens (expires_at)"))


# Migration N brings the schema from version N-1 to N; append, never edit.
MIGRATIONS: Sequence[Callable[[Connection], None]] = (_create_v1, _v2, _v3, _v4, _v5)


def digest(secret: str) -> str:
    """How our own codes and tokens are stored (they are 256-bit random: a plain hash is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def default_database_path() -> Path:
    return Path(platformdirs.user_data_dir("wrike-mcp")) / "remote.sqlite3"


def engine_url(database_url: str | None) -> str:
    """SQLAlchemy's async URL for what a user writes: `sqlite:///path`, `postgresql://user@host/db`."""
    if not database_url:
        path = default_database_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return f"sqlite+aiosqlite:///{path}"
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError("WRIKE_MCP_DATABASE_URL must look like sqlite:///path or postgresql://host/db")
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
    }.get(scheme.split("+")[0])
    if driver is None:
        raise ValueError(f"unsupported database {scheme!r}: use sqlite:/// or postgresql://")
    return f"{driver}://{rest}"


def sqlite_path(database_url: str | None) -> Path | None:
    """The SQLite file of a database URL (None for PostgreSQL or in-memory)."""
    url = engine_url(database_url)
    if not url.startswith("sqlite"):
        return None
    path = url.partition(":///")[2]
    return Path(path) if path and path != ":memory:" else None


def lock_key(name: str) -> int:
    """A signed 64-bit PostgreSQL advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class TokenRow:
    kind: str
    family: str
    client_id: str
    user_id: str
    scopes: list[str]
    resource: str
    expires_at: float
    used: bool
    revoked: bool
    # the user's grant version when the token was read; None when the user is gone or revoked
    grant_version: int | None = None


@dataclass(frozen=True)
class Consent:
    """What a person approved for a client: the scopes, and the redirect URI the approval was for."""

    scopes: list[str]
    redirect_uri: str | None  # None: recorded before schema v5


@dataclass(frozen=True)
class ConnectedClient:
    """An MCP client holding a user's live tokens, as their "Connected apps" page shows it."""

    client_id: str
    info: dict[str, Any]  # its registration ({} once the client is gone)
    scopes: list[str]  # what its live tokens allow
    first_used: float  # its first token for this user, or first call, whichever came first (as still kept)
    last_used: float  # its latest token or call


@dataclass(frozen=True)
class AuditRow:
    at: float
    user_id: str | None
    email: str | None  # the user's, as stored now (None once unknown)
    client_id: str | None
    client_name: str | None  # None once the client is gone
    tool: str
    outcome: str
    duration_ms: float
    wrike_requests: int


@dataclass(frozen=True)
class UserRow:
    user_id: str
    email: str | None
    name: str | None
    host: str
    grant: str  # encrypted
    scopes: list[str]
    revoked: bool
    updated_at: float
    grant_version: int


@dataclass(frozen=True)
class ClientRow:
    client_id: str
    info: dict[str, Any]
    secret: str | None  # encrypted
    kind: str
    created_at: float
    used_at: float | None
    expires_at: float | None  # None: kept until revoked


def _user(row: Row[Any]) -> UserRow:
    return UserRow(
        user_id=row.user_id,
        email=row.email,
        name=row.name,
        host=row.host,
        grant=row.grant,
        scopes=[s for s in row.scopes.split(",") if s],
        revoked=bool(row.revoked),
        updated_at=row.updated_at,
        grant_version=row.grant_version,
    )


def _client_name(info: str | None) -> str | None:
    if not info:
        return None
    name = json.loads(info).get("client_name")
    return str(name) if name else None


def _client(row: Row[Any]) -> ClientRow:
    return ClientRow(
        client_id=row.client_id,
        info=json.loads(row.info),
        secret=row.secret,
        kind=row.kind,
        created_at=row.created_at,
        used_at=row.used_at,
        expires_at=row.expires_at,
    )


def _holds_a_live_grant(now: float) -> Any:
    """Whether the client of the `clients` row at hand has a sign-in under way, a code or a token still
    usable: a correlated EXISTS for purge_expired."""
    mine = clients.c.client_id
    return or_(
        exists().where(pending.c.client_id == mine, pending.c.expires_at >= now),
        exists().where(codes.c.client_id == mine, codes.c.expires_at >= now),
        exists().where(tokens.c.client_id == mine, tokens.c.expires_at >= now, tokens.c.revoked.is_(False)),
    )


def user_key(account_id: str, contact_id: str) -> str:
    """The store's key of a user: one person in one Wrike account (a person in two accounts has two grants)."""
    return f"{account_id}/{contact_id}"


def contact_of(user_id: str) -> str:
    """The Wrike contact id in a user's key (`account/contact`; a user stored before grants were per
    account is keyed by the contact id alone)."""
    return user_id.rpartition("/")[2]


def keys_of_person(user_id: str) -> tuple[str, ...]:
    """The keys a signed-in person's rows may be under: their per-account key and, for clients signed in
    before grants were per account (they keep working until they sign in again), the contact id alone."""
    contact = contact_of(user_id)
    return (user_id, contact) if contact != user_id else (user_id,)


def rate_buckets(window: int, buckets: int, now: float) -> tuple[int, int, int]:
    """A sliding window's step, and the starts of its current and of its oldest bucket at `now`."""
    step = max(1, window // buckets)
    current = int(now // step) * step
    return step, current, current - step * (buckets - 1)


class ProcessCounts:
    """`Store.hit`'s counts kept in this process: the same buckets as the table, in memory, bounded (a key
    counted again keeps only the buckets of its window; past `capacity` keys the least recently counted go).

    With SQLite (one process by design) they are the counts. With PostgreSQL they hold what this replica
    admitted, a part of the shared count: once that part alone reaches a limit, the request is refused
    without asking the database (a flood of one key costs no connection and no lock)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._buckets: OrderedDict[str, dict[int, int]] = OrderedDict()

    def hit(self, key: str, limit: int, window: int, now: float, *, buckets: int = 6) -> float | None:
        """`Store.hit` counted in this process only: None when counted, else the seconds until one more fits."""
        step, current, oldest = rate_buckets(window, buckets, now)
        wait = self.wait(key, limit, oldest, step, buckets, now)
        if wait is None:
            self.count(key, current, oldest)
        return wait

    def wait(self, key: str, limit: int, oldest: int, step: int, buckets: int, now: float) -> float | None:
        """Seconds until `key` has room again under `limit`, or None when it has room now."""
        counts = {bucket: n for bucket, n in self._buckets.get(key, {}).items() if bucket >= oldest}
        if sum(counts.values()) < limit:
            return None
        return max(0.001, float(min(counts) + step * buckets - now))

    def count(self, key: str, current: int, oldest: int) -> None:
        counts = {bucket: n for bucket, n in self._buckets.pop(key, {}).items() if bucket >= oldest}
        counts[current] = counts.get(current, 0) + 1
        self._buckets[key] = counts
        while len(self._buckets) > self.capacity:
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


def claim_size(limit: int) -> int:
    """How many slots of a shared count a replica claims in one transaction (see CLAIM_SHARE)."""
    return max(1, limit // CLAIM_SHARE)


@dataclass(eq=False)
class _Claim:
    """Slots of one key's shared count that this replica claimed in the store and has not spent yet. They
    belong to the bucket they were counted in, so they are spent only while that bucket is the caller's (a
    slot spent later would leave the window earlier than the request it admitted); the next claim gives
    back what a past bucket left unspent."""

    bucket: int = 0
    left: int = 0
    lock: anyio.Lock = field(default_factory=anyio.Lock)


class Store:
    """The store's operations. Every method is one short transaction unless it takes a connection."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_postgres = engine.dialect.name == "postgresql"
        # the same upsert (ON CONFLICT … DO UPDATE) on both databases, each through its dialect's insert
        self._insert = postgresql.insert if self.is_postgres else sqlite.insert
        self._process_locks: dict[str, anyio.Lock] = {}
        self._process_counts = ProcessCounts()
        # PostgreSQL: per key, the slots claimed from the shared count and not yet spent (bounded like the
        # process counts: a claim dropped from here is only left unspent, which never admits more)
        self._claims: OrderedDict[str, _Claim] = OrderedDict()
        # tokens or grants revoked through this process: a change tells caches of verified tokens to forget
        # (remote/token_cache.py); counted once the revocation is written
        self.revocations = 0

    @classmethod
    def open(cls, database_url: str | None) -> Store:
        url = engine_url(database_url)
        if url.startswith("sqlite"):
            engine = create_async_engine(url, connect_args={"timeout": 30})

            @event.listens_for(engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

            path = sqlite_path(database_url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        else:
            engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        return cls(engine)

    async def close(self) -> None:
        try:
            with anyio.CancelScope(shield=True), anyio.move_on_after(STORE_TIMEOUT):
                await self.give_back_claims()
        except (SQLAlchemyError, OSError) as exc:  # the database is away: the slots leave with their window
            log.warning("could not give back claimed rate-limit slots at shutdown (%s)", type(exc).__name__)
        await self.engine.dispose()

    # ---- schema -------------------------------------------------------------------------------------

    async def migrate(self) -> int:
        """Bring the schema to SCHEMA_VERSION; replicas starting together take turns. Returns the version."""
        async with self.engine.begin() as conn:
            if self.is_postgres:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            await conn.run_sync(lambda sync: schema_version.create(sync, checkfirst=True))
            current = (await conn.execute(select(schema_version.c.version))).scalar()
            if current is None:
                await conn.execute(insert(schema_version).values(version=0))
                current = 0
            if current > SCHEMA_VERSION:
                raise RuntimeError(
                    f"the database schema is version {current}, newer than this wrike-mcp ({SCHEMA_VERSION})"
                )
            for migration in MIGRATIONS[current:]:
                await conn.run_sync(migration)
            await conn.execute(update(schema_version).values(version=SCHEMA_VERSION))
        return SCHEMA_VERSION

    # ---- locks --------------------------------------------------------------------------------------

    @asynccontextmanager
    async def locked(self, name: str) -> AsyncIterator[AsyncConnection]:
        """A write transaction holding a lock on `name` across every replica (PostgreSQL advisory lock)
        or, with SQLite (one process by design), across this process."""
        if self.is_postgres:
            async with self.engine.begin() as conn:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
                yield conn
            return
        lock = self._process_locks.setdefault(name, anyio.Lock())
        try:
            async with lock, self.engine.begin() as conn:
                yield conn
        finally:
            # one lock per user and rate key: drop it when nobody holds or awaits it, so they do not pile up
            if not lock.locked() and not lock.statistics().tasks_waiting:
                self._process_locks.pop(name, None)

    # ---- shared rate counters -----------------------------------------------------------------------

    async def hit(
        self, key: str, limit: int, window: int, now: float, *, buckets: int = 6, claim: int | None = None
    ) -> float | None:
        """Count one event under `key` unless `limit` were already counted in the last `window` seconds by
        any replica sharing this store. None when counted; else the seconds until one more would fit.

        The window slides in `buckets` steps, so it may admit events up to one step early, never more
        than `limit` of them in any step-aligned window.

        With SQLite, one process by design, the counts are this process's (`ProcessCounts`): every caller
        is in it, and the per-request cost is no database transaction at all. With PostgreSQL this
        replica's own part of the count answers first when it alone is over the limit; otherwise the event
        spends a slot this replica claimed earlier in the same bucket, or claims `claim` more (default
        `claim_size(limit)`) in one locked transaction.
        """
        if window > MAX_RATE_WINDOW or limit < 1:
            raise ValueError(f"a shared limit needs limit >= 1 and a window of at most {MAX_RATE_WINDOW} s")
        step, current, oldest = rate_buckets(window, buckets, now)
        local = self._process_counts
        wait = local.wait(key, limit, oldest, step, buckets, now)
        if wait is not None or not self.is_postgres:
            if wait is None:
                local.count(key, current, oldest)
            return wait
        held = self._claim_of(key)
        if not self._spend(held, current):
            async with held.lock:  # one claim at a time per key here; the others then spend from it
                if not self._spend(held, current):
                    wait = await self._claim(
                        key, held, limit, window, buckets, now, claim or claim_size(limit)
                    )
                    if wait is not None:
                        return wait
        local.count(key, max(current, held.bucket), oldest)
        return None

    def _claim_of(self, key: str) -> _Claim:
        held = self._claims.pop(key, None) or _Claim()
        self._claims[key] = held
        while len(self._claims) > self._process_counts.capacity:
            self._claims.popitem(last=False)  # its unspent slots stay counted until their bucket leaves
        return held

    @staticmethod
    def _spend(held: _Claim, current: int) -> bool:
        # a caller whose clock read an older bucket may spend the newer one's slot: counted later than it
        # happened, it is kept in the window longer, never shorter
        if held.left > 0 and held.bucket >= current:
            held.left -= 1
            return True
        return False

    async def _claim(
        self, key: str, held: _Claim, limit: int, window: int, buckets: int, now: float, size: int
    ) -> float | None:
        """Claim up to `size` slots of `key`'s current bucket, the first of them for this event, giving back
        what the previous claim left unspent; None when claimed, else the seconds until one would fit."""
        step, current, oldest = rate_buckets(window, buckets, now)
        # taken out before the first await: nobody spends a slot while it is being given back
        returned_bucket, returned = held.bucket, held.left
        held.left = 0
        where_key = rate_counters.c.key == key
        async with self.locked(f"rate:{key}") as conn:
            await conn.execute(delete(rate_counters).where(where_key, rate_counters.c.bucket < oldest))
            if returned and returned_bucket >= oldest:
                await conn.execute(
                    update(rate_counters)
                    .where(where_key, rate_counters.c.bucket == returned_bucket)
                    .values(hits=rate_counters.c.hits - returned)
                )
            rows = (
                await conn.execute(
                    select(rate_counters.c.bucket, rate_counters.c.hits)
                    .where(where_key)
                    .order_by(rate_counters.c.bucket)
                )
            ).all()
            room = limit - sum(row.hits for row in rows)
            if room <= 0:
                return max(0.001, float(rows[0].bucket + step * buckets - now))
            taken = min(size, room)
            # an upsert: a caller that waited for the lock may carry an older `now` than one that went
            # before it, so its bucket may exist already (a duplicate key here was a 500 under load)
            statement = self._insert(rate_counters).values(key=key, bucket=current, hits=taken)
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[rate_counters.c.key, rate_counters.c.bucket],
                    set_={"hits": rate_counters.c.hits + taken},
                )
            )
        held.bucket, held.left = current, taken - 1
        return None

    async def give_back_claims(self) -> None:
        """Return every claimed, unspent slot to the shared counts (at shutdown: the other replicas may use
        them at once instead of when their buckets leave the window)."""
        unspent = [(key, held.bucket, held.left) for key, held in self._claims.items() if held.left > 0]
        for held in self._claims.values():
            held.left = 0
        if not unspent:
            return
        # no lock needed: giving slots back only lowers a count, which no claim's check can overshoot by
        async with self.engine.begin() as conn:
            await conn.execute(
                update(rate_counters)
                .where(
                    rate_counters.c.key == bindparam("k"),
                    rate_counters.c.bucket == bindparam("b"),
                )
                .values(hits=rate_counters.c.hits - bindparam("n")),
                [{"k": key, "b": bucket, "n": left} for key, bucket, left in unspent],
            )

    async def _put(self, table: Table, values: dict[str, Any], *, key: list[str]) -> None:
        """Insert a row or replace the one with the same key, in one statement: two replicas saving the same
        client or consent at once both succeed (a delete and an insert raced into a duplicate key: a 500)."""
        statement = self._insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in key],
            set_={name: statement.excluded[name] for name in values if name not in key},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    # ---- clients ------------------------------------------------------------------------------------

    async def save_client(
        self,
        client_id: str,
        info: dict[str, Any],
        secret: str | None,
        kind: str,
        now: float,
        expires_at: float | None,
    ) -> None:
        await self._put(
            clients,
            {
                "client_id": client_id,
                "info": json.dumps(info),
                "secret": secret,
                "kind": kind,
                "created_at": now,
                "used_at": None,
                "expires_at": expires_at,
            },
            key=["client_id"],
        )

    async def get_client(self, client_id: str) -> ClientRow | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(clients).where(clients.c.client_id == client_id))).first()
        return _client(row) if row is not None else None

    async def mark_client_used(self, client_id: str, now: float) -> None:
        """A client that obtained a token is kept (DCR) until revoked; CIMD entries stay a cache."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(clients)
                .where(clients.c.client_id == client_id, clients.c.used_at.is_(None))
                .values(used_at=now)
            )
            await conn.execute(
                update(clients)
                .where(clients.c.client_id == client_id, clients.c.kind == "dcr")
                .values(expires_at=None)
            )

    async def purge_expired(self, now: float, *, audit_kept: float | None = None) -> None:
        """Drop unused registrations, stale CIMD cache entries no live code, token or transaction needs (the
        provider looks those up at /token without fetching), and expired codes and transactions; with
        `audit_kept` (seconds), audit entries older than that."""
        async with self.engine.begin() as conn:
            if audit_kept is not None:
                await conn.execute(delete(audit_log).where(audit_log.c.at < now - audit_kept))
            await conn.execute(
                delete(clients).where(
                    clients.c.expires_at.is_not(None),
                    clients.c.expires_at < now,
                    or_(clients.c.kind != "cimd", ~_holds_a_live_grant(now)),
                )
            )
            await conn.execute(delete(pending).where(pending.c.expires_at < now))
            await conn.execute(delete(codes).where(codes.c.expires_at < now - 3600))
            await conn.execute(delete(tokens).where(tokens.c.expires_at < now - 86400))
            await conn.execute(delete(rate_counters).where(rate_counters.c.bucket < now - MAX_RATE_WINDOW))

    async def unused_registrations(self, now: float) -> int:
        """Dynamic registrations that have not expired and never obtained a token."""
        query = select(func.count()).where(
            clients.c.kind == "dcr", clients.c.used_at.is_(None), clients.c.expires_at >= now
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar() or 0)

    async def drop_unused_registrations(self, *, created_before: float, count: int) -> None:
        """Forget the `count` oldest dynamic registrations made before `created_before` that never obtained
        a token (to make room when the cap is reached)."""
        oldest = (
            select(clients.c.client_id)
            .where(
                clients.c.kind == "dcr", clients.c.used_at.is_(None), clients.c.created_at < created_before
            )
            .order_by(clients.c.created_at)
            .limit(count)
        )
        async with self.engine.begin() as conn:
            await conn.execute(delete(clients).where(clients.c.client_id.in_(oldest.scalar_subquery())))

    async def list_clients(self) -> list[ClientRow]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(clients).order_by(clients.c.created_at))).all()
        return [_client(row) for row in rows]

    async def delete_client(self, client_id: str) -> bool:
        async with self.engine.begin() as conn:
            await conn.execute(update(tokens).where(tokens.c.client_id == client_id).values(revoked=True))
            await conn.execute(delete(consents).where(consents.c.client_id == client_id))
            result = await conn.execute(delete(clients).where(clients.c.client_id == client_id))
        self.revocations += 1
        return bool(result.rowcount)

    # ---- the audit trail ----------------------------------------------------------------------------

    async def add_audit(self, rows: Sequence[dict[str, Any]]) -> None:
        """Tool calls as `audit_log` rows (one statement for the batch)."""
        if rows:
            async with self.engine.begin() as conn:
                await conn.execute(insert(audit_log), list(rows))

    async def audit(
        self,
        *,
        user_ids: Sequence[str] | None = None,
        client_id: str | None = None,
        since: float | None = None,
    ) -> list[AuditRow]:
        """The audit trail, oldest first, with each user's email and each client's name as stored now."""
        query = (
            select(audit_log, users.c.email, clients.c.info)
            .select_from(
                audit_log.outerjoin(users, users.c.user_id == audit_log.c.user_id).outerjoin(
                    clients, clients.c.client_id == audit_log.c.client_id
                )
            )
            .order_by(audit_log.c.at, audit_log.c.id)
        )
        if user_ids is not None:
            query = query.where(audit_log.c.user_id.in_(list(user_ids)))
        if client_id is not None:
            query = query.where(audit_log.c.client_id == client_id)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditRow(
                at=row.at,
                user_id=row.user_id,
                email=row.email,
                client_id=row.client_id,
                client_name=_client_name(row.info),
                tool=row.tool,
                outcome=row.outcome,
                duration_ms=row.duration_ms,
                wrike_requests=row.wrike_requests,
            )
            for row in rows
        ]

    # ---- a person's connected apps ------------------------------------------------------------------

    async def connected_clients(self, user_ids: Sequence[str], now: float) -> list[ConnectedClient]:
        """The clients holding live tokens of the user (an unspent refresh token or an unexpired access
        token) under any of `user_ids` (`keys_of_person`), most recently used first."""
        mine = tokens.c.user_id.in_(user_ids)
        live = (
            select(tokens.c.client_id, tokens.c.scopes)
            .where(mine, tokens.c.revoked.is_(False), tokens.c.used.is_(False), tokens.c.expires_at >= now)
            .distinct()
        )
        issued = select(
            tokens.c.client_id, func.min(tokens.c.created_at).label("first"), func.max(tokens.c.created_at)
        ).where(mine)
        called = select(
            audit_log.c.client_id, func.min(audit_log.c.at).label("first"), func.max(audit_log.c.at)
        ).where(audit_log.c.user_id.in_(user_ids))
        async with self.engine.connect() as conn:
            scopes: dict[str, set[str]] = {}
            for row in (await conn.execute(live)).all():
                scopes.setdefault(row.client_id, set()).update(row.scopes.split())
            if not scopes:
                return []
            ids = list(scopes)
            spans: dict[str, tuple[float, float]] = {}
            for query, column in ((issued, tokens.c.client_id), (called, audit_log.c.client_id)):
                for client_id, first, last in (
                    await conn.execute(query.where(column.in_(ids)).group_by(column))
                ).all():
                    known = spans.get(client_id, (first, last))
                    spans[client_id] = (min(known[0], first), max(known[1], last))
            infos = {
                row.client_id: json.loads(row.info)
                for row in (
                    await conn.execute(
                        select(clients.c.client_id, clients.c.info).where(clients.c.client_id.in_(ids))
                    )
                ).all()
            }
        found = [
            ConnectedClient(
                client_id=client_id,
                info=infos.get(client_id, {}),
                scopes=sorted(held),
                first_used=spans[client_id][0],
                last_used=spans[client_id][1],
            )
            for client_id, held in scopes.items()
        ]
        return sorted(found, key=lambda client: -client.last_used)

    async def revoke_user_client(self, user_ids: Sequence[str], client_id: str) -> int:
        """End one client's access for one user under any of `user_ids` (`keys_of_person`): its tokens, and
        the consent (the page is shown again at the client's next sign-in). The number of tokens revoked."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(tokens)
                .where(
                    tokens.c.user_id.in_(user_ids),
                    tokens.c.client_id == client_id,
                    tokens.c.revoked.is_(False),
                )
                .values(revoked=True)
            )
            await conn.execute(
                delete(consents).where(consents.c.user_id.in_(user_ids), consents.c.client_id == client_id)
            )
        self.revocations += 1
        return int(result.rowcount or 0)

    # ---- consent transactions -----------------------------------------------------------------------

    async def save_pending(
        self, txn: str, client_id: str, params: PendingAuthorization, expires_at: float
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(pending).values(
                    txn=digest(txn),
                    client_id=client_id,
                    params=params.model_dump_json(),
                    expires_at=expires_at,
                )
            )

    async def live_pending(self, now: float) -> int:
        """Sign-ins in progress, after dropping the expired ones."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(pending).where(pending.c.expires_at < now))
            return int((await conn.execute(select(func.count()).select_from(pending))).scalar() or 0)

    async def drop_unapproved_pending(self, *, started_before: float, lifetime: float, count: int) -> None:
        """Forget the `count` oldest sign-ins started before `started_before` that nobody approved yet (to make
        room when the cap is reached). A transaction lives `lifetime` from its start, so its expiry tells when
        it started."""
        oldest = (
            select(pending.c.txn)
            .where(
                pending.c.upstream_state.is_(None),
                pending.c.expires_at < started_before + lifetime,
            )
            .order_by(pending.c.expires_at)
            .limit(count)
        )
        async with self.engine.begin() as conn:
            await conn.execute(delete(pending).where(pending.c.txn.in_(oldest.scalar_subquery())))

    async def get_pending(self, txn: str, now: float) -> tuple[str, PendingAuthorization, str | None] | None:
        """(client id, params, browser hash) of a live transaction not yet sent to Wrike."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(pending).where(
                        pending.c.txn == digest(txn),
                        pending.c.expires_at >= now,
                        pending.c.upstream_state.is_(None),
                    )
                )
            ).first()
        if row is None:
            return None
        return row.client_id, PendingAuthorization.model_validate_json(row.params), row.browser

    async def bind_pending(self, txn: str, browser: str) -> bool:
        """Tie a transaction to the first browser that opens its consent page; False if another did."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(pending)
                .where(pending.c.txn == digest(txn), pending.c.browser.is_(None))
                .values(browser=digest(browser))
            )
            bound = (
                await conn.execute(select(pending.c.browser).where(pending.c.txn == digest(txn)))
            ).scalar()
        return bound == digest(browser)

    async def approve_pending(
        self, txn: str, upstream_state: str, params: PendingAuthorization, *, binding: str
    ) -> bool:
        """Record the approval (with the scopes the person kept), the state sent to Wrike and the browser
        binding issued with it; once only."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(pending)
                .where(pending.c.txn == digest(txn), pending.c.upstream_state.is_(None))
                .values(
                    upstream_state=digest(upstream_state),
                    params=params.model_dump_json(),
                    browser=digest(binding),
                )
            )
        return bool(result.rowcount)

    async def save_approved_pending(
        self,
        upstream_state: str,
        client_id: str,
        params: PendingAuthorization,
        browser: str,
        expires_at: float,
    ) -> None:
        """An approved transaction sent to Wrike again (`browser` is already a hash), awaiting its callback."""
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(pending).values(
                    txn=digest(upstream_state + ":again"),
                    client_id=client_id,
                    params=params.model_dump_json(),
                    browser=browser,
                    upstream_state=digest(upstream_state),
                    expires_at=expires_at,
                )
            )

    async def delete_pending(self, txn: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(pending).where(pending.c.txn == digest(txn)))

    async def take_pending(
        self, upstream_state: str, now: float
    ) -> tuple[str, PendingAuthorization, str | None] | None:
        """The approved transaction Wrike's callback names, removed so it works once."""
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    delete(pending)
                    .where(pending.c.upstream_state == digest(upstream_state))
                    .returning(pending.c.client_id, pending.c.params, pending.c.browser, pending.c.expires_at)
                )
            ).first()
        if row is None or row.expires_at < now:
            return None
        return row.client_id, PendingAuthorization.model_validate_json(row.params), row.browser

    # ---- authorization codes ------------------------------------------------------------------------

    async def save_code(
        self, code: str, client_id: str, user_id: str, params: AuthorizationRequest, expires_at: float
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(codes).values(
                    code=digest(code),
                    client_id=client_id,
                    user_id=user_id,
                    params=params.model_dump_json(),
                    expires_at=expires_at,
                    used=False,
                )
            )

    async def get_code(self, code: str) -> tuple[str, str, AuthorizationRequest, float, bool] | None:
        """(client id, user id, params, expiry, used) of a code."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(codes).where(codes.c.code == digest(code)))).first()
        if row is None:
            return None
        params = AuthorizationRequest.model_validate_json(row.params)
        return row.client_id, row.user_id, params, row.expires_at, bool(row.used)

    async def spend_code(self, code: str) -> bool:
        """Mark a code used; False when it already was (a replay)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(codes).where(codes.c.code == digest(code), codes.c.used.is_(False)).values(used=True)
            )
        return bool(result.rowcount)

    # ---- tokens -------------------------------------------------------------------------------------

    async def save_tokens(self, rows: list[dict[str, Any]], *, spend_refresh: str | None = None) -> bool:
        """Store new tokens; with `spend_refresh`, only if that refresh token is still unspent (rotation)."""
        async with self.engine.begin() as conn:
            if spend_refresh is not None:
                result = await conn.execute(
                    update(tokens)
                    .where(
                        tokens.c.token == digest(spend_refresh),
                        tokens.c.used.is_(False),
                        tokens.c.revoked.is_(False),
                    )
                    .values(used=True)
                )
                if not result.rowcount:
                    return False
            await conn.execute(insert(tokens), [{**row, "token": digest(row["token"])} for row in rows])
        return True

    async def get_token(self, value: str) -> TokenRow | None:
        """A token and, read with it in the same query, its user's grant version (what a replica's cached
        client of the user is checked against, at no extra round trip)."""
        live_version = (
            select(users.c.grant_version)
            .where(users.c.user_id == tokens.c.user_id, users.c.revoked.is_(False))
            .scalar_subquery()
        )
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(tokens, live_version.label("grant_version")).where(tokens.c.token == digest(value))
                )
            ).first()
        if row is None:
            return None
        return TokenRow(
            kind=row.kind,
            family=row.family,
            client_id=row.client_id,
            user_id=row.user_id,
            scopes=[s for s in row.scopes.split(" ") if s],
            resource=row.resource,
            expires_at=row.expires_at,
            used=bool(row.used),
            revoked=bool(row.revoked),
            grant_version=row.grant_version,
        )

    async def rotated_at(self, value: str) -> float | None:
        """When a spent refresh token was rotated: the creation time of the first tokens of its family issued
        after it, which `save_tokens` inserted in the transaction that spent it. None when no later token of
        the family is kept."""
        spent = tokens.alias("spent")
        later = tokens.join(
            spent, and_(tokens.c.family == spent.c.family, tokens.c.created_at > spent.c.created_at)
        )
        query = select(func.min(tokens.c.created_at)).select_from(later).where(spent.c.token == digest(value))
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).scalar()
        return None if found is None else float(found)

    async def revoke_family(self, family: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(tokens).where(tokens.c.family == family).values(revoked=True))
        self.revocations += 1

    # ---- users and their Wrike grants ---------------------------------------------------------------

    async def save_user(
        self,
        user_id: str,
        *,
        email: str | None,
        name: str | None,
        host: str,
        grant: str,
        scopes: list[str],
        now: float,
    ) -> None:
        values = {
            "email": email,
            "name": name,
            "host": host,
            "grant": grant,
            "scopes": ",".join(scopes),
            "revoked": False,
            "updated_at": now,
        }
        async with self.locked(f"user:{user_id}") as conn:
            result = await conn.execute(
                update(users)
                .where(users.c.user_id == user_id)
                .values(**values, grant_version=users.c.grant_version + 1)
            )
            if not result.rowcount:
                await conn.execute(insert(users).values(user_id=user_id, created_at=now, **values))

    async def get_user(self, user_id: str, conn: AsyncConnection | None = None) -> UserRow | None:
        query = select(users).where(users.c.user_id == user_id)
        if conn is not None:
            row = (await conn.execute(query)).first()
        else:
            async with self.engine.connect() as own:
                row = (await own.execute(query)).first()
        return _user(row) if row is not None else None

    async def grant_version(self, user_id: str) -> int | None:
        """The version of the user's grant; None when there is none to use (unknown user or revoked)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(users.c.grant_version, users.c.revoked).where(users.c.user_id == user_id)
                )
            ).first()
        return None if row is None or row.revoked else int(row.grant_version)

    async def update_grant(self, conn: AsyncConnection, user_id: str, grant: str, now: float) -> None:
        """The same grant with refreshed or re-encrypted tokens (no new version: nothing cached goes stale)."""
        await conn.execute(
            update(users).where(users.c.user_id == user_id).values(grant=grant, updated_at=now)
        )

    async def revoke_grant(self, conn: AsyncConnection, user_id: str, now: float) -> None:
        """Wrike refused the user's grant: their MCP tokens go with it, so the next request gets a 401."""
        await conn.execute(
            update(users)
            .where(users.c.user_id == user_id)
            .values(revoked=True, updated_at=now, grant_version=users.c.grant_version + 1)
        )
        await conn.execute(update(tokens).where(tokens.c.user_id == user_id).values(revoked=True))
        self.revocations += 1  # before the caller commits: a lookup racing it is bounded by the cache's TTL

    async def list_users(self) -> list[UserRow]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(users).order_by(users.c.email))).all()
        return [_user(row) for row in rows]

    async def find_users(self, who: str) -> list[UserRow]:
        """Users by email (case-insensitive), Wrike contact id (every account of that person) or user id."""
        return [
            u
            for u in await self.list_users()
            if who in (u.user_id, contact_of(u.user_id)) or (u.email or "").lower() == who.lower()
        ]

    async def all_grants(self) -> list[tuple[str, str]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(users.c.user_id, users.c.grant))).all()
        return [(row.user_id, row.grant) for row in rows]

    async def all_client_secrets(self) -> list[tuple[str, str]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(clients.c.client_id, clients.c.secret).where(clients.c.secret.is_not(None))
                )
            ).all()
        return [(row.client_id, row.secret) for row in rows]

    async def set_client_secret(self, client_id: str, secret: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(clients).where(clients.c.client_id == client_id).values(secret=secret))

    # ---- sessions of the Connected apps page ---------------------------------------------------------

    async def account_session_generation(self, user_id: str) -> int:
        """The generation a session cookie of this person must name to be valid (0 until they sign out)."""
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(account_sessions.c.generation).where(account_sessions.c.user_id == user_id)
                )
            ).scalar()
        return int(found or 0)

    async def end_account_sessions(self, user_id: str) -> None:
        """Sign the person out of the Connected apps page everywhere: every session issued so far is refused."""
        statement = self._insert(account_sessions).values(user_id=user_id, generation=1)
        statement = statement.on_conflict_do_update(
            index_elements=[account_sessions.c.user_id],
            set_={"generation": account_sessions.c.generation + 1},
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    # ---- consents -----------------------------------------------------------------------------------

    async def save_consent(
        self, user_id: str, client_id: str, scopes: list[str], redirect_uri: str, now: float
    ) -> None:
        """Remember an approval, replacing the one before for that client (its scopes and redirect URI)."""
        await self._put(
            consents,
            {
                "user_id": user_id,
                "client_id": client_id,
                "scopes": " ".join(scopes),
                "redirect_uri": redirect_uri,
                "created_at": now,
            },
            key=["user_id", "client_id"],
        )

    async def consent_of(self, user_id: str, client_id: str) -> Consent | None:
        """What a user approved for a client, or None when they have not (or it was revoked)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(consents.c.scopes, consents.c.redirect_uri).where(
                        consents.c.user_id == user_id, consents.c.client_id == client_id
                    )
                )
            ).first()
        return Consent(row.scopes.split(), row.redirect_uri) if row is not None else None

    async def consents_of(self, user_id: str) -> list[tuple[str, list[str]]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(consents).where(consents.c.user_id == user_id))).all()
        return [(row.client_id, row.scopes.split()) for row in rows]

    async def forget_user(self, user_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(tokens).where(tokens.c.user_id == user_id).values(revoked=True))
            await conn.execute(delete(consents).where(consents.c.user_id == user_id))
            await conn.execute(
                update(users)
                .where(users.c.user_id == user_id)
                .values(revoked=True, grant_version=users.c.grant_version + 1)
            )
        self.revocations += 1
