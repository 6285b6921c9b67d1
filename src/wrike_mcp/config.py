"""Settings, read from `WRIKE_*` environment variables and CLI flags (flags win)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from wrike_mcp import scopes as scope_names
from wrike_mcp.hosts import DEFAULT_HOST, is_loopback_host, wrike_host

CommaList = Annotated[list[str], NoDecode]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

DEFAULT_LOGIN_URL = "https://login.wrike.com"


def split_commas(value: object) -> object:
    if isinstance(value, str):
        return scope_names.parse(value)
    return value


MIN_METRICS_TOKEN = 16


class Settings(BaseSettings):
    # An empty variable is an unset one: MCP Bundles and install links pass optional fields left blank as "".
    model_config = SettingsConfigDict(
        env_prefix="WRIKE_", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    # Wrike connection
    access_token: SecretStr | None = Field(default=None, description="permanent access token")
    host: str = Field(default=DEFAULT_HOST, description="Wrike API host (data centre), e.g. app-eu.wrike.com")
    base_url: str | None = Field(
        default=None, description="explicit API base URL, e.g. http://127.0.0.1:8100/api/v4 (the sandbox)"
    )
    login_url: str = Field(default=DEFAULT_LOGIN_URL, description="Wrike OAuth server")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str = "http://localhost:8765/callback"
    scopes: CommaList | None = Field(
        default=None, description="granted (permanent token) or requested (OAuth) scopes, comma-separated"
    )
    token_store: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("WRIKE_MCP_TOKEN_STORE", "token_store"),
        description="token store file when no OS keyring is usable",
    )

    # client behaviour
    timeout: float = Field(default=30.0, gt=0, description="seconds per Wrike request")
    rate_limit_per_minute: int = Field(default=400, gt=0, le=10_000)
    max_retries: int = Field(default=3, ge=0, le=10)
    retry_budget: float = Field(default=30.0, gt=0, description="seconds a read may spend retrying")
    max_queue_wait: float = Field(
        default=45.0, gt=0, description="seconds a call may wait for the rate governor before failing fast"
    )

    # tool filters
    read_only: bool = False
    toolsets: CommaList | None = None
    tools: CommaList | None = None
    exclude_tools: CommaList = Field(default_factory=list)
    allow_delete: bool = False
    output_schemas: bool = Field(
        default=False, description="publish each tool's outputSchema (results are structured either way)"
    )

    # HTTP transport: Host/Origin allow-lists (DNS-rebinding protection); loopback only when unset
    allowed_hosts: CommaList = Field(
        default_factory=list, description="Host header values, e.g. mcp.example.com"
    )
    allowed_origins: CommaList = Field(
        default_factory=list, description="Origin values, e.g. https://mcp.example.com"
    )

    log_level: LogLevel = Field(default="WARNING", description="level of the server's own log (stderr)")

    # remote, multi-user mode (`serve --transport http --auth oauth`; docs/REMOTE.md)
    auth: Literal["none", "oauth"] = Field(
        default="none",
        validation_alias=AliasChoices("WRIKE_MCP_AUTH", "auth"),
        description="HTTP client auth",
    )
    public_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("WRIKE_MCP_PUBLIC_URL", "public_url"),
        description="the server's public base URL, e.g. https://mcp.example.com (the OAuth issuer)",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("WRIKE_MCP_DATABASE_URL", "database_url"),
        description="sqlite:///path or postgresql://user@host:port/db; default: SQLite in the data directory",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("WRIKE_MCP_SECRET_KEY", "secret_key"),
        description="Fernet keys encrypting Wrike tokens at rest, comma-separated, newest first",
    )
    access_token_ttl: int = Field(
        default=3600, gt=0, validation_alias=AliasChoices("WRIKE_MCP_ACCESS_TOKEN_TTL", "access_token_ttl")
    )
    refresh_token_ttl: int = Field(
        default=30 * 86400,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_REFRESH_TOKEN_TTL", "refresh_token_ttl"),
    )
    refresh_reuse_leeway: float = Field(
        default=10.0,
        ge=0,
        le=60,
        validation_alias=AliasChoices("WRIKE_MCP_REFRESH_REUSE_LEEWAY", "refresh_reuse_leeway"),
        description="seconds after a refresh token's rotation in which the same client presenting it again is "
        "refused without revoking its grant (two tabs, a retry); 0: every reuse revokes",
    )
    registration_ttl: int = Field(
        default=3600,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_REGISTRATION_TTL", "registration_ttl"),
        description="seconds an unused dynamic client registration is kept",
    )
    user_rate_limit: int = Field(
        default=120,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_USER_RATE_LIMIT", "user_rate_limit"),
        description="MCP requests per minute per user (one count across all replicas)",
    )
    # limits on the unauthenticated OAuth routes (docs/REMOTE.md "Limits"): requests per minute per client
    # address, counted in the database so that every replica shares them
    register_rate_limit: int = Field(
        default=30,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_REGISTER_RATE_LIMIT", "register_rate_limit"),
        description="/register requests per minute per client address",
    )
    authorize_rate_limit: int = Field(
        default=60,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_AUTHORIZE_RATE_LIMIT", "authorize_rate_limit"),
        description="/authorize requests per minute per client address",
    )
    token_rate_limit: int = Field(
        default=300,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_TOKEN_RATE_LIMIT", "token_rate_limit"),
        description="/token requests per minute per client address",
    )
    revoke_rate_limit: int = Field(
        default=60,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_REVOKE_RATE_LIMIT", "revoke_rate_limit"),
        description="/revoke requests per minute per client address",
    )
    sign_in_rate_limit: int = Field(
        default=60,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_SIGN_IN_RATE_LIMIT", "sign_in_rate_limit"),
        description="requests per minute per client address to the consent page, the Wrike callback and the "
        "Connected apps page (/account, its sign-in and forms)",
    )
    metrics_rate_limit: int = Field(
        default=60,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_METRICS_RATE_LIMIT", "metrics_rate_limit"),
        description="GET /metrics requests per minute per client address (a wrong token is not guessed at speed)",
    )
    registrations_per_address: int = Field(
        default=60,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_REGISTRATIONS_PER_ADDRESS", "registrations_per_address"),
        description="dynamic registrations per hour per client address (what one address can make us keep)",
    )
    pending_per_address: int = Field(
        default=100,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_PENDING_PER_ADDRESS", "pending_per_address"),
        description="authorization requests per 10 minutes per client address (sign-ins one address keeps open)",
    )
    max_unused_registrations: int = Field(
        default=10_000,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_MAX_UNUSED_REGISTRATIONS", "max_unused_registrations"),
        description="dynamic registrations kept that never obtained a token; when full, the oldest unused ones "
        "over 10 minutes old make room",
    )
    max_pending_authorizations: int = Field(
        default=10_000,
        gt=0,
        validation_alias=AliasChoices("WRIKE_MCP_MAX_PENDING_AUTHORIZATIONS", "max_pending_authorizations"),
        description="sign-ins in progress (each lives WRIKE_MCP_PENDING_AUTHORIZATION_TTL); when full, the "
        "oldest not yet approved ones over half that age make room",
    )
    # sizes and lifetimes on those routes. Each has a ceiling: past it, a value would cost memory or storage an
    # anonymous caller controls, or break a rule of its own (said at each).
    max_body_bytes: int = Field(
        default=16 * 1024,
        ge=1024,  # a registration or token request needs more than a few bytes: below 1 KiB is a unit mistake
        le=1024 * 1024,
        validation_alias=AliasChoices("WRIKE_MCP_MAX_BODY_BYTES", "max_body_bytes"),
        description="bytes of a request body to /register, /authorize, /token, /revoke and the browser routes "
        "(not /mcp)",
    )
    max_query_bytes: int = Field(
        default=8 * 1024,
        ge=1024,
        le=16 * 1024,  # uvicorn's HTTP parser (h11) refuses a request line and headers over 16 KiB first
        validation_alias=AliasChoices("WRIKE_MCP_MAX_QUERY_BYTES", "max_query_bytes"),
        description="bytes of a query string on those routes (a sign-in in progress keeps the client's state)",
    )
    max_client_name: int = Field(
        default=200,
        ge=1,
        le=1000,  # shown on the consent page and by `admin clients`: a name, not a document
        validation_alias=AliasChoices("WRIKE_MCP_MAX_CLIENT_NAME", "max_client_name"),
        description="characters of a registered client_name",
    )
    max_redirect_uris: int = Field(
        default=10,
        ge=1,
        le=100,  # each is kept, and checked against the client policy on every /authorize
        validation_alias=AliasChoices("WRIKE_MCP_MAX_REDIRECT_URIS", "max_redirect_uris"),
        description="redirect URIs one registration may list",
    )
    max_uri_length: int = Field(
        default=2000,
        ge=64,  # the server's own client ids (36 characters) are kept under the same bound
        le=2048,  # the database's client_id column: a client ID metadata URL is a client id
        validation_alias=AliasChoices("WRIKE_MCP_MAX_URI_LENGTH", "max_uri_length"),
        description="characters of a redirect URI, of any other text a registration keeps, and of a client id",
    )
    pending_authorization_ttl: int = Field(
        default=600,
        ge=1,
        le=3600,  # the store counts a limit over at most an hour, and one address's sign-ins are counted over this
        validation_alias=AliasChoices("WRIKE_MCP_PENDING_AUTHORIZATION_TTL", "pending_authorization_ttl"),
        description="seconds a sign-in in progress lives: consent and Wrike's sign-in must finish within it",
    )
    cimd_failure_ttl: int = Field(
        default=60,
        ge=1,
        le=3600,  # per replica, in memory: a fixed document should not wait longer than an hour to be tried again
        validation_alias=AliasChoices("WRIKE_MCP_CIMD_FAILURE_TTL", "cimd_failure_ttl"),
        description="seconds a client ID metadata URL that failed or was refused is not fetched again",
    )
    access_log: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("WRIKE_MCP_ACCESS_LOG", "access_log"),
        description="file for the JSON access log of tool calls; default stderr",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("WRIKE_MCP_METRICS_TOKEN", "metrics_token"),
        description="bearer secret for GET /metrics (Prometheus) on the HTTP transports; unset: no /metrics",
    )
    audit_days: int = Field(
        default=30,
        ge=1,
        validation_alias=AliasChoices("WRIKE_MCP_AUDIT_DAYS", "audit_days"),
        description="days the audit trail of tool calls is kept in the remote store",
    )
    # admin controls (docs/REMOTE.md "Admin controls"): which MCP clients may sign people in
    allowed_redirect_hosts: CommaList = Field(
        default_factory=list,
        validation_alias=AliasChoices("WRIKE_MCP_ALLOWED_REDIRECT_HOSTS", "allowed_redirect_hosts"),
        description="only clients whose every redirect URI has one of these hosts, e.g. claude.ai,chatgpt.com",
    )
    allowed_client_ids: CommaList = Field(
        default_factory=list,
        validation_alias=AliasChoices("WRIKE_MCP_ALLOWED_CLIENT_IDS", "allowed_client_ids"),
        description="only these clients: client ID metadata document URLs or pre-registered client ids",
    )
    dcr: bool = Field(
        default=True,
        validation_alias=AliasChoices("WRIKE_MCP_DCR", "dcr"),
        description="dynamic client registration at /register (off: metadata documents and pre-registered "
        "clients only)",
    )
    cimd_allow_loopback: bool = Field(
        default=False,
        validation_alias=AliasChoices("WRIKE_MCP_CIMD_ALLOW_LOOPBACK", "cimd_allow_loopback"),
        description="test mode: fetch client ID metadata documents from loopback http URLs",
    )

    _split = field_validator(
        "scopes",
        "toolsets",
        "tools",
        "exclude_tools",
        "allowed_hosts",
        "allowed_origins",
        "allowed_redirect_hosts",
        "allowed_client_ids",
        mode="before",
    )(split_commas)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        # a short bearer secret on a public URL is guessed: ask for one made to be a secret
        if value is not None and len(value.get_secret_value().strip()) < MIN_METRICS_TOKEN:
            raise ValueError(
                f"WRIKE_MCP_METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters, e.g. "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        value = value.strip().lower()
        if "/" in value or not value:
            raise ValueError("WRIKE_HOST is a host name such as www.wrike.com or app-eu.wrike.com, not a URL")
        return value

    @model_validator(mode="after")
    def _check_urls(self) -> Settings:
        # only Wrike's own data-centre hosts may receive a token unless a base URL is set explicitly
        if self.base_url is None and wrike_host(self.host) is None:
            raise ValueError(
                f"WRIKE_HOST {self.host!r} is not a *.wrike.com host; set WRIKE_BASE_URL to use another server"
            )
        login = urlsplit(self.login_url)
        if login.scheme != "https" and self.login_url != DEFAULT_LOGIN_URL and self.base_url is None:
            # a plain-http login server only makes sense against a local emulator
            raise ValueError("WRIKE_LOGIN_URL must be https unless WRIKE_BASE_URL points at a local server")
        if self.public_url is not None:
            public = urlsplit(self.public_url)
            local_http = public.scheme == "http" and is_loopback_host(public.hostname)
            if public.scheme != "https" and not local_http:
                raise ValueError("WRIKE_MCP_PUBLIC_URL must be https (http only on loopback)")
            if public.query or public.fragment or public.path not in ("", "/"):
                raise ValueError("WRIKE_MCP_PUBLIC_URL is a base URL such as https://mcp.example.com")
        return self
