"""The "Connected apps" page (`/account`) attacked over raw HTTP against a real replica: forged revocations,
a sign-in finished in another browser, forged sessions, one person reaching another's apps.
docs/RELIABILITY.md "Remote mode" has one row per test here (OA100-OA105)."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import anyio
import httpx
import pytest

from tests.remote.conftest import POSTGRES_ADMIN_URL, _postgres_admin
from tests.remote.helpers import Replica, admin, start_replica
from tests.remote.test_attacks import (
    ANN,
    BEN,
    TIMEOUT,
    assert_invalid_token,
    assert_works,
    mcp,
    sign_in,
)
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

SESSION = "wrike-mcp-account"


@pytest.fixture(scope="module")
def replica(workdir: Path, module_sandbox: BackgroundSandbox, database: str) -> Iterator[Replica]:
    running = start_replica(workdir, module_sandbox.base_url, database, name="account")
    try:
        yield running
    finally:
        running.stop()


async def _postgres(statement: str) -> None:
    connection = await _postgres_admin()
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def pair(workdir: Path, module_sandbox: BackgroundSandbox) -> Iterator[tuple[Replica, Replica, str]]:
    """Two replicas on one PostgreSQL database (each its own public URL), and that database's URL."""
    name = f"wrike_mcp_test_{secrets.token_hex(6)}"
    anyio.run(_postgres, f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    started: list[Replica] = []
    try:
        for replica_name in ("pg-a", "pg-b"):
            started.append(start_replica(workdir, module_sandbox.base_url, url, name=replica_name))
        yield started[0], started[1], url
    finally:
        for replica in started:
            replica.stop()
        anyio.run(_postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def browser() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def wrike_answer(base: str, person: str, started_in: httpx.Client) -> str:
    """Start a sign-in to the page in `started_in`; the URL Wrike sends that browser back to, as `person`."""
    start = started_in.get(f"{base}/account/sign-in")
    assert start.status_code == 302, start.text
    wrike = httpx.get(start.headers["location"] + "&" + urlencode({"user": person}), timeout=TIMEOUT)
    assert wrike.status_code == 302, wrike.text
    return wrike.headers["location"]


def signed_in(base: str, person: str) -> httpx.Client:
    """A browser signed in to the Connected apps page as `person`."""
    client = browser()
    back = client.get(wrike_answer(base, person, client))
    assert back.status_code == 302 and back.headers["location"] == f"{base}/account", back.text
    assert SESSION in client.cookies
    return client


def csrf_of(client: httpx.Client, base: str) -> str:
    page = client.get(f"{base}/account")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert found, page.text
    return unescape(found.group(1))


def revoke(
    client: httpx.Client, base: str, client_id: str, csrf: str | None, **headers: str
) -> httpx.Response:
    form = {"client_id": client_id, **({"csrf": csrf} if csrf is not None else {})}
    return client.post(f"{base}/account/revoke", data=form, headers=headers)


def test_account_revoke_needs_the_pages_csrf_token_and_origin(replica: Replica) -> None:
    base = replica.base_url
    ann_app = sign_in(base, user=ANN)
    ann = signed_in(base, ANN)
    token = csrf_of(ann, base)
    client_id = ann_app.client.client_id
    assert revoke(ann, base, client_id, None).status_code == 403
    assert revoke(ann, base, client_id, token[:-2] + "xx").status_code == 403
    assert revoke(ann, base, client_id, token, Origin="http://evil.example").status_code == 403
    assert revoke(browser(), base, client_id, token).status_code == 403  # the token without the session
    ben = signed_in(base, BEN)
    assert revoke(ben, base, client_id, token).status_code == 403  # Ann's token with Ben's session
    assert_works(replica, ann_app.access)  # none of it revoked anything
    done = revoke(ann, base, client_id, token, Origin=base)
    assert done.status_code == 303 and done.headers["location"] == f"{base}/account"
    assert_invalid_token(mcp(replica, ann_app.access))


def test_account_sign_in_finishes_only_in_the_browser_that_started_it(replica: Replica) -> None:
    base = replica.base_url
    attacker = browser()
    # the attacker signs in at Wrike in their own browser and sends the victim the callback URL
    lure = wrike_answer(base, BEN, attacker)
    victim = browser()
    answer = victim.get(lure)
    assert answer.status_code == 403 and "another browser" in answer.text
    assert SESSION not in victim.cookies and "set-cookie" not in {k.lower() for k in answer.headers}
    assert 'id="sign-in"' in victim.get(f"{base}/account").text  # still signed out
    # nor does a state the browser never got: an `acct.` state without its cookie
    forged = victim.get(f"{base}/oauth/wrike/callback", params={"state": "acct.x", "code": "c"})
    assert forged.status_code == 403 and SESSION not in victim.cookies


def test_a_session_revokes_only_its_own_users_apps(replica: Replica) -> None:
    base = replica.base_url
    ben_app = sign_in(base, user=BEN)
    ann = signed_in(base, ANN)
    assert ben_app.client.client_id not in ann.get(f"{base}/account").text  # not on Ann's page
    done = revoke(ann, base, ben_app.client.client_id, csrf_of(ann, base), Origin=base)
    assert done.status_code == 303
    assert_works(replica, ben_app.access)  # Ann's session reaches only Ann's tokens


def test_a_forged_account_session_shows_nothing(replica: Replica) -> None:
    base = replica.base_url
    ann = signed_in(base, ANN)
    real = ann.cookies[SESSION]
    encoded, issued, signature = real.split(".")
    other_user = base64.urlsafe_b64encode(b"IEAAAAAA/KUAAAAAB").decode().rstrip("=")
    for forged in (
        f"{other_user}.{issued}.{signature}",  # another user under Ann's signature
        f"{encoded}.{int(issued) + 1}.{signature}",  # a later time under the same signature
        f"{encoded}.{issued}.{signature[:-2]}AA",
        "x",
    ):
        page = httpx.get(f"{base}/account", cookies={SESSION: forged}, timeout=TIMEOUT)
        assert page.status_code == 200 and 'id="sign-in"' in page.text and "csrf" not in page.text
        refused = httpx.post(
            f"{base}/account/revoke",
            data={"client_id": "x", "csrf": "y"},
            cookies={SESSION: forged},
            timeout=TIMEOUT,
        )
        assert refused.status_code == 403


def shows_apps_to(base: str, session: str) -> bool:
    """Whether /account at `base` shows the apps page for this session cookie (else the signed-out page)."""
    page = httpx.get(f"{base}/account", cookies={SESSION: session}, timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    signed_out = 'id="sign-in"' in page.text and "csrf" not in page.text
    assert signed_out != ('id="who"' in page.text), page.text
    return not signed_out


def test_a_copied_session_cookie_dies_with_sign_out_on_every_replica(
    pair: tuple[Replica, Replica, str],
) -> None:
    """Signing out ends the session server-side: a copy of the cookie taken before (another browser, a stolen
    one) shows the signed-out page and revokes nothing, on both replicas of one database; signing in again
    works at once, and the copy stays dead."""
    a, b, _ = pair
    ann = signed_in(a.base_url, ANN)
    copied = ann.cookies[SESSION]
    token = csrf_of(ann, a.base_url)
    assert shows_apps_to(a.base_url, copied) and shows_apps_to(b.base_url, copied)
    out = ann.post(f"{a.base_url}/account/sign-out", data={"csrf": token}, headers={"Origin": a.base_url})
    assert out.status_code == 303 and SESSION not in ann.cookies  # this browser's cookie deleted, as before
    for replica in (a, b):
        assert not shows_apps_to(replica.base_url, copied), replica.base_url
        refused = httpx.post(
            f"{replica.base_url}/account/revoke",
            data={"client_id": "x", "csrf": token},
            cookies={SESSION: copied},
            timeout=TIMEOUT,
        )
        assert refused.status_code == 403
        again = httpx.post(
            f"{replica.base_url}/account/sign-out",
            data={"csrf": token},
            cookies={SESSION: copied},
            timeout=TIMEOUT,
        )
        assert again.status_code == 403
    again_in = signed_in(b.base_url, ANN)  # the next real sign-in, on the other replica
    fresh = again_in.cookies[SESSION]
    assert shows_apps_to(a.base_url, fresh) and shows_apps_to(b.base_url, fresh)
    assert not shows_apps_to(a.base_url, copied) and not shows_apps_to(b.base_url, copied)
    # and a second sign-out ends that one too
    out = again_in.post(f"{b.base_url}/account/sign-out", data={"csrf": csrf_of(again_in, b.base_url)})
    assert out.status_code == 303
    assert not shows_apps_to(a.base_url, fresh) and not shows_apps_to(b.base_url, fresh)


def test_admin_revoke_user_ends_their_account_sessions(
    pair: tuple[Replica, Replica, str], tmp_path: Path
) -> None:
    """`wrike-mcp admin revoke --user` signs the person out of the Connected apps page too, on every replica;
    another person's session is left alone."""
    a, b, database_url = pair
    sign_in(a.base_url, user=BEN)  # an MCP client first: admin revoke finds people by their stored grant
    ben = signed_in(a.base_url, BEN).cookies[SESSION]
    ann = signed_in(b.base_url, ANN).cookies[SESSION]
    assert shows_apps_to(b.base_url, ben)
    revoked = admin(tmp_path, database_url, "revoke", "--user", BEN)
    assert revoked.returncode == 0, revoked.stderr
    assert not shows_apps_to(a.base_url, ben) and not shows_apps_to(b.base_url, ben)
    assert shows_apps_to(a.base_url, ann) and shows_apps_to(b.base_url, ann)
    back = signed_in(a.base_url, BEN).cookies[SESSION]
    assert shows_apps_to(b.base_url, back)
