"""Number words to digits: text2num for English and French, the data-driven reader for Norwegian."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from intents.lexicon import lexicon
from intents.normalize import fold

_WORD = re.compile(r"[^\W\d_]+")
_MAX_RUN = 12  # no number is written with more words than this


@dataclass(frozen=True)
class _Morphemes:
    """The number vocabulary of a language, folded, with the longest morphemes tried first."""

    units: dict[str, int]
    tens: dict[str, int]
    scales: dict[str, int]
    joiners: frozenset[str]
    ordered: tuple[str, ...]
    exceptions: tuple[tuple[str, ...], ...]
    minimum: int
    guarded: frozenset[str]
    whole: re.Pattern[str]
    anywhere: re.Pattern[str]


@cache
def _morphemes(lang: str) -> _Morphemes:
    numbers = lexicon(lang).numbers

    def table(key: str) -> dict[str, int]:
        raw = numbers.get(key, {})
        assert isinstance(raw, dict)
        return {fold(str(k)): int(v) for k, v in raw.items()}

    raw_words = [str(k) for key in ("units", "tens", "scales") for k in dict(numbers.get(key, {}) or {})]  # type: ignore[call-overload]
    units, tens, scales = table("units"), table("tens"), table("scales")
    joiners_raw = numbers.get("joiners", [])
    exceptions_raw = numbers.get("exceptions", [])
    guarded_raw = numbers.get("guarded", [])
    assert isinstance(joiners_raw, list) and isinstance(exceptions_raw, list)
    assert isinstance(guarded_raw, list)
    joiners = frozenset(fold(str(j)) for j in joiners_raw)
    minimum_value = int(str(numbers.get("isolated_minimum", 2)))
    small = {w for w, v in units.items() if v < minimum_value} | set(joiners)
    small |= {str(k) for k, v in dict(numbers.get("units", {}) or {}).items() if int(v) < minimum_value}  # type: ignore[call-overload]
    ordered = tuple(sorted({*units, *tens, *scales, *joiners}, key=len, reverse=True))
    return _Morphemes(
        units=units,
        tens=tens,
        scales=scales,
        joiners=joiners,
        ordered=ordered,
        exceptions=tuple(tuple(fold(w) for w in str(e).split()) for e in exceptions_raw),
        minimum=int(str(numbers.get("isolated_minimum", 2))),
        guarded=frozenset(fold(str(g)) for g in guarded_raw),
        whole=re.compile("(?:" + "|".join(re.escape(p) for p in ordered) + ")+") if ordered else re.compile("(?!)"),
        anywhere=re.compile(_word_of(ordered, raw_words, small), re.IGNORECASE)
        if ordered
        else re.compile("(?!)"),
    )


def _word_of(ordered: tuple[str, ...], raw: list[str], small: set[str]) -> str:
    """A regex for a whole word made of number morphemes, other than a lone small one ("en", "og")."""
    pieces = "|".join(sorted({re.escape(w) for w in (*raw, *ordered)}, key=len, reverse=True))
    lone = "|".join(sorted((re.escape(w) for w in small), key=len, reverse=True)) or "(?!)"
    edge = "(?![^\\W\\d_])"
    return f"(?<![^\\W\\d_])(?!(?:{lone}){edge})(?:{pieces})+{edge}"


def _split(word: str, m: _Morphemes) -> list[str] | None:
    """A folded word cut into number morphemes (tohundreogfemti -> to|hundre|og|femti), or None."""
    if len(word) > 40 or m.whole.fullmatch(word) is None:
        return None
    out: list[str] = []
    pos = 0
    while pos < len(word):
        for piece in m.ordered:
            if word.startswith(piece, pos):
                out.append(piece)
                pos += len(piece)
                break
        else:
            return None
    if len(out) > 1 and (out[0] in m.joiners or out[-1] in m.joiners):
        return None
    return out


def _value(pieces: list[str], m: _Morphemes) -> int | None:
    """The value of a run of morphemes, or None when they do not make one number."""
    total = 0
    current = 0
    pending_unit = 0
    last = ""
    for piece in pieces:
        if piece in m.joiners:
            last = "og"
            continue
        if piece in m.units:
            if last in ("unit",):
                return None
            if last == "ten" and current % 10 == 0 and m.units[piece] < 10:
                current += m.units[piece]
            elif last in ("", "scale", "og"):
                pending_unit = m.units[piece]
                current += pending_unit
            else:
                return None
            last = "unit"
        elif piece in m.tens:
            if last == "ten":
                return None
            current += m.tens[piece]
            last = "ten"
        else:
            scale = m.scales[piece]
            if scale == 100:
                if current % 100 == 0 and current > 0 and last != "unit":
                    return None
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
            last = "scale"
    return total + current


def own_words_to_digits(text: str, lang: str) -> str:
    """Norwegian-style number words (written apart or together) replaced by digits."""
    m = _morphemes(lang)
    words = list(_WORD.finditer(text))
    if not words:
        return text
    folded = [fold(w.group()) for w in words]
    split = [_split(f, m) for f in folded]
    if not any(split):
        return text
    out: list[str] = []
    last_end = 0
    i = 0
    n = len(words)
    while i < n:
        if split[i] is None or folded[i] in m.joiners or _exception_at(folded, i, m):
            i += 1
            continue
        j = i
        pieces: list[str] = []
        while j < n and split[j] is not None and j - i < _MAX_RUN:
            if j > i and text[words[j - 1].end() : words[j].start()].strip():
                break
            pieces.extend(split[j] or [])
            j += 1
        while j - 1 > i and folded[j - 1] in m.joiners:
            j -= 1
            pieces = pieces[: -1]
        value = _value(pieces, m)
        if value is None or not _convertible(text, words, folded, i, j, value, m):
            i += 1
            continue
        out.append(text[last_end : words[i].start()])
        out.append(str(value))
        last_end = words[j - 1].end()
        i = j
    out.append(text[last_end:])
    return "".join(out)


def _exception_at(folded: list[str], i: int, m: _Morphemes) -> bool:
    for phrase in m.exceptions:
        if tuple(folded[i : i + len(phrase)]) == phrase:
            return True
    return False


def _convertible(
    text: str, words: list[re.Match[str]], folded: list[str], i: int, j: int, value: int, m: _Morphemes
) -> bool:
    """Whether a run of number words should become digits (small lone words need support)."""
    if j - i > 1 or len(_split(folded[i], m) or []) > 1:
        return True
    if value < m.minimum:
        return False
    if folded[i] in m.guarded:
        # A guarded word ("to") is a number only when no digit or currency precedes it
        # and no @handle follows it: "send 20 kr to @ola" stays as written.
        before = text[: words[i].start()].rstrip()
        after = text[words[i].end() :].lstrip()
        if after.startswith("@") or (before and (before[-1].isdigit() or before[-1] in "$€£")):
            return False
        if before.lower().endswith(("kr", "nok", "kroner", "usd", "eur")):
            return False
    return True


@cache
def _hint(lang: str) -> re.Pattern[str] | None:
    """A quick test for the words a spelled number starts with (the data's `number_hint`)."""
    stems = lexicon(lang).number_hint
    if not stems:
        return None
    return re.compile("(?:" + "|".join(re.escape(s) for s in stems) + ")", re.IGNORECASE)


_MAYBE: dict[str, dict[str, bool]] = {}
_MAYBE_LIMIT = 50_000


def _maybe_number(text: str, lang: str) -> bool:
    """Whether any word of the text could be (or start) a spelled number, remembered per word."""
    seen = _MAYBE.setdefault(lang, {})
    kind = lexicon(lang).number_words
    for raw in _WORD.findall(text):
        hit = seen.get(raw)
        if hit is None:
            word = fold(raw)
            if kind == "own":
                hit = _morphemes(lang).anywhere.fullmatch(word) is not None
            else:
                hint = _hint(lang)
                hit = hint is None or hint.match(word) is not None
            if len(seen) < _MAYBE_LIMIT:
                seen[raw] = hit
        if hit:
            return True
    return False


def words_to_digits(text: str, lang: str) -> str:
    """Spelled numbers in `text` replaced by digits, as the language's data says."""
    kind = lexicon(lang).number_words
    if kind == "none" or not _maybe_number(text, lang):
        return text
    if kind == "text2num":
        from text_to_num import alpha2digit

        return str(alpha2digit(text, lang, threshold=2))
    if kind == "own":
        return own_words_to_digits(text, lang)
    return text
