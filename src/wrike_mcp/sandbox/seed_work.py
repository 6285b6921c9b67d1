"""Seed data beside the workspace tree: blueprints, attachments and approvals.

Seeded after everything else, so the ids and dates of the older seed stay as they were; no randomness. The
names are documented in docs/SANDBOX.md for other test suites.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend import WrikeBackend
from wrike_mcp.sandbox.entities import (
    Approval,
    ApprovalDecision,
    Attachment,
    Blueprint,
    Contact,
    Folder,
    TaskDates,
)


@dataclass
class _Spec:
    """A blueprint to seed: dates are (start day, due day) counted from the blueprint's day 0."""

    title: str
    kind: str
    days: tuple[int, int] | None = None  # None: a backlog task; equal days with milestone=True: a milestone
    milestone: bool = False
    responsibles: tuple[str, ...] = ()
    description: str = ""
    importance: str = "Normal"
    project: bool = False
    children: list[_Spec] = field(default_factory=list)


def _task(title: str, days: tuple[int, int] | None, *children: _Spec, **extra: object) -> _Spec:
    return _Spec(title, "task", days, children=list(children), **extra)  # type: ignore[arg-type]


# A blueprint's day 0 is a Monday long ago, as for a template made once and launched many times.
PRODUCT_LAUNCH = _Spec(
    "Product launch",
    "folder",
    project=True,
    description="<p>Everything a product launch needs, from kick-off to launch day.</p>",
    children=[
        _task("Kick-off meeting", (0, 0), milestone=True, responsibles=("Chloe Martin",)),
        _task("Define launch scope", (0, 2), responsibles=("Chloe Martin",), importance="High"),
        _task(
            "Prepare press release",
            (3, 7),
            _task("Collect customer quotes", (3, 4), responsibles=("Emma Rossi",)),
            responsibles=("Diego Alvarez",),
            description="<p>One page, two customer quotes, approved by Legal.</p>",
        ),
        _task("Launch day", (11, 11), milestone=True),
        _Spec(
            "Launch assets",
            "folder",
            children=[
                _task("Design launch visuals", (1, 7), responsibles=("Farah Khan",)),
                _task("Write product page copy", (4, 9), responsibles=("Emma Rossi",)),
            ],
        ),
    ],
)
CAMPAIGN = _Spec(
    "Campaign folder",
    "folder",
    children=[_task("Plan the campaign", (0, 4)), _task("Review campaign results", (14, 15))],
)
BUG_REPORT = _task(
    "Bug report",
    (0, 4),
    _task("Reproduce the bug", (0, 0), responsibles=("Sam Turner",)),
    _task("Fix the bug", (1, 3), responsibles=("Ben Carter",)),
    _task("Verify the fix", (4, 4), responsibles=("Sam Turner",)),
    description="<p>Steps to reproduce, expected and actual behaviour, environment.</p>",
    importance="High",
)
RELEASE_CHECKLIST = _task(
    "Release checklist",
    (0, 4),
    _task("Freeze the release branch", (0, 0)),
    _task("Run regression tests", (1, 4), responsibles=("Sam Turner",)),
)
# (space title or None for the account, blueprint)
BLUEPRINTS: list[tuple[str | None, _Spec]] = [
    (None, PRODUCT_LAUNCH),
    ("Marketing", CAMPAIGN),
    (None, BUG_REPORT),
    ("Engineering", RELEASE_CHECKLIST),
]
# Made after Wrike's 2025-07 id change: these and the blueprints inside them have new-format ids.
NEW_FORMAT_BLUEPRINTS = (CAMPAIGN, BUG_REPORT)


def seed_work(
    state: WrikeBackend, people: dict[str, Contact], folders: dict[str, Folder], today: date, now: datetime
) -> None:
    _seed_blueprints(state, people, folders, today, now)
    _seed_attachments(state, people, folders, now)
    _seed_approvals(state, people, folders, today, now)


def _seed_blueprints(
    state: WrikeBackend, people: dict[str, Contact], folders: dict[str, Folder], today: date, now: datetime
) -> None:
    day_zero = today - timedelta(days=280 + today.weekday())  # a Monday
    channel = next(f for f in state.custom_fields.values() if f.title == "Channel")

    def add(spec: _Spec, parent_id: str | None, space_id: str | None, new_format: bool) -> None:
        marker, legacy_type = (
            (ids.BLUEPRINT_FOLDER, "ApiV2Folder")
            if spec.kind == "folder"
            else (ids.BLUEPRINT_TASK, "ApiV2Task")
        )
        blueprint = Blueprint(
            id=state.new_format_id(marker) if new_format else state.new_id(marker),
            legacy_id=state.new_legacy_id(legacy_type),
            title=spec.title,
            kind=spec.kind,
            created=now - timedelta(days=60 if new_format else 280),
            parent_id=parent_id,
            space_id=space_id,
            project=spec.project,
            description=spec.description,
            importance=spec.importance,
            dates=_dates(spec, day_zero),
            responsible_ids=[people[name].id for name in spec.responsibles],
        )
        if spec is PRODUCT_LAUNCH:
            blueprint.custom_fields = {channel.id: "Web"}
        state.blueprints[blueprint.id] = blueprint
        for child in spec.children:
            add(child, blueprint.id, None, new_format)

    for space_title, spec in BLUEPRINTS:
        add(spec, None, folders[space_title].id if space_title else None, spec in NEW_FORMAT_BLUEPRINTS)


