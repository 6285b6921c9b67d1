"""Arguments as every tool takes them (tools/inputs.py): dates and instants, ranges, titles, text to HTML,
refusals stated together, and list cursors. Each expected value is written out here by hand."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from wrike_mcp.encoding import b64url
from wrike_mcp.tools.inputs import (
    BAD_CURSOR,
    OTHER_QUERY,
    PagePosition,
    check_range,
    checked_together,
    clean_title,
    decode_cursor,
    detail_arg,
    each,
    offset_cursor,
    page_cursor,
    page_slice,
    parse_day,
    parse_instant,
    read_offset_cursor,
    read_page_cursor,
    text_to_html,
    tracked_range,
    wrike_range,
)

TODAY = date(2026, 3, 10)


# ---- days ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("today", date(2026, 3, 10)),
        (" Tomorrow ", date(2026, 3, 11)),
        ("YESTERDAY", date(2026, 3, 9)),
        ("2026-02-28", date(2026, 2, 28)),
        (" 2026-02-28 ", date(2026, 2, 28)),
        ("2026-02-28T23:30:00Z", date(2026, 2, 28)),  # a datetime's date part
        ("2026-02-28T23:30:00+05:00", date(2026, 2, 28)),
        ("2026-02-28Z", date(2026, 2, 28)),  # a date with a zone letter, eleven characters
        ("1970-01-01", date(1970, 1, 1)),
        ("2099-12-31", date(2099, 12, 31)),
    ],
)
def test_a_day_is_an_iso_date_a_datetimes_date_or_a_relative_word(given: str, expected: date) -> None:
    assert parse_day(given, "due_date", today=TODAY) == expected


def test_no_day_given_is_no_day() -> None:
    assert parse_day(None, "due_date", today=TODAY) is None


@pytest.mark.parametrize("given", ["1969-12-31", "2100-01-01", "2100-01-01T00:00:00Z"])
def test_a_day_outside_wrikes_years_is_refused_naming_the_argument(given: str) -> None:
    with pytest.raises(ToolError, match=f"^due_date '{given}' is out of Wrike's range"):
        parse_day(given, "due_date", today=TODAY)


@pytest.mark.parametrize("given", ["2026-02-30", "next week", "", "31/03/2026"])
def test_a_day_that_is_no_date_is_refused_naming_the_argument(given: str) -> None:
    with pytest.raises(ToolError, match=r"^due_date .* is not a valid date"):
        parse_day(given, "due_date", today=TODAY)


def test_an_over_long_bad_value_is_cut_in_the_refusal() -> None:
    """A refusal quotes what was given, cut short (60 characters for a day, 40 for an instant), whether it
    is no date or a date out of range: a pasted paragraph does not fill the model's context with itself."""
    with pytest.raises(ToolError, match="^due_date '" + "x" * 59 + "…' is not a valid date"):
        parse_day("x" * 100, "due_date")
    with pytest.raises(ToolError, match="^since '" + "y" * 39 + "…' is not a date"):
        parse_instant("y" * 100, "since")
    late = "2100-01-01T00:00:00." + "1" * 60  # a datetime with 60 digits of second: Python reads it
    with pytest.raises(
        ToolError, match="^due_date '2100-01-01T00:00:00." + "1" * 39 + "…' is out of Wrike's range"
    ):
        parse_day(late, "due_date")


def test_relative_words_need_a_today() -> None:
    """Where no user's today is at hand (a stored date), 'today' is not a date."""
    with pytest.raises(ToolError, match="is not a valid date"):
        parse_day("today", "current due")


# ---- instants --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "end_of_day", "expected"),
    [
        ("2026-03-10", False, datetime(2026, 3, 10, 0, 0, 0, tzinfo=UTC)),
        ("2026-03-10", True, datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)),  # an `until` covers the day
        (" 2026-03-10 ", True, datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)),
        ("2026-03-10T09:15:30", False, datetime(2026, 3, 10, 9, 15, 30, tzinfo=UTC)),  # no zone: UTC
        ("2026-03-10T09:15:30.987654Z", True, datetime(2026, 3, 10, 9, 15, 30, tzinfo=UTC)),
        ("2026-03-10T01:00:00+02:00", False, datetime(2026, 3, 9, 23, 0, 0, tzinfo=UTC)),
    ],
)
def test_an_instant_is_utc_to_the_second(given: str, end_of_day: bool, expected: datetime) -> None:
    parsed = parse_instant(given, "since", end_of_day=end_of_day)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == expected.utcoffset() and parsed.microsecond == 0


