"""Request forms, part of the `intake` toolset: list them, read a form's questions, submit answers, or hand a
person a prefilled link to submit in Wrike.

Answers are checked against the form's questions before anything is sent (required ones present, options
among the choices, dates and people resolved, pages that a choice opens); `submit` is sent once and never
repeated. Wrike's REST shape of a form's questions is unpublished: the sandbox's, after Wrike's MCP server,
is an assumption (docs/FIDELITY.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    DATE_PHRASE,
    FORM_PHRASE,
    MAX_REF,
    MAX_TEXT,
    PEOPLE_PHRASE,
    SPACE_PHRASE,
    Name,
    parse_user_day,
)
from wrike_mcp.tools.output import Model, Ref, plain, show_title
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.writes import CreatedItem, read_back_created
from wrike_mcp.wrike.errors import (
    AmbiguousReference,
    InvalidParameter,
    InvalidRequest,
    ReferenceNotFound,
    ResourceNotFound,
)
from wrike_mcp.wrike.models import FormPage, FormQuestion, FormSubmission, IdMapping, PrefillUrl, RequestForm
from wrike_mcp.wrike.text import fold, one_line, quoted, strip_invisible

PAGE_SIZE = 100  # Wrike's most forms per page
LIST_DESCRIPTION_LIMIT = 200
DESCRIPTION_LIMIT = 1000
MAX_ANSWERS = 100
FORM_LINK = re.compile(r"formid=(\d{1,12})(?!\d)", re.ASCII)  # a form link: `…#/forms?formid=960014`
LEGACY_NUMBER = re.compile(r"\d{1,12}", re.ASCII)
# A question's type as a person says it, and how to answer it.
ANSWER_KINDS = {
    "Text": "text",
    "LongText": "long text",
    "Number": "number",
    "SingleChoice": "one of the options",
    "MultipleChoice": "a list of options",
    "Date": f"date: {DATE_PHRASE}",
    "Contacts": f"a list of {PEOPLE_PHRASE}",
    "Attachment": "a file: attach it in Wrike",
}

FormRef = Annotated[str, Field(min_length=1, max_length=MAX_REF, description=FORM_PHRASE)]
# A number is strict: true/false would otherwise pass as 1/0 (no question takes a yes/no).
AnswerValue = Annotated[str, Field(max_length=MAX_TEXT)] | Annotated[float, Field(strict=True)] | list[Name]
ANSWERS_HELP = "question (text or id) → answer, as get_request_form says"
Answers = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=MAX_REF)], AnswerValue],
    Field(max_length=MAX_ANSWERS, description=ANSWERS_HELP),
]


async def read_forms(deps: WrikeContext, space_id: str | None = None) -> list[RequestForm]:
    """The account's (or a space's) forms with their questions, every page of the list."""
    path = f"/spaces/{space_id}/request_forms" if space_id else "/request_forms"
    forms: list[RequestForm] = []
    async for page in deps.client.iter_pages(path, page_size=PAGE_SIZE, model=RequestForm):
        forms.extend(page.items)
    return forms


async def find_form(deps: WrikeContext, ref: str) -> RequestForm:
    """A form by id, title (case-insensitive) or the number of a form link (`#/forms?formid=…`)."""
    ref = ref.strip()
    forms = await read_forms(deps)
    for form in forms:
        if form.id == ref:
            return form
    link = FORM_LINK.search(ref)
    legacy = link.group(1) if link else ref if LEGACY_NUMBER.fullmatch(ref) else None
    if legacy is not None:
        try:
            found = await deps.client.get(
                "/ids", {"type": "ApiV2RequestForm", "ids": [legacy]}, model=IdMapping
            )
        except (InvalidParameter, InvalidRequest, ResourceNotFound):
            found = []
        form_id = found[0].id if found else None
        for form in forms:
            if form.id == form_id:
                return form
        raise ReferenceNotFound("request form", ref, "no form you can see has this link")
    named = [form for form in forms if fold(form.title) == fold(ref)]
    if len(named) == 1:
        return named[0]
    if named:
        raise AmbiguousReference(
            "request form", ref, [(f.id, f"{f.title} (space {f.space_id})") for f in named]
        )
    titles = ", ".join(show_title(f.title) for f in forms[:20])
    raise ReferenceNotFound(
        "request form", ref, f"forms: {titles}" if titles else "there are no request forms"
    )


async def space_names(deps: WrikeContext) -> dict[str, str]:
    tree = await deps.resolver.folder_tree()
    return {ident: show_title(tree.nodes[ident].title) for ident in tree.space_ids}


def questions_of(form: RequestForm) -> list[FormQuestion]:
    return [question for page in form.pages for question in page.questions]


def condition_text(form: RequestForm, page: FormPage) -> str | None:
    """When a conditional page is asked, in words: `Severity is Blocker`."""
    if page.visibility != "ON_CONDITION" or page.condition is None:
        return None
    asked = next((q for q in questions_of(form) if q.id == page.condition.field_id), None)
    subject = show_title(asked.title) if asked else page.condition.field_id or "an earlier answer"
    return f"{subject} is {' or '.join(page.condition.values)}"


def shown_pages(form: RequestForm, values: Mapping[str, Any]) -> list[FormPage]:
    """The pages these answers show: a conditional page only when its choice question has one of its values."""

    def shown(page: FormPage) -> bool:
        if page.visibility != "ON_CONDITION" or page.condition is None:
            return True
        given = values.get(page.condition.field_id or "")
        chosen = given if isinstance(given, list) else [given]
        return any(option in page.condition.values for option in chosen)

    return [page for page in form.pages if shown(page)]


# ---- list_request_forms, get_request_form ---------------------------------------------------------------


class FormItem(Model):
    id: str
    title: str
    space: Ref | None = None
    description: str | None = None
    questions: int = 0


class FormList(Model):
    items: list[FormItem]


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List request forms")
async def list_request_forms(
    ctx: Context[Any],
    space: Annotated[str | None, Field(min_length=1, max_length=MAX_REF, description=SPACE_PHRASE)] = None,
) -> FormList:
    """Request forms for asking a team for work; get_request_form shows one's questions."""
    deps = wrike(ctx)
    space_id = await deps.resolver.space_id(space) if space is not None else None
    forms = await read_forms(deps, space_id)
    spaces = await space_names(deps)
    return FormList(
        items=[
            FormItem(
                id=form.id,
                title=show_title(form.title),
                space=Ref(id=form.space_id, name=spaces.get(form.space_id)) if form.space_id else None,
                description=plain(form.description, LIST_DESCRIPTION_LIMIT)[0],
                questions=len(questions_of(form)),
            )
            for form in forms
        ]
    )


