"""Attachments of tasks and folders: list, read, download, download links, upload, delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wrike_mcp.sandbox.api import READ, WRITE, Ctx, FileBody, file_response, route, timestamp
from wrike_mcp.sandbox.entities import Attachment
from wrike_mcp.sandbox.params import timestamp_range
from wrike_mcp.sandbox.state import SandboxState

LIST_PARAMS = ["versions", "createdDate", "withUrls"]
# Content types by extension, for uploads sent as application/octet-stream (as Wrike's examples do); a
# fixed table rather than the system's, so the sandbox answers the same everywhere [assumption].
CONTENT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".zip": "application/zip",
}
OCTET_STREAM = "application/octet-stream"


def render_attachment(ctx: Ctx, attachment: Attachment, with_url: bool) -> dict[str, Any]:
    """The attachment as in the live sample: id, authorId, name, createdDate, version, type, contentType,
    size and taskId or folderId; `url` only when asked for."""
    body: dict[str, Any] = {
        "id": attachment.id,
        "authorId": attachment.author_id,
        "name": attachment.name,
        "createdDate": timestamp(attachment.created),
        "version": attachment.version,
        "type": "Wrike",
        "contentType": attachment.content_type,
        "size": len(attachment.content),
    }
    if attachment.task_id is not None:
        body["taskId"] = attachment.task_id
    else:
        body["folderId"] = attachment.folder_id
    if with_url:
        body["url"] = download_url(ctx, attachment)
    return body


def download_url(ctx: Ctx, attachment: Attachment) -> str:
    token = ctx.state.download_link(attachment)
    return f"{ctx.base_url}/files/{token}/{quote(attachment.name, safe='')}"


def _listed(ctx: Ctx, attachments: list[Attachment]) -> list[dict[str, Any]]:
    ctx.params.boolean("versions")  # the sandbox keeps no earlier versions: there is nothing more to add
    window = timestamp_range(ctx.params, "createdDate")
    with_urls = bool(ctx.params.boolean("withUrls", False))
    return [
        render_attachment(ctx, a, with_urls)
        for a in attachments
        if window is None or window.contains(a.created)
    ]


@route("GET", "/tasks/{taskId}/attachments", "attachments", READ, LIST_PARAMS)
def list_task_attachments(ctx: Ctx) -> list[dict[str, Any]]:
    task = ctx.state.task(ctx.one_id("taskId"))
    return _listed(ctx, ctx.state.attachments_of(task_id=task.id))


@route("GET", "/folders/{folderId}/attachments", "attachments", READ, LIST_PARAMS)
def list_folder_attachments(ctx: Ctx) -> list[dict[str, Any]]:
    folder = ctx.state.folder(ctx.one_id("folderId"))
    return _listed(ctx, ctx.state.attachments_of(folder_id=folder.id))


@route("GET", "/attachments/{attachmentIds}", "attachments", READ, ["versions", "withUrls"])
def get_attachments(ctx: Ctx) -> list[dict[str, Any]]:
    attachments = ctx.entities("attachmentIds", ctx.state.attachments, "Attachment")
    ctx.params.boolean("versions")
    with_urls = bool(ctx.params.boolean("withUrls", False))
    return [render_attachment(ctx, a, with_urls) for a in attachments]


@route("GET", "/attachments/{attachmentId}/download", "attachments", READ)
def download_attachment(ctx: Ctx) -> FileBody:
    attachment = ctx.state.attachment(ctx.one_id("attachmentId"))
    return FileBody(attachment.content, attachment.content_type, attachment.name)


@route("GET", "/attachments/{attachmentId}/url", "url", READ)
def attachment_url(ctx: Ctx) -> list[dict[str, Any]]:
    attachment = ctx.state.attachment(ctx.one_id("attachmentId"))
    return [{"url": download_url(ctx, attachment)}]


def _upload(ctx: Ctx, *, task_id: str | None = None, folder_id: str | None = None) -> list[dict[str, Any]]:
    # [live] Wrike takes the whole X-File-Name value as the name, path separators and all.
    name = ctx.headers.get("x-file-name", "")
    declared = ctx.headers.get("content-type", "").split(";")[0].strip().lower()
    content_type = declared if declared and declared != OCTET_STREAM else _guessed_type(name)
    attachment = ctx.state.add_attachment(
        ctx.user, name, ctx.body, content_type, task_id=task_id, folder_id=folder_id
    )
    return [render_attachment(ctx, attachment, with_url=False)]


def _guessed_type(name: str) -> str:
    _, dot, extension = name.rpartition(".")
    return CONTENT_TYPES.get(f".{extension.lower()}", OCTET_STREAM) if dot else OCTET_STREAM


@route("POST", "/tasks/{taskId}/attachments", "attachments", WRITE, raw_body=True)
def upload_task_attachment(ctx: Ctx) -> list[dict[str, Any]]:
    task = ctx.state.task(ctx.one_id("taskId"))
    return _upload(ctx, task_id=task.id)


@route("POST", "/folders/{folderId}/attachments", "attachments", WRITE, raw_body=True)
def upload_folder_attachment(ctx: Ctx) -> list[dict[str, Any]]:
    folder = ctx.state.folder(ctx.one_id("folderId"))
    return _upload(ctx, folder_id=folder.id)


@route("DELETE", "/attachments/{attachmentId}", "attachments", WRITE)
def delete_attachment(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.state.delete_attachment(ctx.state.attachment(ctx.one_id("attachmentId")), ctx.user)
    return []  # [live] a deleted attachment is not echoed


async def linked_file(request: Request) -> Response:
    """A download link handed out by withUrls or /url: no token, 24 hours (outside /api/v4)."""
    state: SandboxState = request.app.state.sandbox
    attachment = state.linked_attachment(request.path_params["token"])
    if attachment is None:
        return JSONResponse(
            {"error": "resource_not_found", "errorDescription": "The link is unknown or has expired"},
            status_code=404,
        )
    return file_response(FileBody(attachment.content, attachment.content_type, attachment.name))


ROUTES = [
    list_task_attachments,
    list_folder_attachments,
    get_attachments,
    download_attachment,
    attachment_url,
    upload_task_attachment,
    upload_folder_attachment,
    delete_attachment,
]
