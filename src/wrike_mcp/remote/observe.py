"""The remote application's metrics read from its answers, in front of every route: sign-ins finished at
Wrike's callback, sign-ins declined (on the consent page or at Wrike) and requests refused by this server's
own rate limits. The routes themselves count nothing; what they answered is what happened.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wrike_mcp.metrics import Metrics
from wrike_mcp.remote.account import REVOKE_PATH, SIGN_IN_PATH, SIGN_OUT_PATH
from wrike_mcp.remote.provider import CONSENT_PATH
from wrike_mcp.remote.upstream import CALLBACK_PATH

# the route label of a refusal: a fixed set, whatever path a caller sends
ROUTE_NAMES = {
    "/register": "register",
    "/authorize": "authorize",
    "/token": "token",
    "/revoke": "revoke",
    CONSENT_PATH: "consent",
    CALLBACK_PATH: "callback",
    "/mcp": "mcp",
    SIGN_IN_PATH: "account_sign_in",
    REVOKE_PATH: "account_revoke",
    SIGN_OUT_PATH: "account_sign_out",
}


class RouteOutcomes:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._count(path, message)
            await send(message)

        await self.app(scope, receive, observed)

    def _count(self, path: str, start: Message) -> None:
        status = start["status"]
        metrics = self.metrics
        if status == 429:
            metrics.rate_limit_refusals.labels(ROUTE_NAMES.get(path, "other")).inc()
            return
        if path not in (CONSENT_PATH, CALLBACK_PATH):
            return
        location = next(
            (
                value.decode("latin-1")
                for name, value in start.get("headers", [])
                if name.lower() == b"location"
            ),
            None,
        )
        answer = parse_qs(urlsplit(location).query) if location else {}
        if path == CONSENT_PATH:
            if status == 302 and answer.get("error") == ["access_denied"]:
                metrics.consent_denials.labels("consent_page").inc()
            return
        if status == 302 and "code" in answer:
            metrics.sign_ins.labels("completed").inc()
        elif status == 302 and answer.get("error") == ["access_denied"]:
            metrics.consent_denials.labels("wrike").inc()
        elif status == 302 and "error" in answer:
            metrics.sign_ins.labels("failed").inc()
        elif status >= 400:
            metrics.sign_ins.labels("refused").inc()
