"""Attachments: lists, reads, downloads and download links, uploads with X-File-Name, deletes."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import READONLY, api_client, contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxConfig, SandboxState, create_app
from wrike_mcp.sandbox.seed_work import LAUNCH_BRIEF, tiny_png


async def test_a_task_s_seeded_attachments_and_its_attachment_count(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    task = task_id(state, "Draft launch announcement")
    listed = (await api.get(f"/tasks/{task}/attachments")).json()
    assert listed["kind"] == "attachments"
    brief, contacts = listed["data"]
    assert brief["name"] == "launch-brief.md" and contacts["name"] == "press-contacts.csv"
    assert set(brief) == {
        "id",
        "authorId",
        "name",
        "createdDate",
        "version",
        "type",
        "contentType",
        "size",
        "taskId",
    }
    assert (brief["type"], brief["contentType"], brief["version"]) == ("Wrike", "text/markdown", 1)
    assert brief["size"] == len(LAUNCH_BRIEF.encode()) and brief["taskId"] == task
    assert brief["authorId"] == contact_id(state, "Chloe Martin")
    counted = (await api.get(f"/tasks/{task}", params={"fields": '["attachmentCount"]'})).json()["data"][0]
    assert counted["hasAttachments"] is True and counted["attachmentCount"] == 2
    bare = task_id(state, "Book launch venue")
    assert (await api.get(f"/tasks/{bare}")).json()["data"][0]["hasAttachments"] is False
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    on_folder = (await api.get(f"/folders/{q3}/attachments")).json()["data"]
    assert [(a["name"], a["folderId"]) for a in on_folder] == [("q3-budget.csv", q3)]
    folder = (await api.get(f"/folders/{q3}", params={"fields": '["attachmentCount"]'})).json()["data"][0]
    assert folder["hasAttachments"] is True and folder["attachmentCount"] == 1


async def test_download_returns_the_bytes_and_links_work_for_24_hours(
    raw: httpx.AsyncClient, api: httpx.AsyncClient, state: SandboxState
) -> None:
    png = next(a for a in state.attachments.values() if a.name == "login-screen.png")
    download = await api.get(f"/attachments/{png.id}/download")
    assert download.status_code == 200 and download.content == tiny_png()
    assert download.headers["content-type"] == "image/png"
    assert download.content.startswith(b"\x89PNG\r\n\x1a\n")
    url = (await api.get(f"/attachments/{png.id}/url")).json()
    assert url["kind"] == "url" and set(url["data"][0]) == {"url"}
    link = url["data"][0]["url"]
    by_id = (await api.get(f"/attachments/{png.id}", params={"withUrls": "true"})).json()["data"][0]
    assert by_id["url"].startswith("http://127.0.0.1:8100/files/") and by_id["url"] != link
    assert "url" not in (await api.get(f"/attachments/{png.id}")).json()["data"][0]
    fetched = await raw.get(link)  # no token: the link itself is the credential
    assert fetched.status_code == 200 and fetched.content == tiny_png()
    await raw.post("/_sandbox/clock", json={"advance": 24 * 3600})
    expired = await raw.get(link)
    assert expired.status_code == 404 and expired.json()["error"] == "resource_not_found"


async def test_upload_takes_the_whole_file_name_header_and_the_content_type(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    task = task_id(state, "Book launch venue")
    text = "venue,capacity\nHall A,300\n"
    response = await api.post(
        f"/tasks/{task}/attachments",
        content=text.encode(),
        headers={"X-File-Name": "notes/venues.csv", "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    created = response.json()["data"][0]
    # [live] the whole header value is the name, path and all.
    assert created["name"] == "notes/venues.csv" and created["contentType"] == "text/csv"
    assert created["size"] == len(text) and created["authorId"] == contact_id(state, "Ann Lee")
    assert (await api.get(f"/attachments/{created['id']}/download")).text == text
    listed = (await api.get(f"/tasks/{task}/attachments")).json()["data"]
    assert [a["id"] for a in listed] == [created["id"]]
    # Sent as octet-stream, as Wrike's examples do, the type follows the extension.
    octet = await api.post(
        f"/folders/{folder_id(state, 'Engineering')}/attachments",
        content=tiny_png(),
        headers={"X-File-Name": "logo.png", "Content-Type": "application/octet-stream"},
    )
    assert octet.json()["data"][0]["contentType"] == "image/png"
    assert octet.json()["data"][0]["folderId"] == folder_id(state, "Engineering")
    logged = state.requests[-1]
    assert logged["body"] == f"<{len(tiny_png())} bytes>"
    assert state.audit[-1].operation == "AttachUploaded" and state.audit[-1].object_name == "logo.png"


async def test_delete_answers_empty_data_and_the_attachment_is_gone(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    crash = task_id(state, "Fix crash on login")
    log = next(a.id for a in state.attachments.values() if a.name == "crash-log.txt")
    deleted = await api.delete(f"/attachments/{log}")
    assert deleted.json() == {"kind": "attachments", "data": []}
    gone = await api.get(f"/attachments/{log}")
    assert gone.status_code == 404 and gone.json()["error"] == "resource_not_found"
    assert [a["name"] for a in (await api.get(f"/tasks/{crash}/attachments")).json()["data"]] == [
        "login-screen.png"
    ]


async def test_errors_unknown_ids_missing_name_too_large_and_scopes(
    app: Starlette, api: httpx.AsyncClient, state: SandboxState
) -> None:
    for url in (
        "/tasks/IEAAB2CDKQZZZZZZ/attachments",
        "/folders/IEAAB2CDI4ZZZZZZ/attachments",
        "/attachments/IEAAB2CDIYZZZZZZ",
        "/attachments/IEAAB2CDIYZZZZZZ/download",
        "/attachments/IEAAB2CDIYZZZZZZ/url",
    ):
        response = await api.get(url)
        assert (response.status_code, response.json()["error"]) == (404, "resource_not_found"), url
    missing = await api.delete("/attachments/IEAAB2CDIYZZZZZZ")
    assert missing.status_code == 404
    task = task_id(state, "Book launch venue")
    count = len(state.attachments)
    unnamed = await api.post(
        f"/tasks/{task}/attachments", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert unnamed.status_code == 400 and "X-File-Name" in unnamed.json()["errorDescription"]
    bad_window = await api.get(f"/tasks/{task}/attachments", params={"createdDate": '{"start":"yesterday"}'})
    assert bad_window.status_code == 400 and bad_window.json()["error"] == "invalid_parameter"
    assert len(state.attachments) == count
    async with api_client(app, READONLY) as readonly:
        assert (await readonly.get(f"/tasks/{task}/attachments")).status_code == 200
        denied = await readonly.post(
            f"/tasks/{task}/attachments", content=b"x", headers={"X-File-Name": "a.txt"}
        )
        assert denied.status_code == 403 and denied.json()["error"] == "not_allowed"
    small = create_app(SandboxConfig(max_attachment_bytes=1000))
    async with api_client(small) as client:
        sandbox: SandboxState = small.state.sandbox
        target = task_id(sandbox, "Book launch venue")
        big = await client.post(
            f"/tasks/{target}/attachments", content=b"x" * 1001, headers={"X-File-Name": "big.txt"}
        )
        assert big.status_code == 400 and big.json()["error"] == "invalid_request"
        assert "at most 1000 bytes" in big.json()["errorDescription"]
        fits = await client.post(
            f"/tasks/{target}/attachments", content=b"x" * 1000, headers={"X-File-Name": "ok.txt"}
        )
        assert fits.status_code == 200 and fits.json()["data"][0]["contentType"] == "text/plain"
