"""The wave-2 intents of the contract that are not payments: convert, schedules, unschedule,
debts, settle and red_packet (collect and tip are read as payments, in parser.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from intents.amounts import Money, free_currencies, read_money
from intents.dates import TimeReading
from intents.handles import read_counterparties
from intents.items import Item
from intents.model import Intent
from intents.notes import read_note
from intents.trades import read_symbol

if TYPE_CHECKING:  # pragma: no cover
    from intents.parser import Reader

WAVE2 = frozenset({"convert", "schedules", "unschedule", "debts", "settle", "red_packet"})


def names_a_schedule(items: list[Item], time: TimeReading, seen: set[str]) -> bool:
    """A cancel word that names a standing order: a recurrence, "standing order"/"fast"/"permanent",
    a payee or an instrument ("cancel my weekly VOO buy", "avbryt den faste til @ola")."""
    if time.recurrence is not None or "standing" in seen or "sym" in seen:
        return True
    return any(it.kind == "handle" and it.valid and not it.norm.endswith("bot") for it in items)


def _count_like(items: list[Item], m: Money) -> bool:
    """A number that counts people: "5 people", "the first 3", "for 5" when it is not money."""
    if m.currency is not None:
        return False
    prev = items[m.first - 1] if m.first > 0 else None
    nxt = items[m.last + 1] if m.last + 1 < len(items) else None
    return (nxt is not None and "people" in nxt.cats) or (
        prev is not None and ("first" in prev.cats or "for" in prev.cats or "to" in prev.cats)
    )


def _count(items: list[Item], money: list[Money], amount: Money | None) -> tuple[str | None, bool]:
    """How many parts: "for 5 people", "for the first 3", "til 4", "pour 6". (count, doubtful)."""
    counts: list[Decimal] = []
    for m in money:
        if m is amount or m.currency is not None:
            continue
        prev = items[m.first - 1] if m.first > 0 else None
        nxt = items[m.last + 1] if m.last + 1 < len(items) else None
        if (
            (nxt is not None and "people" in nxt.cats)
            or (prev is not None and ("first" in prev.cats or "for" in prev.cats or "to" in prev.cats))
        ):
            counts.append(m.value)
    if not counts:
        return None, False
    value = counts[0]
    if len(counts) > 1 or value != value.to_integral_value() or value < 1:
        return None, True
    return str(int(value)), False


def read(
    reader: Reader,
    intent: str,
    source: str,
    items: list[Item],
    used: set[int],
    trigger: int,
    time: TimeReading,
    clarify: str | None,
    seen: set[str],
) -> Intent:
    """The Intent of a wave-2 message (not a payment, not a trade)."""
    lang = reader.lang
    if intent == "schedules":
        return Intent("schedules", lang, clarify=clarify)
    anchors = [trigger + 1] if trigger >= 0 else [0]
    if intent in ("debts", "settle", "unschedule"):
        cp = read_counterparties(items, used, anchors)
        recipients = [r for r in cp.recipients if r != "reply" or reader.reply is not False]
        if reader.reply is False and "reply" in cp.recipients and not recipients:
            clarify = clarify or "missing_recipient"
        if cp.doubtful and clarify is None:
            clarify = "missing_recipient"
        symbol = None
        if intent == "unschedule":
            symbol, _unknown, several = read_symbol(items, used | cp.claimed, len(items))
            if several and clarify is None:
                clarify = "unknown_symbol"
        return Intent(
            intent,
            lang,
            recipients=tuple(recipients),
            symbol=symbol,
            recurrence=time.recurrence if intent == "unschedule" else None,
            clarify=clarify,
        )
    money = [m for m in read_money(items, used) if not m.pct]
    if intent == "convert":
        return _convert(reader, items, used, money, clarify, seen)
    # red_packet: an amount (the one with a currency, else the first) and a count of parts.
    taken = set(used)
    note = None
    with_cur = [m for m in money if m.currency is not None]
    plain = [m for m in money if not _count_like(items, m)]
    amount = with_cur[0] if with_cur else (plain[0] if plain else None)
    count, doubtful_count = _count(items, money, amount)
    others = [m for m in money if m is not amount and (count is None or m.value != Decimal(count))]
    if "for" in seen or "note_word" in seen:
        for m in money:
            taken.update(range(m.first, m.last + 1))
        taken.update(k for k, it in enumerate(items) if "first" in it.cats or "people" in it.cats)
        note, _span = read_note(source, items, taken)
        if note is not None and note[:1].isdigit():
            note = None
    free = free_currencies(items, money, used) if "cur" in seen else []
    value, currency = (amount.value, amount.currency) if amount is not None else (None, None)
    if clarify is None:
        if amount is None:
            clarify = "missing_amount"
        elif not amount.ok or others or "?" in free or doubtful_count or len(with_cur) > 1:
            clarify = "ambiguous_amount"
    if clarify == "ambiguous_amount" or amount is None:
        value = None
    return Intent(
        "red_packet",
        lang,
        amount=value,
        currency=currency if currency != "?" else None,
        count=count,
        note=note,
        clarify=clarify,
    )


def _convert(
    reader: Reader, items: list[Item], used: set[int], money: list[Money], clarify: str | None, seen: set[str]
) -> Intent:
    """ "convert 100 USD to EUR", "veksle 1000 kr til euro", "change 50 € en dollars"."""
    lang = reader.lang
    free = free_currencies(items, money, used) if "cur" in seen else []
    amount = money[0] if len(money) == 1 else None
    currency = amount.currency if amount is not None else None
    to_currency: str | None = None
    if free:
        # The currency written apart from the amount is the one to convert into; with no amount
        # currency, "convert 100 to EUR" leaves the source to the user's default.
        to_currency = free[-1]
        if currency is None and len(free) == 2:
            currency, to_currency = free[0], free[1]
    if clarify is None:
        if not money:
            clarify = "missing_amount"
        elif len(money) > 1 or amount is None or not amount.ok or "?" in free or currency == "?":
            clarify = "ambiguous_amount"
        elif to_currency is None or len(set(free)) > (2 if amount.currency is None else 1) or to_currency == currency:
            clarify = "ambiguous_amount"
    ok = clarify is None
    return Intent(
        "convert",
        lang,
        amount=amount.value if amount is not None and ok else None,
        currency=currency if currency != "?" else None,
        to_currency=to_currency if to_currency != "?" else None,
        clarify=clarify,
    )
