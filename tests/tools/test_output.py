"""Output shaping (DESIGN §5): Wrike HTML to plain text, invisible characters, truncation, compaction."""

from __future__ import annotations

from pydantic import Field

from wrike_mcp.tools.output import Model, Ref, compact, html_to_text, plain, truncate
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
