"""list_attachments, read_attachment and add_attachment against the sandbox, in both protocol eras."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import httpx
from mcp import Client

from tests.tools.tool_helpers import api_calls, call, refused_up_front, requests_log
from wrike_mcp.sandbox.seed_work import LAUNCH_BRIEF, tiny_png
from wrike_mcp.tools.attachments import MAX_READ_BYTES, TEXT_LIMIT, UNTRUSTED


def attachment(state: Any, name: str) -> Any:
    return next(a for a in state.attachments.values() if a.name == name)


def task_of(state: Any, title: str) -> Any:
    return next(t for t in state.tasks.values() if t.title == title and not t.deleted)


async def test_list_attachments_of_a_task_and_a_folder(mcp: Client, sandbox_state: Any) -> None:
    task = task_of(sandbox_state, "Draft launch announcement")
    brief = attachment(sandbox_state, "launch-brief.md")
    listed = await call(mcp, "list_attachments", task="Draft launch announcement")
    assert listed["on"] == {"id": task.id} and listed["total"] == 2
    assert [item["name"] for item in listed["items"]] == ["launch-brief.md", "press-contacts.csv"]
    assert listed["items"][0] == {
        "id": brief.id,
        "name": "launch-brief.md",
        "content_type": "text/markdown",
        "size": len(LAUNCH_BRIEF.encode()),
        "version": 1,
        "author": {"id": brief.author_id, "name": "Chloe Martin"},
        "created": brief.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert "links_expire" not in listed

    on_folder = await call(mcp, "list_attachments", folder="Marketing/Campaigns/Q3 Launch")
    assert on_folder["on"]["name"] == "Marketing/Campaigns/Q3 Launch"
    assert [item["name"] for item in on_folder["items"]] == ["q3-budget.csv"]


async def test_list_attachments_with_links_that_expire_in_a_day(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    listed = await call(mcp, "list_attachments", task="Fix crash on login", with_links=True)
    links = {item["name"]: item["url"] for item in listed["items"]}
    assert set(links) == {"crash-log.txt", "login-screen.png"}
    expires = datetime.strptime(listed["links_expire"], "%Y-%m-%dT%H:%M:%S%z")
    assert abs(expires - (sandbox_state.now() + timedelta(hours=24))) < timedelta(seconds=5)
    fetched = await sandbox_http.get(links["login-screen.png"])  # the link itself is the credential
    assert fetched.status_code == 200 and fetched.content == tiny_png()
    [(method, path, query)] = [
        (e["method"], e["path"], e["query"])
        for e in await requests_log(sandbox_http)
        if "/attachments" in e["path"]
    ][:1]
    assert (method, query) == ("GET", {"withUrls": "true"}) and path.endswith("/attachments")


async def test_read_attachment_of_the_seeded_markdown_and_csv(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    brief = attachment(sandbox_state, "launch-brief.md")
    read = await call(mcp, "read_attachment", attachment=brief.id)
    assert read["text"] == LAUNCH_BRIEF and read["untrusted"] == UNTRUSTED
    assert read["attachment"]["name"] == "launch-brief.md" and "truncated" not in read
    contacts = attachment(sandbox_state, "press-contacts.csv")
    csv = await call(mcp, "read_attachment", attachment=contacts.id)
    assert csv["text"] == contacts.content.decode()
    assert csv["text"].splitlines()[0].count(",") >= 1
    # the metadata, then the bytes: two requests (names come from the contacts list, cached after the first)
    assert [c for c in await api_calls(sandbox_http) if "/attachments/" in c[1]][-2:] == [
        ("GET", f"/api/v4/attachments/{contacts.id}"),
        ("GET", f"/api/v4/attachments/{contacts.id}/download"),
    ]


async def test_read_attachment_refuses_binary_before_downloading(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    png = attachment(sandbox_state, "login-screen.png")
    message = await call_error_after_metadata(mcp, sandbox_http, png.id)
    assert f"attachment {png.id} ('image/png') is not a text file" in message and "with_links=true" in message


async def test_read_attachment_refuses_bytes_that_are_not_utf8_text(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    added = await call(
        mcp,
        "add_attachment",
        task="Book launch venue",
        name="data.txt",
        base64=base64.b64encode(tiny_png()).decode(),
    )
    assert added["content_type"] == "text/plain"
    result = await mcp.call_tool("read_attachment", {"attachment": added["id"]})
    assert result.is_error and f"attachment {added['id']} is not UTF-8 text" in result.content[0].text  # type: ignore[union-attr]


async def test_read_attachment_of_html_gives_plain_text_and_cuts_long_text(
    mcp: Client, sandbox_state: Any
) -> None:
    page = "<html><body><h1>Launch</h1><p>Venue: <b>Hall A</b></p><script>alert(1)</script></body></html>"
    added = await call(mcp, "add_attachment", task="Book launch venue", name="venue.html", text=page)
    read = await call(mcp, "read_attachment", attachment=added["id"])
    assert read["text"] == "Launch\n\nVenue: Hall A" and read["attachment"]["content_type"] == "text/html"
    long = "line of the log\n" * (TEXT_LIMIT // 10)
    big = await call(mcp, "add_attachment", task="Book launch venue", name="long.log.txt", text=long)
    cut = await call(mcp, "read_attachment", attachment=big["id"])
    assert cut["truncated"] is True and cut["text"] == long[:TEXT_LIMIT].rstrip() + "…"


async def test_read_attachment_refuses_a_text_file_over_the_read_cap(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    added = await call(
        mcp, "add_attachment", task="Book launch venue", name="huge.csv", text="a,b\n" * (MAX_READ_BYTES // 3)
    )
    message = await call_error_after_metadata(mcp, sandbox_http, added["id"])
    assert f"over the {MAX_READ_BYTES // 1024} KB read_attachment reads" in message


async def call_error_after_metadata(mcp: Client, sandbox_http: httpx.AsyncClient, attachment_id: str) -> str:
    """read_attachment must fail after reading the metadata and without any download."""
    before = len(await api_calls(sandbox_http))
    result = await mcp.call_tool("read_attachment", {"attachment": attachment_id})
    assert result.is_error
    made = (await api_calls(sandbox_http))[before:]
    assert ("GET", f"/api/v4/attachments/{attachment_id}") in made
    assert not [c for c in made if c[1].endswith("/download")], made
    text: str = result.content[0].text  # type: ignore[union-attr]
    assert len(text.splitlines()[0]) < 200
    return " ".join(text.split())  # a long message goes on on the next line


async def test_add_attachment_with_text_and_read_it_back(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = task_of(sandbox_state, "Book launch venue")
    text = "# Venues\n\n- Hall A, 300 seats\n- Hall B, 120 seats\n"
    before = len(await requests_log(sandbox_http))
    added = await call(mcp, "add_attachment", task="Book launch venue", name="venues.md", text=text)
    stored = sandbox_state.attachments[added["id"]]
    assert (stored.name, stored.task_id, stored.content, stored.content_type) == (
        "venues.md",
        task.id,
        text.encode(),
        "text/markdown",
    )
    assert added["name"] == "venues.md" and added["size"] == len(text.encode())
    assert added["author"]["name"] == "Ann Lee"
    posts = [e for e in (await requests_log(sandbox_http))[before:] if e["method"] == "POST"]
    assert [(e["path"], e["body"], e["status"]) for e in posts] == [
        (f"/api/v4/tasks/{task.id}/attachments", f"<{len(text.encode())} bytes>", 200)
    ]
    read = await call(mcp, "read_attachment", attachment=added["id"])
    assert read["text"] == text


async def test_add_attachment_with_base64_to_a_folder(mcp: Client, sandbox_state: Any) -> None:
    added = await call(
        mcp,
        "add_attachment",
        folder="Engineering",
        name="logo.png",
        base64=base64.b64encode(tiny_png()).decode(),
    )
    stored = sandbox_state.attachments[added["id"]]
    assert stored.content == tiny_png() and stored.content_type == "image/png" and stored.folder_id
    assert added["content_type"] == "image/png"


async def test_add_attachment_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    count = len(sandbox_state.attachments)
    ten_mb = base64.b64encode(b"\0" * (10 * 1024 * 1024)).decode()
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"task": "Book launch venue", "name": "big.bin", "base64": ten_mb},
            "attachments are limited to 5 MB",
        ),
        (
            {"task": "Book launch venue", "name": "big.txt", "text": "x" * (6 * 1024 * 1024)},
            "limited to 5 MB",
        ),
        ({"task": "Book launch venue", "name": "notes/venues.md", "text": "x"}, "bare file name"),
        ({"task": "Book launch venue", "name": "..\\evil.md", "text": "x"}, "bare file name"),
        ({"task": "Book launch venue", "name": "a\r\nX-Injected: 1.md", "text": "x"}, "control"),
        ({"task": "Book launch venue", "name": "résumé.md", "text": "x"}, "ASCII"),
        ({"task": "Book launch venue", "name": "..", "text": "x"}, "file name"),
        (
            {"task": "Book launch venue", "name": "a.md", "text": "x", "base64": "eA=="},
            "exactly one of text or base64",
        ),
        ({"task": "Book launch venue", "name": "a.md"}, "exactly one of text or base64"),
        ({"task": "Book launch venue", "name": "a.bin", "base64": "not base64!"}, "not valid base64"),
        ({"name": "a.md", "text": "x"}, "exactly one of task or folder"),
        (
            {"task": "Book launch venue", "folder": "Engineering", "name": "a.md", "text": "x"},
            "exactly one of task",
        ),
        ({"task": "Book launch venue", "name": "x" * 256 + ".md", "text": "x"}, "name"),
    ]
    for arguments, expected in cases:
        message = await refused_up_front(mcp, sandbox_http, "add_attachment", **arguments)
        assert expected in message, (arguments.get("name"), message)
    assert len(sandbox_state.attachments) == count


async def test_list_attachments_needs_exactly_one_place(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    assert "exactly one of task or folder" in await refused_up_front(mcp, sandbox_http, "list_attachments")
    assert "exactly one of task or folder" in await refused_up_front(
        mcp, sandbox_http, "list_attachments", task="Book launch venue", folder="Engineering"
    )
    assert "attachment" in await refused_up_front(mcp, sandbox_http, "read_attachment", attachment="../tasks")