def test_no_instant_given_is_none() -> None:
    assert parse_instant(None, "since") is None


@pytest.mark.parametrize(
    ("given", "refusal"),
    [
        ("  ", "^since is empty"),
        ("2026-02-30", "^since '2026-02-30' is not a real date"),
        ("yesterday", "^since 'yesterday' is not a date"),
        ("1969-12-31", "^since '1969-12-31' is out of Wrike's range"),
        ("2100-01-01T00:00:00", "^since '2100-01-01T00:00:00' is out of Wrike's range"),
    ],
)
def test_an_instant_that_is_none_is_refused(given: str, refusal: str) -> None:
    with pytest.raises(ToolError, match=refusal):
        parse_instant(given, "since")


# ---- ranges ----------------------------------------------------------------------------------------------


def test_wrike_range_writes_dates_as_days_and_datetimes_as_timestamps() -> None:
    assert wrike_range(None, None) is None
    assert wrike_range(date(2026, 3, 1), None) == {"start": "2026-03-01"}
    assert wrike_range(None, date(2026, 3, 31)) == {"end": "2026-03-31"}
    moment = datetime(2026, 3, 1, 7, 5, 9, tzinfo=UTC)
    assert wrike_range(moment, date(2026, 3, 31)) == {"start": "2026-03-01T07:05:09Z", "end": "2026-03-31"}


def test_tracked_range_covers_the_first_and_last_day_whole() -> None:
    assert tracked_range(None, None) is None
    assert tracked_range(date(2026, 3, 1), date(2026, 3, 2)) == {
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-03-02T23:59:59Z",
    }
    assert tracked_range(None, date(2026, 3, 2)) == {"end": "2026-03-02T23:59:59Z"}
    assert tracked_range(date(2026, 3, 1), None) == {"start": "2026-03-01T00:00:00Z"}


def test_a_range_may_be_one_day_or_open_but_not_backwards() -> None:
    check_range(date(2026, 3, 1), date(2026, 3, 1), "from", "to")
    check_range(None, date(2026, 3, 1), "from", "to")
    check_range(date(2026, 3, 1), None, "from", "to")
    with pytest.raises(ToolError, match=r"^to 2026-02-28 is before from 2026-03-01"):
        check_range(date(2026, 3, 1), date(2026, 2, 28), "from", "to")


# ---- text ------------------------------------------------------------------------------------------------


def test_a_title_is_one_line_and_never_blank() -> None:
    assert clean_title("  Launch\nplan\t v2 ", "task") == "Launch plan v2"
    with pytest.raises(ToolError, match=r"^the task title is empty"):
        clean_title(" \n\u200b ", "task")


def test_text_becomes_escaped_html_keeping_line_breaks() -> None:
    assert text_to_html("  <b>Tom & Jerry</b>\nsecond line\u200b\n") == (
        "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;<br>second line"
    )


# ---- refusals together -----------------------------------------------------------------------------------


def refuse(message: str) -> None:
    raise ToolError(message)


def test_checks_that_pass_give_their_results_in_order() -> None:
    assert checked_together(lambda: 1, lambda: "two") == [1, "two"]


def test_every_refusal_is_stated_at_once_first_lines_first() -> None:
    with pytest.raises(ToolError) as refused:
        checked_together(lambda: 1, lambda: refuse("a is bad\nwhy a"), lambda: refuse("b is bad"))
    assert str(refused.value) == "a is bad; b is bad\nwhy a"


# ---- cursors ---------------------------------------------------------------------------------------------


def test_a_page_cursor_gives_back_its_position_and_extra_fields() -> None:
    cursor = page_cursor(PagePosition("tok", 3, 50), "key1", m=7)
    position, fields = read_page_cursor(cursor, "key1")
    assert position == PagePosition("tok", 3, 50)
    assert fields["m"] == 7


def test_a_cursor_of_another_query_is_refused_as_such() -> None:
    cursor = page_cursor(PagePosition(None, 0, 100), "key1")
    with pytest.raises(ToolError) as refused:
        read_page_cursor(cursor, "key2")
    assert str(refused.value) == OTHER_QUERY


