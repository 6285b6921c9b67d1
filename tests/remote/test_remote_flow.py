"""End to end with real MCP clients: the SDK's OAuthClientProvider signs in through DCR and through a client
ID metadata document, a scripted browser walks the consent page and the sandbox's Wrike sign-in."""

from __future__ import annotations

from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Browser, oauth_provider, start_replica, structured
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow


async def test_sign_in_with_dcr_then_use_tools(tmp_path: Path, sandbox: BackgroundSandbox) -> None:
    replica = start_replica(tmp_path, sandbox.base_url, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        browser = Browser(user="chloe.martin@northwind.example")
        provider, storage = oauth_provider(replica.mcp_url, browser)
        async with (
            httpx2.AsyncClient(auth=provider, timeout=30) as http,
            Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,
        ):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            me = structured(await client.call_tool("get_me", {}))
        assert "create_task" in tools and "search_tasks" in tools
        assert me["user"]["name"] == "Chloe Martin"
        assert storage.client_info is not None and storage.tokens is not None
        assert storage.tokens.access_token.startswith("wmcp_at_")
        assert len(browser.pages) == 1 and "Test Client" in browser.pages[0]
        log = replica.access_log()
        assert any('"tool": "get_me"' in line and '"outcome": "ok"' in line for line in log)
        assert not any(storage.tokens.access_token in line for line in log)
    finally:
        replica.stop()


async def _session(url: str, browser: Browser, **kwargs: object) -> tuple[set[str], dict[str, object], str]:
    provider, storage = oauth_provider(url, browser, **kwargs)  # type: ignore[arg-type]
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        me = structured(await client.call_tool("get_me", {}))
    assert storage.tokens is not None
    return tools, me, storage.tokens.access_token


async def test_two_users_at_once_see_their_own_identity_and_tools(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    replica = start_replica(
        tmp_path,
        sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        extra_env={"WRIKE_SCOPES": "wsReadWrite,amReadOnlyAuditLog"},
    )
    try:
        ann_tools, ann, _ = await _session(replica.mcp_url, Browser(user="ann.lee@northwind.example"))
        # Ben unticks write access and the audit log on the consent page: read-only
        ben_browser = Browser(
            user="ben.carter@northwind.example", untick=("wsReadWrite", "amReadOnlyAuditLog")
        )
        ben_tools, ben, ben_token = await _session(replica.mcp_url, ben_browser)
        assert ann["user"]["name"] == "Ann Lee" and ben["user"]["name"] == "Ben Carter"  # type: ignore[index]
        assert {"create_task", "update_task", "list_audit_log"} <= ann_tools
        assert (
            "search_tasks" in ben_tools and not {"create_task", "update_task", "list_audit_log"} & ben_tools
        )
        assert ben["granted_scopes"] == ["wsReadOnly"]
        # a write tool with the read-only token: HTTP 403 step-up challenge naming every scope the call needs
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "create_task", "arguments": {"title": "x", "folder": "Marketing"}},
        }
        response = httpx.post(  # noqa: ASYNC210 - one request, nothing else runs
            replica.mcp_url,
            json=call,
            headers={"Authorization": f"Bearer {ben_token}", "Accept": "application/json, text/event-stream"},
        )
        assert response.status_code == 403
        challenge = response.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge
        assert 'scope="wsReadOnly wsReadWrite"' in challenge
        assert f'resource_metadata="{replica.base_url}/.well-known/oauth-protected-resource/mcp"' in challenge
    finally:
        replica.stop()


def _https_document_server(tmp_path: Path, document: dict[str, object]) -> tuple[str, Path, object]:
    """Serve one JSON document over https on loopback with a fresh self-signed certificate."""
    import datetime as dt
    import http.server
    import ipaddress
    import json
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cimd-cert.pem", tmp_path / "cimd-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    holder: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({**document, "client_id": holder["url"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    holder["url"] = f"https://127.0.0.1:{server.server_address[1]}/oauth/client.json"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return holder["url"], cert_path, server


async def test_sign_in_with_a_client_id_metadata_document(tmp_path: Path, sandbox: BackgroundSandbox) -> None:
    from tests.remote.helpers import REDIRECT_URI

    url, cert, server = _https_document_server(
        tmp_path,
        {
            "client_name": "Metadata Document Client",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        },
    )
    # test mode: the replica fetches documents from loopback and trusts the test certificate
    replica = start_replica(
        tmp_path,
        sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        extra_env={"SSL_CERT_FILE": str(cert)},
    )
    try:
        browser = Browser(user="farah.khan@northwind.example")
        tools, me, _ = await _session(replica.mcp_url, browser, client_metadata_url=url)
        assert me["user"]["name"] == "Farah Khan"  # type: ignore[index]
        assert "search_tasks" in tools
        assert "Metadata Document Client" in browser.pages[0]
        assert url in browser.pages[0]  # the client id shown is the document's URL: no registration happened
    finally:
        replica.stop()
        server.shutdown()  # type: ignore[attr-defined]
