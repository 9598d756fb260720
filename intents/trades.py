"""Orders and quotes: the instrument, and how much of it (shares, money's worth, a part, a limit)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from intents.amounts import Money
from intents.items import Item


@dataclass
class Trade:
    """The slots of a buy, sell or quote, and the question to ask back if any."""

    symbol: str | None = None
    quantity: Decimal | None = None
    notional: Decimal | None = None
    fraction: Decimal | None = None
    limit_price: Decimal | None = None
    currency: str | None = None
    unknown: bool = False
    several: bool = False
    ambiguous: bool = False


def read_symbol(items: list[Item], used: set[int], object_from: int) -> tuple[str | None, bool, bool]:
    """(symbol, an unknown ticker-like word is there, several symbols are named)."""
    symbols: list[str] = []
    unknown = False
    for i, it in enumerate(items):
        if i in used:
            continue
        sym = it.cats.get("sym")
        if sym is not None:
            if sym not in symbols:
                symbols.append(sym)
            continue
        if it.kind == "phrase" and "tickerlike" in it.cats and len(it.cats) == 1:
            unknown = True
        elif it.kind == "word" and i >= object_from and any(ch.isalpha() for ch in it.text):
            unknown = True
    if len(symbols) == 1:
        return symbols[0], False, False
    if len(symbols) > 1:
        return None, unknown, True
    return None, unknown, False


def read_trade(items: list[Item], used: set[int], money: list[Money], object_from: int) -> Trade:
    """Symbol and amount slots of an order: quantity, notional (+currency), fraction, limit."""
    out = Trade()
    out.symbol, out.unknown, out.several = read_symbol(items, used, object_from)
    quantities: list[Money] = []
    notionals: list[Money] = []
    limits: list[Money] = []
    fractions: list[Decimal] = []
    n = len(items)
    for m in money:
        if not m.ok:
            out.ambiguous = True
        prev = items[m.first - 1] if m.first > 0 else None
        nxt = items[m.last + 1] if m.last + 1 < n else None
        if m.pct:
            fractions.append(m.value / Decimal(100))
        elif prev is not None and "limit" in prev.cats:
            limits.append(m)
        elif m.currency is not None:
            notionals.append(m)
        elif prev is not None and "for" in prev.cats and "worth" not in prev.cats:
            # "buy tesla for 500": a budget or a price? Ask.
            out.ambiguous = True
            notionals.append(m)
        elif (nxt is not None and "worth" in nxt.cats and "of" not in nxt.cats) or (prev is not None and "worth" in prev.cats and "of" not in prev.cats):
            notionals.append(m)
        else:
            quantities.append(m)
    for i, it in enumerate(items):
        if i not in used and "frac" in it.cats:
            fractions.append(Decimal(it.cats["frac"]))
    if len(quantities) > 1 or len(notionals) > 1 or len(limits) > 1 or len(set(fractions)) > 1:
        out.ambiguous = True
    kinds = sum(1 for group in (quantities, notionals) if group) + (1 if fractions else 0)
    if kinds > 1:
        out.ambiguous = True
    if quantities:
        out.quantity = quantities[0].value
    if notionals:
        out.notional = notionals[0].value
        out.currency = notionals[0].currency
    if limits:
        out.limit_price = limits[0].value
        if out.currency is None:
            out.currency = limits[0].currency
    if fractions:
        out.fraction = fractions[0]
        if out.fraction <= 0 or out.fraction > 1:
            out.ambiguous = True
    return out

