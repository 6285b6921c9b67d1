"""The outermost ASGI layer: control-plane loopback guard, request log and fault injection.

It runs before Starlette's own middleware so that it still holds the server's `send` callable; over
uvicorn that is a bound method of the connection's request cycle, whose transport lets a `drop`
fault close the socket without any response.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wrike_mcp.sandbox.errors import ERROR_STATUS
from wrike_mcp.sandbox.faults import Fault
from wrike_mcp.sandbox.masking import mask_token, mask_values
from wrike_mcp.sandbox.state import SandboxState

# The sandbox's own copy of wrike_mcp.hosts.LOOPBACK_HOSTS (it imports nothing from the package; a test
# holds the two equal).
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")
MALFORMED_BODY = b'{"kind": "tasks", "data": [{"id": "IEAAB2CDKQ", "title": <<broken>>, ]'
DEFAULT_FAULT_CODES = {
    400: "invalid_request",
    401: "not_authorized",
    403: "not_allowed",
    404: "resource_not_found",
    429: "rate_limit_exceeded",
}


def is_loopback(scope: Scope) -> bool:
    client = scope.get("client")
    host = client[0] if client else ""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _logged_body(scope: Scope, raw: bytes) -> Any:
    if not raw:
        return None
    if _header(scope, b"x-file-name"):  # an upload: its bytes are the file, not parameters
        return f"<{len(raw)} bytes>"
    if "application/json" in _header(scope, b"content-type"):
        try:
            return mask_values(json.loads(raw))
        except ValueError:
            return "<invalid JSON>"
    try:
        return mask_values(dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
    except UnicodeDecodeError:
        return "<binary>"


def _token_used(scope: Scope, query: dict[str, str], body: Any) -> str | None:
    scheme, _, value = _header(scope, b"authorization").partition(" ")
    if scheme.lower() == "bearer" and value:
        return mask_token(value.strip())
    if "access_token" in query:
        return mask_token(query["access_token"])
    return body.get("access_token") if isinstance(body, dict) else None


class Captured:
    """A response produced by the inner app but held back, for faults that rewrite or cut it."""

    def __init__(self) -> None:
        self.status = 200
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


def _server_transport(send: Send) -> asyncio.Transport | None:
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    return transport if isinstance(transport, asyncio.BaseTransport) else None  # type: ignore[return-value]


async def _abort_connection(send: Send, what: str) -> None:
    transport = _server_transport(send)
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)  # let the server notice the disconnect before the app returns
        return
    # In process (httpx.ASGITransport) there is no socket: raise what httpx raises for a dead peer.
    raise httpx.RemoteProtocolError(what)


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sandbox"):
            if not is_loopback(scope):
                await _send_json(
                    send,
                    403,
                    {
                        "error": "access_forbidden",
                        "errorDescription": "The sandbox control plane answers loopback only",
                    },
                )
                return
            await self.app(scope, receive, send)
            return
        raw = await _read_body(receive)
        replay = _replay(raw)
        method: str = scope["method"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        body = _logged_body(scope, raw)
        entry: dict[str, Any] = {
            "time": self.state.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "method": method,
            "path": path,
            "query": mask_values(query),
            "body": body,
            "status": None,
            "token": _token_used(scope, query, body),
        }
        self.state.requests.record(entry)
        # When it arrived and when it was answered (ms, monotonic): which requests a call made one after
        # another, and which at once (sequential round trips), without the clock control moving them.
        entry["received_ms"] = round(time.monotonic() * 1000, 1)
        try:
            fault = self.state.faults.take(method, path)
            if fault is None:
                entry["status"] = await self._serve(scope, replay, send)
                return
            entry["fault"] = fault.describe()
            await self._serve_fault(fault, scope, replay, send, entry)
        finally:
            entry["answered_ms"] = round(time.monotonic() * 1000, 1)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> int:
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        return status

    async def _serve_fault(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]
    ) -> None:
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        disruptive = fault.status is not None or fault.drop or fault.malformed or fault.truncate
        if not disruptive:
            entry["status"] = await self._serve(scope, receive, send)
            return
        is_write = scope["method"] in WRITE_METHODS
        # A write runs only when the fault says so ("applied, but the answer was lost"); a read runs for
        # faults that need a real body to spoil.
        run_inner = fault.apply or (not is_write and (fault.truncate or fault.malformed))
        captured = Captured()
        if run_inner:
            await self.app(scope, receive, captured.send)
        entry["applied"] = run_inner and is_write
        if fault.drop:
            await _abort_connection(send, "Server disconnected without sending a response.")
            return
        if fault.truncate:
            body = captured.body if run_inner and captured.body else b'{"kind": "tasks", "data": []}'
            entry["status"] = captured.status if run_inner else 200
            await send(
                {
                    "type": "http.response.start",
                    "status": entry["status"],
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            cut = body[: max(1, len(body) // 2)]
            if _server_transport(send) is None:
                # In process there is no connection to cut: the client simply gets half a JSON document.
                await send({"type": "http.response.body", "body": cut})
                return
            await send({"type": "http.response.body", "body": cut, "more_body": True})
            await _abort_connection(send, "peer closed connection without sending complete message body")
            return
        headers = {key.lower(): value for key, value in fault.headers.items()}
        if fault.malformed:
            entry["status"] = fault.status or 200
            await _send_raw(send, entry["status"], MALFORMED_BODY, headers)
            return
        status = fault.status or 500
        code = fault.error or DEFAULT_FAULT_CODES.get(status, "server_error")
        description = fault.description or f"Injected fault: {code}"
        entry["status"] = status
        await _send_json(send, status, {"error": code, "errorDescription": description}, headers)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(raw: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        await asyncio.Event().wait()  # like a real server: nothing more until the client goes away
        return {"type": "http.disconnect"}

    return receive


async def _send_raw(send: Send, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    header_list = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    header_list += [
        (k.encode(), v.encode()) for k, v in (headers or {}).items() if k not in ("content-length",)
    ]
    await send({"type": "http.response.start", "status": status, "headers": header_list})
    await send({"type": "http.response.body", "body": body})


async def _send_json(
    send: Send, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    await _send_raw(send, status, json.dumps(payload).encode(), headers)


__all__ = ["ERROR_STATUS", "SandboxMiddleware"]