class QuestionItem(Model):
    id: str
    question: str
    answer: str = Field(description="what to answer")
    required: bool = False
    options: list[str] = Field(default_factory=list)
    help: str | None = None
    asked_when: str | None = None


class FormDetail(Model):
    id: str
    title: str
    space: Ref | None = None
    description: str | None = None
    questions: list[QuestionItem]
    note: str | None = None


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Get a request form")
async def get_request_form(ctx: Context[Any], form: FormRef) -> FormDetail:
    """A request form's questions (what to answer, options, required, when asked), for submit_request_form
    or prefill_request_form."""
    deps = wrike(ctx)
    found = await find_form(deps, form)
    spaces = await space_names(deps)
    items = [
        QuestionItem(
            id=question.id,
            question=show_title(question.title),
            answer=ANSWER_KINDS.get(question.type or "", "text"),
            required=question.mandatory,
            options=[show_title(option) for option in question.options],
            help=plain(question.helper_text, LIST_DESCRIPTION_LIMIT)[0],
            asked_when=condition_text(found, page),
        )
        for page in found.pages
        for question in page.questions
    ]
    files = [q for q in questions_of(found) if q.mandatory and q.type == "Attachment"]
    note = (
        f"{show_title(files[0].title)} needs a file: prefill_request_form, then the person submits in Wrike"
        if files
        else None
    )
    return FormDetail(
        id=found.id,
        title=show_title(found.title),
        space=Ref(id=found.space_id, name=spaces.get(found.space_id)) if found.space_id else None,
        description=plain(found.description, DESCRIPTION_LIMIT)[0],
        questions=items,
        note=note,
    )


# ---- answers ---------------------------------------------------------------------------------------------


def _option(question: FormQuestion, value: str) -> str:
    for option in question.options:
        if fold(option) == fold(value):
            return option
    raise ToolError(
        f"{quoted(value, 40)} is not an option of {quoted(question.title, 60)}: "
        f"choose from {', '.join(question.options)}"
    )


async def answer_value(deps: WrikeContext, question: FormQuestion, value: Any) -> Any:
    """One answer as the form takes it: text, a number, option names as the form spells them, an ISO date,
    contact ids."""
    name = quoted(question.title, 60)
    kind = question.type or "Text"
    if kind == "Attachment":
        raise ToolError(
            f"{name} takes a file, which cannot be sent from here: leave it out, attach it in Wrike"
        )
    if kind in ("Text", "LongText"):
        if isinstance(value, list):
            raise ToolError(f"{name} takes text, not a list")
        text = strip_invisible(f"{value:g}" if isinstance(value, float) else str(value)).strip()
        if not text:
            raise ToolError(f"the answer to {name} is empty: give text or leave the question out")
        return text if kind == "LongText" else one_line(text)
    if kind == "Number":
        try:
            number = (
                float(value)
                if isinstance(value, str | float | int) and not isinstance(value, bool)
                else math.nan
            )
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ToolError(f"{name} takes a number, e.g. 2500")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "Date":
        if not isinstance(value, str):
            raise ToolError(f"{name} takes a date: {DATE_PHRASE}")
        day = await parse_user_day(deps, value, f"the answer to {name}")
        assert day is not None
        return day.isoformat()
    if kind in ("SingleChoice", "MultipleChoice"):
        given = (
            value
            if isinstance(value, list)
            else str(value).split(",")
            if kind == "MultipleChoice"
            else [value]
        )
        chosen = [_option(question, str(item).strip()) for item in given if str(item).strip()]
        if not chosen:
            raise ToolError(f"the answer to {name} is empty: choose from {', '.join(question.options)}")
        if kind == "SingleChoice":
            if len(chosen) > 1:
                raise ToolError(f"{name} takes one option: choose one of {', '.join(question.options)}")
            return chosen[0]
        return list(dict.fromkeys(chosen))
    # Contacts
    people = value if isinstance(value, list) else [value]
    if not people or not all(isinstance(p, str) for p in people):
        raise ToolError(f"{name} takes people: {PEOPLE_PHRASE}")
    return await deps.resolver.person_ids(people)


