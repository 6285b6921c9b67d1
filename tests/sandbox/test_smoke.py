from __future__ import annotations

import httpx


async def test_me(api: httpx.AsyncClient) -> None:
    response = await api.get("/contacts", params={"me": "true"})
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "contacts"
    assert [c["firstName"] + " " + c["lastName"] for c in body["data"]] == ["Ann Lee"]
