"""The remote, multi-user HTTP application: authorization server, consent, Wrike callback and the gated /mcp.

Routes (the public URL is the issuer; the protected resource is `{public-url}/mcp`):
- `/.well-known/oauth-protected-resource/mcp` (RFC 9728, what the 401 challenge names) describes
  `{public-url}/mcp`; `/.well-known/oauth-protected-resource` describes the resource its URL derives from, the
  origin `{public-url}` (§3.1), which the authorization server accepts as naming `{public-url}/mcp` (see
  provider.py). `/.well-known/oauth-authorization-server` (RFC 8414). No `/.well-known/openid-configuration`:
  wrike-mcp issues no ID tokens, so it is no OpenID provider; MCP clients ask for RFC 8414 metadata first.
- `/authorize`, `/token`, `/register`, `/revoke`: the SDK's handlers over `WrikeMCPAuthProvider`; every
  redirect from `/authorize` back to a client names our issuer (`iss`, RFC 9207), an unknown client id
  answers 401 `invalid_client` so clients register again (only `/authorize` fetches a client ID metadata
  document; `/token` and `/revoke` know only stored clients), and `/token` answers `invalid_target` for a
  `resource` this server does not serve (RFC 8707)
- `/consent` (GET page, POST decision), `/oauth/wrike/callback`
- `/account` (a person's connected apps; remote/account.py), `/account/sign-in`, `/account/revoke`,
  `/account/sign-out`
- `/metrics` (Prometheus text, behind WRIKE_MCP_METRICS_TOKEN; only when it is set)
- `/mcp`: `McpGate`, then the SDK's streamable HTTP transport
- `/healthz` (alive), `/readyz` (database reachable, schema current): no authentication, any Host
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import httpx
import httpx2
from mcp.server.auth.routes import cors_middleware, create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wrike_mcp import scopes as scope_rules
from wrike_mcp.auth.oauth import authorize_endpoint
from wrike_mcp.calls import ToolCallSink, observe_tool_calls
from wrike_mcp.config import Settings
from wrike_mcp.hosts import LOOPBACK_HOST_HEADERS, LOOPBACK_ORIGINS, is_loopback_host
from wrike_mcp.remote.access_log import configure_access_log, log_tool_call
from wrike_mcp.remote.account import ACCOUNT_PATH, REVOKE_PATH, SIGN_IN_PATH, SIGN_OUT_PATH, AccountPages
from wrike_mcp.remote.audit import AuditTrail
from wrike_mcp.remote.consent import ConsentPages, UpstreamAuthorize, error_page, with_query
from wrike_mcp.remote.crypto import load_keyring
from wrike_mcp.remote.gate import (
    MAX_BODY,
    STORE_RETRY_AFTER,
    McpGate,
    UserRateLimit,
    read_body,
    replay_body,
)
from wrike_mcp.remote.health import health_routes
from wrike_mcp.remote.limits import BROWSER_PATHS, AbuseLimits, Limits
from wrike_mcp.remote.policy import ClientPolicy
from wrike_mcp.remote.provider import (
    CONSENT_PATH,
    AuthServerConfig,
    SignInLimits,
    WrikeMCPAuthProvider,
    canonical_resource,
)
from wrike_mcp.remote.store import Store, sqlite_path
from wrike_mcp.remote.upstream import CALLBACK_PATH, WrikeCallback
from wrike_mcp.remote.users import UserClients
from wrike_mcp.sdk_adapter import replace_routes
from wrike_mcp.server import WrikeMCPServer, create_server
from wrike_mcp.tools.deps import UserContexts
from wrike_mcp.wrike.client import EventHook

log = logging.getLogger(__name__)

# What a client may ask for: the scopes our tools need (DESIGN §3), not every Wrike scope.
SCOPES_SUPPORTED = (scope_rules.WS_READ_ONLY, scope_rules.WS_READ_WRITE, scope_rules.AUDIT_LOG)


class RemoteConfigError(Exception):
    """Remote mode cannot start as configured (the message says what to set)."""


@dataclass
class RemoteServer:
    app: Starlette
    server: WrikeMCPServer
    store: Store
    users: UserClients
    provider: WrikeMCPAuthProvider


def server_config(settings: Settings) -> AuthServerConfig:
    if not settings.public_url:
        raise RemoteConfigError(
            "--auth oauth needs --public-url (WRIKE_MCP_PUBLIC_URL), e.g. https://mcp.example.com"
        )
    issuer = settings.public_url.rstrip("/")
    requested = [s for s in settings.scopes or [scope_rules.WS_READ_WRITE] if s in SCOPES_SUPPORTED]
    return AuthServerConfig(
        issuer=issuer,
        resource=canonical_resource(f"{issuer}/mcp"),  # the form the gate compares tokens' audience in
        scopes_supported=SCOPES_SUPPORTED,
        default_scopes=tuple(requested or [scope_rules.WS_READ_WRITE]),
        access_token_ttl=settings.access_token_ttl,
        refresh_token_ttl=settings.refresh_token_ttl,
        refresh_reuse_leeway=settings.refresh_reuse_leeway,
        registration_ttl=settings.registration_ttl,
        limits=SignInLimits.from_settings(settings),
        cimd_allow_loopback=settings.cimd_allow_loopback,
        client_policy=ClientPolicy.of(settings.allowed_redirect_hosts, settings.allowed_client_ids),
        registration=settings.dcr,
    )


def remote_transport_security(settings: Settings, issuer: str) -> TransportSecuritySettings:
    """Host/Origin checks: the public URL's host and origin, loopback (health checks), and any allowed extra."""
    public = urlsplit(issuer)
    hosts = [public.netloc, f"{public.hostname}:*", *LOOPBACK_HOST_HEADERS, *settings.allowed_hosts]
    origins = [f"{public.scheme}://{public.netloc}", *LOOPBACK_ORIGINS, *settings.allowed_origins]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys(hosts)),
        allowed_origins=list(dict.fromkeys(origins)),
    )


