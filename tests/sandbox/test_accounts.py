"""A person in two Wrike accounts: the account picked at sign-in (`?account=`) is the token's, for good."""

from __future__ import annotations

import httpx

from tests.sandbox.sandbox_helpers import CLIENT, REDIRECT, authorize, bearer, exchange
from wrike_mcp.sandbox.ids import ACCOUNT_ID, SECOND_ACCOUNT_ID


async def accounts_seen(raw: httpx.AsyncClient, token: str) -> tuple[str, str]:
    """(the `/account` id, the accountId of my contact's profile) for a token."""
    account = (await raw.get("/api/v4/account", headers=bearer(token))).json()["data"][0]["id"]
    me = await raw.get("/api/v4/contacts", params={"me": "true"}, headers=bearer(token))
    profiles = me.json()["data"][0]["profiles"]
    assert len(profiles) == 1
    return account, profiles[0]["accountId"]


async def test_the_picked_account_is_the_tokens_and_survives_refresh(raw: httpx.AsyncClient) -> None:
    default = (await exchange(raw, await authorize(raw, user="diego.alvarez@northwind.example"))).json()
    assert await accounts_seen(raw, default["access_token"]) == (ACCOUNT_ID, ACCOUNT_ID)
    code = await authorize(raw, user="diego.alvarez@northwind.example", account=SECOND_ACCOUNT_ID)
    second = (await exchange(raw, code)).json()
    assert await accounts_seen(raw, second["access_token"]) == (SECOND_ACCOUNT_ID, SECOND_ACCOUNT_ID)
    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    rotated = (await raw.post("/oauth2/token", data=refresh)).json()
    assert await accounts_seen(raw, rotated["access_token"]) == (SECOND_ACCOUNT_ID, SECOND_ACCOUNT_ID)
    assert await accounts_seen(raw, default["access_token"]) == (ACCOUNT_ID, ACCOUNT_ID)


async def test_an_unknown_account_is_refused(raw: httpx.AsyncClient) -> None:
    params = {
        "client_id": "sandbox-client",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "account": "IEAAZZZZ",
    }
    response = await raw.get("/oauth2/authorize/v4", params=params)
    assert response.status_code == 400 and "No sandbox account" in response.text
