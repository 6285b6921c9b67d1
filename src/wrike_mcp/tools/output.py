"""Shaping Wrike data for a model's context window (DESIGN §5).

Text written by Wrike users is data: HTML becomes plain text, invisible and bidi control characters are
removed (they can hide instructions from a human reviewer), and long text is cut at a documented limit
with `truncated: true`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.text import one_line, strip_invisible

if TYPE_CHECKING:
    from wrike_mcp.tools.deps import WrikeContext

DESCRIPTION_LIMIT = 4000
COMMENT_LIMIT = 1500
TITLE_LIMIT = 300

_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "ul",
    "ol",
}


class Model(BaseModel):
    """Base of every tool result model: forbids unknown fields so the schema is exact."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Ref(Model):
    """An id next to a human name."""

    id: str
    name: str | None = None


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._links: list[tuple[str | None, int]] = []  # open <a>: its web address, where its text starts
        # Where the marker of a list item with no text yet was written: known by its place, because
        # document text can read exactly like a marker ("- ")
        self._open_marker: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            web = href if href.startswith(("https://", "http://")) else None
            self._links.append((web, len(self.parts)))
        elif tag == "li":
            # an item after a block that ended its line starts right there: no blank line between items
            self.parts.append("- " if self.parts and self.parts[-1].endswith("\n") else "\n- ")
            self._open_marker = len(self.parts) - 1
        elif tag in _BLOCK_TAGS and not self._item_just_opened():
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag == "a" and self._links:
            # Keep where a link points (it is often the point of the sentence), unless the text already says it
            href, start = self._links.pop()
            text = "".join(self.parts[start:]).strip()
            if href and href != text:
                self.parts.append(f" ({href})")
        elif tag == "li":
            if self._item_just_opened():  # an empty item is no item
                self.parts.pop()
                self._open_marker = None
        elif tag in _BLOCK_TAGS and not self._item_just_opened():
            self.parts.append("\n")

    def _item_just_opened(self) -> bool:
        """Whether a list item's marker is the last thing written: its text (often in a <p>) goes on the
        marker's line, not below it."""
        return self._open_marker == len(self.parts) - 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._item_just_opened() and not data.strip():
            return  # blank space after a marker (indented HTML, a lone &nbsp;) is not the item's text
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Wrike's HTML (descriptions, comments) as plain text, whitespace tidied."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = strip_invisible("".join(parser.parts))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return re.sub(r"^\n+|\n+$", "", text)


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """Cut `text` at `limit` characters; the flag says whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit].rstrip() + "…", True


def show_title(value: Any) -> str:
    """A title or name written by a Wrike user, for output: one line, invisible characters removed, cut at
    TITLE_LIMIT ("" when absent)."""
    return truncate(one_line(str(value or "")), TITLE_LIMIT)[0]


def plain(html: str | None, limit: int) -> tuple[str | None, bool | None]:
    """HTML → (plain text cut at limit, True if cut else None): ready for `text` + `truncated` fields."""
    if not html:
        return None, None
    text, cut = truncate(html_to_text(html), limit)
    return text or None, (True if cut else None)


async def names_of(deps: WrikeContext, ids: Iterable[str]) -> dict[str, str | None]:
    """Contact id → name, from the cached contact list (one batched lookup for ids outside it)."""
    wanted = [ident for ident in dict.fromkeys(ids) if ident]
    known = {contact.id: contact.name for contact in await deps.resolver.contacts()}
    found: dict[str, str | None] = {ident: known.get(ident) for ident in wanted}
    missing = [ident for ident in wanted if ident not in known]
    if missing:
        try:
            for contact in await deps.client.get_many("/contacts/{ids}", missing):
                name = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p)
                found[str(contact.get("id"))] = name or None
        except WrikeError:
            pass  # names are a courtesy; the ids stand on their own
    return found


async def people_refs(
    deps: WrikeContext, ids: Iterable[str], names: Mapping[str, str | None] | None = None
) -> list[Ref]:
    """People as `{id, name}`, duplicates dropped; `names` from one `names_of` call for a whole result."""
    ids = list(dict.fromkeys(ids))
    names = names if names is not None else await names_of(deps, ids)
    return [Ref(id=ident, name=names.get(ident)) for ident in ids]


def compact(model: BaseModel) -> dict[str, Any]:
    """A result model as JSON data with optional fields left out while they hold their default (DESIGN §5).

    Optional fields default to None, an empty list, False or 0, so "empty" is "at its default"; required
    fields always appear (an empty list result still says `"items": []`), so the data always matches the
    published outputSchema. pydantic does this in one pass, which matters for 200-item results.
    """
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def json_text(data: Any) -> str:
    """Result data as one line of JSON: the text block that goes beside `structuredContent`."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def compact_json(model: BaseModel) -> str:
    """`compact(model)` as one line of JSON: the text form of a tool result or resource."""
    return json_text(compact(model))
