"""Task comments, part of the `tasks` toolset: list a task's comments, add one."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import wrike
from wrike_mcp.tools.inputs import (
    MAX_CURSOR,
    MAX_TEXT,
    TaskRef,
    page_slice,
    query_key,
    read_offset_cursor,
    text_to_html,
)
from wrike_mcp.tools.output import Model, Ref
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import CommentItem, comment_items, recent_comments
from wrike_mcp.wrike.models import Comment
from wrike_mcp.wrike.text import strip_invisible


class CommentList(Model):
    task: Ref
    items: list[CommentItem]
    total: int
    next_cursor: str | None = None


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List task comments")
async def list_comments(
    ctx: Context[Any],
    task: TaskRef,
    limit: Annotated[int, Field(ge=1, le=100, description="comments per call")] = 20,
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from next_cursor")] = None,
) -> CommentList:
    """A task's comments, newest first: author, time and plain text."""
    deps = wrike(ctx)
    key = query_key(task=task.strip())
    offset = read_offset_cursor(cursor, key)
    task_id = await deps.resolver.task_id(task)
    comments = await recent_comments(deps, task_id)
    chunk, next_cursor = page_slice(comments, offset, limit, key)
    return CommentList(
        task=Ref(id=task_id),
        items=await comment_items(deps, chunk),
        total=len(comments),
        next_cursor=next_cursor,
    )


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Comment on a task", kind="write")
async def add_comment(
    ctx: Context[Any],
    task: TaskRef,
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="plain text")],
) -> CommentItem:
    """Add a plain-text comment to a task (line breaks kept) and return it."""
    deps = wrike(ctx)
    if not strip_invisible(text).strip():
        raise ToolError("the comment text is empty: give some text")
    task_id = await deps.resolver.task_id(task)
    created = await deps.client.post(
        f"/tasks/{task_id}/comments", {"text": text_to_html(text)}, model=Comment
    )
    if not created:
        raise ToolError(
            "Wrike accepted the comment but returned nothing: check list_comments before retrying"
        )
    return (await comment_items(deps, created))[0]
