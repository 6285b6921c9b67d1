"""Output shaping (DESIGN §5): Wrike HTML to plain text, invisible characters, truncation, compaction."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import Field

from tests.tools.tool_helpers import SANDBOX_BASE_URL
from wrike_mcp.config import Settings
from wrike_mcp.tools.deps import WrikeContext
from wrike_mcp.tools.output import (
    TITLE_LIMIT,
    Model,
    Ref,
    compact,
    compact_json,
    html_to_text,
    names_of,
    people_refs,
    plain,
    show_title,
    truncate,
)
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.errors import ResourceNotFound
from wrike_mcp.wrike.models import Contact
from wrike_mcp.wrike.text import quoted, strip_invisible


def test_html_becomes_plain_text_with_lists_and_breaks() -> None:
    html = "<p>Intro</p><ul><li>Messaging</li><li>Press &amp; PR</li></ul><p>End<br>line</p>"
    assert html_to_text(html) == "Intro\n\n- Messaging\n- Press & PR\n\nEnd\nline"


def test_scripts_styles_and_markup_never_reach_the_text() -> None:
    html = "<style>p{}</style><script>alert(1)</script><b>bold</b> <i>text</i>"
    assert html_to_text(html) == "bold text"


def test_links_keep_their_web_address() -> None:
    html = (
        'See the <a href="https://wiki.example/tone">tone guide</a>, '
        '<a href="https://x.example">https://x.example</a> and <a href="javascript:alert(1)">this</a>.'
    )
    assert html_to_text(html) == "See the tone guide (https://wiki.example/tone), https://x.example and this."


def test_invisible_and_bidi_characters_are_removed() -> None:
    hidden = "Pay\u200b invoice\u202e now\u2066 \ufeffplease\u00ad"
    assert strip_invisible(hidden) == "Pay invoice now please"
    assert html_to_text(f"<p>{hidden}</p>") == "Pay invoice now please"
    assert strip_invisible("keeps\nnewlines\tand tabs") == "keeps\nnewlines\tand tabs"


def test_long_text_is_cut_and_says_so() -> None:
    assert truncate("short", 10) == ("short", False)
    assert truncate("x" * 10, 10) == ("x" * 10, False)  # exactly at the limit: whole
    assert truncate("one two three", 4) == ("one…", True)  # no space before the ellipsis
    text, cut = truncate("x" * 50, 10)
    assert cut and text == "x" * 10 + "…"
    assert plain("<p>" + "word " * 100 + "</p>", 20)[1] is True
    assert plain(None, 20) == (None, None)


def test_quoted_values_stay_short_and_on_one_line() -> None:
    assert quoted("a\nb\u200bc") == "'a bc'"
    assert len(quoted("y" * 100_000)) <= 62


class Item(Model):
    id: str
    note: str | None = None
    tags: list[str] = Field(default_factory=list)
    owner: Ref | None = None


class Listing(Model):
    items: list[Item]
    total: int
    truncated: bool = False


def test_compaction_drops_optional_defaults_and_keeps_required_fields() -> None:
    empty = Listing(items=[], total=0)
    assert compact(empty) == {"items": [], "total": 0}
    full = Listing(items=[Item(id="T1", tags=["a"], owner=Ref(id="U1", name="Ann"))], total=1, truncated=True)
    assert compact(full) == {
        "items": [{"id": "T1", "tags": ["a"], "owner": {"id": "U1", "name": "Ann"}}],
        "total": 1,
        "truncated": True,
    }


def test_list_items_written_as_paragraphs_stay_on_their_marker_line() -> None:
    """Rich-text editors often wrap an item's text in <p>: the text goes beside its dash, and empty items
    are dropped rather than shown as a lone dash."""
    html = "<ul><li><p>Messaging</p></li><li><p></p></li><li><div>Press</div></li><li></li></ul><p>End</p>"
    assert html_to_text(html) == "- Messaging\n- Press\n\nEnd"
    assert html_to_text("<ul><li>Plan</li><li><p>Press</p></li><li></li></ul>") == "- Plan\n- Press"


def test_an_item_holding_only_blank_space_is_dropped() -> None:
    """A no-break space, a space or a line break is no text: the item is dropped, not shown as a lone dash;
    an item in indented HTML keeps its text on its dash's line."""
    html = "<ul><li><p>&nbsp;</p></li><li> </li><li>\n</li><li>Plan</li></ul>"
    assert html_to_text(html) == "- Plan"
    assert html_to_text("<ul>\n  <li>\n    <p>Press</p>\n  </li>\n</ul><p>End</p>") == "- Press\n\nEnd"


