"""Text hygiene shared by error messages and tool output."""

from __future__ import annotations

import unicodedata


def strip_invisible(text: str) -> str:
    """Remove control and format characters (zero-width, bidi overrides, BOM…) but keep newlines and tabs.

    Such characters can hide text from a human reviewer of what a model reads.
    """
    if text.isprintable():  # the common case, checked in C: no control, format or separator characters
        return text
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))


def quoted(value: str, limit: int = 60) -> str:
    """A value a person gave, quoted in a message: one line, invisible characters removed, cut at `limit`."""
    text = " ".join(strip_invisible(value).split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
