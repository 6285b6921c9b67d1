"""wrike-mcp as an OAuth authorization server: the SDK's provider protocol over our store.

The SDK's handlers do the protocol checks (PKCE S256 against the verifier, exact redirect URI, code expiry,
client authentication); this module decides what exists: registrations (DCR, or client ID metadata documents
fetched on first use), consent transactions, codes, and our own access and refresh tokens, which are bound
to the resource and the granted scopes, stored hashed, and rotated; a reused refresh token or a replayed code
revokes its whole family, except a refresh token its own client presents again within a few seconds of its
rotation (a race with itself: refused, nothing revoked; `_spent_refresh_presented`).

Resource indicators (RFC 8707): this server protects one resource, `{public-url}/mcp`, and every token it issues
is bound to it. A `resource` parameter at `/authorize` or `/token` (app.py checks the latter, the SDK's handler
ignores it) must name that resource, or the public URL itself: the root protected-resource metadata describes
the origin (RFC 9728 §3.1), and a client that discovered it, such as the MCP SDK's, which accepts any PRM
`resource` that is a parent of the server URL, sends `resource={public-url}`. Both get tokens for
`{public-url}/mcp`; anything else is `invalid_target`. Scheme and host compare case-insensitively, the path
exactly, a trailing slash and a default port do not count. Codes and refresh tokens work only at the server
whose resource they were issued for.

Scopes on refresh (RFC 6749 §6): a refresh may ask for fewer scopes than the grant; that narrows the access
token issued, not the grant. The refresh token row keeps the grant's scopes and the access token row the
narrowed ones, so the next refresh without `scope` gets the whole grant back.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    IdentityAssertionParams,
    RefreshToken,
    RegistrationError,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl

from wrike_mcp.config import Settings
from wrike_mcp.hosts import is_loopback_host
from wrike_mcp.remote import cimd
from wrike_mcp.remote.crypto import KeyRing
from wrike_mcp.remote.pending import AuthorizationRequest, PendingAuthorization
from wrike_mcp.remote.policy import EVERY_CLIENT, ClientPolicy
from wrike_mcp.remote.store import ClientRow, Store, digest
from wrike_mcp.remote.token_cache import TokenCache
from wrike_mcp.wrike.text import has_hidden

log = logging.getLogger(__name__)

CONSENT_PATH = "/consent"
CODE_TTL = 300.0
CIMD_CACHE_TTL = 3600.0
# A registration (DCR or metadata document) is small: what is kept of it (its bounds are SignInLimits').
STORED_FIELDS = (
    "client_id",
    "client_id_issued_at",
    "client_secret_expires_at",
    "client_name",
    "client_uri",
    "logo_uri",
    "redirect_uris",
    "grant_types",
    "response_types",
    "token_endpoint_auth_method",
    "scope",
    "software_id",
    "software_version",
    "application_type",
)
ACCESS_PREFIX = "wmcp_at_"
REFRESH_PREFIX = "wmcp_rt_"
# the user's grant version read with the token: the gate hands it to UserClients.lease, so a replica's
# cached client is checked on every request without another query (stale by at most the token cache's TTL)
GRANT_VERSION_CLAIM = "wrike_mcp_grant_version"


@dataclass(frozen=True)
class SignInLimits:
    """What the authorization server bounds itself (docs/REMOTE.md "Limits"): the size of what it keeps of a
    registration or client metadata document, how long a sign-in in progress lives, and how long a client ID
    URL that failed is not fetched again. The per-address limits and caps are remote/limits.py's."""

    max_client_name: int  # characters
    max_redirect_uris: int
    max_uri_length: int  # characters of a redirect URI, any other text kept, and a client id
    pending_ttl: int  # seconds
    cimd_failure_ttl: int  # seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInLimits:
        return cls(
            max_client_name=settings.max_client_name,
            max_redirect_uris=settings.max_redirect_uris,
            max_uri_length=settings.max_uri_length,
            pending_ttl=settings.pending_authorization_ttl,
            cimd_failure_ttl=settings.cimd_failure_ttl,
        )


@dataclass(frozen=True)
class AuthServerConfig:
    issuer: str  # the public URL, no trailing slash
    resource: str  # {issuer}/mcp
    scopes_supported: tuple[str, ...]
    default_scopes: tuple[str, ...]
    access_token_ttl: int
    refresh_token_ttl: int
    # seconds after a refresh token's rotation in which its client presenting it again is a race, not theft
    refresh_reuse_leeway: float
    registration_ttl: int
    limits: SignInLimits
    cimd_allow_loopback: bool = False
    client_policy: ClientPolicy = EVERY_CLIENT
    registration: bool = True  # dynamic client registration (WRIKE_MCP_DCR)


