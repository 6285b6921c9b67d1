"""Folders and projects: create, update, delete, and a project's status rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend.core import BackendCore, add_then_remove, apply_entries, merged
from wrike_mcp.sandbox.entities import Contact, Folder, Project, Task, Workflow
from wrike_mcp.sandbox.errors import invalid_parameter, parameter_required, wrike_error

# Classic project statuses and the status group each stands for.
CLASSIC_PROJECT_STATUSES = {
    "Green": "Active",
    "Yellow": "Active",
    "Red": "Active",
    "Completed": "Completed",
    "OnHold": "Deferred",
    "Cancelled": "Cancelled",
}


@dataclass
class ProjectChanges:
    """A request's `project` object, its parameters already checked; None or empty: leave as is."""

    owners_add: list[str] = field(default_factory=list)
    owners_remove: list[str] = field(default_factory=list)
    status: Any = None  # as sent: set_project_status judges it
    custom_status_id: Any = None
    dates: dict[str, str | None] = field(default_factory=dict)  # "start_date"/"end_date": ISO date or None


@dataclass
class FolderChanges:
    """A new folder's fields or what PUT /folders/{id} asks to change; None or empty: leave as is."""

    title: str | None = None
    description: str | None = None
    restore: bool = False
    add_parents: list[str] = field(default_factory=list)
    remove_parents: list[str] = field(default_factory=list)
    add_shareds: list[str] = field(default_factory=list)
    remove_shareds: list[str] = field(default_factory=list)
    metadata: list[tuple[str, str | None]] = field(default_factory=list)
    custom_fields: list[tuple[str, str | None]] = field(default_factory=list)
    project: ProjectChanges | None = None
    drop_project: bool = False  # project=null turns a project back into a folder


