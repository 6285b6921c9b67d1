"""Work intake: creating work from a custom item type, and request forms (answers checked, a submission
creating a task or a project, prefilled form links).

Sources, per docs/FIDELITY.md (rows "item types" and "request forms"): the intake reference (its §1.4:
instantiate takes `parentId` or `superTaskId` and `title`, answers `[{id, relatedType}]`; §2.4-2.5:
`prefill_url` answers `[{url}]` and creates nothing, `submit` answers `[{formId, projectId, taskId}]`).
What no source shows is the sandbox's own [assumption]: the REST shape of a form's pages and questions
(after what Wrike's MCP server shows), the errors of a bad answer, where a submission lands (the form's
folder) and that the answers are written into the created item's description.
"""

from __future__ import annotations

import hashlib
import html
import json
from datetime import date, datetime, time
from typing import Any

from wrike_mcp.sandbox.backend.folders import FolderBackend
from wrike_mcp.sandbox.backend.tasks import TaskBackend
from wrike_mcp.sandbox.entities import (
    Contact,
    CustomItemType,
    Folder,
    FormPage,
    FormQuestion,
    RequestForm,
    Task,
    TaskDates,
)
from wrike_mcp.sandbox.errors import invalid_parameter, not_found, wrike_error

MAX_TEXT_ANSWER = 4000  # [assumption] Wrike's limit on a text answer is undocumented
PREFILL_URL = "https://www.wrike.com/workspace.htm#/forms?formid={number}&prefill={token}"

Answer = str | float | list[str]