async def form_fields(
    deps: WrikeContext, form: RequestForm, answers: Mapping[str, Any], *, complete: bool
) -> tuple[list[dict[str, Any]], list[FormQuestion]]:
    """`formFields` for the answers, and the required questions the answers leave open. Refused before any
    write: a key that names no question, a question answered twice or asked only on a page these answers do
    not open; with `complete`, any required question left open."""
    questions = questions_of(form)
    values: dict[str, Any] = {}
    for key, value in answers.items():
        question = next((q for q in questions if q.id == key.strip()), None) or next(
            (q for q in questions if fold(q.title) == fold(key)), None
        )
        if question is None:
            raise ToolError(
                f"{quoted(key, 40)} is not a question of {quoted(form.title, 40)}: "
                "answer by question text or id (get_request_form lists them)"
            )
        if question.id in values:
            raise ToolError(f"{quoted(question.title, 60)} is answered twice: give it once")
        values[question.id] = await answer_value(deps, question, value)
    shown = shown_pages(form, values)
    asked = {q.id for page in shown for q in page.questions}
    for page in form.pages:
        for question in page.questions:
            if question.id in values and question.id not in asked:
                raise ToolError(
                    f"{quoted(question.title, 60)} is asked only when {condition_text(form, page)}: leave it out"
                )
    missing = [q for page in shown for q in page.questions if q.mandatory and q.id not in values]
    if complete:
        open_ = [show_title(q.title) for q in missing if q.type != "Attachment"]
        if open_:
            raise ToolError(f"required questions unanswered: {', '.join(open_)}; add them to answers")
        if missing:
            raise ToolError(
                f"{quoted(missing[0].title, 60)} needs a file, which only Wrike's form page takes: "
                "use prefill_request_form and attach it there"
            )
    return [{"id": ident, "value": value} for ident, value in values.items()], missing


# ---- submit_request_form, prefill_request_form ---------------------------------------------------------


class Submitted(Model):
    form: Ref
    created: CreatedItem


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Submit a request form", kind="write")
async def submit_request_form(ctx: Context[Any], form: FormRef, answers: Answers) -> Submitted:
    """Submit a request form; returns the task or project created. For a person to review first:
    prefill_request_form."""
    deps = wrike(ctx)
    found = await find_form(deps, form)
    fields, _ = await form_fields(deps, found, answers, complete=True)
    made = await deps.client.post(
        f"/request_forms/{found.id}/submit", {"formFields": fields}, model=FormSubmission
    )
    result = made[0] if made else FormSubmission()
    if result.project_id:
        created = await read_back_created(deps, "project", result.project_id)
    elif result.task_id:
        created = await read_back_created(deps, "task", result.task_id)
    else:
        raise ToolError(
            "Wrike accepted the form but named nothing it created: look in the form's folder before submitting again"
        )
    return Submitted(form=Ref(id=found.id, name=show_title(found.title)), created=created)


class Prefilled(Model):
    url: str
    form: Ref
    still_to_answer: list[str] = Field(
        default_factory=list, description="required questions left for the person"
    )


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Prefill a request form link")
async def prefill_request_form(ctx: Context[Any], form: FormRef, answers: Answers) -> Prefilled:
    """A link to a request form with answers filled in, for a person to check and submit in Wrike (also
    when a question needs a file). Creates nothing."""
    deps = wrike(ctx)
    found = await find_form(deps, form)
    fields, missing = await form_fields(deps, found, answers, complete=False)
    made = await deps.client.post(
        f"/request_forms/{found.id}/prefill_url", {"formFields": fields}, model=PrefillUrl
    )
    if not made:
        raise ToolError("Wrike returned no link: try again, or open the form in Wrike")
    return Prefilled(
        url=made[0].url,
        form=Ref(id=found.id, name=show_title(found.title)),
        still_to_answer=[show_title(q.title) for q in missing],
    )