class FolderBackend(BackendCore):
    """Every change to a folder or project."""

    def writable_parent(self, folder_id: str, name: str) -> Folder:
        """The live folder request parameter `name` names as a parent of something new or moved."""
        if folder_id == ids.RECYCLE_BIN_ID:
            raise invalid_parameter(name, "cannot be the Recycle Bin")
        folder = self.folders.get(folder_id)
        if folder is None:
            raise invalid_parameter(name, f"refers to unknown folder '{folder_id}'")
        if folder.deleted:
            raise invalid_parameter(name, f"refers to folder '{folder_id}', which is in the Recycle Bin")
        return folder

    def placement(
        self, parent_id: str | None, super_task_id: str | None
    ) -> tuple[Folder | None, Task | None]:
        """Where new work goes: `parentId` (a folder or project) or `superTaskId` (a task), exactly one, as
        the blueprint launch and item-type instantiate routes take them."""
        if parent_id is None and super_task_id is None:
            raise parameter_required("parentId")
        if parent_id is not None and super_task_id is not None:
            raise invalid_parameter("superTaskId", "cannot be set together with parentId")
        parent = self.writable_parent(parent_id, "parentId") if parent_id is not None else None
        super_task = None
        if super_task_id is not None:
            super_task = self.tasks.get(super_task_id)
            if super_task is None or super_task.deleted:
                raise invalid_parameter("superTaskId", f"refers to unknown task '{super_task_id}'")
        return parent, super_task

    def modifiable_folder(self, folder_id: str) -> Folder:
        folder = self.folder(folder_id)
        if folder.id in (ids.ROOT_FOLDER_ID, ids.RECYCLE_BIN_ID):
            raise wrike_error("invalid_request", "The root folder and the Recycle Bin cannot be modified")
        return folder

    def create_folder(self, user: Contact, parent: Folder, fields: FolderChanges) -> Folder:
        """Store a new folder (a project when `fields.project` is set), shared with its author."""
        folder = self.new_folder(
            parent,
            fields.title or "",
            description=fields.description or "",
            shared_ids=list(dict.fromkeys([user.id, *fields.add_shareds])),
        )
        apply_entries(folder.metadata, fields.metadata)
        apply_entries(folder.custom_fields, [(k, v) for k, v in fields.custom_fields if v is not None])
        if fields.project is not None:
            project = self.new_project(parent, fields.project.owners_add, user.id)
            self._change_project(project, fields.project)
            folder.project = project
        self.folders[folder.id] = folder
        return folder

    def update_folder(self, folder: Folder, user: Contact, changes: FolderChanges) -> None:
        # Refusals come before changes: a refused request leaves the folder as it was.
        for parent_id in changes.add_parents:
            if parent_id == folder.id or parent_id in self.descendant_folder_ids(folder.id):
                raise invalid_parameter("addParents", f"would put folder '{folder.id}' inside itself")
        if changes.restore and folder.deleted:
            self.restore_folder(folder)
        new_parents = merged(folder.parent_ids, changes.add_parents, changes.remove_parents)
        if not new_parents:
            raise invalid_parameter("removeParents", "would leave the folder without a parent")
        if changes.title is not None:
            folder.title = changes.title
        if changes.description is not None:
            folder.description = changes.description
        folder.parent_ids = new_parents
        folder.shared_ids = add_then_remove(folder.shared_ids, changes.add_shareds, changes.remove_shareds)
        apply_entries(folder.metadata, changes.metadata)
        apply_entries(folder.custom_fields, changes.custom_fields)
        if changes.drop_project:
            folder.project = None
        elif changes.project is not None:
            project = folder.project or self.new_project(folder, [], user.id)
            self._change_project(project, changes.project)
            folder.project = project
        folder.updated = self.now()

    def _change_project(self, project: Project, changes: ProjectChanges) -> None:
        project.owner_ids = add_then_remove(project.owner_ids, changes.owners_add, changes.owners_remove)
        self.set_project_status(project, changes.status, changes.custom_status_id)
        for attribute, value in changes.dates.items():
            setattr(project, attribute, value)
        if project.start_date and project.end_date and project.end_date < project.start_date:
            raise invalid_parameter("project.endDate", "must not be before project.startDate")

    def delete_folder(self, folder: Folder) -> None:
        """Move a folder (with what lives only inside it) to the Recycle Bin; spaces are not deleted here."""
        if folder.id in (ids.ROOT_FOLDER_ID, ids.RECYCLE_BIN_ID) or folder.space is not None:
            raise wrike_error(
                "invalid_request", f"Folder '{folder.id}' cannot be deleted through this method"
            )
        if folder.deleted:
            raise wrike_error("invalid_request", f"Folder '{folder.id}' is already in the Recycle Bin")
        self.recycle_folder(folder)
        folder.updated = self.now()

    # -- projects ---------------------------------------------------------------------------------------
    def project_workflow_for(self, parent: Folder) -> Workflow | None:
        """The project workflow a new project under `parent` follows: its space's default, if it has one."""
        space = self.space_of(parent)
        workflow_id = space.space.default_project_workflow_id if space and space.space else None
        return self.workflows.get(workflow_id) if workflow_id else None

    def new_folder(self, parent: Folder, title: str, *, description: str, shared_ids: list[str]) -> Folder:
        """A folder made now under `parent`, in its workflow; not stored yet (the caller may still refuse)."""
        now = self.now()
        folder_id, legacy_id = self.new_folder_ids(now)
        return Folder(
            id=folder_id,
            legacy_id=legacy_id,
            title=title,
            parent_ids=[parent.id],
            created=now,
            updated=now,
            workflow_id=parent.workflow_id,
            description=description,
            shared_ids=shared_ids,
        )

    def new_project(self, parent: Folder, owner_ids: list[str], author_id: str) -> Project:
        project = Project(owner_ids=owner_ids, author_id=author_id, created_date=self.now())
        workflow = self.project_workflow_for(parent)
        if workflow is not None:
            project.status, project.custom_status_id = None, workflow.default_status("Active").id
        return project

    def set_project_status(self, project: Project, status: str | None, custom_status_id: str | None) -> None:
        """Apply a request's `project.status` / `project.customStatusId`, keeping `completedDate` in step."""
        if custom_status_id is not None:
            custom = self.custom_status(custom_status_id)
            if custom is None or not self.workflows[custom.workflow_id].for_projects:
                raise invalid_parameter(
                    "project.customStatusId",
                    f"'{custom_status_id}' is not a custom status of a project workflow",
                )
            if status not in (None, "Custom"):
                raise invalid_parameter("project.status", "cannot be combined with project.customStatusId")
            self._stamp_completion(project, custom.group)
            project.status, project.custom_status_id = None, custom.id
            return
        if status is None:
            return
        if project.custom_status_id is not None:
            raise invalid_parameter(
                "project.status",
                "is not available for a project in a project workflow: set project.customStatusId",
            )
        if status == "Custom":
            raise parameter_required("project.customStatusId")
        if status not in CLASSIC_PROJECT_STATUSES:
            raise invalid_parameter(
                "project.status", f"must be one of: {', '.join(CLASSIC_PROJECT_STATUSES)}"
            )
        self._stamp_completion(project, CLASSIC_PROJECT_STATUSES[status])
        project.status = status

    def project_group(self, project: Project) -> str:
        if project.custom_status_id is not None:
            custom = self.custom_status(project.custom_status_id)
            return custom.group if custom else "Active"
        return CLASSIC_PROJECT_STATUSES.get(project.status or "", "Active")

    def _stamp_completion(self, project: Project, group: str) -> None:
        if group != "Completed":
            project.completed_date = None
        elif self.project_group(project) != "Completed" or project.completed_date is None:
            project.completed_date = self.now()
