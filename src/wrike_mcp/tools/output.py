"""Shaping Wrike data for a model's context window (DESIGN §5).

Text written by Wrike users is data: HTML becomes plain text, invisible and bidi control characters are
removed (they can hide instructions from a human reviewer), and long text is cut at a documented limit
with `truncated: true`.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

from pydantic import BaseModel, ConfigDict

DESCRIPTION_LIMIT = 4000
COMMENT_LIMIT = 1500
TITLE_LIMIT = 300

# Zero-width, bidi embedding/override/isolate marks, BOM, soft hyphen, and other format characters.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol"}


class Model(BaseModel):
    """Base of every tool result model: forbids unknown fields so the schema is exact."""

    model_config = ConfigDict(extra="forbid")


class Ref(Model):
    """An id next to a human name."""

    id: str
    name: str | None = None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def clean_text(text: str) -> str:
    """Remove invisible/bidi control characters and other non-printing format characters."""
    text = _INVISIBLE.sub("", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))


def html_to_text(html: str) -> str:
    """Wrike's HTML (descriptions, comments) as plain text, whitespace tidied."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = clean_text("".join(parser.parts))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return re.sub(r"^\n+|\n+$", "", text).replace("\n- \n", "\n")


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """Cut `text` at `limit` characters; the flag says whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip() + "…", True


def plain(html: str | None, limit: int) -> tuple[str | None, bool | None]:
    """HTML → (plain text cut at limit, True if cut else None): ready for `text` + `truncated` fields."""
    if not html:
        return None, None
    text, cut = truncate(html_to_text(html), limit)
    return text or None, (True if cut else None)
