"""Remote mode under test: a sandbox on a real port, wrike-mcp replicas as subprocesses, a scripted browser,
and the MCP SDK's own OAuth client signing people in."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import anyio
import httpx
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from wrike_mcp.remote.provider import SignInLimits

# issue 19's figures, which are the defaults (written here, not read from the code under test): a client_name
# of 200 characters, 10 redirect URIs of 2,000, a sign-in in progress lives 10 minutes, a client ID URL that
# failed is not fetched again for a minute
DEFAULT_SIGN_IN_LIMITS = SignInLimits(
    max_client_name=200, max_redirect_uris=10, max_uri_length=2000, pending_ttl=600, cimd_failure_ttl=60
)

WRIKE_MCP = Path(sys.executable).parent / "wrike-mcp"
SECRET_KEY = "hQ3l7c0gQ5bH9c2kq1m0K1Q2d4y8T6cJm3QeV0zWbXo="  # a Fernet key for tests only
REDIRECT_URI = "http://127.0.0.1:53682/callback"  # never listened on: the scripted browser stops there


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}") from None
            time.sleep(0.1)


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WRIKE_")}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        WRIKE_MCP_KEYRING="0",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def access_log(self) -> list[str]:
        path = self.log.with_suffix(".access")
        return path.read_text().splitlines() if path.exists() else []


def start_replica(
    tmp_path: Path,
    sandbox_url: str,
    database_url: str,
    *,
    public_url: str | None = None,
    port: int | None = None,
    name: str = "a",
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
) -> Replica:
    port = port or free_port()
    log = tmp_path / f"replica-{name}.log"
    env = base_env(tmp_path)
    env.update(
        WRIKE_BASE_URL=f"{sandbox_url}/api/v4",
        WRIKE_LOGIN_URL=sandbox_url,
        WRIKE_CLIENT_ID="sandbox-client",
        WRIKE_CLIENT_SECRET="sandbox-secret",
        WRIKE_MCP_DATABASE_URL=database_url,
        WRIKE_MCP_SECRET_KEY=SECRET_KEY,
        WRIKE_MCP_ACCESS_LOG=str(log.with_suffix(".access")),
        WRIKE_MCP_CIMD_ALLOW_LOOPBACK="1",
        # a test registers and signs in far faster than people do, all from loopback: the per-address limits
        # (tested with their own values in test_attacks_abuse.py) stay out of the way of every other test
        **{
            f"WRIKE_MCP_{route}_RATE_LIMIT": "100000"
            for route in ("REGISTER", "AUTHORIZE", "TOKEN", "REVOKE", "SIGN_IN")
        },
        WRIKE_MCP_REGISTRATIONS_PER_ADDRESS="100000",
        WRIKE_MCP_PENDING_PER_ADDRESS="100000",
        # every toolset on (app_activity is off by default): what a user is offered is then their grant's
        # doing; a test of the deployment's own filters sets WRIKE_TOOLSETS itself
        WRIKE_TOOLSETS="all",
    )
    env.update(extra_env or {})
    args = [
        str(WRIKE_MCP),
        "serve",
        "--transport",
        "http",
        "--auth",
        "oauth",
        "--port",
        str(port),
        "--public-url",
        public_url or f"http://127.0.0.1:{port}",
        *extra_args,
    ]
    with log.open("wb") as handle:
        process = subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT)
    replica = Replica(process, port, log)
    wait_for_port(port, process, log)
    return replica


def admin(tmp_path: Path, database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`wrike-mcp admin ARGS` on a replica's database."""
    environment = base_env(tmp_path)
    environment.update(WRIKE_MCP_DATABASE_URL=database_url, WRIKE_MCP_SECRET_KEY=SECRET_KEY, **env)
    return subprocess.run(
        [str(WRIKE_MCP), "admin", *args], env=environment, capture_output=True, text=True, timeout=60
    )


