"""Envelopes, authentication, scopes, parameter validation, error codes and the rate limit."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import BASE_URL, NOAUDIT, READONLY, TOKEN, bearer, folder_id
from wrike_mcp.sandbox import SandboxConfig, SandboxState, create_app
from wrike_mcp.sandbox.errors import ERROR_STATUS


async def test_envelope_and_state_echo(api: httpx.AsyncClient) -> None:
    body = (await api.get("/account", params={"state": "xyz"})).json()
    assert body["kind"] == "accounts"
    assert body["state"] == "xyz"
    assert isinstance(body["data"], list) and len(body["data"]) == 1
    assert body["data"][0]["name"] == "Northwind Labs"


async def test_version_needs_no_token(raw: httpx.AsyncClient) -> None:
    response = await raw.get("/api/v4/version")
    assert response.json() == {"kind": "version", "data": [{"major": 4, "minor": 0}]}


@pytest.mark.parametrize("path", ["/api/v4/nothing", "/api/v4/tasks/IEAAB2CDKQAAAAAB/nothing", "/elsewhere"])
async def test_unknown_route_is_method_not_found(raw: httpx.AsyncClient, path: str) -> None:
    response = await raw.get(path, headers=bearer(TOKEN))
    assert response.status_code == 404
    assert response.json()["error"] == "method_not_found"


async def test_wrong_http_method_is_method_not_found(api: httpx.AsyncClient) -> None:
    response = await api.delete("/account")
    assert (response.status_code, response.json()["error"]) == (404, "method_not_found")


@pytest.mark.parametrize("headers", [{}, bearer("nope"), {"Authorization": "Basic abc"}])
async def test_missing_or_invalid_token_is_401(raw: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await raw.get("/api/v4/contacts", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "not_authorized"


async def test_token_in_query_and_case_insensitive_scheme(raw: httpx.AsyncClient) -> None:
    assert (await raw.get("/api/v4/account", params={"access_token": TOKEN})).status_code == 200
    assert (await raw.get("/api/v4/account", headers={"Authorization": f"BEARER {TOKEN}"})).status_code == 200


async def test_readonly_token_cannot_write(raw: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    response = await raw.post(
        f"/api/v4/folders/{folder}/tasks", data={"title": "x"}, headers=bearer(READONLY)
    )
    assert response.status_code == 403
    body = response.json()
    assert body["error"] == "not_allowed"
    assert "Default" in body["errorDescription"] and "wsReadWrite" in body["errorDescription"]
    assert (await raw.get("/api/v4/tasks", headers=bearer(READONLY))).status_code == 200


async def test_audit_log_needs_its_scope(raw: httpx.AsyncClient) -> None:
    response = await raw.get("/api/v4/audit_log", headers=bearer(NOAUDIT))
    assert response.status_code == 403
    assert "amReadOnlyAuditLog" in response.json()["errorDescription"]
    assert (await raw.get("/api/v4/tasks", headers=bearer(NOAUDIT))).status_code == 200


async def test_invalid_parameter_names_the_parameter(api: httpx.AsyncClient) -> None:
    for params, name in [
        ({"status": "Done"}, "status"),
        ({"importance": "Urgent"}, "importance"),
        ({"dueDate": '{"start": "next week"}'}, "dueDate.start"),
        ({"createdDate": '{"start": "2024-01-01"}'}, "createdDate.start"),
        ({"fields": '["nope"]'}, "fields"),
        ({"pageSize": "0"}, "pageSize"),
        ({"responsible": '["KUAAAAAB"]'}, "responsible"),
        ({"fields": "[broken"}, "fields"),
    ]:
        response = await api.get("/tasks", params=params)
        assert response.status_code == 400, params
        body = response.json()
        assert body["error"] == "invalid_parameter"
        assert f"'{name}'" in body["errorDescription"], (params, body)


async def test_required_parameter(api: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    response = await api.post(f"/folders/{folder}/tasks", data={"description": "no title"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "parameter_required",
        "errorDescription": "Parameter 'title' is required",
    }


async def test_malformed_json_body_is_invalid_request(api: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    response = await api.post(
        f"/folders/{folder}/tasks", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_multi_id_limit(api: httpx.AsyncClient, state: SandboxState) -> None:
    ids = list(state.tasks)[:101]
    assert (await api.get(f"/tasks/{','.join(ids[:100])}")).status_code == 200
    response = await api.get(f"/tasks/{','.join(ids)}")
    assert response.status_code == 400
    assert "up to 100" in response.json()["errorDescription"]


async def test_missing_entity_is_resource_not_found(api: httpx.AsyncClient) -> None:
    for path in ["/tasks/IEAAB2CDKQZZZZZZ", "/folders/IEAAB2CDI4ZZZZZZ", "/contacts/KUAZZZZZ", "/spaces/X"]:
        response = await api.get(path)
        assert (response.status_code, response.json()["error"]) == (404, "resource_not_found"), path


async def test_forbidden_is_access_forbidden(raw: httpx.AsyncClient, state: SandboxState) -> None:
    other = next(c for c in state.contacts.values() if c.first_name == "Ben")
    response = await raw.put(f"/api/v4/contacts/{other.id}", data={"metadata": "[]"}, headers=bearer(TOKEN))
    assert (response.status_code, response.json()["error"]) == (403, "access_forbidden")


async def test_handler_crash_is_server_error_without_traceback(
    app: Starlette, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(_: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.state.sandbox, "default_workflow", explode)
    monkeypatch.setattr(app.state.sandbox, "custom_status", explode)
    response = await api.get("/tasks", params={"customStatuses": '["x"]'})
    assert response.status_code == 500
    assert response.json() == {"error": "server_error", "errorDescription": "Internal server error"}
    assert "secret" not in response.text


def test_every_code_has_its_documented_status() -> None:
    assert ERROR_STATUS["rate_limit_exceeded"] == 429 and ERROR_STATUS["not_allowed"] == 403


async def test_rate_limit_per_token_with_retry_after() -> None:
    app = create_app(SandboxConfig(rate_limit=3))
    state: SandboxState = app.state.sandbox
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        for _ in range(3):
            assert (await client.get("/api/v4/version", headers=bearer(TOKEN))).status_code == 200
        refused = await client.get("/api/v4/account", headers=bearer(TOKEN))
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limit_exceeded"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # Another token has its own window.
        assert (await client.get("/api/v4/account", headers=bearer(READONLY))).status_code == 200
        state.clock_offset += 61  # the window slides
        assert (await client.get("/api/v4/account", headers=bearer(TOKEN))).status_code == 200


async def test_form_and_json_bodies_are_equivalent(api: httpx.AsyncClient, state: SandboxState) -> None:
    folder = folder_id(state, "Operations/Office Move")
    ann = "KUAAAAAB"
    form = await api.post(
        f"/folders/{folder}/tasks",
        data={"title": "Form", "responsibles": f'["{ann}"]', "dates": '{"due": "2030-01-02"}'},
    )
    as_json = await api.post(
        f"/folders/{folder}/tasks",
        json={"title": "Json", "responsibles": [ann], "dates": {"due": "2030-01-02"}},
    )
    for response in (form, as_json):
        task = response.json()["data"][0]
        assert task["responsibleIds"] == [ann]
        assert task["dates"] == {"type": "Milestone", "due": "2030-01-02T17:00:00"}
