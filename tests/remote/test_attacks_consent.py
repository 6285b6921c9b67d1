"""Consent that cannot be skipped, attacked over raw HTTP against a real replica.

Each "browser" is an `httpx.Client` with its own cookie jar that follows nothing by itself. A remembered
approval is a server-side consent per (user, client, scopes, redirect URI) found through the signed user cookie; the
browser binding is issued at Allow per transaction; `/authorize` errors go back only to loopback or approved
clients. docs/RELIABILITY.md "Remote mode" has one row per test here (OA30 on).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from tests.remote.helpers import (
    REDIRECT_URI,
    DocumentServer,
    Replica,
    admin,
    document_server,
    free_port,
    pkce,
    start_replica,
)
from tests.remote.test_attacks import (
    ANN,
    BEN,
    TIMEOUT,
    Registered,
    exchange,
    mcp,
    new_client,
    query_of,
)
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

ALL_SCOPES = "wsReadOnly wsReadWrite amReadOnlyAuditLog"
APP_URI = "https://app.example/oauth/callback"  # an https redirect URI that is not this computer


# ---- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replica(workdir: Path, module_sandbox: BackgroundSandbox, database: str) -> Iterator[Replica]:
    running = start_replica(workdir, module_sandbox.base_url, database, name="consent")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def documents() -> Iterator[DocumentServer]:
    with document_server() as server:
        yield server


def cimd_client(documents: DocumentServer, name: str) -> str:
    """A fresh client ID metadata document on the loopback document server; its URL is the client id."""
    path = f"/{name}-{secrets.token_hex(4)}.json"
    client_id = documents.base_url + path
    document = {
        "client_id": client_id,
        "client_name": f"CIMD {name}",
        "redirect_uris": [REDIRECT_URI],
        "scope": ALL_SCOPES,
        "token_endpoint_auth_method": "none",
    }
    documents.documents[path] = json.dumps(document).encode()
    return client_id


class CookieSetter(ThreadingHTTPServer):
    """An attacker's page on another loopback port: it sets whatever cookies it is told to (plain http
    cookies are not separated by port, so they reach the replica too)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CookieSetterHandler)
        self.cookies: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class CookieSetterHandler(BaseHTTPRequestHandler):
    server: CookieSetter

    def do_GET(self) -> None:
        self.send_response(200)
        for name, value in self.server.cookies.items():
            self.send_header("Set-Cookie", f"{name}={value}; Path=/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def cookie_setter() -> Iterator[CookieSetter]:
    server = CookieSetter()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# ---- one hop at a time -------------------------------------------------------------------------------


def jar() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


@dataclass
class Flow:
    """One authorization in one browser, as far as /consent answered: the page, or (skipped) a redirect to
    Wrike."""

    agent: httpx.Client
    client_id: str
    verifier: str
    state: str
    consent: httpx.Response

    @property
    def page_shown(self) -> bool:
        return self.consent.status_code == 200 and "<form" in self.consent.text

    def form(self, decision: str = "allow", untick: tuple[str, ...] = ()) -> dict[str, Any]:
        fields = dict(re.findall(r'name="(txn|csrf)" value="([^"]*)"', self.consent.text))
        ticked = re.findall(r'name="scope" value="([^"]*)" checked', self.consent.text)
        return {
            **{key: unescape(value) for key, value in fields.items()},
            "scope": [unescape(scope) for scope in ticked if scope not in untick],
            "decision": decision,
        }


def authorize(
    base: str,
    client_id: str,
    agent: httpx.Client,
    scope: str | None = None,
    redirect_uri: str = REDIRECT_URI,
) -> Flow:
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "resource": f"{base}/mcp",
        **({"scope": scope} if scope else {}),
    }
    response = agent.get(f"{base}/authorize?" + urlencode(params))
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{base}/consent?txn="), location
    consent = agent.get(location)
    assert consent.status_code in (200, 302), consent.text
    return Flow(agent, client_id, verifier, state, consent)


