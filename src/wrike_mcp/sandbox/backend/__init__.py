"""The emulated Wrike account and every change to it, moto-style: routes parse and render, the backend decides.

A `WrikeBackend` holds the account's records (entities.py) and is the only place they change: create, update
and delete of tasks, folders, comments, timelogs, dependencies and attachments, blueprint launches, work from
custom item types and request forms, the Recycle Bin, the audit log. It raises Wrike's errors (errors.py) for
what breaks a rule of the account; what a request got wrong about its parameters is found before, where the
parameters are parsed. It knows nothing of HTTP, tokens or seed data.
"""

from __future__ import annotations

from wrike_mcp.sandbox.backend.attachments import AttachmentBackend
from wrike_mcp.sandbox.backend.comments import CommentBackend
from wrike_mcp.sandbox.backend.dependencies import DependencyBackend
from wrike_mcp.sandbox.backend.folders import FolderBackend, FolderChanges, ProjectChanges
from wrike_mcp.sandbox.backend.intake import IntakeBackend
from wrike_mcp.sandbox.backend.jobs import JobBackend
from wrike_mcp.sandbox.backend.tasks import TaskBackend, TaskChanges, TaskDraft

__all__ = ["FolderChanges", "ProjectChanges", "TaskChanges", "TaskDraft", "WrikeBackend"]


class WrikeBackend(
    IntakeBackend,
    TaskBackend,
    FolderBackend,
    CommentBackend,
    DependencyBackend,
    AttachmentBackend,
    JobBackend,
):
    """One Wrike account in memory and every change to it, one part per module of this package."""