# Schemes a browser gives a meaning of its own (script, inline content, files, the web), so they are never a
# private-use scheme a native app claimed (RFC 8252 §7.1); http and https have their own rule.
NOT_PRIVATE_USE = frozenset(
    {"http", "https", "javascript", "vbscript", "data", "file", "blob", "filesystem", "about", "view-source"}
    | {"ftp", "ws", "wss"}
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
LOOPBACK_REDIRECT_RULE = "https, http on a loopback address"


def redirect_uri_problem(uri: str, *, public: bool) -> str | None:
    """Why a redirect URI may not be registered, or None.

    https anywhere and http on loopback for every client; for a public client (no secret, so PKCE is what binds
    the code to the app that started the flow) also a private-use scheme with an authority, such as Cursor's
    `cursor://anysphere.cursor-mcp/oauth/callback` (RFC 8252 §7.1).
    """
    parts = urlsplit(uri)
    if parts.fragment or parts.username or parts.password:
        return "redirect URIs may not carry a fragment or user info"
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return None
    private_use = (
        _SCHEME.match(parts.scheme) is not None and parts.scheme not in NOT_PRIVATE_USE and bool(parts.netloc)
    )
    if private_use and public:
        return None
    if private_use:
        return (
            f"redirect URI {uri[:100]!r}: a private-use scheme is for public clients only (auth method none)"
        )
    allowed = LOOPBACK_REDIRECT_RULE + (
        ", or a private-use scheme with a host (app://host/path)" if public else ""
    )
    return f"redirect URI {uri[:100]!r} must be {allowed}"


def redirect_uris_problem(client: OAuthClientInformationFull) -> str | None:
    """Why a client's redirect URIs may not be registered (DCR) or used (a metadata document), or None."""
    if not client.redirect_uris:
        return "at least one redirect URI is required"
    public = client.token_endpoint_auth_method == "none"  # noqa: S105 - a method name
    for uri in client.redirect_uris:
        problem = redirect_uri_problem(str(uri), public=public)
        if problem:
            return problem
    return None


def _loopback_key(uri: str) -> tuple[str, str, str, str] | None:
    """What a loopback redirect URI is matched on: everything but the port (RFC 8252 §7.3), or None."""
    parts = urlsplit(uri)
    if parts.scheme != "http" or not is_loopback_host(parts.hostname):
        return None
    return (parts.scheme, parts.hostname or "", parts.path or "/", parts.query)


class RegisteredClient(OAuthClientInformationFull):
    """A client as the SDK's /authorize handler sees it, with two rules of ours.

    - A loopback redirect URI matches a registered one on any port: native apps listen on whatever port is
      free (RFC 8252 §7.3). The URI returned is the one requested, so the code carries it and /token's exact
      comparison (RFC 6749 §4.1.3) holds the client to it.
    - A client registered without `scope` may ask for any scope we support, narrower than the default or a
      step-up after a 403; the consent page and the user's Wrike grant decide what it gets. A client that did
      register a scope keeps the SDK's check: it said what it needs.
    """

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        if redirect_uri is not None and redirect_uri not in (self.redirect_uris or []):
            key = _loopback_key(str(redirect_uri))
            if key is not None and any(_loopback_key(str(uri)) == key for uri in self.redirect_uris or []):
                return redirect_uri
        return super().validate_redirect_uri(redirect_uri)

    def validate_scope(self, requested_scope: str | None) -> list[str] | None:
        if self.scope is None:
            return None if requested_scope is None else requested_scope.split()
        return super().validate_scope(requested_scope)


DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def stored_metadata(client: OAuthClientInformationFull, limits: SignInLimits) -> dict[str, Any]:
    """What is kept of a registration or metadata document: the fields this server uses or shows, each
    within bounds and free of control characters. Raises RegistrationError."""
    info = client.model_dump(mode="json", exclude_none=True, include=set(STORED_FIELDS))
    uris = info.get("redirect_uris") or []
    if len(uris) > limits.max_redirect_uris:
        raise RegistrationError("invalid_redirect_uri", f"at most {limits.max_redirect_uris} redirect URIs")
    if any(len(uri) > limits.max_uri_length for uri in uris):
        raise RegistrationError(
            "invalid_redirect_uri", f"redirect URIs are at most {limits.max_uri_length} characters"
        )
    if len(info.get("client_name", "")) > limits.max_client_name:
        raise RegistrationError(
            "invalid_client_metadata", f"client_name is at most {limits.max_client_name} characters"
        )
    for key, value in info.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and (len(text) > limits.max_uri_length or has_hidden(text)):
                raise RegistrationError(
                    "invalid_client_metadata",
                    f"{key} is longer than {limits.max_uri_length} characters or holds control characters",
                )
    return info


def canonical_resource(value: str) -> str:
    """A resource URI compared the RFC 3986 §6.2.2-3 way: scheme and host lower-case, no default port, no
    trailing slash; the path (and anything else) exactly as given."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value  # not a URI (e.g. an unclosed IPv6 bracket): then it names nothing we serve
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    default_port = DEFAULT_PORTS.get(scheme)
    if default_port and netloc.endswith(default_port):
        netloc = netloc.removesuffix(default_port)
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, parts.fragment))


class WrikeMCPAuthProvider:
    """`OAuthAuthorizationServerProvider` for the SDK's /authorize, /token, /register and /revoke routes."""

    def __init__(
        self,
        store: Store,
        keyring: KeyRing,
        config: AuthServerConfig,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.config = config
        self.clock = clock
        self.cimd_failures = cimd.RecentFailures(config.limits.cimd_failure_ttl)
        self.access_tokens = TokenCache(store)

    # ---- clients ------------------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        """A client already known here, never fetched: what the SDK looks up at /token and /revoke (and at
        /authorize, after AuthorizeGuard resolved the client with `resolve_client`).

        A metadata-document client can only hold a code or a token after /authorize fetched and stored its
        document, so an unknown URL at /token or /revoke is `invalid_client` without any request to it (no
        server-side request an unauthenticated caller can aim). Its stored record serves every later step
        even once the cached document is over an hour old: the record stays while the client holds a live
        code or token (Store.purge_expired), as a used DCR registration does; /authorize alone fetches again.
        """
        row = await self.store.get_client(client_id) if self._could_exist(client_id) else None
        if row is None or (
            row.kind != "cimd" and row.expires_at is not None and row.expires_at < self.clock()
        ):
            return None
        return self._client_of(row)

    async def resolve_client(self, client_id: str) -> OAuthClientInformationFull | None:
        """The client an /authorize request names: a known one, or a metadata document fetched now when it
        was never fetched or its cached copy is over CIMD_CACHE_TTL old (a refused URL is not fetched again
        for a minute). Only /authorize may call this: it is the one endpoint that fetches."""
        if not self._could_exist(client_id):
            return None  # not fetched either
        row = await self.store.get_client(client_id)
        now = self.clock()
        if row is not None and (row.expires_at is None or row.expires_at >= now):
            return self._client_of(row)
        if not cimd.is_metadata_url(client_id) or self.cimd_failures.refused(client_id):
            return None
        try:
            client = await cimd.fetch_document(client_id, allow_loopback=self.config.cimd_allow_loopback)
            problem = redirect_uris_problem(client)
            if problem:
                raise cimd.MetadataDocumentError(problem)
            info = stored_metadata(client, self.config.limits)
        except (cimd.MetadataDocumentError, RegistrationError) as exc:
            self.cimd_failures.add(client_id)  # not fetched again for a while, however often it is named
            log.warning("client metadata document refused: %s", getattr(exc, "error_description", exc))
            return None
        await self.store.save_client(client_id, info, None, "cimd", now, now + CIMD_CACHE_TTL)
        return RegisteredClient.model_validate(info)

    def _could_exist(self, client_id: str) -> bool:
        """Whether a client could have this id: none is longer than the longest URI kept, and none holds
        control characters (PostgreSQL refuses text holding NUL)."""
        return len(client_id) <= self.config.limits.max_uri_length and not has_hidden(client_id)

    def _client_of(self, row: ClientRow) -> RegisteredClient:
        secret = self.keyring.decrypt(row.secret) if row.secret else None
        return RegisteredClient.model_validate({**row.info, "client_secret": secret})

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        info = stored_metadata(client_info, self.config.limits)
        problem = redirect_uris_problem(client_info)
        if problem:
            raise RegistrationError("invalid_redirect_uri", problem)
        refusal = self.refusal(client_info, "/register")
        if refusal:
            policy = self.config.client_policy
            raise RegistrationError(
                "invalid_redirect_uri" if policy.redirect_hosts else "invalid_client_metadata",
                f"this server's administrator does not allow this client: {refusal}",
            )
        now = self.clock()
        await self.store.purge_expired(now)
        secret = self.keyring.encrypt(client_info.client_secret) if client_info.client_secret else None
        await self.store.save_client(
            client_info.client_id or "", info, secret, "dcr", now, now + self.config.registration_ttl
        )

    def refusal(self, client: OAuthClientInformationFull, where: str) -> str | None:
        """Why the administrator's client policy refuses this client (logged once here), or None."""
        uris = [str(uri) for uri in client.redirect_uris or []]
        refusal = self.config.client_policy.refusal(client.client_id, uris)
        if refusal:
            log.warning(
                "client %r (%r) refused at %s by the administrator's policy: %s",
                (client.client_id or "-")[:200],
                (client.client_name or "-")[:100],
                where,
                refusal,
            )
        return refusal

    # ---- authorization ------------------------------------------------------------------------------

    def serves(self, resource: str) -> bool:
        """Whether an RFC 8707 `resource` names this server's protected resource (module docstring)."""
        return canonical_resource(resource) in (
            canonical_resource(self.config.resource),
            canonical_resource(self.config.issuer),
        )

    def _issued_here(self, resource: str | None) -> bool:
        """Whether a grant (code or refresh token) was issued for this server's resource, not by another
        server sharing the database under another public URL."""
        return canonical_resource(resource or "") == canonical_resource(self.config.resource)

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if self.refusal(client, "/authorize"):  # app.py's guard answers a GET first, with its own page
            raise AuthorizeError("access_denied", "this server's administrator does not allow this client")
        if params.resource is not None and not self.serves(params.resource):
            raise AuthorizeError(
                "invalid_target", f"this server only issues tokens for {self.config.resource}"
            )
        scopes = params.scopes or list(self.config.default_scopes)
        unknown = [scope for scope in scopes if scope not in self.config.scopes_supported]
        if unknown:
            raise AuthorizeError("invalid_scope", f"unknown scope {unknown[0][:60]!r}")
        txn = secrets.token_urlsafe(32)
        request = PendingAuthorization(
            redirect_uri=str(params.redirect_uri),
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            code_challenge=params.code_challenge,
            state=params.state,
            scopes=scopes,
            resource=self.config.resource,
        )
        await self.store.save_pending(
            txn, client.client_id or "", request, self.clock() + self.config.limits.pending_ttl
        )
        return f"{self.config.issuer}{CONSENT_PATH}?txn={txn}"

    async def issue_code(self, client_id: str, user_id: str, params: AuthorizationRequest) -> str:
        code = secrets.token_urlsafe(32)
        await self.store.save_code(code, client_id, user_id, params, self.clock() + CODE_TTL)
        return code

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        found = await self.store.get_code(authorization_code)
        if found is None:
            return None
        client_id, user_id, params, expires_at, used = found
        if self.refusal(client, "/token"):
            return None  # the policy changed since /authorize: no token for a client no longer allowed
        if used:
            # a replayed code: whatever it produced may be in an attacker's hands (RFC 6749 §4.1.2)
            await self.store.revoke_family(digest(authorization_code))
            return None
        if not self._issued_here(params.resource):
            return None
        return AuthorizationCode(
            code=authorization_code,
            scopes=params.scopes,
            expires_at=expires_at,
            client_id=client_id,
            code_challenge=params.code_challenge,
            redirect_uri=AnyUrl(params.redirect_uri),
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject=user_id,
        )

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        if not await self.store.spend_code(authorization_code.code):
            await self.store.revoke_family(digest(authorization_code.code))
            raise TokenError("invalid_grant", "authorization code was already used")
        return await self._issue(
            client_id=authorization_code.client_id,
            user_id=authorization_code.subject or "",
            scopes=authorization_code.scopes,
            grant_scopes=authorization_code.scopes,
            resource=authorization_code.resource or self.config.resource,
            family=digest(authorization_code.code),
        )

    # ---- tokens -------------------------------------------------------------------------------------

    async def _issue(
        self,
        *,
        client_id: str,
        user_id: str,
        scopes: list[str],
        grant_scopes: list[str],
        resource: str,
        family: str,
        spent_refresh: str | None = None,
    ) -> OAuthToken:
        """An access token for `scopes` and a refresh token for the whole grant (`grant_scopes`)."""
        now = self.clock()
        access = ACCESS_PREFIX + secrets.token_urlsafe(32)
        refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
        common = {
            "family": family,
            "client_id": client_id,
            "user_id": user_id,
            "resource": resource,
            "used": False,
            "revoked": False,
            "created_at": now,
        }
        rows = [
            {
                **common,
                "token": access,
                "kind": "access",
                "scopes": " ".join(scopes),
                "expires_at": now + self.config.access_token_ttl,
            },
            {
                **common,
                "token": refresh,
                "kind": "refresh",
                "scopes": " ".join(grant_scopes),
                "expires_at": now + self.config.refresh_token_ttl,
            },
        ]
        if not await self.store.save_tokens(rows, spend_refresh=spent_refresh):
            # another request spent it between our read and this write (or revoked it)
            await self._spent_refresh_presented(
                spent_refresh or "", family, issued_to=client_id, by=client_id
            )
            raise TokenError("invalid_grant", "refresh token was already used")
        await self.store.mark_client_used(client_id, now)
        return OAuthToken(
            access_token=access,
            token_type="Bearer",  # noqa: S106 - the token kind, not a secret
            expires_in=self.config.access_token_ttl,
            scope=" ".join(scopes),
            refresh_token=refresh,
        )

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> RefreshToken | None:
        row = await self.store.get_token(refresh_token)
        if row is None or row.kind != "refresh":
            return None
        if row.used and not row.revoked:
            await self._spent_refresh_presented(
                refresh_token, row.family, issued_to=row.client_id, by=client.client_id or ""
            )
            return None
        if row.revoked or row.expires_at < self.clock() or not self._issued_here(row.resource):
            return None
        if self.refusal(client, "/token"):
            return None  # a client no longer allowed gets no new access token
        return RefreshToken(
            token=refresh_token,
            client_id=row.client_id,
            scopes=row.scopes,
            expires_at=int(row.expires_at),
            resource=row.resource,
            subject=row.user_id,
        )

    async def _spent_refresh_presented(
        self, refresh_token: str, family: str, *, issued_to: str, by: str
    ) -> None:
        """A refresh token presented after its rotation: always refused (by the caller), and its family revoked
        (RFC 9700 §4.14.2: a second use is theft or a bug, and we cannot tell which party is the thief) unless
        the client it was issued to presents it within `refresh_reuse_leeway` seconds of its rotation: two
        tabs or a retry after a timeout racing the first request, not theft. Auth0's "reuse interval", Okta's
        grace period and Ory Hydra's `refresh_token_rotation.grace_period` do the same, but issue tokens again
        within it; we only refuse, so the leeway never hands out a second live pair (docs/REMOTE.md)."""
        rotated = await self.store.rotated_at(refresh_token)
        leeway = self.config.refresh_reuse_leeway
        if leeway > 0 and by == issued_to and rotated is not None and self.clock() - rotated <= leeway:
            log.info(
                "refresh token of client %s presented again %.1f s after its rotation: refused, grant kept",
                issued_to[:80],
                self.clock() - rotated,
            )
            return
        log.warning("refresh token reused for client %s; revoking its grant", issued_to[:80])
        await self.store.revoke_family(family)

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        row = await self.store.get_token(refresh_token.token)
        if row is None:
            raise TokenError("invalid_grant", "refresh token does not exist")
        return await self._issue(
            client_id=row.client_id,
            user_id=row.user_id,
            scopes=scopes,  # the SDK has checked they are among the grant's
            grant_scopes=row.scopes,
            resource=row.resource,
            family=row.family,
            spent_refresh=refresh_token.token,
        )

    async def load_access_token(self, token: str) -> AccessToken | None:
        if not token.startswith(ACCESS_PREFIX) or len(token) > 200:
            return None  # not ours: a Wrike token, another server's, or garbage (never passed anywhere)
        access = self.access_tokens.get(token)
        if access is None:
            revocations = self.access_tokens.revocations()
            row = await self.store.get_token(token)
            if row is None or row.kind != "access" or row.revoked:
                return None
            access = AccessToken(
                token=token,
                client_id=row.client_id,
                scopes=row.scopes,
                expires_at=int(row.expires_at),
                resource=row.resource,
                subject=row.user_id,
                claims={"iss": self.config.issuer, GRANT_VERSION_CLAIM: row.grant_version},
            )
            self.access_tokens.put(token, access, revocations)
        if access.expires_at is None or access.expires_at < self.clock():
            return None
        return access

    async def exchange_identity_assertion(
        self, client: OAuthClientInformationFull, params: IdentityAssertionParams
    ) -> OAuthToken:
        raise TokenError("unsupported_grant_type", "the JWT bearer grant is not supported")

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        row = await self.store.get_token(token.token)
        if row is not None:
            await self.store.revoke_family(row.family)