class IntakeBackend(TaskBackend, FolderBackend):
    """Custom item types and request forms."""

    # -- custom item types ------------------------------------------------------------------------------
    def item_type(self, type_id: str, *, with_deleted: bool = False) -> CustomItemType:
        found = self.item_types.get(type_id)
        if found is None or (found.deleted and not with_deleted):
            raise not_found("Custom item type", type_id)
        return found

    def instantiate(
        self,
        user: Contact,
        item_type: CustomItemType,
        title: str,
        parent: Folder | None,
        super_task: Task | None,
    ) -> Task | Folder:
        """Create a task or a project of this type (synchronous, unlike a blueprint launch)."""
        if item_type.related_type == "Project":
            if parent is None:
                raise wrike_error(
                    "invalid_request",
                    f"Custom item type '{item_type.id}' creates projects: give parentId, not superTaskId",
                )
            return self._new_project(user, parent, title, item_type.id, owner_ids=[user.id])
        return self._new_task(user, title, parent, super_task, item_type.id, item_type.workflow_id)

    def _new_task(
        self,
        user: Contact,
        title: str,
        parent: Folder | None,
        super_task: Task | None,
        type_id: str | None,
        workflow_id: str | None,
    ) -> Task:
        if workflow_id is not None:
            workflow = self.workflows[workflow_id]
        elif parent is not None:
            workflow = self.workflows[parent.workflow_id]
        else:
            assert super_task is not None
            workflow = self.task_workflow(super_task)
        task = self.new_task(
            title,
            user.id,
            workflow.default_status("Active").id,
            parent_ids=[parent.id] if parent is not None else [],
            super_task_ids=[super_task.id] if super_task is not None else [],
        )
        task.custom_item_type_id = type_id
        task.shared_ids = [user.id]
        self.tasks[task.id] = task
        self.record_task_audit("TaskCreated", user, task)
        return task

    def _new_project(
        self, user: Contact, parent: Folder, title: str, type_id: str | None, *, owner_ids: list[str]
    ) -> Folder:
        folder = self.new_folder(parent, title, description="", shared_ids=[user.id])
        folder.project = self.new_project(parent, list(dict.fromkeys(owner_ids)), user.id)
        folder.custom_item_type_id = type_id
        self.folders[folder.id] = folder
        return folder

    # -- request forms ----------------------------------------------------------------------------------
    def request_form(self, form_id: str) -> RequestForm:
        found = self.request_forms.get(form_id)
        if found is None:
            raise not_found("Request form", form_id)
        return found

    def form_answers(self, form: RequestForm, entries: list[dict[str, Any]]) -> dict[str, Answer]:
        """`formFields` (`[{id, value}]`) checked against the form's questions: question id → answer."""
        questions = {question.id: question for question in form.questions}
        answers: dict[str, Answer] = {}
        for entry in entries:
            ident = entry.get("id")
            question = questions.get(ident) if isinstance(ident, str) else None
            if question is None:
                raise invalid_parameter("formFields", f"refers to unknown form field '{entry.get('id')}'")
            if question.id in answers:
                raise invalid_parameter("formFields", f"answers form field '{question.id}' twice")
            answers[question.id] = self._answer(question, entry.get("value"))
        return answers

    def _answer(self, question: FormQuestion, value: Any) -> Answer:
        where = f"'{question.id}' ({question.title})"
        kind = question.type
        if kind == "Attachment":
            raise invalid_parameter("formFields", f"field {where} takes files, which the API cannot attach")
        if kind in ("Text", "LongText"):
            if not isinstance(value, str) or not value.strip():
                raise invalid_parameter("formFields", f"value of {where} must be non-empty text")
            if len(value) > MAX_TEXT_ANSWER:
                raise invalid_parameter(
                    "formFields", f"value of {where} exceeds {MAX_TEXT_ANSWER} characters"
                )
            return value
        if kind == "Number":
            try:
                number = float(value) if not isinstance(value, bool) else float("nan")
            except (TypeError, ValueError):
                number = float("nan")
            if number != number or number in (float("inf"), float("-inf")):
                raise invalid_parameter("formFields", f"value of {where} must be a number")
            return number
        if kind == "Date":
            try:
                if isinstance(value, str) and len(value) == 10:
                    return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
            raise invalid_parameter("formFields", f"value of {where} must be a date in the format yyyy-MM-dd")
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            raise invalid_parameter("formFields", f"value of {where} must be a non-empty list of strings")
        if kind == "SingleChoice" and len(values) != 1:
            raise invalid_parameter("formFields", f"field {where} takes one option")
        if kind in ("SingleChoice", "MultipleChoice"):
            for option in values:
                if option not in question.options:
                    allowed = ", ".join(question.options)
                    raise invalid_parameter("formFields", f"value of {where} must be one of: {allowed}")
            return values[0] if kind == "SingleChoice" else list(dict.fromkeys(values))
        for contact_id in values:  # Contacts
            contact = self.contacts.get(contact_id)
            if contact is None or contact.deleted or contact.type != "Person":
                raise invalid_parameter("formFields", f"value of {where}: '{contact_id}' is no active user")
        return list(dict.fromkeys(values))

    @staticmethod
    def shown_pages(form: RequestForm, answers: dict[str, Answer]) -> list[FormPage]:
        """The pages a person filling in these answers sees: conditional ones only when their condition holds."""

        def shown(page: FormPage) -> bool:
            if page.visibility != "ON_CONDITION":
                return True
            given = answers.get(page.condition_question_id or "")
            chosen = given if isinstance(given, list) else [given]
            return any(option in page.condition_values for option in chosen)

        return [page for page in form.pages if shown(page)]

    def submit_form(self, user: Contact, form: RequestForm, answers: dict[str, Answer]) -> Task | Folder:
        """Create the form's task or project from complete answers, in the form's folder."""
        shown = self.shown_pages(form, answers)
        asked = {question.id for page in shown for question in page.questions}
        for question in form.questions:
            if question.id in answers and question.id not in asked:
                raise invalid_parameter(
                    "formFields", f"answers form field '{question.id}', which these answers do not show"
                )
            if question.mandatory and question.id in asked and question.id not in answers:
                if question.type == "Attachment":
                    raise wrike_error(
                        "invalid_request",
                        f"Mandatory field '{question.id}' ({question.title}) takes files: submit the form in Wrike",
                    )
                raise invalid_parameter(
                    "formFields", f"misses mandatory field '{question.id}' ({question.title})"
                )
        parent = self.folders.get(form.target_folder_id)
        if parent is None or parent.deleted:
            raise wrike_error(
                "invalid_request", f"The folder request form '{form.id}' files into is not available"
            )
        mapped = self._mapped(form, answers)
        title = str(mapped.get("title") or f"{form.title}: {user.name}")[:250]
        if form.creates == "Project":
            owners = [*form.assignee_ids, *mapped.get("owners", [])] or [user.id]
            folder = self._new_project(user, parent, title, form.custom_item_type_id, owner_ids=owners)
            assert folder.project is not None
            folder.description = self._description(form, answers)
            folder.custom_fields = mapped.get("custom_fields", {})
            if "startDate" in mapped:
                folder.project.start_date = mapped["startDate"]
            if "dueDate" in mapped:
                folder.project.end_date = mapped["dueDate"]
            return folder
        item_type = self.item_types.get(form.custom_item_type_id or "")
        task = self._new_task(
            user, title, parent, None, form.custom_item_type_id, item_type.workflow_id if item_type else None
        )
        task.description = self._description(form, answers)
        task.responsible_ids = list(dict.fromkeys([*form.assignee_ids, *mapped.get("responsibles", [])]))
        task.shared_ids = list(dict.fromkeys([user.id, *task.responsible_ids]))
        task.custom_fields = mapped.get("custom_fields", {})
        if "dueDate" in mapped:
            due = datetime.combine(date.fromisoformat(mapped["dueDate"]), time(17))
            task.dates = TaskDates(type="Milestone", due=due)
        return task

    def _mapped(self, form: RequestForm, answers: dict[str, Answer]) -> dict[str, Any]:
        """What the answers set besides the description, by each question's `maps_to`."""
        mapped: dict[str, Any] = {"custom_fields": {}}
        for question in form.questions:
            if question.id not in answers or question.maps_to is None:
                continue
            value = answers[question.id]
            target = question.maps_to
            if target in self.custom_fields:
                text = ",".join(value) if isinstance(value, list) else value
                mapped["custom_fields"][target] = f"{text:g}" if isinstance(text, float) else text
            elif target in ("responsibles", "owners"):
                mapped[target] = [*mapped.get(target, []), *value] if isinstance(value, list) else [value]
            else:
                mapped[target] = value
        return mapped

    def _description(self, form: RequestForm, answers: dict[str, Answer]) -> str:
        """The answers as the created item's description, one question per line [assumption]."""
        lines = []
        for question in form.questions:
            if question.id not in answers:
                continue
            value = answers[question.id]
            if isinstance(value, list):
                names = [self.contacts[v].name for v in value] if question.type == "Contacts" else value
                shown = ", ".join(names)
            else:
                shown = f"{value:g}" if isinstance(value, float) else value
            lines.append(f"<b>{html.escape(question.title)}</b>: {html.escape(shown)}")
        return "<br>".join(lines)

    def prefill_url(self, form: RequestForm, answers: dict[str, Answer]) -> str:
        """A link to the form with these answers filled in; nothing is created until a person submits it."""
        canonical = json.dumps(answers, sort_keys=True)
        token = hashlib.sha256(f"{form.id}:{canonical}".encode()).hexdigest()[:20]
        self.prefills[token] = {"formId": form.id, "answers": answers}
        return PREFILL_URL.format(number=form.legacy_id, token=token)

    def form_legacy_ids(self) -> dict[str, str]:
        """Legacy number → id of every form (`GET /ids?type=ApiV2RequestForm`)."""
        return {str(form.legacy_id): form.id for form in self.request_forms.values()}
