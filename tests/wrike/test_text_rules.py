"""The text hygiene and the Wrike rules every tool shares (wrike/text.py, wrike/rules.py), at their edges:
which characters are hidden, stripped or escaped, how close a name is, how a value is quoted, which status a
name means and on which day a task becomes overdue. Expected values are worked out by hand in each test."""

from __future__ import annotations

from datetime import date

import pytest

from wrike_mcp.wrike.models import CustomStatus, Workflow
from wrike_mcp.wrike.rules import is_overdue, last_overdue_day, status_group, status_names, statuses_named
from wrike_mcp.wrike.text import (
    closest,
    escaped,
    fold,
    has_hidden,
    likeness,
    one_line,
    quoted,
    strip_invisible,
)

# --- hidden characters --------------------------------------------------------------------------------------


def test_control_and_format_characters_are_stripped_but_spacing_is_kept() -> None:
    assert strip_invisible("ring\x07 the\x1b[31m bell") == "ring the[31m bell"  # C0 controls (Cc)
    assert strip_invisible("zero\u200bwidth\u2060joiner") == "zerowidthjoiner"  # format (Cf)
    assert strip_invisible("line\none\ttab") == "line\none\ttab"
    # not hidden: a no-break space and a line separator are spacing, which one_line turns into one space
    assert strip_invisible("no\u00a0break\u2028here") == "no\u00a0break\u2028here"
    assert one_line("no\u00a0break\u2028here") == "no break here"


def test_hidden_characters_are_detected_and_ordinary_text_is_not() -> None:
    for hidden in ("bell\x07", "del\x7f", "c1\x85", "rtl\u202eoverride", "zero\u200bwidth", "line\u2028sep"):
        assert has_hidden(hidden), hidden
    assert has_hidden("para\u2029sep") and has_hidden("lone \ud800 surrogate")
    for plain in ("plain text", "naïve café", "no\u00a0break space", "日本語"):
        assert not has_hidden(plain), plain


def test_escaping_shows_hidden_characters_and_doubles_backslashes() -> None:
    assert escaped("plain naïve text") == "plain naïve text"
    assert escaped(r"C:\temp") == r"C:\\temp"
    assert escaped("\x1b[31mred") == r"\x1b[31mred"
    assert escaped("evil\u202etxt.exe") == r"evil\u202etxt.exe"
    assert escaped("two\nrows\tand a tab") == r"two\nrows\tand a tab"
    assert escaped("no\u00a0break") == "no\u00a0break"  # a no-break space is not hidden: it stays as it is


def test_one_line_and_fold_are_the_forms_names_are_compared_in() -> None:
    assert one_line("  Q3\n launch\u200b  plan ") == "Q3 launch plan"
    assert fold("Straße\u200b ") == "strasse"  # full case folding, not only lower case
    assert fold("  MARKETING\tTeam") == "marketing team"


# --- near matches -------------------------------------------------------------------------------------------


def test_likeness_of_equal_contained_and_empty_names() -> None:
    assert likeness("Marketing ", "mar\u200bketing") == 1.0
    assert likeness("mark", "Marketing") == 0.9
    assert likeness("Q3 Marketing", "marketing") == 0.9  # the name inside what was asked for
    assert likeness("mar", "Marketing") == 0.9  # three characters are enough to count as contained
    assert likeness("ma", "Marketing") == 0.0  # two are not, and too short to be a typo of it
    assert likeness("", "Marketing") == 0.0
    assert likeness("Marketing", "\u200b") == 0.0


def test_likeness_of_shared_words_and_typos() -> None:
    # words: {alpha, beta} and {beta, gamma, delta, epsilon, zeta, eta}: 1 shared of 7, so 0.5 + (1/7)/2; the
    # lengths (10 and 33 characters) are too far apart for the letters to count
    assert likeness("alpha beta", "beta gamma delta epsilon zeta eta") == pytest.approx(0.5 + 1 / 14)
    # a doubled letter: 9 of 10 + 9 characters match, difflib's ratio 2 * 9 / 19
    assert likeness("Marketting", "Marketing") == pytest.approx(18 / 19)
    # same length, one letter in common: too different, and sharing no word
    assert likeness("abcdef", "uvwxyf") == 0.0
    # an abbreviation: its 3 letters in order in a 7-letter name, 2 * 3 / 10, just near enough to be listed
    assert likeness("ops", "Options") == 0.6
    assert closest("ops", [("F9", ["Options"], "Options")]) == [("F9", "Options")]


