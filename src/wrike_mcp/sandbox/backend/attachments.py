"""Attachments: upload limits, download links."""

from __future__ import annotations

import secrets

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend.core import BackendCore
from wrike_mcp.sandbox.entities import Attachment, Contact
from wrike_mcp.sandbox.errors import invalid_parameter, not_found, wrike_error

DOWNLOAD_LINK_TTL = 24 * 3600  # an attachment URL is valid for 24 hours (2026 digest, withUrls)


class AttachmentBackend(BackendCore):
    """Files on tasks and folders."""

    def attachment(self, attachment_id: str) -> Attachment:
        found = self.attachments.get(attachment_id)
        if found is None:
            raise not_found("Attachment", attachment_id)
        return found

    def attachments_of(self, *, task_id: str | None = None, folder_id: str | None = None) -> list[Attachment]:
        """A task's or folder's attachments, oldest first."""
        found = [
            a
            for a in self.attachments.values()
            if (task_id is not None and a.task_id == task_id)
            or (folder_id is not None and a.folder_id == folder_id)
        ]
        return sorted(found, key=lambda a: (a.created, a.id))

    def add_attachment(
        self,
        user: Contact,
        name: str,
        content: bytes,
        content_type: str,
        *,
        task_id: str | None = None,
        folder_id: str | None = None,
    ) -> Attachment:
        if len(content) > self.config.max_attachment_bytes:
            raise wrike_error(
                "invalid_request",
                f"The file is {len(content)} bytes; attachments may be at most "
                f"{self.config.max_attachment_bytes} bytes",
            )
        if not name.strip():
            raise invalid_parameter(
                "X-File-Name", "cannot be empty: send the file name in the X-File-Name header"
            )
        attachment = Attachment(
            id=self.new_id(ids.ATTACHMENT),
            legacy_id=self.new_legacy_id("ApiV2Attachment"),
            author_id=user.id,
            name=name,
            content=content,
            content_type=content_type,
            created=self.now(),
            task_id=task_id,
            folder_id=folder_id,
        )
        self.attachments[attachment.id] = attachment
        owner = self.tasks[task_id] if task_id is not None else self.folders[folder_id or ""]
        self.record_audit(
            "AttachUploaded",
            user,
            "Attachment",
            name,
            attachment.id,
            {"taskId" if task_id else "folderId": owner.id},
        )
        return attachment

    def delete_attachment(self, attachment: Attachment, user: Contact) -> None:
        del self.attachments[attachment.id]
        self.record_audit("AttachDeleted", user, "Attachment", attachment.name, attachment.id)

    def attachment_count(self, *, task_id: str | None = None, folder_id: str | None = None) -> int:
        return len(self.attachments_of(task_id=task_id, folder_id=folder_id))

    def download_link(self, attachment: Attachment) -> str:
        """A new token for a download link that needs no access token and works for 24 hours."""
        token = secrets.token_urlsafe(24)
        self.download_links[token] = (attachment.id, self.clock() + DOWNLOAD_LINK_TTL)
        return token

    def linked_attachment(self, token: str) -> Attachment | None:
        """The attachment a download link stands for, if the link is known, unexpired and the file still there."""
        attachment_id, expires_at = self.download_links.get(token, ("", 0.0))
        if self.clock() >= expires_at:
            return None
        return self.attachments.get(attachment_id)
