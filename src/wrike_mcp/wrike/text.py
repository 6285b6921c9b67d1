"""Text hygiene shared by error messages and tool output."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher


def strip_invisible(text: str) -> str:
    """Remove control and format characters (zero-width, bidi overrides, BOM…) but keep newlines and tabs.

    Such characters can hide text from a human reviewer of what a model reads.
    """
    if text.isprintable():  # the common case, checked in C: no control, format or separator characters
        return text
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))


# Characters that change how a line reads rather than being read: control (C0, DEL, C1), format (bidi
# overrides and isolates, zero-width), line/paragraph separators, and lone surrogates (not encodable).
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def has_hidden(text: str) -> bool:
    return not text.isprintable() and any(unicodedata.category(ch) in HIDDEN_CATEGORIES for ch in text)


def escaped(text: str) -> str:
    """`text` for a terminal or a log line: hidden characters as `\\x..`/`\\u..` escapes and backslashes doubled,
    so that stored text can neither colour, move or reorder the output nor pass for another row."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(
        ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        if ch == "\\" or unicodedata.category(ch) in HIDDEN_CATEGORIES
        else ch
        for ch in text
    )


def one_line(text: str) -> str:
    """Text on one line: invisible characters removed, runs of whitespace (line breaks too) made one space."""
    return " ".join(strip_invisible(text).split())


def fold(text: str) -> str:
    """The form in which two names are the same name: one line, invisible characters removed, case folded.

    The one rule for every name comparison (references, searches, completion), so that a name pasted with a
    zero-width character is found by all of them or by none.
    """
    return one_line(text).casefold()


NEAR_MATCHES = 5  # candidates a "not found" lists
NEAR_ENOUGH = 0.6  # the least likeness of a near match (0..1)


def likeness(wanted: str, name: str) -> float:
    """How close a name is to what was asked for (0..1), both `fold`ed: a name containing the other or
    sharing its words is close; otherwise their difflib ratio (typos, a letter missing)."""
    a, b = fold(wanted), fold(name)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if min(len(a), len(b)) >= 3 and (a in b or b in a):
        return 0.9
    words_a, words_b = set(a.split()), set(b.split())
    shared = len(words_a & words_b) / len(words_a | words_b)
    by_words = 0.5 + shared / 2 if shared else 0.0
    matcher = SequenceMatcher(None, a, b)
    # the quick upper bounds first: an account's every folder or person may be compared
    if matcher.real_quick_ratio() < NEAR_ENOUGH or matcher.quick_ratio() < NEAR_ENOUGH:
        return by_words
    return max(matcher.ratio(), by_words)


def closest(
    wanted: str, named: Iterable[tuple[str, Sequence[str], str]], limit: int = NEAR_MATCHES
) -> list[tuple[str, str]]:
    """(id, label) of the entries whose names come closest to `wanted`, best first, at most `limit`:
    each entry is (id, names it answers to, label to show). Nothing is guessed: these are only listed."""
    scored = []
    for ident, names, label in named:
        score = max((likeness(wanted, name) for name in names), default=0.0)
        if score >= NEAR_ENOUGH:
            scored.append((-score, label, ident))
    return [(ident, label) for _, label, ident in sorted(scored)[:limit]]


def quoted(value: str, limit: int = 60) -> str:
    """A value a person gave, quoted in a message: one line, invisible characters removed, cut at `limit`."""
    text = one_line(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