def forged(**fields: object) -> str:
    """A cursor as someone other than this server could write it."""
    return b64url(json.dumps(fields).encode())


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        forged(t=None, s=0, p=100),  # no query key
        forged(k=5, t=None, s=0, p=100),
        b64url(b"[1, 2]"),
        forged(k="key1", t=7, s=0, p=100),
        forged(k="key1", t=None, s=-1, p=100),
        forged(k="key1", t=None, s=True, p=100),
        forged(k="key1", t=None, s=0, p=0),
        forged(k="key1", t=None, s=0, p=1001),
        forged(k="key1", t=None, s=0),
    ],
)
def test_a_cursor_not_written_for_this_query_is_refused(cursor: str) -> None:
    with pytest.raises(ToolError) as refused:
        read_page_cursor(cursor, "key1")
    assert str(refused.value) == BAD_CURSOR


def test_page_sizes_at_the_bounds_are_taken() -> None:
    assert read_page_cursor(forged(k="key1", t=None, s=0, p=1), "key1")[0].page_size == 1
    assert read_page_cursor(forged(k="key1", t=None, s=0, p=1000), "key1")[0].page_size == 1000


def test_a_cursor_checked_by_its_caller_needs_no_key() -> None:
    assert decode_cursor(forged(x=1), None) == {"x": 1}


def test_a_list_held_in_full_pages_by_offset_to_its_end() -> None:
    items = list(range(7))
    first, cursor = page_slice(items, 0, 3, "key1")
    assert first == [0, 1, 2] and cursor is not None
    offset = read_offset_cursor(cursor, "key1")
    assert offset == 3
    second, cursor = page_slice(items, offset, 3, "key1")
    assert second == [3, 4, 5] and cursor is not None
    last, cursor = page_slice(items, read_offset_cursor(cursor, "key1"), 3, "key1")
    assert last == [6] and cursor is None
    exact, cursor = page_slice(items[:6], 3, 3, "key1")
    assert exact == [3, 4, 5] and cursor is None  # a page ending at the list's end has no next one


def test_no_cursor_is_the_start_and_a_bad_offset_is_refused() -> None:
    assert read_offset_cursor(None, "key1") == 0
    assert read_offset_cursor("", "key1") == 0
    for offset in (-1, "3", True, None):
        with pytest.raises(ToolError) as refused:
            read_offset_cursor(forged(k="key1", o=offset), "key1")
        assert str(refused.value) == BAD_CURSOR


def test_an_offset_cursor_of_another_query_is_refused_as_such() -> None:
    with pytest.raises(ToolError) as refused:
        read_offset_cursor(offset_cursor(3, "key1"), "key2")
    assert str(refused.value) == OTHER_QUERY


@pytest.fixture
def server_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server machine's local zone is not UTC (CI machines' is): UTC must come from the code."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("server_in_new_york")
def test_a_timestamp_sent_to_wrike_is_utc_whatever_the_servers_zone() -> None:
    moment = datetime(2026, 3, 1, 9, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert wrike_range(moment, None) == {"start": "2026-03-01T07:00:00Z"}


@pytest.mark.usefixtures("server_in_new_york")
def test_an_instant_without_a_zone_is_utc_whatever_the_servers_zone() -> None:
    for given, expected in [
        ("2026-03-10T09:15:30", datetime(2026, 3, 10, 9, 15, 30, tzinfo=UTC)),
        ("2026-03-10T01:00:00+02:00", datetime(2026, 3, 9, 23, 0, 0, tzinfo=UTC)),
    ]:
        parsed = parse_instant(given, "since")
        assert parsed == expected and parsed is not None and parsed.utcoffset() == timedelta(0)


def test_a_list_parameter_says_what_each_item_may_be() -> None:
    """What a model reads beside a list of references: the plural, then the one reference's phrase."""
    assert each("task: title, permalink or id", "tasks") == "tasks, each: title, permalink or id"
    assert each("space: a title: or id", "spaces") == "spaces, each: a title: or id"


def test_the_detail_parameter_says_what_full_adds() -> None:
    assert detail_arg("permalinks").description == "full: also permalinks"
