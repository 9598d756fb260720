"""Money amounts: a number, its multiplier and its currency mark, checked against the currency's decimals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from intents.items import Item
from intents.lexicon import common, lexicon
from intents.normalize import fold


@dataclass(slots=True)
class Money:
    """A number read as money (or a count): value, currency if written, and whether it is sure."""

    value: Decimal
    currency: str | None
    decimals: int
    ok: bool
    first: int
    last: int
    num: int
    pct: bool = False


@cache
def currency_decimals(code: str | None) -> int:
    """Digits after the decimal mark a currency allows (babel's ISO 4217 data)."""
    if code is None:
        return common().default_decimals
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(code))


@cache
def _glued_words() -> frozenset[str]:
    """Currency and multiplier words that may be glued to a number ("20kr", "2k", "20eur")."""
    out: set[str] = {c.lower() for c in common().currency_codes}
    for lang in common().languages:
        for cat, _value, phrase in lexicon(lang).phrases:
            if cat in ("cur", "mult") and phrase.isalpha() and " " not in phrase:
                out.add(fold(phrase))
    return frozenset(out)


_GLUED = re.compile(r"(?<![\w.,])(\d[\d.,]*(?:,-)?)([^\W\d_]+)\b")
_GLUED_BEFORE = re.compile(r"(?<![\w@#])([^\W\d_]{1,4}\.?)(?=\d)")
_SYMBOL_BEFORE = re.compile(r"([$€£])(?=\d)")
_SYMBOL_AFTER = re.compile(r"(?<=\d)([$€£])")
_AT_NUMBER = re.compile(r"@(?=\d)")
# Something glued to a digit other than a number's own marks: "20kr", "$20", "@180", "-20", "1st".
_GLUE_AFTER = re.compile(r"\d(?:,-+)?[^\d\s.,'/:\-]")
_GLUE_BEFORE = re.compile(r"[^\d\s.,'/:]\.?\d")
_SIGN = re.compile(r"(?<![\w,.])([-+])(?=\d)")


def presplit(text: str) -> str:
    """Numbers cut from glued currency marks and multipliers: "20kr" -> "20 kr", "$20" -> "$ 20"."""
    if _GLUE_AFTER.search(text) is None and _GLUE_BEFORE.search(text) is None:
        return text
    glued = _glued_words()

    def cut(m: re.Match[str]) -> str:
        if fold(m.group(2)) in glued:
            return f"{m.group(1)} {m.group(2)}"
        return m.group(0)

    def cut_before(m: re.Match[str]) -> str:
        if fold(m.group(1).rstrip(".")) in glued:
            return m.group(1) + " "
        return m.group(0)

    out = _GLUED.sub(cut, text)
    out = _GLUED_BEFORE.sub(cut_before, out)
    if "$" in out or "€" in out or "£" in out:
        out = _SYMBOL_BEFORE.sub(r"\1 ", out)
        out = _SYMBOL_AFTER.sub(r" \1", out)
    if "@" in out:
        out = _AT_NUMBER.sub("@ ", out)
    if "-" in out or "+" in out:
        out = _SIGN.sub(r"\1 ", out)
    return out


def _cur(it: Item) -> str | None:
    return it.cats.get("cur")


def read_money(items: list[Item], used: set[int]) -> list[Money]:
    """Every number not used by a date, with its multiplier and adjacent currency marks."""
    out: list[Money] = []
    taken: set[int] = set()
    n = len(items)
    for i, it in enumerate(items):
        if i in used or i in taken:
            continue
        if it.kind == "num" and it.value is not None:
            value, decimals, ok = it.value, it.decimals, it.ok
            first = last = i
            j = i + 1
            if j < n and j not in used and "mult" in items[j].cats:
                mult = Decimal(items[j].cats["mult"])
                value *= mult
                decimals = max(0, decimals - (len(str(int(mult))) - 1))
                last = j
                j += 1
            after = _cur(items[j]) if j < n and j not in used else None
            if after is not None:
                last = j
                taken.add(j)
                # "$20 USD": a second mark right after
            before = None
            if i > 0 and (i - 1) not in used and (i - 1) not in taken:
                before = _cur(items[i - 1])
                if before is not None:
                    first = i - 1
                    taken.add(i - 1)
            if before and after and before != after:
                ok = False
            currency = after or before
            if currency == "?":
                # A currency the contract does not read ("svenske kroner", "yen"): ask.
                ok, currency = False, None
            if i > 0 and items[i - 1].kind == "punct" and items[i - 1].text == "-":
                if i < 2 or items[i - 2].kind != "num":
                    ok = False
            if value <= 0:
                ok = False
            if decimals > currency_decimals(currency):
                ok = False
            pct = j < n and "pct" in items[j].cats
            if pct:
                last = j
                taken.add(j)
            elif (
                j + 1 < n
                and "per" in items[j].cats
                and items[j + 1].kind == "num"
                and items[j + 1].value == 100
                and j + 1 not in used
            ):
                # "50 pour cent" (text2num makes it "50 pour 100"), "5 per 100": a percent.
                pct = True
                last = j + 1
                taken.update((j, j + 1))
            out.append(Money(value, currency, decimals, ok, first, last, i, pct))
        elif "one" in it.cats and i + 1 < n and "shares" in items[i + 1].cats and i + 1 not in used:
            # "buy one share of apple", "kjøp én aksje"
            out.append(Money(Decimal(1), None, 0, True, i, i, i))
        elif "one" in it.cats and i + 1 < n and _cur(items[i + 1]) is not None and i + 1 not in used:
            currency = _cur(items[i + 1])
            taken.add(i + 1)
            sure = currency != "?"
            out.append(Money(Decimal(1), currency if sure else None, 0, sure, i, i + 1, i))
    return out


def free_currencies(items: list[Item], money: list[Money], used: set[int]) -> list[str]:
    """Currency marks that no amount took ("in euros", "balance in EUR")."""
    taken: set[int] = set()
    for m in money:
        taken.update(range(m.first, m.last + 1))
    return [
        it.cats["cur"]
        for i, it in enumerate(items)
        if "cur" in it.cats and i not in taken and i not in used and it.kind == "phrase"
    ]


def unknown_currency(items: list[Item]) -> bool:
    """True when the text names a currency the data cannot map to a code."""
    return any(it.cats.get("cur") == "?" for it in items)
