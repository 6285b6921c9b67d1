"""The client's typed errors (wrike/errors.py): which class an answer from Wrike becomes, by its error code or,
failing that, its HTTP status, and the messages a person or a model reads: what went wrong, on which request,
which names come close, and what to do next."""

from __future__ import annotations

import pytest

from tests.wrike.wrike_helpers import ERROR_CODES
from wrike_mcp.wrike.errors import (
    FIRST_LINE_LIMIT,
    AccessForbidden,
    AmbiguousReference,
    AuthorizationExpired,
    InvalidRequest,
    NotAllowed,
    NotAuthorized,
    RateLimited,
    ReferenceNotFound,
    ResourceNotFound,
    ServerError,
    UnknownOutcome,
    WrikeAPIError,
    api_error,
)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        *ERROR_CODES,
        # the code decides, whatever the status says
        (400, "not_allowed", NotAllowed),
    ],
)
def test_wrike_error_codes_become_their_classes(
    status: int, code: str, expected: type[WrikeAPIError]
) -> None:
    error = api_error(status, code, "described")
    assert type(error) is expected
    assert (error.status, error.code, error.description) == (status, code, "described")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InvalidRequest),
        (401, NotAuthorized),
        (403, AccessForbidden),
        (404, ResourceNotFound),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (499, WrikeAPIError),
        (409, WrikeAPIError),
    ],
)
def test_an_unknown_or_missing_code_falls_back_to_the_status(
    status: int, expected: type[WrikeAPIError]
) -> None:
    unknown = api_error(status, "brand_new_code", "described")
    assert type(unknown) is expected and unknown.code == "brand_new_code"
    missing = api_error(status, "", "no envelope")
    assert type(missing) is expected and missing.code == f"http_{status}"


def test_an_api_error_names_the_request_it_answered() -> None:
    error = api_error(404, "resource_not_found", "Task not found", method="GET", path="/tasks/IEAAAA")
    assert str(error) == "Wrike 404 resource_not_found: Task not found (GET /tasks/IEAAAA)"
    assert error.message == str(error)
    assert (error.method, error.path) == ("GET", "/tasks/IEAAAA")
    unplaced = api_error(502, "", "Bad gateway")  # an answer not tied to a request names none
    assert str(unplaced) == "Wrike 502 http_502: Bad gateway"
    assert (unplaced.method, unplaced.path) == ("", "")
    made = NotAllowed(403, "not_allowed", "Time logs are not on this plan")  # built directly, as fakes do
    assert str(made) == "Wrike 403 not_allowed: Time logs are not on this plan"
    assert (made.method, made.path) == ("", "")


def test_an_unknown_outcome_says_what_to_do_first_and_the_cause_next() -> None:
    error = UnknownOutcome("POST", "/folders/IEAB/tasks", "read timed out")
    assert str(error) == (
        "outcome unknown: POST /folders/IEAB/tasks may or may not have been applied; it was not retried — "
        "check Wrike before trying again\ncause: read timed out"
    )
    assert (error.method, error.path, error.cause) == ("POST", "/folders/IEAB/tasks", "read timed out")


def test_an_unknown_outcome_cuts_a_long_path_on_its_first_line() -> None:
    sixty = "/tasks/" + "A" * 53
    assert f"POST {sixty} may" in str(UnknownOutcome("POST", sixty, "reset"))
    longer = sixty + "B"
    assert f"POST {sixty[:59]}… may" in str(UnknownOutcome("POST", longer, "reset"))


def test_an_expired_authorization_says_how_to_log_in_again() -> None:
    assert str(AuthorizationExpired()) == "authorization expired or revoked: run `wrike-mcp auth login`"
    assert str(AuthorizationExpired("grant revoked by the admin")) == "grant revoked by the admin"


def test_not_found_without_candidates_is_one_line() -> None:
    error = ReferenceNotFound("folder", "Marketng\u200b")
    assert str(error) == "folder 'Marketng' not found"
    assert (error.kind, error.reference, error.hint, error.near) == ("folder", "Marketng\u200b", "", [])


def test_not_found_names_the_closest_match_and_a_short_hint_on_the_first_line() -> None:
    error = ReferenceNotFound("folder", "Marketng", "names are matched whole", near=[("IEAF1", "Marketing")])
    assert str(error) == "folder 'Marketng' not found; closest: Marketing (id IEAF1); names are matched whole"


def test_not_found_lists_the_other_close_matches_under_the_first_line() -> None:
    near = [("U1", "Ann Lee"), ("U2", "Anna\nLeigh\u200b"), ("U3", "Annie Lee")]
    error = ReferenceNotFound("user", "Ann Le", "try an email address", near=near)
    assert str(error).splitlines() == [
        "user 'Ann Le' not found; closest: Ann Lee (id U1); try an email address",
        "other close matches:",
        "- Anna Leigh (id U2)",
        "- Annie Lee (id U3)",
    ]
    assert error.near == near


def test_a_hint_that_would_make_the_first_line_too_long_goes_last() -> None:
    head = "task 'x' not found"  # 18 characters, then "; " and the hint
    fits = "h" * (FIRST_LINE_LIMIT - len(head) - 2)
    assert str(ReferenceNotFound("task", "x", fits)) == f"{head}; {fits}"
    too_long = fits + "h"
    assert str(ReferenceNotFound("task", "x", too_long)).splitlines() == [head, too_long]
    near = [("T1", "y"), ("T2", "z")]
    assert str(ReferenceNotFound("task", "x", too_long, near=near)).splitlines() == [
        f"{head}; closest: y (id T1)",
        "other close matches:",
        "- z (id T2)",
        too_long,
    ]


def test_a_candidate_label_is_one_line_and_at_most_160_characters() -> None:
    error = ReferenceNotFound("task", "x", near=[("T1", "L" * 200)])
    assert str(error) == f"task 'x' not found; closest: {'L' * 160} (id T1)"


def test_an_ambiguous_name_lists_ten_candidates_and_counts_the_rest() -> None:
    candidates = [(f"T{n}", f"Report {n}") for n in range(12)]
    error = AmbiguousReference("task", "Report", candidates)
    assert str(error).splitlines() == [
        "task 'Report' is ambiguous (12 matches): pass one of these ids or a more specific name",
        *[f"- Report {n} (id T{n})" for n in range(10)],
        "- … and 2 more",
    ]
    assert (error.kind, error.reference, error.candidates) == ("task", "Report", candidates)
    ten = AmbiguousReference("task", "Report", candidates[:10])
    assert str(ten).splitlines()[-1] == "- Report 9 (id T9)"
    assert len(str(ten).splitlines()) == 11