def authorization_server_metadata(config: AuthServerConfig) -> dict[str, Any]:
    issuer = config.issuer
    auth_methods = ["none", "client_secret_post", "client_secret_basic"]
    # RFC 8414 §2: no registration_endpoint when dynamic registration is off. The MCP SDK's client then still
    # POSTs to /register (its fallback), so that answers too (registration_off).
    registration = {"registration_endpoint": f"{issuer}/register"} if config.registration else {}
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        **registration,
        "revocation_endpoint": f"{issuer}/revoke",
        "scopes_supported": list(config.scopes_supported),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }


def protected_resource_metadata(config: AuthServerConfig, resource: str) -> dict[str, Any]:
    return {
        "resource": resource,
        "authorization_servers": [config.issuer],
        "scopes_supported": list(config.scopes_supported),
        "bearer_methods_supported": ["header"],
        "resource_name": "wrike-mcp",
    }


def json_route(path: str, document: dict[str, Any]) -> Route:
    async def serve(_: Request) -> Response:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})

    return Route(path, endpoint=cors_middleware(serve, ["GET", "OPTIONS"]), methods=["GET", "OPTIONS"])


class AuthorizeGuard:
    """Around the SDK's /authorize: resolves the client (fetching a metadata document if need be), 401
    `invalid_client` for an unknown one; `iss` on redirects back.

    An error is redirected back to the client (RFC 6749 §4.1.2.1) only when its redirect URI is on this
    computer or this browser's user already approved that client; any other client could be an open
    redirector's registration (RFC 9700 §4.11.2), so the person gets our own error page instead.
    """

    def __init__(self, app: ASGIApp, pages: ConsentPages) -> None:
        self.app = app
        self.pages = pages
        self.provider = pages.provider
        self.consent_url = self.provider.config.issuer + CONSENT_PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
        if scope.get("method") == "POST" and content_type.startswith(b"application/x-www-form-urlencoded"):
            # the form's client_id, for the policy check (the SDK's handler reads the same form)
            body = await read_body(receive, MAX_BODY)
            if body is None:
                await JSONResponse({"error": "invalid_request"}, status_code=413)(scope, receive, send)
                return
            query = dict(parse_qsl(body.decode("latin-1")))
            receive = replay_body(body, receive)
        client_id = query.get("client_id")
        # the one place a client-metadata document is fetched (provider.get_client, which the SDK's handler
        # calls next, only reads what is stored); an unknown client is refused here whatever the method, so
        # the handler never goes on with a stale document whose fetch was just refused
        client = await self.provider.resolve_client(client_id) if client_id else None
        if client_id and client is None:
            response = JSONResponse(
                {"error": "invalid_client", "error_description": "unknown client_id; register again"},
                status_code=401,
                headers={"Cache-Control": "no-store"},
            )
            await response(scope, receive, send)
            return
        if client is not None and self.provider.refusal(client, "/authorize"):
            # the person's browser is here, not the app: tell them, and send nothing to the app's redirect URI
            await error_page(403, POLICY_REFUSAL)(scope, receive, send)
            return

        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)  # a redirect or a short JSON error: small enough to hold
        start = messages[0] if messages else {}
        headers = list(start.get("headers", []))
        location = next((value for name, value in headers if name.lower() == b"location"), None)
        if location is not None and not location.decode("latin-1").startswith(self.consent_url):
            target = location.decode("latin-1")
            if not await self._may_redirect(scope, client_id, target):
                await self._error_page(target)(scope, receive, send)
                return
            start["headers"] = [
                (name, self._with_iss(target) if name.lower() == b"location" else value)
                for name, value in headers
            ]
        for message in messages:
            await send(message)

    async def _may_redirect(self, scope: Scope, client_id: str | None, target: str) -> bool:
        if is_loopback_host(urlsplit(target).hostname):
            return True
        return await self.pages.approved_client(Request(scope), client_id)

    def _with_iss(self, location: str) -> bytes:
        return with_query(location, {"iss": self.provider.config.issuer}).encode("latin-1")

    @staticmethod
    def _error_page(target: str) -> Response:
        answer = dict(parse_qsl(urlsplit(target).query))
        error = answer.get("error", "invalid_request")
        description = answer.get("error_description") or "the request was refused"
        return error_page(
            400,
            f"The app's sign-in request cannot be completed ({error}: {description[:300]}). "
            "Go back to the app and try again, or tell its maker.",
        )