def allow(base: str, flow: Flow, untick: tuple[str, ...] = ()) -> httpx.Response:
    """Press Allow: the redirect to Wrike's sign-in."""
    assert flow.page_shown, flow.consent.text[:300]
    response = flow.agent.post(f"{base}/consent", data=flow.form(untick=untick))
    assert response.status_code == 302 and "/oauth2/authorize/v4?" in response.headers["location"]
    return response


def to_wrike(base: str, flow: Flow) -> httpx.Response:
    """The redirect to Wrike: after Allow on the page, or straight from /consent when it was skipped."""
    return flow.consent if not flow.page_shown else allow(base, flow)


def at_wrike(base: str, agent: httpx.Client, to_wrike: httpx.Response, user: str) -> httpx.Response:
    """Follow the redirect to the sandbox's sign-in as `user`, then Wrike's redirect to our callback:
    the callback's answer."""
    signed_in = agent.get(to_wrike.headers["location"] + "&" + urlencode({"user": user}))
    assert signed_in.status_code == 302, signed_in.text
    callback = signed_in.headers["location"]
    assert callback.startswith(f"{base}/oauth/wrike/callback?"), callback
    return agent.get(callback)


def code_of(answer: httpx.Response, flow: Flow, redirect_uri: str = REDIRECT_URI) -> str:
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(redirect_uri + "?"), location
    result = query_of(location)
    assert result["state"] == flow.state and "code" in result, result
    return result["code"]


def assert_refused_page(answer: httpx.Response, status: int, text: str) -> None:
    """Our own HTML error page: no redirect anywhere, so no code reaches any client."""
    assert answer.status_code == status, answer.text
    assert "location" not in answer.headers, answer.headers["location"]
    assert answer.headers["content-type"].startswith("text/html"), answer.headers
    assert text in unescape(answer.text), answer.text


def sign_in(base: str, client_id: str, agent: httpx.Client, user: str, scope: str | None = None) -> Flow:
    """A complete sign-in in `agent` through the consent page (which must show), ending with a code."""
    flow = authorize(base, client_id, agent, scope)
    assert flow.page_shown, "the first sign-in of a client must show the consent page"
    code_of(at_wrike(base, agent, allow(base, flow), user), flow)
    return flow


def scoped_client(base: str, **metadata: Any) -> Registered:
    """A DCR client that may ask for every scope we offer."""
    return new_client(base, scope=ALL_SCOPES, **metadata)


