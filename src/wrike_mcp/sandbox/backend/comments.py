"""Comments and timelogs: what people add to tasks and folders, and who may change it."""

from __future__ import annotations

from datetime import date, timedelta

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend.core import BackendCore
from wrike_mcp.sandbox.entities import Comment, Contact, Folder, Task, Timelog, TimelogCategory
from wrike_mcp.sandbox.errors import invalid_parameter, wrike_error

COMMENT_EDIT_WINDOW = timedelta(minutes=5)  # Wrike lets a comment be edited for 5 minutes after creation


class CommentBackend(BackendCore):
    """Comments and timelogs."""

    def _audit_comment(self, operation: str, user: Contact, comment: Comment) -> None:
        """Log a task comment's change (Wrike's list has no operation for folder comments).

        Assumption: the event's object is the comment (objectType `Comment`), named after its task, whose id
        goes in `details`; ver154 lists the operations and object types but not which goes with which.
        """
        task = self.tasks.get(comment.task_id or "")
        if task is not None:
            self.record_audit(operation, user, "Comment", task.title, comment.id, {"taskId": task.id})

    def commentable_task(self, task_id: str) -> Task:
        task = self.task(task_id)
        if task.deleted:
            raise wrike_error("invalid_request", f"Task '{task.id}' is in the Recycle Bin")
        return task

    def commentable_folder(self, folder_id: str) -> Folder:
        folder = self.folder(folder_id)
        if folder.id in (ids.ROOT_FOLDER_ID, ids.RECYCLE_BIN_ID):
            raise wrike_error("invalid_request", "The root folder and the Recycle Bin cannot have comments")
        return folder

    def add_comment(
        self, user: Contact, text: str, *, task_id: str | None = None, folder_id: str | None = None
    ) -> Comment:
        now = self.now()
        comment = Comment(
            id=self.new_id(ids.COMMENT),
            legacy_id=self.new_legacy_id("ApiV2Comment"),
            author_id=user.id,
            text=text,
            created=now,
            updated=now,
            task_id=task_id,
            folder_id=folder_id,
        )
        self.comments[comment.id] = comment
        self._audit_comment("TaskCommentChanged", user, comment)
        return comment

    def own_comment(self, comment_id: str, user: Contact) -> Comment:
        """A comment `user` may change: their own, or any for an admin."""
        comment = self.comments.get(comment_id)
        if comment is None:
            raise wrike_error("resource_not_found", f"Comment '{comment_id}' not found")
        if comment.author_id != user.id and not user.admin:
            raise wrike_error("access_forbidden", "Only the author can change this comment")
        return comment

    def edit_comment(self, comment: Comment, user: Contact, text: str) -> None:
        if self.now() - comment.created > COMMENT_EDIT_WINDOW:
            raise wrike_error("not_allowed", "A comment can be edited only within 5 minutes of its creation")
        comment.text = text
        comment.updated = self.now()
        self._audit_comment("TaskCommentChanged", user, comment)

    def delete_comment(self, comment: Comment, user: Contact) -> None:
        del self.comments[comment.id]
        self._audit_comment("TaskCommentDeleted", user, comment)

    # -- timelogs -------------------------------------------------------------------------------------------
    def timelog_task(self, task_id: str) -> Task:
        task = self.task(task_id)
        if task.deleted:
            raise wrike_error("invalid_request", f"Task '{task.id}' is in the Recycle Bin")
        return task

    def add_timelog(
        self,
        user: Contact,
        task: Task,
        hours: float,
        tracked_date: date,
        comment: str,
        category: TimelogCategory | None = None,
    ) -> Timelog:
        now = self.now()
        timelog = Timelog(
            id=self.new_id(ids.TIMELOG),
            legacy_id=self.new_legacy_id("ApiV2Timelog"),
            task_id=task.id,
            user_id=user.id,
            hours=hours,
            tracked_date=tracked_date,
            comment=comment,
            created=now,
            updated=now,
            category_id=category.id if category else None,
            billing_type=task.billing_type,
        )
        self.timelogs[timelog.id] = timelog
        return timelog

    def timelog_category(self, category_id: str) -> TimelogCategory:
        """A category a time log may name; 400 for an unknown one (a hidden one is taken [assumption])."""
        category = self.timelog_categories.get(category_id)
        if category is None:
            raise invalid_parameter("categoryId", f"refers to unknown timelog category '{category_id}'")
        return category

    def own_timelog(self, timelog_id: str, user: Contact) -> Timelog:
        """A timelog `user` may change: their own, or any for an admin."""
        timelog = self.timelogs.get(timelog_id)
        if timelog is None:
            raise wrike_error("resource_not_found", f"Timelog '{timelog_id}' not found")
        if timelog.user_id != user.id and not user.admin:
            raise wrike_error("access_forbidden", "Only the user who tracked this time can change it")
        return timelog

    def update_timelog(
        self,
        timelog: Timelog,
        hours: float | None,
        tracked_date: date | None,
        comment: str | None,
        category: TimelogCategory | None = None,
    ) -> None:
        if hours is not None:
            timelog.hours = hours
        if tracked_date is not None:
            timelog.tracked_date = tracked_date
        if comment is not None:
            timelog.comment = comment
        if category is not None:
            timelog.category_id = category.id
        timelog.updated = self.now()

    def delete_timelog(self, timelog: Timelog) -> None:
        del self.timelogs[timelog.id]
