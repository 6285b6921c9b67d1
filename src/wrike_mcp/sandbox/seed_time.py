"""Seed data for time tracking: the account's timelog categories, and time logs spread over them.

Runs after the rest of the seed with its own random generator, so every id seeded before keeps its value;
the time logs added here come after the earlier ones (their ids and legacy ids continue the counters).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend import WrikeBackend
from wrike_mcp.sandbox.entities import Contact, Timelog, TimelogCategory

# (name, hidden). "Client support" and "Internal support" share a word, so a name like "support" is ambiguous;
# "Travel" is hidden: kept on old entries, no longer offered for new ones.
CATEGORIES = [
    ("Development", False),
    ("Design", False),
    ("Meetings", False),
    ("Client support", False),
    ("Internal support", False),
    ("Administration", False),
    ("Travel", True),
]
COMMENTS = ["Research", "Implementation", "Review meeting", "Follow-up calls", "Drafting", "Testing", "Sync"]


def seed_time(state: WrikeBackend, people: dict[str, Contact], today: date, now: datetime) -> None:
    rng = random.Random(20261204)  # noqa: S311 - seed data, not security: the same account on every start
    categories = []
    for order, (name, hidden) in enumerate(CATEGORIES, start=1):
        category = TimelogCategory(
            id=state.new_id(ids.TIMELOG_CATEGORY), name=name, order=order, hidden=hidden
        )
        state.timelog_categories[category.id] = category
        categories.append(category)
    visible = [c for c in categories if not c.hidden]

    # The earlier seed's entries: most get a category, some keep none (as entries logged before categories)
    for timelog in state.timelogs.values():
        if rng.random() < 0.8:
            timelog.category_id = rng.choice(categories).id
    # Billing follows the task ("Task's timelogs billing type"): every task with time on it has one
    tasks = [t for t in state.tasks.values() if not t.deleted]
    for task in tasks:
        if any(t.task_id == task.id for t in state.timelogs.values()):
            task.billing_type = rng.choice(["Billable", "NonBillable"])
    for timelog in state.timelogs.values():
        timelog.billing_type = state.tasks[timelog.task_id].billing_type

    # New entries over the last four months on tasks across every space, several people each
    owner = next(c for c in people.values() if c.admin and c.owner)
    for index, task in enumerate(tasks):
        if index % 3 != 0:
            continue
        if task.billing_type is None:
            task.billing_type = "Billable" if index % 2 else "NonBillable"
        users = [*task.responsible_ids, task.author_id, owner.id]
        for _ in range(rng.randint(1, 4)):
            tracked = today - timedelta(days=rng.randint(0, 120))
            created = min(now, datetime.combine(tracked, time(17, rng.randint(0, 59)), tzinfo=UTC))
            timelog = Timelog(
                id=state.new_id(ids.TIMELOG),
                legacy_id=state.new_legacy_id("ApiV2Timelog"),
                task_id=task.id,
                user_id=rng.choice(users),
                hours=rng.choice([0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 6]),
                tracked_date=tracked,
                comment=rng.choice(COMMENTS),
                created=created,
                updated=created,
                category_id=rng.choice(visible).id,
                billing_type=task.billing_type,
            )
            state.timelogs[timelog.id] = timelog
