"""Constants and lookups shared by the sandbox tests (a uniquely named module, unlike conftest)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette

from wrike_mcp.sandbox import SandboxState
from wrike_mcp.sandbox.entities import RequestForm

BASE_URL = "http://127.0.0.1:8100"
TOKEN = "wrike-sandbox-token"
READONLY = "wrike-sandbox-readonly"
NOAUDIT = "wrike-sandbox-noaudit"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_client(app: Starlette, token: str = TOKEN) -> httpx.AsyncClient:
    """A client of the app's API (/api/v4) with a token, over ASGI."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=f"{BASE_URL}/api/v4", headers=bearer(token)
    )


def folder_id(state: SandboxState, path: str) -> str:
    """A folder's id from its path of titles below the root ("Marketing/Campaigns/Q3 Launch")."""
    current = "IEAAB2CDI7777777"
    for title in path.split("/"):
        current = next(
            f.id
            for f in state.folders.values()
            if current in f.parent_ids and f.title == title and not f.deleted
        )
    return current


def contact_id(state: SandboxState, name: str) -> str:
    return next(c.id for c in state.contacts.values() if c.name == name)


def task_id(state: SandboxState, title: str) -> str:
    return next(t.id for t in state.tasks.values() if t.title == title and not t.deleted)


def item_type_id(state: SandboxState, title: str, space: str | None = None) -> str:
    """A custom item type's id by its title, in a space (a path of titles) when two spaces share the title."""
    return next(
        t.id
        for t in state.item_types.values()
        if t.title == title and (space is None or t.space_id == folder_id(state, space))
    )


def request_form(state: SandboxState, title: str) -> RequestForm:
    return next(f for f in state.request_forms.values() if f.title == title)


# ---- OAuth against the demo app ----

CLIENT = {"client_id": "sandbox-client", "client_secret": "sandbox-secret"}
REDIRECT = "http://127.0.0.1:8765/callback"


async def authorize(raw: httpx.AsyncClient, **extra: str) -> str:
    params = {
        "client_id": "sandbox-client",
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "state": "s1",
        **extra,
    }
    response = await raw.get("/oauth2/authorize/v4", params=params)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT and query["state"] == ["s1"]
    return query["code"][0]


async def exchange(raw: httpx.AsyncClient, code: str, **extra: str) -> httpx.Response:
    form = {**CLIENT, "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    return await raw.post("/oauth2/token", data=form)
