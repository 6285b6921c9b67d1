"""Wrike errors → the first line a model reads (DESIGN §6): what failed and what to do next."""

from __future__ import annotations

import math
from collections.abc import Sequence

from wrike_mcp import scopes as scope_rules
from wrike_mcp.tools.deps import REQUEST_CONTEXT
from wrike_mcp.wrike import errors as wrike_errors
from wrike_mcp.wrike.client import LOCAL_RATE_LIMIT

MAX_FIRST_LINE = 200


def _short(text: str, limit: int = 160) -> str:
    """Wrike's text on one line, up to `limit`: whole sentences when one fits, else cut at a word with "…"
    (then it really is cut)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    end = text.rfind(". ", 0, limit)
    if end > 0:
        return text[: end + 1]
    cut = text.rfind(" ", limit // 2, limit - 1)
    return text[: cut if cut > 0 else limit - 1] + "…"


# Where a long first line may break, best first: after a sentence, a clause, a colon, a comma, a word.
BREAKS = (". ", "; ", ": ", ", ", " ")


def tool_error_message(exc: BaseException, tool: str, scopes: Sequence[str]) -> str | None:
    """The tool-error text for a known failure, or None for an unexpected one (logged by the caller)."""
    if isinstance(
        exc, wrike_errors.BadReference | wrike_errors.UnknownOutcome | wrike_errors.AuthorizationExpired
    ):
        return exc.message
    if isinstance(exc, wrike_errors.ResourceNotFound):
        return f"not found: {_short(exc.description)}. Check the id or look it up first (e.g. search_tasks, list_folders)"
    if isinstance(exc, wrike_errors.AccessForbidden | wrike_errors.NotAllowed):
        return refused_message(exc, tool, scopes)
    if isinstance(exc, wrike_errors.NotAuthorized):
        context = (
            REQUEST_CONTEXT.get()
        )  # set for a remote user's request only: their sign-in is the credential
        if context is not None and context.mode == "oauth (remote, multi-user)":
            return "Wrike rejected your sign-in (401): sign in to wrike-mcp again from your app"
        return "Wrike rejected the credentials (401): check WRIKE_ACCESS_TOKEN or run `wrike-mcp auth login`"
    if isinstance(exc, wrike_errors.RateLimited):
        # Retry-After may be an HTTP date that has (almost) passed: say "1 s", never "0 s" or "a minute"
        wait = f"{max(1, math.ceil(exc.retry_after))} s" if exc.retry_after is not None else "a minute"
        if exc.code == LOCAL_RATE_LIMIT:
            return f"rate limited: wrike-mcp keeps under Wrike's request limit; retry after {wait}"
        return f"rate limited by Wrike: retry after {wait}"
    if isinstance(
        exc, wrike_errors.InvalidParameter | wrike_errors.ParameterRequired | wrike_errors.InvalidRequest
    ):
        return f"Wrike rejected the request: {_short(exc.description)}"
    if isinstance(exc, wrike_errors.MethodNotFound):
        return (
            "Wrike does not know this API method: check WRIKE_HOST (your data centre, e.g. app-eu.wrike.com)"
        )
    if isinstance(exc, wrike_errors.ServerError):
        return f"Wrike had a server error ({exc.status}) and retries did not help; try again later"
    if isinstance(exc, wrike_errors.WrikeTimeout):
        return "Wrike did not answer in time (retries exhausted); try again later"
    if isinstance(exc, wrike_errors.TransportError):
        return f"Wrike's answer was unusable ({_short(exc.message, 80)}); try again later"
    if isinstance(exc, wrike_errors.WrikeError):
        return _short(exc.message, MAX_FIRST_LINE)
    return None


def refused_message(exc: wrike_errors.WrikeAPIError, tool: str, scopes: Sequence[str]) -> str:
    """A 403, led by Wrike's own description. `not_allowed` is mostly the plan, licence or permissions (seen
    live), so it names a scope only when the token's granted scopes are known and really lack it;
    `access_forbidden` (the user or the token) also names the tool's scope when the granted ones are unknown."""
    # the tool's name is in the client's own prefix ("Error executing tool <tool>: "): the line is for Wrike
    head = f"{_short(exc.description, 120)} (Wrike {exc.status} {exc.code})"
    granted = exc.granted_scopes
    lacking = scope_rules.missing(granted, scopes) if granted is not None else []
    if lacking:
        return (
            f"{head}: the granted scopes lack {', '.join(lacking)} for {tool}; grant it to the token or app"
        )
    if isinstance(exc, wrike_errors.NotAllowed):
        return f"{head}: check the account's Wrike plan and licence, and your permissions in Wrike"
    permissions = f"{head}: check your permissions in Wrike (access to this item)"
    if granted is None and scopes:
        # access_forbidden is about the user or the token (Wrike's error table): with the token's scopes
        # unknown (a permanent token), the scope stays a suspect worth naming
        return f"{permissions} and that the token has {', '.join(scopes)}"
    return permissions


def fit_first_line(message: str, tool: str) -> str:
    """The message with its first line short enough that the client's whole first line stays under
    MAX_FIRST_LINE characters (the SDK prefixes "Error executing tool <tool>: "). What does not fit moves to
    the next line, broken at the last sentence or clause boundary that fits (a word only when none does),
    with no " …": nothing is lost, so nothing may read as cut off. A message that fits is unchanged."""
    budget = MAX_FIRST_LINE - len(f"Error executing tool {tool}: ") - 1
    first, _, rest = message.partition("\n")
    if len(first) <= budget:
        return message
    split = budget
    for mark in BREAKS:
        end = first.rfind(mark, budget // 2, budget + 1)  # a break keeps at least half the line
        if end > 0:
            split = end + len(mark.strip())  # the break keeps its punctuation
            break
    # a sentence keeps its full stop and a colon announces what follows; a ";" or "," ends nothing
    head, tail = first[:split].rstrip().rstrip(";,"), first[split:].strip()
    return "\n".join(part for part in (head, tail, rest) if part)