def pkce() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class DocumentServer(ThreadingHTTPServer):
    """Client ID metadata documents on loopback http; counts connections and requests per path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), DocumentHandler)
        self.documents: dict[str, bytes] = {}
        self.connections = 0
        self.requests: Counter[str] = Counter()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True


class DocumentHandler(BaseHTTPRequestHandler):
    server: DocumentServer

    def do_GET(self) -> None:
        self.server.requests[self.path] += 1
        body = self.server.documents.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def document_server() -> Iterator[DocumentServer]:
    """A DocumentServer answering on its own thread until the block ends."""
    server = DocumentServer()
    thread = threading.Thread(target=server.serve_forever, name="cimd-documents", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# ---- the scripted browser ----------------------------------------------------------------------------


@dataclass
class Browser:
    """Follows redirects like a browser (cookies per host), submits the consent form, stops at the client."""

    user: str | None = None  # the sandbox seed user to sign in as (email)
    account: str | None = None  # the Wrike account the user picks at sign-in (sandbox: `?account=`)
    decision: str = "allow"
    untick: tuple[str, ...] = ()  # scopes to untick on the consent page
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30, follow_redirects=False))
    pages: list[str] = field(default_factory=list)

    def authorize(self, url: str) -> dict[str, str]:
        """From the client's authorize URL to its redirect URI; returns the redirect's query parameters."""
        response = self.client.get(url)
        for _ in range(10):
            if response.status_code in (301, 302, 303, 307):
                location = response.headers["location"]
                if location.startswith(REDIRECT_URI) or not location.startswith("http://127.0.0.1"):
                    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
                if "/oauth2/authorize/v4" in location and self.user:
                    picked = {"account": self.account} if self.account else {}
                    location += "&" + urlencode({"user": self.user, **picked})
                response = self.client.get(location)
                continue
            if response.status_code == 200 and "<form" in response.text:
                self.pages.append(response.text)
                response = self.submit_consent(response)
                continue
            raise AssertionError(f"unexpected {response.status_code}: {response.text[:500]}")
        raise AssertionError("too many redirects")

    def submit_consent(self, page: httpx.Response) -> httpx.Response:
        fields = dict(re.findall(r'name="(txn|csrf)" value="([^"]*)"', page.text))
        scopes = [
            s for s in re.findall(r'name="scope" value="([^"]*)" checked', page.text) if s not in self.untick
        ]
        action = str(page.url.copy_with(query=None))
        data = {**{k: unescape(v) for k, v in fields.items()}, "decision": self.decision, "scope": scopes}
        return self.client.post(action, data=data)


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def oauth_provider(
    mcp_url: str,
    browser: Browser,
    *,
    scope: str | None = None,
    client_name: str = "Test Client",
    client_metadata_url: str | None = None,
    storage: MemoryStorage | None = None,
) -> tuple[OAuthClientProvider, MemoryStorage]:
    """The SDK's OAuth client; its 'browser' is the scripted one."""
    storage = storage or MemoryStorage()
    pending: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        pending["url"] = url

    async def callback_handler() -> AuthorizationCodeResult:
        result = await anyio.to_thread.run_sync(browser.authorize, pending.pop("url"))
        if "code" not in result:
            raise RuntimeError(f"authorization failed: {result}")
        return AuthorizationCodeResult(code=result["code"], state=result.get("state"), iss=result.get("iss"))

    metadata = OAuthClientMetadata(
        client_name=client_name,
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
        scope=scope,
    )
    provider = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=client_metadata_url,
    )
    return provider, storage


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data: dict[str, Any] = result.structured_content
    return data


def sign_in_raw(base_url: str, user: str, *, client_name: str = "Bench Client") -> dict[str, Any]:
    """Register a public client, walk the consent and the sandbox sign-in, exchange the code: the tokens (and
    the `client_id` they were issued to)."""
    registered = httpx.post(
        f"{base_url}/register",
        json={
            "client_name": client_name,
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
        },
    ).json()
    verifier, challenge = pkce()
    query = urlencode(
        {
            "client_id": registered["client_id"],
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": secrets.token_urlsafe(8),
        }
    )
    result = Browser(user=user).authorize(f"{base_url}/authorize?{query}")
    tokens: dict[str, Any] = httpx.post(
        f"{base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": REDIRECT_URI,
            "client_id": registered["client_id"],
            "code_verifier": verifier,
        },
    ).json()
    tokens["client_id"] = registered["client_id"]  # not part of the token response: which client got them
    return tokens


def sandbox_wrike_tokens(sandbox_url: str, scope: str, user: str | None = None) -> dict[str, str]:
    """Wrike tokens from the sandbox's own authorize and token endpoints (`user`: an email; default the demo
    user), as Wrike gives them to wrike-mcp's app."""
    redirect = "http://localhost:8765/callback"
    authorized = httpx.get(
        f"{sandbox_url}/oauth2/authorize/v4",
        params={
            "client_id": "sandbox-client",
            "response_type": "code",
            "redirect_uri": redirect,
            "scope": scope,
            **({"user": user} if user else {}),
        },
    )
    code = parse_qs(urlsplit(authorized.headers["location"]).query)["code"][0]
    form = {
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
    }
    tokens: dict[str, str] = httpx.post(f"{sandbox_url}/oauth2/token", data=form).json()
    return tokens