def set_cookie_headers(response: httpx.Response) -> dict[str, str]:
    """Set-Cookie headers by cookie name, as sent (attributes included)."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


# ---- remembered consent: what it covers --------------------------------------------------------------


def test_broader_scopes_after_a_narrower_consent_show_the_page(replica: Replica) -> None:
    base = replica.base_url
    client = scoped_client(base)
    agent = jar()
    sign_in(base, client.client_id, agent, ANN, scope="wsReadOnly")
    for broader in ("wsReadWrite", "wsReadOnly amReadOnlyAuditLog", ALL_SCOPES):
        flow = authorize(base, client.client_id, agent, scope=broader)
        assert flow.page_shown, broader
    # a narrower consent for one client says nothing about another client
    other = scoped_client(base)
    assert authorize(base, other.client_id, agent, scope="wsReadOnly").page_shown


def test_same_or_narrower_scopes_skip_the_page_and_issue_a_code(replica: Replica) -> None:
    base = replica.base_url
    client = scoped_client(base)
    agent = jar()
    sign_in(base, client.client_id, agent, ANN, scope="wsReadWrite amReadOnlyAuditLog")
    for narrower in (
        "wsReadWrite amReadOnlyAuditLog",
        "wsReadWrite",
        "wsReadOnly amReadOnlyAuditLog",
        "wsReadOnly",
    ):
        flow = authorize(base, client.client_id, agent, scope=narrower)
        # skipped: /consent answered with the redirect to Wrike, no page
        assert not flow.page_shown and flow.consent.status_code == 302, narrower
        assert "/oauth2/authorize/v4?" in flow.consent.headers["location"]
        code = code_of(at_wrike(base, agent, flow.consent, ANN), flow)
        tokens = exchange(base, client, code, flow.verifier)
        assert tokens.status_code == 200, tokens.text
        assert tokens.json()["scope"] == narrower, tokens.json()
    # the narrower skips did not narrow what is remembered: the original request still skips
    again = authorize(base, client.client_id, agent, scope="wsReadWrite amReadOnlyAuditLog")
    assert not again.page_shown
    # and a browser that has not signed in here is asked, whoever it turns out to be
    assert authorize(base, client.client_id, jar(), scope="wsReadOnly").page_shown


def shown_redirect_uri(flow: Flow) -> str:
    shown = re.search(r'id="redirect-uri">([^<]*)<', flow.consent.text)
    assert shown is not None, flow.consent.text[:300]
    return unescape(shown.group(1))


def test_a_remembered_consent_covers_only_its_redirect_uri(replica: Replica) -> None:
    """A loopback client may use any port (RFC 8252 §7.3), and so may another program on this computer using
    the same public client id: a consent given for one port skips the page only for that very URI."""
    base = replica.base_url
    client = scoped_client(base)  # registered with REDIRECT_URI, http://127.0.0.1:53682/callback
    agent = jar()
    sign_in(base, client.client_id, agent, ANN, scope="wsReadOnly")
    same = authorize(base, client.client_id, agent, scope="wsReadOnly")
    assert not same.page_shown and same.consent.status_code == 302  # the port it was given for: skipped
    code_of(at_wrike(base, agent, same.consent, ANN), same)

    other_port = "http://127.0.0.1:53683/callback"
    assert other_port.replace(":53683/", ":53682/") == REDIRECT_URI  # only the port differs
    other = authorize(base, client.client_id, agent, scope="wsReadOnly", redirect_uri=other_port)
    assert other.page_shown, "another port of the same client must show the page"
    assert shown_redirect_uri(other) == other_port  # the person sees where the code would go
    assert "on this computer" in other.consent.text
    # once approved there, the newest approval is what is remembered: that port skips, the first one asks again
    code_of(at_wrike(base, agent, allow(base, other), ANN), other, redirect_uri=other_port)
    assert not authorize(
        base, client.client_id, agent, scope="wsReadOnly", redirect_uri=other_port
    ).page_shown
    first_again = authorize(base, client.client_id, agent, scope="wsReadOnly")
    assert first_again.page_shown and shown_redirect_uri(first_again) == REDIRECT_URI

    # the same for an https client with two registered redirect URIs: each is its own approval
    second_uri = APP_URI + "/second"
    app = scoped_client(base, redirect_uris=[APP_URI, second_uri])
    flow = authorize(base, app.client_id, agent, scope="wsReadOnly", redirect_uri=APP_URI)
    code_of(at_wrike(base, agent, allow(base, flow), ANN), flow, redirect_uri=APP_URI)
    assert not authorize(base, app.client_id, agent, scope="wsReadOnly", redirect_uri=APP_URI).page_shown
    switched = authorize(base, app.client_id, agent, scope="wsReadOnly", redirect_uri=second_uri)
    assert switched.page_shown and shown_redirect_uri(switched) == second_uri

    # at Wrike's callback too: a page skipped for Ann's port, where Wrike signs in Ben, who approved the
    # client for another port only, gives no code
    shared = scoped_client(base)
    bens = jar()
    ben_flow = authorize(base, shared.client_id, bens, scope="wsReadOnly", redirect_uri=other_port)
    code_of(at_wrike(base, bens, allow(base, ben_flow), BEN), ben_flow, redirect_uri=other_port)
    anns = jar()
    sign_in(base, shared.client_id, anns, ANN, scope="wsReadOnly")
    skipped = authorize(base, shared.client_id, anns, scope="wsReadOnly")
    assert not skipped.page_shown  # Ann's consent, Ann's port ...
    assert_refused_page(at_wrike(base, anns, skipped.consent, BEN), 403, "has not approved this app")


def test_step_up_after_403_shows_the_page(replica: Replica) -> None:
    base = replica.base_url
    client = scoped_client(base)
    agent = jar()
    sign_in(base, client.client_id, agent, BEN, scope="wsReadOnly")
    # sign_in spent its code on the way: one more (skipped, same scopes) to get a token
    again = authorize(base, client.client_id, agent, scope="wsReadOnly")
    assert not again.page_shown
    tokens = exchange(base, client, code_of(at_wrike(base, agent, again.consent, BEN), again), again.verifier)
    assert tokens.status_code == 200 and tokens.json()["scope"] == "wsReadOnly", tokens.text
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "create_task", "arguments": {"title": "x", "folder": "Marketing"}},
    }
    denied = mcp(replica, tokens.json()["access_token"], content=json.dumps(call).encode())
    assert denied.status_code == 403, denied.text
    needed = re.search(r'scope="([^"]*)"', denied.headers["www-authenticate"])
    assert needed is not None and needed.group(1) == "wsReadOnly wsReadWrite"
    # the client asks for what the challenge named: that is more than Ben approved, so he is asked
    step_up = authorize(base, client.client_id, agent, scope=needed.group(1))
    assert step_up.page_shown
    code = code_of(at_wrike(base, agent, allow(base, step_up), BEN), step_up)
    upgraded = exchange(base, client, code, step_up.verifier)
    assert upgraded.status_code == 200 and upgraded.json()["scope"] == "wsReadOnly wsReadWrite"


def test_admin_revoke_user_shows_the_page_again(replica: Replica, database: str, workdir: Path) -> None:
    base = replica.base_url
    client = scoped_client(base)
    agent = jar()
    # Farah: a user no other test here signs in, so revoking her touches nobody else's consents
    farah = "farah.khan@northwind.example"
    sign_in(base, client.client_id, agent, farah, scope="wsReadWrite")
    skipped = authorize(base, client.client_id, agent, scope="wsReadWrite")
    assert not skipped.page_shown  # remembered
    result = admin(workdir, database, "revoke", "--user", farah)
    assert result.returncode == 0 and "revoked" in result.stdout, result.stderr
    # a skip already on its way to Wrike when the consent was revoked gets no code either
    assert_refused_page(at_wrike(base, agent, skipped.consent, farah), 403, "has not approved this app")
    flow = authorize(base, client.client_id, agent, scope="wsReadWrite")
    assert flow.page_shown  # the same browser, cookie and all, is asked again
    code_of(at_wrike(base, agent, allow(base, flow), farah), flow)
    assert not authorize(base, client.client_id, agent, scope="wsReadWrite").page_shown  # approved anew


def test_admin_revoke_client_shows_the_page_again(
    replica: Replica, database: str, workdir: Path, documents: DocumentServer
) -> None:
    base = replica.base_url
    client_id = cimd_client(documents, "revoked")  # a metadata-document client keeps its id after revocation
    agent = jar()
    sign_in(base, client_id, agent, ANN, scope="wsReadWrite")
    assert not authorize(base, client_id, agent, scope="wsReadWrite").page_shown
    assert admin(workdir, database, "revoke", "--client", client_id).returncode == 0
    assert authorize(base, client_id, agent, scope="wsReadWrite").page_shown


# ---- whose consent -----------------------------------------------------------------------------------


def test_a_skip_for_one_user_gives_no_code_to_another(replica: Replica) -> None:
    base = replica.base_url
    client = scoped_client(base)
    agent = jar()
    sign_in(base, client.client_id, agent, ANN, scope="wsReadWrite")
    flow = authorize(base, client.client_id, agent, scope="wsReadWrite")
    assert not flow.page_shown  # skipped for Ann ...
    answer = at_wrike(base, agent, flow.consent, BEN)  # ... but Wrike signs Ben in
    assert_refused_page(answer, 403, "has not approved this app")
    cleared = set_cookie_headers(answer)
    assert "Max-Age=0" in cleared["wrike-mcp-user"] or "expires=" in cleared["wrike-mcp-user"].lower()
    # Ben never approved this client: the next attempt in this browser shows him the page
    retry = authorize(base, client.client_id, agent, scope="wsReadWrite")
    assert retry.page_shown
    code_of(at_wrike(base, agent, allow(base, retry), BEN), retry)


def test_forged_user_cookie_is_ignored(replica: Replica) -> None:
    base = replica.base_url
    client = scoped_client(base)
    agent = jar()
    sign_in(base, client.client_id, agent, ANN, scope="wsReadOnly")
    genuine = agent.cookies["wrike-mcp-user"]
    encoded, issued, signature = genuine.split(".")
    ann_id = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    other = base64.urlsafe_b64encode(ann_id.encode() + b"X").decode().rstrip("=")
    for forged in (
        f"{other}.{issued}.{signature}",  # another user under Ann's signature
        f"{encoded}.{int(issued) + 1}.{signature}",  # re-dated
        f"{encoded}.{issued}.{'0' * 64}",
        ann_id,  # a bare user id
    ):
        browser = jar()
        browser.cookies.set("wrike-mcp-user", forged)
        assert authorize(base, client.client_id, browser, scope="wsReadOnly").page_shown, forged
    control = jar()
    control.cookies.set("wrike-mcp-user", genuine)
    assert not authorize(base, client.client_id, control, scope="wsReadOnly").page_shown


def test_planted_binding_cookie_gets_no_code(replica: Replica, cookie_setter: CookieSetter) -> None:
    base = replica.base_url
    attacker_client = scoped_client(base, client_name="Innocent-looking app")

    def attacker_allows(attacker: httpx.Client) -> tuple[httpx.Response, dict[str, str]]:
        """The attacker presses Allow in their own browser: the Wrike URL and their cookies."""
        flow = authorize(base, attacker_client.client_id, attacker, scope="wsReadWrite")
        to_wrike = allow(base, flow)
        binding = {
            name: value for name, value in to_wrike.cookies.items() if name.startswith("wrike-mcp-bind-")
        }
        assert len(binding) == 1, to_wrike.headers
        return to_wrike, binding

    def victim() -> httpx.Client:
        """Ann, who signed in here before with her own app (so her browser has her user cookie)."""
        agent = jar()
        sign_in(base, scoped_client(base).client_id, agent, ANN, scope="wsReadOnly")
        return agent

    # 1. an attacker known here (Ben signed in before) plants the binding cookie of his transaction
    ben = jar()
    sign_in(base, scoped_client(base).client_id, ben, BEN, scope="wsReadOnly")
    to_wrike, binding = attacker_allows(ben)
    ann = victim()
    cookie_setter.cookies = binding
    assert ann.get(cookie_setter.url).status_code == 200  # the attacker's page on another loopback port
    assert ann.cookies[next(iter(binding))] == next(iter(binding.values()))  # planted
    assert_refused_page(at_wrike(base, ann, to_wrike, ANN), 403, "someone other than the person")

    # 2. he plants his user cookie too, so the browser looks like his: Wrike signs Ann in, not him
    to_wrike, binding = attacker_allows(ben)
    ann = victim()
    cookie_setter.cookies = {**binding, "wrike-mcp-user": ben.cookies["wrike-mcp-user"]}
    ann.get(cookie_setter.url)
    assert_refused_page(at_wrike(base, ann, to_wrike, ANN), 403, "has not approved this app")

    # 3. an attacker with no user cookie (a fresh browser) and a victim who has one
    to_wrike, binding = attacker_allows(jar())
    ann = victim()
    cookie_setter.cookies = binding
    ann.get(cookie_setter.url)
    assert_refused_page(at_wrike(base, ann, to_wrike, ANN), 403, "someone other than the person")

    # 4. nothing planted: the Wrike URL alone is worth nothing in another browser
    to_wrike, _ = attacker_allows(ben)
    assert_refused_page(at_wrike(base, victim(), to_wrike, ANN), 403, "another browser")

    # the control: the binding is otherwise good; in the attacker's own browser, as himself, it works
    flow = authorize(base, attacker_client.client_id, ben, scope="wsReadWrite")
    code_of(at_wrike(base, ben, allow(base, flow), BEN), flow)


def test_binding_value_is_fresh_and_checked_at_the_callback(replica: Replica) -> None:
    """Ann's Wrike URL reaches Ben's browser (a shared link, a screen). The binding cookie's name derives from
    the state in that URL, so Ben can set a cookie of that name in his own browser; with any value he could
    know (a guess, the state, the consent transaction) the callback refuses him. Neither browser signed in
    here before, so nothing but the value issued at Allow tells them apart."""
    base = replica.base_url
    client = scoped_client(base)

    def ann_allows() -> tuple[Flow, httpx.Response, str, str]:
        """Ann, in a fresh browser, presses Allow: her flow, the redirect to Wrike, the binding cookie."""
        flow = authorize(base, client.client_id, jar(), scope="wsReadWrite")
        to_wrike = allow(base, flow)
        ((name, value),) = [
            item for item in to_wrike.cookies.items() if item[0].startswith("wrike-mcp-bind-")
        ]
        return flow, to_wrike, name, value

    issued: set[str] = set()
    for known in ("a guess", "the state", "the transaction"):
        flow, to_wrike, name, value = ann_allows()
        wrike_url, consent_url = to_wrike.headers["location"], str(flow.consent.url)
        assert value not in wrike_url and value not in consent_url and value not in issued, known
        issued.add(value)
        forged = {
            "a guess": secrets.token_urlsafe(32),
            "the state": query_of(wrike_url)["state"],
            "the transaction": query_of(consent_url)["txn"],
        }[known]
        ben = jar()
        ben.cookies.set(name, forged)
        assert_refused_page(at_wrike(base, ben, to_wrike, BEN), 403, "another browser")
    # the control: the value issued at Allow, in Ann's own browser
    flow, to_wrike, _, _ = ann_allows()
    code_of(at_wrike(base, flow.agent, to_wrike, ANN), flow)


def test_cookies_are_host_prefixed_and_secure_over_https(
    workdir: Path, module_sandbox: BackgroundSandbox, database: str
) -> None:
    """A replica whose public URL is https, spoken to over plain http on loopback to read its headers."""
    port = free_port()
    public = f"https://127.0.0.1:{port}"
    https = start_replica(
        workdir, module_sandbox.base_url, database, port=port, public_url=public, name="tls"
    )
    local = f"http://127.0.0.1:{port}"

    def local_url(url: str) -> str:
        assert url.startswith(public), url
        return local + url.removeprefix(public)

    def attributes(header: str) -> set[str]:
        return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}

    def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}

    def value_of(header: str) -> str:
        return header.split(";", 1)[0].split("=", 1)[1]

    try:
        client = new_client(local)
        _, challenge = pkce()
        agent = jar()  # cookies by hand: a jar keeps Secure cookies away from http

        def through_allow() -> tuple[dict[str, str], str]:
            """/authorize, the page and Allow; the cookies set on the way and the Wrike URL."""
            query = {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": REDIRECT_URI,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": "s",
            }
            started = agent.get(f"{local}/authorize?" + urlencode(query))
            page = agent.get(local_url(started.headers["location"]))
            assert page.status_code == 200 and "<form" in page.text, page.text
            form_cookie = set_cookie_headers(page)["__Host-wrike-mcp-form"]
            assert {"secure", "httponly", "samesite", "path"} <= attributes(form_cookie), form_cookie
            assert "domain" not in attributes(form_cookie) and "samesite=lax" in form_cookie.lower()
            fields = dict(re.findall(r'name="(txn|csrf)" value="([^"]*)"', page.text))
            allowed = agent.post(
                f"{local}/consent",
                data={**fields, "decision": "allow", "scope": ["wsReadWrite"]},
                headers={**cookie_header({"__Host-wrike-mcp-form": value_of(form_cookie)}), "Origin": public},
            )
            assert allowed.status_code == 302, allowed.text
            set_cookies = set_cookie_headers(allowed)
            (name,) = (name for name in set_cookies if name.startswith("__Host-wrike-mcp-bind-"))
            binding = set_cookies[name]
            assert {"secure", "httponly", "samesite", "path", "max-age"} <= attributes(binding), binding
            assert "domain" not in attributes(binding) and "samesite=lax" in binding.lower()
            return {name: value_of(binding)}, allowed.headers["location"]

        def callback(wrike_url: str, cookies: dict[str, str]) -> httpx.Response:
            signed_in = agent.get(wrike_url + "&" + urlencode({"user": ANN}))
            return agent.get(local_url(signed_in.headers["location"]), headers=cookie_header(cookies))

        # what a page on another http port can plant is a cookie without the prefix: it does not count
        binding, wrike_url = through_allow()
        planted = {name.removeprefix("__Host-"): value for name, value in binding.items()}
        assert_refused_page(callback(wrike_url, planted), 403, "another browser")

        binding, wrike_url = through_allow()
        answer = callback(wrike_url, binding)
        assert answer.status_code == 302 and "code=" in answer.headers["location"], answer.text
        set_cookies = set_cookie_headers(answer)
        user = set_cookies["__Host-wrike-mcp-user"]
        assert {"secure", "httponly", "samesite", "path", "max-age"} <= attributes(user), user
        assert "domain" not in attributes(user) and "samesite=lax" in user.lower()
        gone = set_cookies[
            next(iter(binding))
        ]  # the transaction's cookie is deleted, with the same attributes
        assert "secure" in attributes(gone) and ("max-age=0" in gone.lower() or "expires=" in gone.lower())
        assert not any(name.startswith("wrike-mcp") for name in set_cookies), set_cookies
    finally:
        https.stop()


# ---- the consent form --------------------------------------------------------------------------------


def test_consent_form_from_another_origin_is_refused(replica: Replica) -> None:
    base = replica.base_url
    flow = authorize(base, new_client(base).client_id, jar())
    assert flow.page_shown
    for origin in ("http://127.0.0.1:1", "https://evil.example", "null"):
        refused = flow.agent.post(f"{base}/consent", data=flow.form(), headers={"Origin": origin})
        assert_refused_page(refused, 403, "not sent from wrike-mcp")
    # the same form from our own origin goes on to Wrike: nothing above spent the transaction
    allowed = flow.agent.post(f"{base}/consent", data=flow.form(), headers={"Origin": base})
    assert allowed.status_code == 302 and "/oauth2/authorize/v4?" in allowed.headers["location"]


def test_page_shows_full_redirect_uri_scopes_in_words_and_cimd_host(
    replica: Replica, documents: DocumentServer
) -> None:
    base = replica.base_url
    long_uri = "https://app.example/oauth/callback/very/long/path?tenant=northwind&x=1"
    client = scoped_client(base, redirect_uris=[long_uri], client_name="Long Redirect App")
    flow = authorize(base, client.client_id, jar(), scope=ALL_SCOPES, redirect_uri=long_uri)
    assert flow.page_shown
    shown = re.search(r'id="redirect-uri">([^<]*)<', flow.consent.text)
    assert shown is not None and unescape(shown.group(1)) == long_uri
    name = re.search(r'id="client-name">([^<]*)<', flow.consent.text)
    assert name is not None and unescape(name.group(1)) == "Long Redirect App"
    assert 'id="client-host"' not in flow.consent.text  # a registered (DCR) client has no publisher
    assert "on this computer" not in flow.consent.text
    text = unescape(flow.consent.text)
    for words in (
        "read your spaces, folders, projects, tasks, comments and time logs",
        "change your spaces, folders, projects, tasks, comments and time logs",
        "read the account's audit log",
    ):
        assert words in text, words

    client_id = cimd_client(documents, "shown")
    cimd_flow = authorize(base, client_id, jar(), scope="wsReadOnly")
    assert cimd_flow.page_shown
    host = re.search(r'id="client-host">([^<]*)<', cimd_flow.consent.text)
    assert host is not None and host.group(1) == urlsplit(client_id).hostname == "127.0.0.1"
    shown = re.search(r'id="redirect-uri">([^<]*)<', cimd_flow.consent.text)
    assert shown is not None and unescape(shown.group(1)) == REDIRECT_URI
    assert "on this computer" in cimd_flow.consent.text


# ---- errors at /authorize ----------------------------------------------------------------------------


def bad_requests(base: str, client_id: str, redirect_uri: str) -> list[tuple[str, str]]:
    """/authorize URLs the SDK answers with an error redirect, and the error each carries."""
    _, challenge = pkce()
    common = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st",
    }
    cases = [
        ({**common, "scope": "wsReadWrite dataExportFull"}, "invalid_scope"),
        ({**common, "resource": "https://other.example/mcp"}, "invalid_target"),
        ({key: value for key, value in common.items() if key != "code_challenge"}, "invalid_request"),
    ]
    return [(f"{base}/authorize?" + urlencode(query), error) for query, error in cases]


def test_authorize_error_for_an_unapproved_https_client_is_our_page(replica: Replica) -> None:
    base = replica.base_url
    client = scoped_client(base, redirect_uris=[APP_URI])
    for url, error in bad_requests(base, client.client_id, APP_URI):
        answer = jar().get(url)
        assert_refused_page(answer, 400, error)
        assert "app.example" not in answer.headers.get("location", "")
        assert answer.headers["x-frame-options"] == "DENY"


def test_authorize_error_is_redirected_to_loopback_or_an_approved_client(replica: Replica) -> None:
    base = replica.base_url
    loopback = scoped_client(base)
    for url, error in bad_requests(base, loopback.client_id, REDIRECT_URI):
        answer = jar().get(url)
        assert answer.status_code == 302, answer.text
        assert answer.headers["location"].startswith(REDIRECT_URI + "?")
        result = query_of(answer.headers["location"])
        assert (result["error"], result["state"], result["iss"]) == (error, "st", base), result

    # an https client Ann approved: her browser is sent back to it with the error, another browser is not
    app = scoped_client(base, redirect_uris=[APP_URI])
    agent = jar()
    flow = authorize(base, app.client_id, agent, scope="wsReadOnly", redirect_uri=APP_URI)
    code_of(at_wrike(base, agent, allow(base, flow), ANN), flow, redirect_uri=APP_URI)
    for url, error in bad_requests(base, app.client_id, APP_URI):
        answer = agent.get(url)
        assert answer.status_code == 302 and answer.headers["location"].startswith(APP_URI + "?"), answer.text
        assert query_of(answer.headers["location"])["error"] == error
        assert_refused_page(jar().get(url), 400, error)


# ---- across replicas ---------------------------------------------------------------------------------


def test_consent_and_binding_hold_across_replicas_on_postgresql(
    tmp_path: Path, module_sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    """Two replicas behind one public URL on one PostgreSQL: each hop of a sign-in may land on either."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    a = start_replica(
        tmp_path, module_sandbox.base_url, postgres_url, public_url=public, port=port, name="pa"
    )
    b = start_replica(tmp_path, module_sandbox.base_url, postgres_url, public_url=public, name="pb")

    def on(replica: Replica, url: str) -> str:
        assert url.startswith(public), url
        return replica.base_url + url.removeprefix(public)

    try:
        client = scoped_client(public)
        agent = jar()
        verifier, challenge = pkce()
        query = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "one",
            "scope": "wsReadWrite",
        }
        # /authorize on B, the page on A, Allow on B, Wrike's callback on A
        started = agent.get(f"{b.base_url}/authorize?" + urlencode(query))
        flow = Flow(agent, client.client_id, verifier, "one", agent.get(on(a, started.headers["location"])))
        assert flow.page_shown
        to_wrike = agent.post(f"{b.base_url}/consent", data=flow.form(), headers={"Origin": public})
        assert to_wrike.status_code == 302, to_wrike.text
        signed_in = agent.get(to_wrike.headers["location"] + "&" + urlencode({"user": ANN}))
        answer = agent.get(on(a, signed_in.headers["location"]))
        assert exchange(public, client, code_of(answer, flow), verifier).status_code == 200

        # remembered: /authorize on A, /consent on B skips (A's user cookie, the consent A recorded),
        # Wrike's callback on B
        verifier, challenge = pkce()
        started = agent.get(
            f"{a.base_url}/authorize?" + urlencode({**query, "state": "two", "code_challenge": challenge})
        )
        skipped = Flow(
            agent, client.client_id, verifier, "two", agent.get(on(b, started.headers["location"]))
        )
        assert not skipped.page_shown and skipped.consent.status_code == 302
        signed_in = agent.get(skipped.consent.headers["location"] + "&" + urlencode({"user": ANN}))
        answer = agent.get(on(b, signed_in.headers["location"]))
        second = exchange(public, client, code_of(answer, skipped), verifier)
        assert second.status_code == 200, second.text
    finally:
        a.stop()
        b.stop()
