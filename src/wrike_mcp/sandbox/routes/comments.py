"""Comments on tasks and folders."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from wrike_mcp.sandbox.api import READ, WRITE, Ctx, route, timestamp
from wrike_mcp.sandbox.entities import Comment
from wrike_mcp.sandbox.errors import invalid_parameter
from wrike_mcp.sandbox.params import TimestampRange, timestamp_range
from wrike_mcp.sandbox.routes.common import plain_text

ACCOUNT_WINDOW = timedelta(days=7)  # /comments looks at most 7 days back


def render_comment(comment: Comment, as_plain_text: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": comment.id,
        "authorId": comment.author_id,
        "text": plain_text(comment.text) if as_plain_text else comment.text,
        "createdDate": timestamp(comment.created),
        "updatedDate": timestamp(comment.updated),
    }
    if comment.task_id:
        body["taskId"] = comment.task_id
    else:
        body["folderId"] = comment.folder_id
    return body


def _ordered(comments: list[Comment]) -> list[Comment]:
    return sorted(comments, key=lambda c: (c.created, c.id))


COMMENT_TYPES = ("Email", "Regular")
# The `type` optional field is accepted and not emitted (the sandbox's comments carry no type).
LIST_PARAMS = ["plainText", "types", "fields"]


def _of_types(ctx: Ctx, comments: list[Comment]) -> list[Comment]:
    """The `types` filter. Every sandbox comment is a Regular one: comments arriving by email are not
    modelled, so `Email` alone matches none."""
    types = ctx.params.enum_list("types", COMMENT_TYPES, comma=True)
    ctx.params.fields(["type"])
    return comments if not types or "Regular" in types else []


@route(
    "GET",
    "/comments",
    "comments",
    READ,
    ["plainText", "types", "updatedDate", "createdDate", "limit", "fields"],
)
def list_comments(ctx: Ctx) -> list[dict[str, Any]]:
    as_plain = bool(ctx.params.boolean("plainText", False))
    limit = ctx.params.integer("limit", minimum=1, maximum=1000) or 1000
    # The 2026 digest: the deprecated `updatedDate` filters by created date too, as `createdDate` does.
    name = "createdDate" if ctx.params.present("createdDate") else "updatedDate"
    window = timestamp_range(ctx.params, name) or TimestampRange()
    now = ctx.state.now()
    end = window.end or now
    start = window.start or end - ACCOUNT_WINDOW
    if end - start > ACCOUNT_WINDOW:
        raise invalid_parameter(name, "range must not be longer than 7 days")
    window = TimestampRange(start, end)
    found = [c for c in ctx.state.comments.values() if window.contains(c.created) and _visible(ctx, c)]
    return [render_comment(c, as_plain) for c in _of_types(ctx, _ordered(found))[:limit]]


def _visible(ctx: Ctx, comment: Comment) -> bool:
    if comment.task_id:
        task = ctx.state.tasks.get(comment.task_id)
        return task is not None and not task.deleted
    folder = ctx.state.folders.get(comment.folder_id or "")
    return folder is not None and not folder.deleted


@route("GET", "/tasks/{taskId}/comments", "comments", READ, LIST_PARAMS)
def list_task_comments(ctx: Ctx) -> list[dict[str, Any]]:
    task = ctx.state.task(ctx.one_id("taskId"))
    as_plain = bool(ctx.params.boolean("plainText", False))
    return [
        render_comment(c, as_plain)
        for c in _of_types(ctx, _ordered([c for c in ctx.state.comments.values() if c.task_id == task.id]))
    ]


@route("GET", "/folders/{folderId}/comments", "comments", READ, LIST_PARAMS)
def list_folder_comments(ctx: Ctx) -> list[dict[str, Any]]:
    folder = ctx.state.folder(ctx.one_id("folderId"))
    as_plain = bool(ctx.params.boolean("plainText", False))
    return [
        render_comment(c, as_plain)
        for c in _of_types(
            ctx, _ordered([c for c in ctx.state.comments.values() if c.folder_id == folder.id])
        )
    ]


@route("GET", "/comments/{commentIds}", "comments", READ, LIST_PARAMS)
def get_comments(ctx: Ctx) -> list[dict[str, Any]]:
    as_plain = bool(ctx.params.boolean("plainText", False))
    found = ctx.entities("commentIds", ctx.state.comments, "Comment")
    return [render_comment(c, as_plain) for c in _of_types(ctx, found)]


def _text(ctx: Ctx) -> str:
    text = ctx.params.string("text", required=True, non_empty=True)
    assert text is not None
    if ctx.params.boolean("plainText", False):
        return html.escape(text)  # plain text is stored as the HTML that shows it literally
    return text


@route("POST", "/tasks/{taskId}/comments", "comments", WRITE, ["text", "plainText"])
def add_task_comment(ctx: Ctx) -> list[dict[str, Any]]:
    task = ctx.state.commentable_task(ctx.one_id("taskId"))
    comment = ctx.state.add_comment(ctx.user, _text(ctx), task_id=task.id)
    return [render_comment(comment, False)]


@route("POST", "/folders/{folderId}/comments", "comments", WRITE, ["text", "plainText"])
def add_folder_comment(ctx: Ctx) -> list[dict[str, Any]]:
    folder = ctx.state.commentable_folder(ctx.one_id("folderId"))
    comment = ctx.state.add_comment(ctx.user, _text(ctx), folder_id=folder.id)
    return [render_comment(comment, False)]


@route("PUT", "/comments/{commentId}", "comments", WRITE, ["text", "plainText"])
def update_comment(ctx: Ctx) -> list[dict[str, Any]]:
    comment = ctx.state.own_comment(ctx.one_id("commentId"), ctx.user)
    ctx.state.edit_comment(comment, ctx.user, _text(ctx))
    return [render_comment(comment, False)]


@route("DELETE", "/comments/{commentId}", "comments", WRITE)
def delete_comment(ctx: Ctx) -> list[str]:
    """Empty `data` [live]; the 2026 description types it `list<string>`, which the control plane's
    /_sandbox/deletes switch fills with the deleted id."""
    comment = ctx.state.own_comment(ctx.one_id("commentId"), ctx.user)
    ctx.state.delete_comment(comment, ctx.user)
    return [comment.id] if ctx.state.deletes_list_ids else []


ROUTES = [
    list_comments,
    list_task_comments,
    list_folder_comments,
    get_comments,
    add_task_comment,
    add_folder_comment,
    update_comment,
    delete_comment,
]
