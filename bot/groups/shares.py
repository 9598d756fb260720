"""Uneven splits and expenses read from a group message, and their shares in minor units by largest remainder.

The intent parser reads "split 60 with @bob @carol" (equal parts); the shapes it has no slot for are read here
from the text: named amounts ("split 90: @bob 30 @carol 60"), shares ("split 100 2:1:1 with @bob @carol"),
percent ("split 100: @bob 50% @carol 30%"), "with everyone", and an expense already paid
("I paid 90 for dinner, split with @bob @carol"). The speaker is always one of the parts, first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ledger.money import split_largest_remainder, to_minor

_CUR_MARK = {"$": "USD", "€": "EUR", "£": "GBP", "usd": "USD", "eur": "EUR", "gbp": "GBP", "nok": "NOK",
             "sek": "SEK", "dkk": "DKK", "kr": "NOK", "dollars": "USD", "euros": "EUR", "euro": "EUR"}
_NUM = r"\d+(?:[.,]\d+)?"
_CUR = r"(?:\$|€|£|usd|eur|gbp|nok|sek|dkk|kr|dollars|euros|euro)"
_SPLIT = re.compile(rf"^/?(?:split|del|partage[rz]?)\s+(?P<pre>[$€£])?\s*(?P<total>{_NUM})\s*(?P<post>{_CUR}\b|[$€£])?",
                    re.IGNORECASE)
_EXPENSE = re.compile(rf"^(?:i\s+)?(?:paid|spent|jeg\s+betalte|j'ai\s+payé)\s+(?P<pre>[$€£])?\s*(?P<total>{_NUM})\s*"
                      rf"(?P<post>{_CUR}\b|[$€£])?(?P<rest>.*)$", re.IGNORECASE)
_EXPENSE_SPLIT = re.compile(r"\b(?:split|shared?|del(?:t)?|partag[ée]e?)\b", re.IGNORECASE)
_PART = re.compile(rf"@(?P<who>[A-Za-z0-9_]{{1,32}})(?![A-Za-z0-9_])\s*[:=]?\s*(?P<pre>[$€£])?\s*(?P<value>{_NUM})\s*(?P<pct>%)?(?!\s*:\d)")
_HANDLE = re.compile(r"@([A-Za-z0-9_]{1,32})")
_RATIO = re.compile(r"(?<![\d.,])(\d+(?:\s*:\s*\d+)+)(?![\d.,])")
_EVERYONE = re.compile(r"\b(?:everyone|everybody|all of us|the group|alle|tout le monde|tous)\b", re.IGNORECASE)
_NOTE = re.compile(r"\bfor\s+(?P<note>[^,@]+?)\s*(?:,|$|\bsplit\b|\bwith\b)", re.IGNORECASE)


class SplitProblem(Exception):
    """A split that cannot be made as written: `code` names why (parts_exceed_total, ratio_count, ...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Uneven:
    """A split as written: the total, how it is divided, between whom. `parts` are (handle, value) of others."""

    total: Decimal
    currency: str | None
    mode: str  # equal, amounts, percent, shares
    parts: tuple[tuple[str, Decimal], ...] = ()
    others: tuple[str, ...] = ()  # handles (lowercased, no '@') of the others, in the order written
    ratio: tuple[int, ...] = ()  # shares, the speaker's first
    everyone: bool = False
    expense: bool = False  # already paid by the speaker: record debts, move nothing
    note: str | None = None
    own: Decimal | None = field(default=None)  # the speaker's value when written ("@me 20")


def _decimal(text: str, lang: str) -> Decimal:
    raw = text.replace(",", ".") if lang in ("nb", "fr") else text.replace(",", "")
    try:
        return Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the patterns only let digits through
        raise SplitProblem("bad_number") from exc


def _currency(pre: str | None, post: str | None) -> str | None:
    mark = (pre or post or "").lower()
    return _CUR_MARK.get(mark)


def read(text: str, lang: str = "en", me: str | None = None) -> Uneven | None:
    """The split or expense a message writes, when it is one of the shapes above (None: not one of them)."""
    body = text.strip()
    expense = False
    m = _SPLIT.match(body)
    if m is None:
        m = _EXPENSE.match(body)
        if m is None or not _EXPENSE_SPLIT.search(m.group("rest")):
            return None
        expense = True
    total = _decimal(m.group("total"), lang)
    currency = _currency(m.group("pre"), m.group("post"))
    rest = body[m.end():] if not expense else m.group("rest")
    note_m = _NOTE.search(rest)
    note = note_m.group("note").strip() if note_m else None
    everyone = bool(_EVERYONE.search(rest))
    named = [(p.group("who").lower(), _decimal(p.group("value"), lang), bool(p.group("pct")), p.group("pre"))
             for p in _PART.finditer(rest)]
    handles: list[str] = []
    for h in _HANDLE.findall(rest):
        if h.lower() not in handles:
            handles.append(h.lower())
    own: Decimal | None = None
    if me is not None:
        mine = [n for n in named if n[0] == me.lower()]
        if mine:
            own = mine[0][1]
        named = [n for n in named if n[0] != me.lower()]
        handles = [h for h in handles if h != me.lower()]
    ratio_m = _RATIO.search(rest)
    if named:
        pcts = {n[2] for n in named}
        if len(pcts) > 1:
            raise SplitProblem("mixed_parts")
        mode = "percent" if pcts == {True} else "amounts"
        if currency is None:
            currency = next((_currency(n[3], None) for n in named if n[3]), None)
        if len({n[0] for n in named}) != len(named):
            raise SplitProblem("named_twice")
        return Uneven(total, currency, mode, tuple((n[0], n[1]) for n in named), tuple(handles), everyone=everyone,
                      expense=expense, note=note, own=own)
    if ratio_m is not None:
        ratio = tuple(int(x) for x in re.split(r"\s*:\s*", ratio_m.group(1)))
        return Uneven(total, currency, "shares", (), tuple(handles), ratio=ratio, everyone=everyone, expense=expense,
                      note=note)
    if not handles and not everyone:
        return None if not expense else Uneven(total, currency, "equal", (), (), everyone=True, expense=True, note=note)
    return Uneven(total, currency, "equal", (), tuple(handles), everyone=everyone, expense=expense, note=note)


def is_uneven(u: Uneven) -> bool:
    """Whether the parser's own equal split does not already say it (named parts, shares, percent, everyone, expense)."""
    return u.mode != "equal" or u.everyone or u.expense


def shares(u: Uneven, total_minor: int, currency: str, keys: list[str]) -> list[int]:
    """The minor units of each part; keys are the speaker's then the others' (as `others` lists them, then the
    rest of everyone). Parts sum to the total exactly; rounding by largest remainder, ties to the smallest key."""
    n = len(keys)
    if n < 2:
        raise SplitProblem("nobody_to_split_with")
    if u.mode == "equal":
        return split_largest_remainder(total_minor, [1] * n, keys)
    if u.mode == "shares":
        if len(u.ratio) != n:
            raise SplitProblem("ratio_count")
        if sum(u.ratio) == 0:
            raise SplitProblem("ratio_zero")
        return split_largest_remainder(total_minor, list(u.ratio), keys)
    named = dict(u.parts)
    others = keys[1:]
    if u.mode == "amounts":
        out = [0]
        for k in others:
            value = named.get(k, Decimal(0))
            out.append(to_minor(value, currency))
        if u.own is not None:
            out[0] = to_minor(u.own, currency)
            if sum(out) != total_minor:
                raise SplitProblem("parts_differ_from_total")
        else:
            out[0] = total_minor - sum(out[1:])
            if out[0] < 0:
                raise SplitProblem("parts_exceed_total")
        return out
    # percent: thousandths of a percent as integer weights; the speaker has what is not named
    weights = [int(named.get(k, Decimal(0)) * 1000) for k in others]
    if any(w < 0 for w in weights) or sum(weights) > 100_000:
        raise SplitProblem("percent_over_100")
    own_w = int(u.own * 1000) if u.own is not None else 100_000 - sum(weights)
    if own_w + sum(weights) != 100_000:
        raise SplitProblem("percent_not_100")
    return split_largest_remainder(total_minor, [own_w, *weights], keys)
