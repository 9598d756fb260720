"""Unicode clean-up of chat text: spaces, digits, quotes, dashes, emoji and control characters."""

from __future__ import annotations

import re
import unicodedata

# Characters that NFKC leaves alone but chat text uses for quotes, dashes and spaces.
_FIXED: dict[int, str] = {
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u0060\u00b4\u02bc\u02b9\uff07"},
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a\uff02"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"},
    **{ord(c): " " for c in "\t\n\r\x0b\x0c\u00a0\u2007\u2009\u200a\u202f\u205f\u3000\u2028\u2029"},
    ord("\u2044"): "/",  # fraction slash
    ord("\u00d7"): "x",
}
# Characters dropped outright: zero-width and format characters (they split numbers and words).
_DROP_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
# Characters turned into a space: controls, symbols (emoji), private use, unassigned, surrogates.
_SPACE_CATEGORIES = frozenset({"Cc", "Co", "Cn", "Cs", "So", "Sk", "Zl", "Zp", "Zs"})
_CHAR_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 20000
_SPACES = re.compile(r" {2,}")


def _map_char(ch: str) -> str:
    """The replacement of one non-ASCII character after NFKC."""
    cat = unicodedata.category(ch)
    if cat in _DROP_CATEGORIES:
        return ""
    if cat in _SPACE_CATEGORIES:
        return " "
    return ch


def normalize(text: str) -> str:
    """Chat text made regular: NFKC, one kind of space, quote and dash; no emoji or controls."""
    if text.isascii():
        if text.isprintable():
            out = text
        else:
            out = "".join(c if c.isprintable() else " " for c in text)
    else:
        out = unicodedata.normalize("NFKC", text.translate(_FIXED)).translate(_FIXED)
        table: dict[int, str] = {}
        for ch in set(out):
            if ch.isascii():
                if not ch.isprintable():
                    table[ord(ch)] = " "
                continue
            mapped = _CHAR_CACHE.get(ch)
            if mapped is None:
                mapped = _map_char(ch)
                if len(_CHAR_CACHE) < _CACHE_LIMIT:
                    _CHAR_CACHE[ch] = mapped
            if mapped != ch:
                table[ord(ch)] = mapped
        if table:
            out = out.translate(table)
    if "  " in out:
        out = _SPACES.sub(" ", out)
    return out.strip()


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_SPELLED = {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "ð": "d"}
# Latin letters with marks, folded once: a str.translate table instead of NFKD per call.
_FOLD_TABLE: dict[int, str] = {
    cp: _SPELLED.get(chr(cp), None) or _strip_marks(chr(cp))
    for cp in range(0xC0, 0x250)
    if chr(cp).islower() or not chr(cp).isalpha()
}


def fold(word: str) -> str:
    """A word folded for matching: lower case, accents off, ø/æ/œ/ß spelled out in ASCII."""
    low = word.lower()
    if low.isascii():
        return low
    low = low.translate(_FOLD_TABLE)
    if low.isascii():
        return low
    return _strip_marks(low)