POLICY_REFUSAL = (
    "The administrator of this wrike-mcp server does not allow this app: their policy lists the apps that may "
    "sign in to it. Ask them to allow it, or use an app they allow."
)


async def registration_off(_: Request) -> Response:
    """/register when dynamic registration is off. RFC 7591 has no error for it; `access_denied` (403) says the
    request is understood and refused, and the description says what works instead."""
    return JSONResponse(
        {
            "error": "access_denied",
            "error_description": "dynamic client registration is turned off on this server (WRIKE_MCP_DCR=off): "
            "use a client ID metadata document, or a client its administrator registered for you",
        },
        status_code=403,
        headers={"Cache-Control": "no-store"},
    )


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """A route that needed the database while it is away (a restart, a failover): 503 with `Retry-After`, as
    the gate and the per-address limits answer, not a 500. The only other I/O here goes through httpx, whose
    errors are not OSErrors, so an OSError reaching this far is the database's."""
    log.warning("the database did not answer at %s (%s); answering 503", request.url.path, type(exc).__name__)
    headers = {"Cache-Control": "no-store", "Retry-After": str(STORE_RETRY_AFTER)}
    if request.url.path in BROWSER_PATHS:
        page = error_page(503, "The server cannot reach its database just now. Try again in a few seconds.")
        page.headers.update(headers)
        return page
    description = "the server's database is unreachable"
    return JSONResponse({"error": "temporarily_unavailable", "error_description": description}, 503, headers)


