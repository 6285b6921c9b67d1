"""Task comments, part of the `tasks` toolset: add, edit or delete one (get_task and get_folder read them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, ElicitationResult, Resolve
from pydantic import BaseModel, Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    MAX_REF,
    MAX_TEXT,
    TaskRef,
    text_to_html,
)
from wrike_mcp.tools.output import COMMENT_LIMIT, Model, Ref, names_of, plain, show_title
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import CommentItem, comment_items, task_titles
from wrike_mcp.tools.writes import confirmed_without_asking, not_confirmed, read_to_confirm, write_on_task
from wrike_mcp.wrike.errors import NotAllowed
from wrike_mcp.wrike.models import Comment
from wrike_mcp.wrike.text import strip_invisible

# Wrike: "A comment is available for updates only during the 5 minutes after creation" (2020 reference).
EDIT_WINDOW = timedelta(minutes=5)
EDIT_WINDOW_HINT = "Wrike allows edits only in a comment's first 5 minutes: post a new one with add_comment"

CommentRef = Annotated[
    str,
    Field(min_length=1, max_length=MAX_REF, description="comment id (get_task or get_folder show them)"),
]
CommentText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="plain text")]


def comment_id(comment: str) -> str:
    """One comment id as given; ToolError for anything that would make another path (a comma list, a slash)."""
    ident = comment.strip()
    if not re.fullmatch(r"[A-Za-z0-9_\-:.=]+", ident):
        raise ToolError("comment must be one comment id, as get_task or get_folder show it")
    return ident


def check_text(text: str) -> None:
    if not strip_invisible(text).strip():
        raise ToolError("the comment text is empty: give some text")


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Comment on a task", kind="write")
async def add_comment(
    ctx: Context[Any],
    task: TaskRef,
    text: CommentText,
) -> CommentItem:
    """Add a plain-text comment to a task (line breaks kept) and return it."""
    deps = wrike(ctx)
    check_text(text)
    _, created = await write_on_task(
        deps,
        task,
        lambda task_id: deps.client.post(
            f"/tasks/{task_id}/comments", {"text": text_to_html(text)}, model=Comment
        ),
    )
    if not created:
        raise ToolError(
            "Wrike accepted the comment but returned nothing: check get_task with include_comments before retrying"
        )
    return (await comment_items(deps, created))[0]


# ---- update_comment ------------------------------------------------------------------------------------------


async def read_comment(deps: WrikeContext, comment: str) -> Comment:
    found = await deps.client.get(f"/comments/{comment_id(comment)}", model=Comment)
    if not found:
        raise ToolError("comment not found: give a comment id from get_task or get_folder")
    return found[0]


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Edit a comment", kind="write", idempotent=True)
async def update_comment(ctx: Context[Any], comment: CommentRef, text: CommentText) -> CommentItem:
    """Replace a comment's text; Wrike allows it only in the comment's first 5 minutes (else add_comment)."""
    deps = wrike(ctx)
    comment_id(comment)
    check_text(text)
    current = await read_comment(deps, comment)
    posted = current.created_date
    if posted is not None and datetime.now(UTC) - posted > EDIT_WINDOW:
        raise ToolError(f"comment {current.id} was posted {posted:%Y-%m-%d %H:%M} UTC; {EDIT_WINDOW_HINT}")
    try:
        updated = await deps.client.put(
            f"/comments/{current.id}", {"text": text_to_html(text)}, model=Comment
        )
    except NotAllowed as exc:  # the window closed between the read and the write, or clocks differ
        raise ToolError(f"Wrike refused the edit ({exc.status} {exc.code}); {EDIT_WINDOW_HINT}") from None
    if not updated:
        raise ToolError(
            "Wrike accepted the edit but returned nothing: check the comments with get_task before retrying"
        )
    return (await comment_items(deps, updated))[0]


# ---- delete_comment ------------------------------------------------------------------------------------------


class DeleteCommentConfirmation(BaseModel):
    confirm: bool = Field(title="Delete the comment", description="Yes: delete it for good")


class DeletedComment(Model):
    deleted: bool = Field(description="true: the comment is gone (Wrike keeps no Recycle Bin for comments)")
    comment: Ref
    outcome: str = Field(description="what happened, in the server's words")


async def confirm_comment_delete(
    comment: str, ctx: Context
) -> Elicit[DeleteCommentConfirmation] | DeleteCommentConfirmation:
    """Ask the user before deleting; without elicitation, go on only when the server has --allow-delete."""
    comment_id(comment)  # a bad id is refused before anyone is asked
    if confirmed_without_asking(ctx, "delete_comment"):
        return DeleteCommentConfirmation(confirm=True)
    deps = wrike(ctx)

    async def read() -> tuple[Comment, str | None, dict[str, str]]:
        found = await read_comment(deps, comment)
        author = (await names_of(deps, [found.author_id])).get(found.author_id) if found.author_id else None
        return found, author, await task_titles(deps, [found.task_id]) if found.task_id else {}

    found, author, titles = await read_to_confirm("delete_comment", "comment", read)
    text = (plain(found.text, COMMENT_LIMIT)[0] or "")[:100]
    on = f" on “{show_title(titles[found.task_id])[:100]}”" if found.task_id in titles else ""
    return Elicit(
        f"Delete the Wrike comment by {(author or 'someone')[:60]}{on}: “{text}”? It cannot be restored.",
        DeleteCommentConfirmation,
    )


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Delete a comment", kind="destructive", idempotent=True)
async def delete_comment(
    ctx: Context[Any],
    comment: CommentRef,
    confirmation: Annotated[ElicitationResult[DeleteCommentConfirmation], Resolve(confirm_comment_delete)],
) -> DeletedComment:
    """Delete a comment for good, after the user confirms (update_comment fixes a fresh one)."""
    deps = wrike(ctx)
    ref = Ref(id=comment_id(comment))
    if (outcome := not_confirmed(confirmation, "not deleted")) is not None:
        return DeletedComment(deleted=False, comment=ref, outcome=outcome)
    await deps.client.delete(f"/comments/{ref.id}")
    return DeletedComment(deleted=True, comment=ref, outcome="deleted")