def test_document_text_that_reads_like_a_marker_is_kept() -> None:
    """A paragraph or an item whose text is exactly "- " is the user's text, not a list marker: the dash and
    the line break after it stay."""
    assert html_to_text("<p>- <br>next</p>") == "-\nnext"
    assert html_to_text("<ul><li>- </li><li>Plan</li></ul>") == "- -\n- Plan"


def test_a_link_inside_markup_keeps_its_address_once_after_its_whole_text() -> None:
    assert (
        html_to_text('<a href="https://x.example"><b>tone</b> guide</a>.')
        == "tone guide (https://x.example)."
    )
    assert html_to_text('<a href="http://x.example">site</a>') == "site (http://x.example)"
    # the text already says where it points, even when written in pieces
    assert html_to_text('<a href="https://x.example">https://<b>x.example</b></a>') == "https://x.example"
    assert html_to_text('<a name="top">anchor</a> <a href="mailto:a@b.example">mail</a>') == "anchor mail"


def test_a_title_is_one_line_cut_at_its_limit() -> None:
    assert show_title("Launch\nplan\u200b") == "Launch plan"
    assert show_title(None) == ""
    long = show_title("t" * (TITLE_LIMIT + 10))
    assert long == "t" * TITLE_LIMIT + "…"


def test_compact_json_is_one_line_without_defaults() -> None:
    listing = Listing(items=[Item(id="T1", note="naïve")], total=1)
    assert compact_json(listing) == '{"items":[{"id":"T1","note":"naïve"}],"total":1}'


@pytest.fixture
def deps(wrike_client: WrikeClient) -> WrikeContext:
    return WrikeContext(Settings(base_url=SANDBOX_BASE_URL), wrike_client, mode="sandbox")


async def test_people_are_named_from_the_account_once_each(deps: WrikeContext, sandbox_state: Any) -> None:
    people = sorted(sandbox_state.contacts.values(), key=lambda c: c.id)[:2]
    assert len(people) == 2 and all(p.name for p in people)
    ids = [people[0].id, people[1].id, people[0].id]
    refs = await people_refs(deps, ids)
    assert [(r.id, r.name) for r in refs] == [(people[0].id, people[0].name), (people[1].id, people[1].name)]
    # names looked up once for a whole result are taken as given
    given = await people_refs(deps, ids, {people[0].id: "Given Name"})
    assert [(r.id, r.name) for r in given] == [(people[0].id, "Given Name"), (people[1].id, None)]


async def test_people_outside_the_contact_list_are_named_by_one_lookup() -> None:
    """Someone who left (not in the account's contact list) is looked up once for all such ids; when that
    fails the ids stand alone."""
    asked: list[tuple[str, list[str]]] = []

    async def contacts() -> list[Contact]:
        return [Contact(id="U1", first_name="Ann", last_name="Lee")]

    async def get_many(path: str, ids: list[str]) -> list[dict[str, Any]]:
        asked.append((path, list(ids)))
        return [{"id": "U8", "firstName": "Old"}, {"id": "U9", "firstName": "Former", "lastName": "Hand"}]

    deps: Any = SimpleNamespace(
        resolver=SimpleNamespace(contacts=contacts), client=SimpleNamespace(get_many=get_many)
    )
    names = await names_of(deps, ["U1", "U9", "U8", "U1", ""])
    assert names == {"U1": "Ann Lee", "U9": "Former Hand", "U8": "Old"}
    assert asked == [("/contacts/{ids}", ["U9", "U8"])]

    async def refused(path: str, ids: list[str]) -> list[dict[str, Any]]:
        raise ResourceNotFound(404, "resource_not_found", "gone")

    deps.client.get_many = refused
    assert await names_of(deps, ["U1", "U9"]) == {"U1": "Ann Lee", "U9": None}
    asked.clear()
    deps.client.get_many = get_many
    assert await names_of(deps, ["U1"]) == {"U1": "Ann Lee"} and asked == []