async def form_post_body(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> bytes | None:
    """The body of a form POST, for a guard around one of the SDK's form endpoints; None when the request was
    handed to `app` as it is (not a form POST) or answered here (too large)."""
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    if scope.get("method") != "POST" or not content_type.startswith(b"application/x-www-form-urlencoded"):
        await app(scope, receive, send)
        return None
    body = await read_body(receive, MAX_BODY)
    if body is None:
        await JSONResponse({"error": "invalid_request"}, status_code=413)(scope, receive, send)
    return body


class PublicClientRevocation:
    """The SDK's /revoke requires a `client_secret` field (python-sdk#3508); RFC 7009 public clients send none.

    An empty one is added when absent: a public client has no secret to check, and a confidential client's
    real secret is still required by the SDK's client authentication. A failed client authentication (an
    unknown client, a wrong secret) is answered 401 `invalid_client`, RFC 7009 §2.2.1's error by RFC 6749
    §5.2, where the SDK's handler says `unauthorized_client`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def _invalid_client_on_401(send: Send) -> Send:
        held: list[Message] = []  # the SDK's 401, a short JSON body

        async def relay(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                held.append(message)
                return
            if not held:
                await send(message)
                return
            held.append(message)
            if message.get("more_body"):
                return
            try:  # the SDK's error body; its description says what failed
                said = json.loads(b"".join(part.get("body", b"") for part in held[1:]))
                description = str(said.get("error_description") or "client authentication failed")
            except (ValueError, AttributeError):
                description = "client authentication failed"
            payload = json.dumps({"error": "invalid_client", "error_description": description}).encode()
            start = held[0]
            headers = [(name, value) for name, value in start["headers"] if name.lower() != b"content-length"]
            headers.append((b"content-length", str(len(payload)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": payload})

        return relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await form_post_body(self.app, scope, receive, send)
        if body is None:
            return
        if "client_secret" not in dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True)):
            body += b"&client_secret=" if body else b"client_secret="
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.app(
            {**scope, "headers": headers}, replay_body(body, receive), self._invalid_client_on_401(send)
        )


class TokenResourceCheck:
    """Around the SDK's /token, whose handler ignores `resource` on the code and refresh grants: RFC 8707
    `invalid_target` when one names a resource this server does not serve (any of them, if repeated)."""

    def __init__(self, app: ASGIApp, provider: WrikeMCPAuthProvider) -> None:
        self.app = app
        self.provider = provider

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await form_post_body(self.app, scope, receive, send)
        if body is None:
            return
        form = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        grant_types = {value for name, value in form if name == "grant_type"}
        foreign = [value for name, value in form if name == "resource" and not self.provider.serves(value)]
        if foreign and grant_types & {"authorization_code", "refresh_token"}:
            response = JSONResponse(
                {
                    "error": "invalid_target",
                    "error_description": f"this server only issues tokens for {self.provider.config.resource}",
                },
                status_code=400,
                # as the SDK's own /token answers (CORS for browser-based clients)
                headers={
                    "Cache-Control": "no-store",
                    "Pragma": "no-cache",
                    "Access-Control-Allow-Origin": "*",
                },
            )
            await response(scope, receive, send)
            return
        await self.app(scope, replay_body(body, receive), send)


async def build_remote_server(
    settings: Settings,
    *,
    stateless: bool,
    api_transport: httpx.AsyncBaseTransport | None = None,
    login_transport: httpx2.AsyncBaseTransport | None = None,
    event_hooks: Sequence[EventHook] = (),
) -> RemoteServer:
    """Open and migrate the store, load the keys and assemble the application; `event_hooks` observe every
    user's Wrike requests (traces). Raises RemoteConfigError."""
    if not settings.client_id or not settings.client_secret:
        raise RemoteConfigError(
            "--auth oauth signs users in with your Wrike app: set WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET"
        )
    config = server_config(settings)
    try:
        store = Store.open(settings.database_url)
    except ValueError as exc:
        raise RemoteConfigError(str(exc)) from None
    from wrike_mcp.remote.crypto import SecretKeyError

    try:
        keyring = load_keyring(
            settings.secret_key.get_secret_value() if settings.secret_key else None,
            sqlite_file=sqlite_path(settings.database_url),
            is_postgres=store.is_postgres,
        )
        await store.migrate()
    except SecretKeyError as exc:
        await store.close()
        raise RemoteConfigError(str(exc)) from None
    except Exception:
        await store.close()
        raise
    configure_access_log(settings.access_log)
    audit = AuditTrail(store)
    sinks: list[ToolCallSink] = [log_tool_call, audit.record]
    metrics = None
    if settings.metrics_token:
        from wrike_mcp.metrics import Metrics  # prometheus-client, loaded only when metrics are on

        metrics = Metrics(settings.metrics_token.get_secret_value(), remote=True)
        sinks.append(metrics.tool_call)
    provider = WrikeMCPAuthProvider(store, keyring, config)
    users = UserClients(
        store,
        keyring,
        settings,
        api_transport=api_transport,
        login_transport=login_transport,
        event_hooks=[*(metrics.event_hooks if metrics else []), *event_hooks],
        on_refresh=metrics.token_refresh if metrics else None,
    )
    upstream = UpstreamAuthorize(
        authorize_url=authorize_endpoint(settings),
        client_id=settings.client_id,
        redirect_uri=config.issuer + CALLBACK_PATH,
    )
    pages = ConsentPages(provider, store, keyring, upstream)
    callback = WrikeCallback(
        pages, users, settings, api_transport=api_transport, login_transport=login_transport
    )
    server = create_server(
        settings,
        UserContexts(),  # each request's, which the gate leases from `users`
        middleware=[observe_tool_calls(sinks)],
        request_state_keys=keyring.request_state_keys,
    )
    transport = server.streamable_http_app(
        stateless_http=stateless,
        json_response=stateless,
        transport_security=remote_transport_security(settings, config.issuer),
    )
    # the deployment's tool filters (WRIKE_READ_ONLY, WRIKE_TOOLSETS, ...) apply to every user
    deployment_tools = replace(server.offer_filter, granted_scopes=None)
    gate = McpGate(
        transport, provider, users, UserRateLimit(store, settings.user_rate_limit), deployment_tools
    )
    account = AccountPages(pages, callback)
    routes = [*health_routes(store), *_routes(config, provider, pages, callback, account, gate)]
    middleware = [Middleware(AbuseLimits, store=store, limits=Limits.from_settings(settings))]
    if metrics is not None:
        from wrike_mcp.metrics import METRICS_PATH
        from wrike_mcp.remote.observe import RouteOutcomes

        routes.append(Route(METRICS_PATH, endpoint=metrics.endpoint, methods=["GET"]))
        middleware.insert(0, Middleware(RouteOutcomes, metrics=metrics))  # outermost: sees every answer
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={SQLAlchemyError: store_unavailable, OSError: store_unavailable},
        lifespan=_lifespan(server, store, users, audit, settings.audit_days * 86400.0),
    )
    return RemoteServer(app=app, server=server, store=store, users=users, provider=provider)


