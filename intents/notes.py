"""What a payment is for: "for pizza", "til middag", "pour le resto", or a lone "dinner"."""

from __future__ import annotations

from intents.items import Item

# Categories that end a note: the next slot starts there.
_STOP = (
    "to",
    "with",
    "from",
    "every",
    "other_every",
    "freq",
    "rel",
    "wd",
    "wds",
    "next",
    "in",
    "each",
    "cur",
    "intent",
    "reply",
    "limit",
)
_END_PUNCT = frozenset(".!?;:()")


def _text(source: str, items: list[Item], first: int, last: int) -> str:
    return source[items[first].start : items[last].end].strip(" ,.;:-")


def _is_stop(items: list[Item], it: Item, i: int, first: int) -> bool:
    if it.kind in ("handle", "num"):
        return True
    if it.kind == "punct" and it.text in _END_PUNCT:
        return True
    if it.kind == "phrase" and "poss" in it.cats and i + 1 < len(items) and items[i + 1].kind in ("word", "phrase"):
        # "for her birthday", "til hennes bursdag": a possessive opens or goes on with a note.
        return False
    if it.kind == "phrase" and i > first and any(c in it.cats for c in _STOP):
        # "for pizza and beer" goes on; "for pizza to anna" stops; a note word never stops.
        return "note_word" not in it.cats
    return False


def read_note(source: str, items: list[Item], taken: set[int]) -> tuple[str | None, set[int]]:
    """The note and the items it took; None when the message says nothing it is for."""
    n = len(items)
    for i, it in enumerate(items):
        if i in taken or it.kind != "phrase" or "for" not in it.cats:
            continue
        first = i + 1
        if first >= n or first in taken or _is_stop(items, items[first], first, -1):
            continue
        if items[first].kind == "phrase" and "self" in items[first].cats:
            continue
        last = first
        j = first
        while j < n and j not in taken and not _is_stop(items, items[j], j, first):
            last = j
            j += 1
        while last > first and items[last].kind == "phrase" and "filler" in items[last].cats and "note_word" not in items[last].cats:
            last -= 1
        span = set(range(first, last + 1))
        if all(items[k].kind == "phrase" and "filler" in items[k].cats and "note_word" not in items[k].cats for k in span):
            continue
        return _text(source, items, first, last) or None, span | {i}
    for i, it in enumerate(items):
        if i in taken:
            continue
        if "note_word" in it.cats:
            last = i
            while last + 1 < n and last + 1 not in taken and "note_word" in items[last + 1].cats:
                last += 1
            return _text(source, items, i, last) or None, set(range(i, last + 1))
    return None, set()
