"""Task comments, part of the `tasks` toolset: add one (get_task reads them)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import wrike
from wrike_mcp.tools.inputs import MAX_TEXT, TaskRef, text_to_html
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import CommentItem, comment_items
from wrike_mcp.wrike.models import Comment
from wrike_mcp.wrike.text import strip_invisible


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
            "Wrike accepted the comment but returned nothing: check get_task with include_comments before retrying"
        )
    return (await comment_items(deps, created))[0]
