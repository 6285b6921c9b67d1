"""Custom item types (list, by id, create work from one) and request forms (list, by id, prefilled link,
submission), as the intake reference describes them (docs/FIDELITY.md, rows "item types" and "request forms").

Scopes: Wrike's reference pages give the read routes and `prefill_url` the read scopes and `instantiate` the
write ones; `submit` is not on a readable page and takes the write scopes [assumption]. Response `kind`s are
never seen in a source: the sandbox's own [assumption]."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox.api import READ, WRITE, Ctx, route
from wrike_mcp.sandbox.entities import CustomItemType, FormPage, RequestForm
from wrike_mcp.sandbox.errors import invalid_parameter, parameter_required
from wrike_mcp.sandbox.routes.common import paged, plain_text, resumed_params, title_contains

RELATED_TYPES = ("Project", "Task")
MAX_ITEM_TYPE_IDS = 1000  # "Limit : 1000" on GET /custom_item_types/{ids}, not the usual 100
DEFAULT_ITEM_TYPE_LIMIT = 10000
MAX_FORM_PAGE_SIZE = 100
STATISTICS = ["dataUsageStatistics"]  # the only optional field; accepted, not modelled
ITEM_TYPE_KIND = "customItemTypes"
FORM_KIND = "requestForms"


def render_item_type(item_type: CustomItemType) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item_type.id,
        "title": item_type.title,
        "description": item_type.description,
    }
    if item_type.space_id is not None:
        body["spaceId"] = item_type.space_id
    body["relatedType"] = item_type.related_type
    body["customFieldIds"] = list(item_type.custom_field_ids)
    body["isDeleted"] = item_type.deleted
    return body


def render_page(page: FormPage) -> dict[str, Any]:
    body: dict[str, Any] = {"id": page.id, "title": page.title, "visibility": page.visibility}
    if page.visibility == "ON_CONDITION":
        body["condition"] = {"fieldId": page.condition_question_id, "values": list(page.condition_values)}
    body["fields"] = []
    for question in page.questions:
        field: dict[str, Any] = {
            "id": question.id,
            "title": question.title,
            "type": question.type,
            "mandatory": question.mandatory,
        }
        if question.helper_text:
            field["helperText"] = question.helper_text
        if question.options:
            field["options"] = list(question.options)
        body["fields"].append(field)
    return body


def render_form(form: RequestForm, plain: bool) -> dict[str, Any]:
    return {
        "id": form.id,
        "title": form.title,
        "description": plain_text(form.description) if plain else form.description,
        "spaceId": form.space_id,
        "pages": [render_page(page) for page in form.pages],
    }


# -- custom item types ----------------------------------------------------------------------------------------
ITEM_TYPE_QUERY = ["title", "limit", "withDeleted", "type", "fields"]


def _item_types(ctx: Ctx, space_id: str | None) -> list[dict[str, Any]]:
    params = ctx.params
    params.fields(STATISTICS)
    with_deleted = params.boolean("withDeleted", False)
    related = params.enum("type", RELATED_TYPES)
    title = params.string("title", non_empty=True)
    limit = params.integer("limit", minimum=1) or DEFAULT_ITEM_TYPE_LIMIT
    found = [
        item_type
        for item_type in ctx.state.item_types.values()
        if (with_deleted or not item_type.deleted)
        and (space_id is None or item_type.space_id == space_id)
        and (related is None or item_type.related_type == related)
        and (title is None or title_contains(item_type.title, title))
    ]
    return [render_item_type(item_type) for item_type in found[:limit]]


@route("GET", "/custom_item_types", ITEM_TYPE_KIND, READ, ITEM_TYPE_QUERY)
def list_item_types(ctx: Ctx) -> list[dict[str, Any]]:
    return _item_types(ctx, None)


@route("GET", "/spaces/{spaceId}/custom_item_types", ITEM_TYPE_KIND, READ, ITEM_TYPE_QUERY)
def list_space_item_types(ctx: Ctx) -> list[dict[str, Any]]:
    return _item_types(ctx, ctx.state.space(ctx.one_id("spaceId")).id)


@route("GET", "/custom_item_types/{customItemTypeIds}", ITEM_TYPE_KIND, READ, ["withDeleted", "fields"])
def get_item_types(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.params.fields(STATISTICS)
    with_deleted = bool(ctx.params.boolean("withDeleted", False))
    wanted = [part.strip() for part in ctx.path["customItemTypeIds"].split(",")]
    if any(not part for part in wanted):
        raise invalid_parameter("customItemTypeIds", "contains an empty id")
    if len(wanted) > MAX_ITEM_TYPE_IDS:
        raise invalid_parameter(
            "customItemTypeIds", f"accepts up to {MAX_ITEM_TYPE_IDS} IDs, got {len(wanted)}"
        )
    return [render_item_type(ctx.state.item_type(ident, with_deleted=with_deleted)) for ident in wanted]


@route(
    "POST",
    "/custom_item_types/{customItemTypeId}/instantiate",
    "customItemTypeInstances",
    WRITE,
    ["parentId", "superTaskId", "title"],
)
def instantiate(ctx: Ctx) -> list[dict[str, Any]]:
    state, params = ctx.state, ctx.params
    item_type = state.item_type(ctx.one_id("customItemTypeId"))
    parent_id = params.string("parentId", non_empty=True)
    super_task_id = params.string("superTaskId", non_empty=True)
    title = params.string("title", required=True, non_empty=True)
    assert title is not None
    parent, super_task = state.placement(parent_id, super_task_id)
    created = state.instantiate(ctx.user, item_type, title.strip(), parent, super_task)
    return [{"id": created.id, "relatedType": item_type.related_type}]


# -- request forms --------------------------------------------------------------------------------------------
FORM_QUERY = ["plainTextDescription", "limit", "pageSize", "nextPageToken", "fields"]


def _forms(ctx: Ctx, route_key: str, space_id: str | None) -> list[dict[str, Any]]:
    params, offset = resumed_params(ctx, route_key)
    params.integer("pageSize", minimum=1, maximum=MAX_FORM_PAGE_SIZE)
    params.fields(STATISTICS)
    plain = bool(params.boolean("plainTextDescription", False))
    found = [f for f in ctx.state.request_forms.values() if space_id is None or f.space_id == space_id]
    return [render_form(form, plain) for form in paged(ctx, route_key, params, found, offset)]


@route("GET", "/request_forms", FORM_KIND, READ, FORM_QUERY)
def list_forms(ctx: Ctx) -> list[dict[str, Any]]:
    return _forms(ctx, "request_forms", None)


@route("GET", "/spaces/{spaceId}/request_forms", FORM_KIND, READ, FORM_QUERY)
def list_space_forms(ctx: Ctx) -> list[dict[str, Any]]:
    space = ctx.state.space(ctx.one_id("spaceId"))
    return _forms(ctx, f"request_forms:{space.id}", space.id)


@route("GET", "/request_forms/{requestFormId}", FORM_KIND, READ, ["plainTextDescription", "fields"])
def get_form(ctx: Ctx) -> list[dict[str, Any]]:
    form = ctx.state.request_form(ctx.one_id("requestFormId"))
    ctx.params.fields(STATISTICS)
    return [render_form(form, bool(ctx.params.boolean("plainTextDescription", False)))]


@route("POST", "/request_forms/{requestFormId}/prefill_url", "requestFormPrefillUrl", READ, ["formFields"])
def prefill_url(ctx: Ctx) -> list[dict[str, Any]]:
    form = ctx.state.request_form(ctx.one_id("requestFormId"))
    entries = ctx.params.obj_list("formFields")
    if entries is None:
        raise parameter_required("formFields")
    answers = ctx.state.form_answers(form, entries)
    return [{"url": ctx.state.prefill_url(form, answers)}]


@route("POST", "/request_forms/{requestFormId}/submit", "requestFormSubmissions", WRITE, ["formFields"])
def submit(ctx: Ctx) -> list[dict[str, Any]]:
    form = ctx.state.request_form(ctx.one_id("requestFormId"))
    answers = ctx.state.form_answers(form, ctx.params.obj_list("formFields") or [])
    created = ctx.state.submit_form(ctx.user, form, answers)
    key = "projectId" if form.creates == "Project" else "taskId"
    return [{"formId": form.id, key: created.id}]


ROUTES = [
    list_item_types,
    list_space_item_types,
    get_item_types,
    instantiate,
    list_forms,
    list_space_forms,
    get_form,
    prefill_url,
    submit,
]