def _dates(spec: _Spec, day_zero: date) -> TaskDates:
    if spec.kind == "folder" or spec.days is None:
        return TaskDates()
    start, due = (day_zero + timedelta(days=n) for n in spec.days)
    if spec.milestone:
        return TaskDates(type="Milestone", due=datetime.combine(due, time(17)))
    work_days = sum(1 for n in range((due - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)
    return TaskDates(
        type="Planned",
        start=datetime.combine(start, time(9)),
        due=datetime.combine(due, time(17)),
        duration=max(work_days, 1) * 480,
    )


LAUNCH_BRIEF = """# Q3 launch brief

- Audience: operations leads at mid-size companies
- Message: Northwind cuts month-end close from 5 days to 2
- Channels: email, blog, two partner webinars

Open question: do we announce pricing on launch day?
"""
PRESS_CONTACTS = "name,outlet,email\nRita Gomez,Ops Weekly,rita@opsweekly.example\nTom Berg,CFO Daily,tom@cfodaily.example\n"
CRASH_LOG = "2026-01-12 09:14:03 FATAL LoginActivity: NullPointerException at SessionStore.restore(SessionStore.kt:88)\n"
Q3_BUDGET = "item,amount\nVenue,12000\nAds,8000\nPrint,1500\n"


def tiny_png() -> bytes:
    """A valid 1×1 PNG (one white pixel), built rather than pasted as bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _seed_attachments(
    state: WrikeBackend, people: dict[str, Contact], folders: dict[str, Folder], now: datetime
) -> None:
    announcement = _task_titled(state, "Draft launch announcement")
    crash = _task_titled(state, "Fix crash on login")
    q3 = folders["Marketing/Campaigns/Q3 Launch"]
    specs = [
        ("launch-brief.md", "text/markdown", LAUNCH_BRIEF.encode(), "Chloe Martin", announcement, None, 6),
        ("press-contacts.csv", "text/csv", PRESS_CONTACTS.encode(), "Diego Alvarez", announcement, None, 5),
        ("crash-log.txt", "text/plain", CRASH_LOG.encode(), "Sam Taylor", crash, None, 4),
        ("login-screen.png", "image/png", tiny_png(), "Sam Taylor", crash, None, 4),
        ("q3-budget.csv", "text/csv", Q3_BUDGET.encode(), "Chloe Martin", None, q3.id, 10),
    ]
    for name, content_type, content, author, task_id, folder_id, days_ago in specs:
        attachment = Attachment(
            id=state.new_id(ids.ATTACHMENT),
            legacy_id=state.new_legacy_id("ApiV2Attachment"),
            author_id=people[author].id,
            name=name,
            content=content,
            content_type=content_type,
            created=now - timedelta(days=days_ago),
            task_id=task_id,
            folder_id=folder_id,
        )
        state.attachments[attachment.id] = attachment


def _task_titled(state: WrikeBackend, title: str) -> str:
    return next(t.id for t in state.tasks.values() if t.title == title and not t.deleted)


def _seed_approvals(
    state: WrikeBackend, people: dict[str, Contact], folders: dict[str, Folder], today: date, now: datetime
) -> None:
    ann, ben, chloe, diego = (
        people[n].id for n in ("Ann Lee", "Ben Carter", "Chloe Martin", "Diego Alvarez")
    )
    brief = next(a.id for a in state.attachments.values() if a.name == "launch-brief.md")
    decided = now - timedelta(days=1)

    approvals = [
        Approval(
            id="",
            title="Approve press kit",
            task_id=_task_titled(state, "Approve press kit"),
            author_id=diego,
            updated=now - timedelta(days=2),
            due_date=today + timedelta(days=2),
            description="Press kit v3 for the Q3 launch",
            decisions=[
                ApprovalDecision(ann),
                ApprovalDecision(chloe, "Approved", "Looks good", decided),
            ],
        ),
        Approval(
            id="",
            title="Draft launch announcement",
            task_id=_task_titled(state, "Draft launch announcement"),
            author_id=chloe,
            updated=now - timedelta(days=3),
            due_date=today + timedelta(days=5),
            description="Please review the brief before I write the announcement",
            decisions=[ApprovalDecision(ann)],
            type="FilesOnly",
            attachment_ids=[brief],
        ),
        Approval(
            id="",
            title=folders["Marketing/Campaigns/Q3 Launch"].title,
            folder_id=folders["Marketing/Campaigns/Q3 Launch"].id,
            author_id=chloe,
            updated=now - timedelta(days=8),
            due_date=today - timedelta(days=1),
            description="Sign off the Q3 launch plan",
            decisions=[ApprovalDecision(ann), ApprovalDecision(diego, "Approved", "", decided)],
        ),
        Approval(
            id="",
            title="Regression test release build",
            task_id=_task_titled(state, "Regression test release build"),
            author_id=ann,
            updated=decided,
            due_date=today - timedelta(days=3),
            status="Approved",
            finisher_id=ben,
            decisions=[ApprovalDecision(ben, "Approved", "All green", decided)],
        ),
        Approval(
            id="",
            title="Fix crash on login",
            task_id=_task_titled(state, "Fix crash on login"),
            author_id=people["Sam Taylor"].id,
            updated=decided,
            status="Rejected",
            finisher_id=ann,
            decisions=[ApprovalDecision(ann, "Rejected", "Still crashes on Android 14", decided)],
        ),
        Approval(
            id="",
            title=folders["Engineering/Mobile App"].title,
            folder_id=folders["Engineering/Mobile App"].id,
            author_id=ben,
            updated=now - timedelta(days=12),
            due_date=today - timedelta(days=10),
            status="Cancelled",
            finisher_id=ben,
            description="Mobile roadmap for next quarter",
            decisions=[ApprovalDecision(ann), ApprovalDecision(people["Sam Taylor"].id)],
        ),
    ]
    for approval in approvals:
        approval.id = state.new_id(ids.APPROVAL)
        state.approvals[approval.id] = approval