def test_closest_lists_names_at_least_near_enough_best_first_and_at_most_five() -> None:
    named = [
        ("F1", ["Marketing"], "Marketing"),
        ("F2", ["Marketting"], "Marketting"),
        ("F3", ["Finance"], "Finance"),
        ("F4", [], "No names at all"),
        ("F5", ["zz b c d"], "Boundary"),  # shares 1 word of 5 with "alpha zz": exactly 0.6
    ]
    assert closest("Marketing", named) == [("F1", "Marketing"), ("F2", "Marketting")]
    assert closest("alpha zz", named) == [("F5", "Boundary")]
    assert closest("nothing like it", named) == []
    six = [(f"P{n}", [f"Project {n}"], f"Project {n}") for n in range(6)]
    assert closest("project", six) == [(f"P{n}", f"Project {n}") for n in range(5)]  # ties: by label
    assert closest("project", six, limit=2) == [("P0", "Project 0"), ("P1", "Project 1")]


def test_a_name_answering_to_several_names_scores_its_best() -> None:
    named = [("U1", ["Ann Lee", "ann@example.com"], "Ann Lee"), ("U2", ["Bob Stone"], "Bob Stone")]
    assert closest("ann@example.com", named) == [("U1", "Ann Lee")]


# --- quoting ------------------------------------------------------------------------------------------------


def test_quoted_values_are_cut_at_the_limit_with_an_ellipsis() -> None:
    assert quoted("x" * 60) == repr("x" * 60)
    assert quoted("x" * 61) == repr("x" * 59 + "…")
    assert quoted("abcdef", limit=5) == "'abcd…'"
    assert quoted("abcde", limit=5) == "'abcde'"
    assert quoted("two\nlines\u200b") == "'two lines'"


# --- statuses -----------------------------------------------------------------------------------------------

WAITING = CustomStatus(id="ST-WAIT", name="Waiting", group="Active")
OLD_WAITING = CustomStatus(id="ST-OLDWAIT", name="Waiting", group="Active", hidden=True)
ARCHIVED = CustomStatus(id="ST-ARCH", name="Archived review", group="Completed", hidden=True)
REVIEW = CustomStatus(id="ST-REVIEW", name="In Review", group="Active")
WORKFLOWS = [
    Workflow(id="WF-1", name="Default", custom_statuses=[WAITING, REVIEW, ARCHIVED]),
    Workflow(id="WF-2", name="Legacy", custom_statuses=[OLD_WAITING]),
]


def test_status_groups_are_named_in_any_case() -> None:
    assert status_group(" completed\u200b") == "Completed"
    assert status_group("CANCELLED") == "Cancelled"
    assert status_group("Done") is None


def test_a_status_is_named_by_id_or_name_and_visible_statuses_win() -> None:
    assert statuses_named(" ST-REVIEW ", WORKFLOWS) == [(WORKFLOWS[0], REVIEW)]
    assert statuses_named("in review", WORKFLOWS) == [(WORKFLOWS[0], REVIEW)]
    assert statuses_named("waiting", WORKFLOWS) == [(WORKFLOWS[0], WAITING)]  # the hidden namesake yields
    assert statuses_named("ST-OLDWAIT", WORKFLOWS) == [(WORKFLOWS[1], OLD_WAITING)]  # by id: always
    assert statuses_named("archived review", WORKFLOWS) == [(WORKFLOWS[0], ARCHIVED)]  # no visible namesake
    assert statuses_named("Nowhere", WORKFLOWS) == []


def test_a_blank_reference_names_no_status_not_one_without_a_name() -> None:
    unnamed = Workflow(id="WF-3", custom_statuses=[CustomStatus(id="ST-UNNAMED", group="Deferred")])
    assert statuses_named("\u200b ", [*WORKFLOWS, unnamed]) == []
    assert statuses_named("ST-UNNAMED", [unnamed]) == [(unnamed, unnamed.custom_statuses[0])]


def test_the_refusal_lists_the_groups_and_every_visible_status_once() -> None:
    twice = [*WORKFLOWS, Workflow(id="WF-3", custom_statuses=[REVIEW])]
    assert status_names(twice) == (
        "status groups: Active, Completed, Deferred, Cancelled; statuses: In Review, Waiting"
    )
    assert status_names([]) == "status groups: Active, Completed, Deferred, Cancelled"


# --- overdue ------------------------------------------------------------------------------------------------

TODAY = date(2026, 3, 10)


def test_a_task_is_overdue_from_the_day_after_its_due_date() -> None:
    assert last_overdue_day(TODAY) == date(2026, 3, 9)
    assert last_overdue_day(date(2026, 3, 1)) == date(2026, 2, 28)
    assert is_overdue("Active", "2026-03-09", TODAY)
    assert is_overdue(None, "2026-03-09T17:00:00", TODAY)  # no group: Active, Wrike's default
    assert not is_overdue("Active", "2026-03-10", TODAY)  # due today: not yet
    assert not is_overdue("Active", "2026-03-11T00:00:00", TODAY)


def test_only_active_tasks_with_a_readable_due_date_are_overdue() -> None:
    for group in ("Completed", "Deferred", "Cancelled"):
        assert not is_overdue(group, "2026-01-01", TODAY), group
    assert not is_overdue("Active", None, TODAY)
    assert not is_overdue("Active", "", TODAY)
    assert not is_overdue("Active", "someday", TODAY)