def _routes(
    config: AuthServerConfig,
    provider: WrikeMCPAuthProvider,
    pages: ConsentPages,
    callback: WrikeCallback,
    account: AccountPages,
    gate: McpGate,
) -> list[BaseRoute]:
    sdk_routes = create_auth_routes(
        provider,
        issuer_url=AnyHttpUrl(config.issuer),
        # No default_scopes: the SDK would write them into a registration that named no scope, and such a
        # client could then never ask for another (provider.RegisteredClient); /authorize applies the default.
        client_registration_options=ClientRegistrationOptions(
            enabled=config.registration, valid_scopes=list(config.scopes_supported), default_scopes=None
        ),
        revocation_options=RevocationOptions(enabled=True),
    )
    routes = replace_routes(
        sdk_routes,
        {
            # ours below: it also states CIMD, `iss` and the `none` auth method
            "/.well-known/oauth-authorization-server": lambda route: None,
            "/authorize": lambda route: Route(
                "/authorize", endpoint=AuthorizeGuard(route.app, pages), methods=["GET", "POST"]
            ),
            "/revoke": lambda route: Route(
                "/revoke", endpoint=PublicClientRevocation(route.app), methods=["POST", "OPTIONS"]
            ),
            "/token": lambda route: Route(
                "/token", endpoint=TokenResourceCheck(route.app, provider), methods=["POST", "OPTIONS"]
            ),
        },
    )
    return [
        json_route("/.well-known/oauth-authorization-server", authorization_server_metadata(config)),
        # RFC 9728 §3.1: each document describes the resource its URL is derived from
        json_route(
            "/.well-known/oauth-protected-resource/mcp", protected_resource_metadata(config, config.resource)
        ),
        json_route(
            "/.well-known/oauth-protected-resource", protected_resource_metadata(config, config.issuer)
        ),
        *routes,
        *(
            []
            if config.registration
            else [
                Route(
                    "/register",
                    endpoint=cors_middleware(registration_off, ["POST", "OPTIONS"]),
                    methods=["POST", "OPTIONS"],
                )
            ]
        ),
        Route(CONSENT_PATH, endpoint=pages.show, methods=["GET"]),
        Route(CONSENT_PATH, endpoint=pages.decide, methods=["POST"]),
        Route(CALLBACK_PATH, endpoint=account.callback_route(callback.handle), methods=["GET"]),
        Route(ACCOUNT_PATH, endpoint=account.show, methods=["GET"]),
        Route(SIGN_IN_PATH, endpoint=account.start_sign_in, methods=["GET"]),
        Route(REVOKE_PATH, endpoint=account.revoke, methods=["POST"]),
        Route(SIGN_OUT_PATH, endpoint=account.sign_out, methods=["POST"]),
        Route("/mcp", endpoint=gate, methods=["GET", "POST", "DELETE"]),
    ]


PURGE_EVERY = 600.0  # seconds: expired codes, tokens, transactions, registrations and rate counts go


async def _purge_periodically(store: Store, audit_kept: float) -> None:
    """Every replica drops what expired, whoever calls which route (it used to happen only on /register),
    and audit entries older than WRIKE_MCP_AUDIT_DAYS."""
    while True:
        await anyio.sleep(PURGE_EVERY)
        try:
            await store.purge_expired(time.time(), audit_kept=audit_kept)
        except Exception as exc:  # the database is away: the next round tries again
            log.warning(
                "purging expired rows failed (%s); trying again in %d s", type(exc).__name__, PURGE_EVERY
            )


def _lifespan(
    server: WrikeMCPServer, store: Store, users: UserClients, audit: AuditTrail, audit_kept: float
) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            async with server.session_manager.run(), anyio.create_task_group() as background:
                background.start_soon(_purge_periodically, store, audit_kept)
                background.start_soon(audit.run)
                background.start_soon(users.write_kept_grants)
                yield
                background.cancel_scope.cancel()
        finally:
            await audit.close()
            await users.aclose()
            await store.close()

    return lifespan
