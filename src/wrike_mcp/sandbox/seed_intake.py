"""Seed data for work intake: the custom item types of each space and three request forms (docs/SANDBOX.md).

Seeded after everything else and with counters of their own, so no earlier id or permalink moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend import WrikeBackend
from wrike_mcp.sandbox.entities import Contact, CustomItemType, Folder, FormPage, FormQuestion, RequestForm


@dataclass(frozen=True)
class _Type:
    title: str
    related_type: str  # Task | Project
    space: str | None  # None: account-level
    description: str
    fields: tuple[str, ...] = ()
    workflow: str | None = None
    deleted: bool = False


ITEM_TYPES = (
    _Type(
        "Campaign request",
        "Project",
        "Marketing",
        "A campaign to plan and run: channel, budget and launch date",
        ("Channel", "Budget", "Launch Date"),
    ),
    _Type("Design review", "Task", "Marketing", "Review of a design or asset", ("Reviewer", "Launch Date")),
    _Type("Blog post", "Task", "Marketing", "An article for the company blog", ("Channel",)),
    _Type(
        "Bug",
        "Task",
        "Engineering",
        "A defect to triage and fix",
        ("Story Points", "Sprint"),
        "Software Development",
    ),
    _Type(
        "Feature", "Task", "Engineering", "A user-facing change", ("Story Points",), "Software Development"
    ),
    _Type("Design review", "Task", "Engineering", "Architecture or UI design review", ("Reviewer",)),
    _Type("Release", "Project", "Engineering", "A versioned release with its checklist"),
    _Type(
        "Purchase request", "Task", "Operations", "Something to buy, with its cost", ("Budget", "Billable")
    ),
    _Type("New hire onboarding", "Project", "Operations", "Everything a new colleague needs in week one"),
    _Type("Meeting", "Task", None, "A meeting with an agenda and notes", ("Notes",)),
    _Type("Support ticket", "Task", None, "Retired: tickets moved to the helpdesk", deleted=True),
)


def seed_intake(state: WrikeBackend, people: dict[str, Contact], folders: dict[str, Folder]) -> None:
    types = _seed_item_types(state, folders)
    _seed_forms(state, people, folders, types)


def _seed_item_types(state: WrikeBackend, folders: dict[str, Folder]) -> dict[tuple[str | None, str], str]:
    fields = {f.title: f.id for f in state.custom_fields.values()}
    workflows = {w.name: w.id for w in state.workflows.values()}
    made: dict[tuple[str | None, str], str] = {}
    for spec in ITEM_TYPES:
        item_type = CustomItemType(
            id=state.new_id(ids.CUSTOM_ITEM_TYPE),
            title=spec.title,
            related_type=spec.related_type,
            space_id=folders[spec.space].id if spec.space else None,
            description=spec.description,
            custom_field_ids=[fields[name] for name in spec.fields],
            workflow_id=workflows[spec.workflow] if spec.workflow else None,
            deleted=spec.deleted,
        )
        state.item_types[item_type.id] = item_type
        made[(spec.space, spec.title)] = item_type.id
    return made


def _seed_forms(
    state: WrikeBackend,
    people: dict[str, Contact],
    folders: dict[str, Folder],
    types: dict[tuple[str | None, str], str],
) -> None:
    fields = {f.title: f.id for f in state.custom_fields.values()}

    def question(
        title: str,
        kind: str,
        mandatory: bool = False,
        *,
        helper: str = "",
        options: tuple[str, ...] = (),
        maps_to: str | None = None,
    ) -> FormQuestion:
        return FormQuestion(
            id="",  # numbered by form(), in the form's order
            title=title,
            type=kind,
            mandatory=mandatory,
            helper_text=helper,
            options=list(options),
            maps_to=fields.get(maps_to or "", maps_to),
        )

    def page(title: str, visibility: str, *questions: FormQuestion) -> FormPage:
        return FormPage(
            id=f"p{state.next_number('form page')}",
            title=title,
            visibility=visibility,
            questions=list(questions),
        )

    def form(
        title: str, space: str, target: str, creates: str, description: str, *pages: FormPage, **extra: object
    ) -> RequestForm:
        made = RequestForm(
            id=state.new_id(ids.REQUEST_FORM),
            legacy_id=state.new_legacy_id("ApiV2RequestForm"),
            title=title,
            space_id=folders[space].id,
            target_folder_id=folders[target].id,
            creates=creates,
            description=description,
            pages=list(pages),
        )
        for key, value in extra.items():
            setattr(made, key, value)
        for one in made.questions:
            one.id = f"q{state.next_number('form question')}"
        state.request_forms[made.id] = made
        return made

    channel = ("Email", "Social", "Events", "Web")
    form(
        "Campaign request",
        "Marketing",
        "Marketing/Campaigns",
        "Project",
        "<p>Ask the marketing team for a campaign. We reply within <b>two working days</b>.</p>",
        page(
            "The campaign",
            "ENTRY",
            question("Campaign name", "Text", True, maps_to="title"),
            question(
                "What should it achieve?", "LongText", helper="Audience, message, the result you expect"
            ),
            question("Channel", "SingleChoice", True, options=channel, maps_to="Channel"),
            question("Launch date", "Date", True, maps_to="Launch Date"),
            question(
                "Campaign owner", "Contacts", True, helper="Who decides on the campaign", maps_to="owners"
            ),
            question("Budget (USD)", "Number", maps_to="Budget"),
            question("Brief", "Attachment", helper="Optional: a brief or mood board"),
        ),
        assignee_ids=[people["Chloe Martin"].id],
        custom_item_type_id=types[("Marketing", "Campaign request")],
    )
    severity = question(
        "Severity",
        "SingleChoice",
        True,
        options=("Blocker", "Major", "Minor"),
        helper="Blocker: no workaround",
    )
    bug = form(
        "Bug report",
        "Engineering",
        "Engineering/Platform",
        "Task",
        "<p>Report a defect in the platform or the mobile app.</p>",
        page(
            "The bug",
            "ENTRY",
            question("Summary", "Text", True, helper="One line: what goes wrong", maps_to="title"),
            severity,
            question("Platforms", "MultipleChoice", options=("Web", "iOS", "Android", "API")),
            question("Steps to reproduce", "LongText"),
            question("Fix needed by", "Date", maps_to="dueDate"),
            question("Screenshot", "Attachment"),
        ),
        page(
            "Blocker details",
            "ON_CONDITION",
            question("Customer impact", "LongText", True, helper="Who is blocked, since when"),
            question("Incident owner", "Contacts", True, maps_to="responsibles"),
        ),
        assignee_ids=[people["Ben Carter"].id],
        custom_item_type_id=types[("Engineering", "Bug")],
    )
    bug.pages[1].condition_question_id = severity.id
    bug.pages[1].condition_values = ["Blocker"]
    form(
        "New hire request",
        "Operations",
        "Operations/Hiring",
        "Project",
        "<p>Open a position. HR needs the signed headcount approval.</p>",
        page(
            "The position",
            "ENTRY",
            question("Role title", "Text", True, maps_to="title"),
            question("Hiring manager", "Contacts", True, maps_to="owners"),
            question("Start date", "Date", True, maps_to="startDate"),
            question("Team", "SingleChoice", True, options=("Marketing", "Engineering", "Operations")),
        ),
        page(
            "Approval",
            "AFTER_PAGE",
            question("Signed headcount approval", "Attachment", True, helper="PDF signed by finance"),
            question("Notes for HR", "LongText"),
        ),
        assignee_ids=[people["Julia Novak"].id],
        custom_item_type_id=types[("Operations", "New hire onboarding")],
    )
