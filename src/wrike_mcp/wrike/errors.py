"""Typed errors of the Wrike client.

Every error's `str()` is a one-line message a person (or a model) can act on. No error ever carries a token,
a secret or a traceback of the transport in its message.
"""

from __future__ import annotations

from collections.abc import Sequence

from wrike_mcp.wrike.text import quoted, strip_invisible


class WrikeError(Exception):
    """Base of every error the Wrike client raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrikeAPIError(WrikeError):
    """Wrike answered with its error envelope `{error, errorDescription}`."""

    status: int = 0
    code: str = ""
    # the scopes the refused token was granted, when known (an OAuth grant, WRIKE_SCOPES); None: unknown
    granted_scopes: frozenset[str] | None = None

    def __init__(self, status: int, code: str, description: str, *, method: str = "", path: str = "") -> None:
        self.status = status
        self.code = code
        self.description = description
        self.method = method
        self.path = path
        where = f" ({method} {path})" if method else ""
        super().__init__(f"Wrike {status} {code}: {description}{where}")


class InvalidRequest(WrikeAPIError):
    """400 invalid_request."""


class InvalidParameter(WrikeAPIError):
    """400 invalid_parameter: a parameter name or value is invalid."""


class ParameterRequired(WrikeAPIError):
    """400 parameter_required."""


class NotAuthorized(WrikeAPIError):
    """401 not_authorized: token invalid, malformed, expired or revoked."""


class AccessForbidden(WrikeAPIError):
    """403 access_forbidden: the user's permissions (or the token's scopes) do not allow this."""


class NotAllowed(WrikeAPIError):
    """403 not_allowed: the account's plan or licence, a quota, or the user's permissions do not allow this
    (seen live for time logs and account-wide comments on a plan without them). Rarely the token's scopes:
    only the granted scopes, when known, can tell."""


class ResourceNotFound(WrikeAPIError):
    """404 resource_not_found."""


class MethodNotFound(WrikeAPIError):
    """404 method_not_found: wrong path (or wrong data centre host)."""


class RateLimited(WrikeAPIError):
    """429 too_many_requests / rate_limit_exceeded, after the client's own retries."""

    retry_after: float | None = None


class ServerError(WrikeAPIError):
    """5xx from Wrike, after the client's own retries (for reads)."""


ERROR_CLASSES: dict[str, type[WrikeAPIError]] = {
    "invalid_request": InvalidRequest,
    "invalid_parameter": InvalidParameter,
    "parameter_required": ParameterRequired,
    "not_authorized": NotAuthorized,
    "access_forbidden": AccessForbidden,
    "not_allowed": NotAllowed,
    "resource_not_found": ResourceNotFound,
    "method_not_found": MethodNotFound,
    "too_many_requests": RateLimited,
    "rate_limit_exceeded": RateLimited,
    "server_error": ServerError,
}

STATUS_CLASSES: dict[int, type[WrikeAPIError]] = {
    400: InvalidRequest,
    401: NotAuthorized,
    403: AccessForbidden,
    404: ResourceNotFound,
    429: RateLimited,
}


def api_error(status: int, code: str, description: str, *, method: str = "", path: str = "") -> WrikeAPIError:
    """The typed error for a Wrike error envelope (by code, falling back to the status)."""
    cls = (
        ERROR_CLASSES.get(code)
        or STATUS_CLASSES.get(status)
        or (ServerError if status >= 500 else WrikeAPIError)
    )
    return cls(status, code or f"http_{status}", description, method=method, path=path)


class TransportError(WrikeError):
    """The request did not get a usable answer: timeout, dropped connection, malformed or truncated body."""


class WrikeTimeout(TransportError):
    """No answer within the client's timeout."""


class ConnectionFailed(TransportError):
    """Could not connect, or the connection dropped before a full answer."""


class MalformedResponse(TransportError):
    """The answer was not the JSON Wrike documents (malformed, truncated, wrong envelope)."""


class UnknownOutcome(WrikeError):
    """A write (POST/PUT/DELETE) may or may not have been applied; it was not retried.

    The caller must check Wrike's state before trying again.
    """

    def __init__(self, method: str, path: str, cause: str) -> None:
        self.method = method
        self.path = path
        self.cause = cause
        # The first line is what a model reads first (and MCP clients prefix it with the tool name): keep it
        # short and about what to do; the cause goes on the next line.
        where = path if len(path) <= 60 else path[:59] + "…"
        super().__init__(
            f"outcome unknown: {method} {where} may or may not have been applied; "
            "it was not retried — check Wrike before trying again\n"
            f"cause: {cause}"
        )


class AuthorizationExpired(WrikeError):
    """The OAuth grant is gone (refresh token revoked or expired): the user must log in again."""

    def __init__(self, message: str = "authorization expired or revoked: run `wrike-mcp auth login`") -> None:
        super().__init__(message)


class BadReference(WrikeError):
    """A reference (id, permalink, path, name) given by a person could not be turned into one Wrike id.

    The message's first line is short (it is what a model reads first); candidates and hints follow it.
    """


FIRST_LINE_LIMIT = 150  # MCP clients prefix "Error executing tool <name>: "; the line stays under 200


class ReferenceNotFound(BadReference):
    """Nothing matched; `near` (id, label) lists the closest names (wrike/text.py `closest`), so that a
    model can pick one by id instead of searching again."""

    def __init__(
        self, kind: str, reference: str, hint: str = "", near: Sequence[tuple[str, str]] = ()
    ) -> None:
        self.kind = kind
        self.reference = reference
        self.hint = hint
        self.near = list(near)
        head = f"{kind} {quoted(reference)} not found"
        if self.near:
            head += f"; closest: {_listed(*self.near[0])}"
        if hint and len(head) + 2 + len(hint) <= FIRST_LINE_LIMIT:
            lines = [f"{head}; {hint}"]
        else:
            lines = [head, hint] if hint else [head]
        if len(self.near) > 1:
            lines.insert(1, "other close matches:")
            lines[2:2] = [f"- {_listed(ident, label)}" for ident, label in self.near[1:]]
        super().__init__("\n".join(lines))


def _listed(ident: str, label: str) -> str:
    return f"{' '.join(strip_invisible(label).split())[:160]} (id {ident})"


class AmbiguousReference(BadReference):
    """A name matched several entities; the candidates are listed, nothing is guessed."""

    SHOWN = 10

    def __init__(self, kind: str, reference: str, candidates: Sequence[tuple[str, str]]) -> None:
        self.kind = kind
        self.reference = reference
        self.candidates = list(candidates)
        lines = [
            f"{kind} {quoted(reference)} is ambiguous ({len(self.candidates)} matches): "
            "pass one of these ids or a more specific name"
        ]
        lines += [f"- {_listed(ident, label)}" for ident, label in self.candidates[: self.SHOWN]]
        if len(self.candidates) > self.SHOWN:
            lines.append(f"- … and {len(self.candidates) - self.SHOWN} more")
        super().__init__("\n".join(lines))
