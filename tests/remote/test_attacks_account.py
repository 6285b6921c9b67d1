"""The "Connected apps" page (`/account`) attacked over raw HTTP against a real replica: forged revocations,
a sign-in finished in another browser, forged sessions, one person reaching another's apps.
docs/RELIABILITY.md "Remote mode" has one row per test here (OA100 on)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.remote.helpers import Replica, start_replica
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
