"""The reading of a message as items: words, numbers, @handles and the data's phrases, in order."""

from __future__ import annotations

import re
from decimal import Decimal

from intents.lexicon import common
from intents.normalize import fold
from intents.pipeline import Cats, Reading

# A number as written: digits with separators, "1 000" groups, "200,-", ".5".
NUMBER = re.compile(
    r"(?<![\w@#/:.,])(?:\d{1,3}(?: \d{3})+(?:,\d+)?(?![\d.,])|\d+(?:[.,']\d+)*(?:,-+|,-)?|[.,]\d+)(?![\w:/])"
)
# A Telegram mention: @ and a username (validated after).
HANDLE = re.compile(r"(?<![\w@.])@(\w+)")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# A numeric ordinal: 1st, 2nd, 5th, 1er, 2e, 3ème.
ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|er|re|ère|ere|e|ème|eme|em)$", re.IGNORECASE)
NO_CATS: Cats = {}  # shared by items without categories; never written to
PUNCT = frozenset(".!?:;()[]{}\"'*-…")


class Item:
    """One unit of the reading: a phrase of the data, a number, a handle, a word or punctuation."""

    __slots__ = ("kind", "start", "end", "text", "norm", "cats", "value", "decimals", "ok", "dot", "upper", "valid")

    def __init__(self, kind: str, start: int, end: int, text: str, norm: str, cats: Cats = NO_CATS) -> None:
        self.kind = kind  # "phrase" | "num" | "handle" | "word" | "punct" | "ord"
        self.start = start
        self.end = end
        self.text = text
        self.norm = norm
        self.cats: Cats = cats  # never changed in place: replaced
        self.value: Decimal | None = None
        self.decimals = 0
        self.ok = True
        self.dot = False
        self.upper = False
        self.valid = True

    def has(self, cat: str) -> bool:
        """True when the item carries this category of the data."""
        return cat in self.cats

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        extra = f" {self.cats}" if self.cats else ""
        if self.kind == "num":
            extra += f" ={self.value} d{self.decimals}{'' if self.ok else ' ?'}"
        return f"<{self.kind} {self.text!r}{extra}>"


def read_number(raw: str, decimal_mark: str, group_marks: tuple[str, ...]) -> tuple[Decimal, int, bool]:
    """A written number read by one language's rules: (value, decimals written, unambiguous)."""
    body = raw
    if body.endswith("-"):
        body = body.rstrip("-")
        if body.endswith(","):
            body = body[:-1]
        if body.isdigit():
            return Decimal(body), 0, True
    if body.isdigit():
        return Decimal(body), 0, True
    other = "," if decimal_mark == "." else "."
    intpart, sep, frac = body.rpartition(decimal_mark)
    if sep and frac.isdigit() and decimal_mark not in intpart:
        whole = intpart
    else:
        whole, frac = body, ""
    ok = True
    if whole and not whole.isdigit():
        groups = None
        for mark in group_marks:
            if mark in whole:
                parts = whole.split(mark)
                if (
                    all(p.isdigit() for p in parts)
                    and 1 <= len(parts[0]) <= 3
                    and all(len(p) == 3 for p in parts[1:])
                ):
                    groups = parts
                break
        if groups is None:
            ok = False
            digits = "".join(ch for ch in whole if ch.isdigit())
            # Best guess for display only: the other convention.
            guess = whole.replace(other, ".") if whole.count(other) == 1 else digits
            try:
                return Decimal(guess), len(guess.partition(".")[2]), False
            except ArithmeticError:
                return Decimal(digits or "0"), 0, False
        whole = "".join(groups)
    if frac and other in frac:
        ok = False
    text = (whole or "0") + ("." + frac if frac else "")
    try:
        return Decimal(text), len(frac), ok
    except ArithmeticError:
        return Decimal(0), 0, False


_FOLDS: dict[str, str] = {}


def _fold(word: str) -> str:
    f = _FOLDS.get(word)
    if f is None:
        f = fold(word)
        if len(_FOLDS) < 50000:
            _FOLDS[word] = f
    return f


def build_items(
    text: str,
    reading: Reading,
    decimal_mark: str,
    group_marks: tuple[str, ...],
    exact: dict[str, str] | None = None,
) -> tuple[list[Item], set[str]]:
    """The items of a doc (handles, then the longest tagged span, then numbers, then plain
    words) and every category they carry ("ord" for a numeric ordinal). `exact` maps tickers
    that count only in capitals ("OR") to their symbol."""
    seen: set[str] = set()
    offsets = reading.offsets
    longest = reading.longest
    spans = reading.spans
    n = len(offsets)
    numbers = {m.start(): m.end() for m in NUMBER.finditer(text)} if _DIGIT.search(text) else {}
    handles = {m.start(): m for m in HANDLE.finditer(text)} if "@" in text else {}
    items: list[Item] = []
    handle_max = common().handle_max
    i = 0
    while i < n:
        start, length = offsets[i]
        if handles:
            h = handles.get(start)
            if h is not None:
                name = h.group(1)
                end = h.end()
                item = Item("handle", start, end, h.group(), "@" + name.lower())
                # Telegram usernames: ASCII letters, digits, underscores; a letter first; at most 32.
                item.valid = (
                    _USERNAME.fullmatch(name) is not None
                    and len(name) <= handle_max
                    and not name.endswith("_")
                )
                items.append(item)
                while i < n and offsets[i][0] < end:
                    i += 1
                continue
        e = longest.get(i)
        if e is not None:
            last = offsets[e - 1]
            end_char = last[0] + last[1]
            piece = text[start:end_char]
            item = Item("phrase", start, end_char, piece, "", spans[(i, e)])
            if e - i == 1:
                item.upper = piece.isupper()
                if exact and item.upper and piece in exact:
                    item.cats = {**item.cats, "sym": exact[piece]}
            seen.update(item.cats)
            items.append(item)
            i = e
            continue
        if numbers:
            nend = numbers.get(start)
            if nend is not None:
                raw = text[start:nend]
                item = Item("num", start, nend, raw, raw)
                value, decimals, ok = read_number(raw.replace("'", "x"), decimal_mark, group_marks)
                item.value, item.decimals, item.ok = value, decimals, ok
                if nend < len(text) and text[nend] == "." and (nend + 1 == len(text) or text[nend + 1] == " "):
                    item.dot = True
                    seen.add("ord")
                items.append(item)
                while i < n and offsets[i][0] < nend:
                    i += 1
                continue
        word = text[start : start + length]
        if word in PUNCT or (length == 1 and not word.isalnum()):
            items.append(Item("punct", start, start + length, word, word))
        else:
            m = ORDINAL.match(word) if word[0].isdigit() else None
            if m is not None:
                item = Item("ord", start, start + length, word, word.lower())
                item.value = Decimal(m.group(1))
                seen.add("ord")
            else:
                item = Item("word", start, start + length, word, _fold(word))
                item.upper = word.isupper()
                if item.upper and word.isalpha() and 2 <= length <= 5:
                    # Ticker-like: 2-5 capital letters ("XYZQ", "GME").
                    item.kind = "phrase"
                    if exact and word in exact:
                        item.cats = {"sym": exact[word]}
                        seen.add("sym")
                    else:
                        item.cats = {"tickerlike": ""}
                        seen.add("tickerlike")
                elif "/" in word:
                    seen.add("ord")  # maybe a numeric date: 5/12
            items.append(item)
        i += 1
    return items, seen


_DIGIT = re.compile(r"\d")
