"""Pending actions: canonical payloads, the digest a confirmation binds to, and the card people see."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any

from bot.i18n import fmt_date, fmt_money, fmt_number, t, tn

AWAITING = ("awaiting_confirm", "awaiting_stepup")  # the statuses of an action whose card is still open
MONEY_KINDS = frozenset({"send", "deposit", "withdraw", "pay_request", "buy", "sell"})
NO_STEPUP_KINDS = frozenset({"request", "split"})


def canonical(payload: dict[str, Any]) -> str:
    """The payload as canonical JSON: sorted keys, no spaces, integers only for money."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(payload_json: str) -> str:
    """The sha256 a confirmation and a step-up challenge bind to."""
    return hashlib.sha256(payload_json.encode("utf-8")).hexdigest()


def attempt_id(action_id: str, attempt: int) -> str:
    """What an attempt's transfer ids derive from: the action's id, then `:try<n>` for attempts after a failure."""
    return action_id if attempt <= 0 else f"{action_id}:try{attempt}"


def needs_stepup(kind: str) -> bool:
    """Whether executing this kind moves money or places an order."""
    return kind not in NO_STEPUP_KINDS


def major(minor: int, currency: str) -> Decimal:
    """Minor units as a Decimal amount of the currency."""
    from ledger.money import from_minor

    return from_minor(minor, currency)


@lru_cache(maxsize=4096)
def money_text(minor: int, currency: str, lang: str) -> str:
    """Minor units formatted for people of `lang` (cached: Babel's formatting costs ~100 us a call)."""
    return fmt_money(major(minor, currency), currency, lang)


def describe(payload: dict[str, Any], lang: str) -> str:
    """What the card says the action will do, in the initiator's language."""
    kind = payload["kind"]
    cur = payload.get("currency", "USD")
    note = payload.get("note")
    lines: list[str] = []
    if kind == "send":
        legs = payload["legs"]
        total = sum(int(leg["amount"]) for leg in legs)
        if len(legs) == 1:
            lines.append(
                t(lang, "Send {amount} to {who}", amount=money_text(total, cur, lang), who=legs[0]["label"])
            )
        else:
            lines.append(t(lang, "Send {amount} in all:", amount=money_text(total, cur, lang)))
            for leg in legs:
                lines.append(f"  • {leg['label']}: {money_text(int(leg['amount']), cur, lang)}")
        for leg in legs:
            if leg.get("escrow"):
                lines.append(
                    tn(
                        lang,
                        "{who} has not used finbot yet: the money waits for them for {n} day, then comes back to you.",
                        "{who} has not used finbot yet: the money waits for them for {n} days, then comes back to you.",
                        int(payload.get("escrow_days", 7)),
                        who=leg["label"],
                    )
                )
        if payload.get("recurrence"):
            lines.append(t(lang, "Repeats: {rule}", rule=describe_rrule(payload["recurrence"], lang)))
        if payload.get("when"):
            lines.append(t(lang, "On {date}", date=fmt_date(_date(payload["when"]), lang)))
    elif kind == "deposit":
        lines.append(t(lang, "Top up {amount} from the sandbox funding source", amount=money_text(payload["amount"], cur, lang)))
    elif kind == "withdraw":
        lines.append(t(lang, "Withdraw {amount} to your payout account", amount=money_text(payload["amount"], cur, lang)))
    elif kind == "request":
        for leg in payload["legs"]:
            lines.append(t(lang, "Ask {who} for {amount}", who=leg["label"], amount=money_text(int(leg["amount"]), cur, lang)))
    elif kind == "split":
        lines.append(t(lang, "Split {amount} in {n} parts:", amount=money_text(payload["total"], cur, lang), n=len(payload["legs"]) + 1))
        you = t(lang, "you")
        lines.append(f"  • {you}: {money_text(payload['own_share'], cur, lang)}")
        for leg in payload["legs"]:
            lines.append(f"  • {leg['label']}: {money_text(int(leg['amount']), cur, lang)}")
    elif kind == "pay_request":
        lines.append(t(lang, "Pay {amount} to {who}", amount=money_text(payload["amount"], cur, lang), who=payload["to_label"]))
    elif kind in ("buy", "sell"):
        lines.extend(describe_order(payload, lang))
    if note:
        lines.append(t(lang, "Note: {note}", note=note))
    fee = int(payload.get("fee", 0))
    if kind in MONEY_KINDS and kind not in ("buy", "sell"):
        lines.append(t(lang, "Fee: {fee}", fee=money_text(fee, cur, lang)))
    return "\n".join(lines)


def describe_order(payload: dict[str, Any], lang: str) -> list[str]:
    """The lines of an order card: what, how many, the quote, the estimate and the band."""
    cur = payload["currency"]
    side = payload["kind"]
    lines: list[str] = []
    what = payload["symbol"]
    if payload.get("qty") is not None:
        qty = fmt_number(Decimal(payload["qty"]), lang)
        lines.append(t(lang, "Buy {qty} {symbol}", qty=qty, symbol=what) if side == "buy" else t(lang, "Sell {qty} {symbol}", qty=qty, symbol=what))
    elif payload.get("notional") is not None:
        amount = fmt_money(Decimal(payload["notional"]), cur, lang)
        lines.append(t(lang, "Buy {amount} of {symbol}", amount=amount, symbol=what) if side == "buy" else t(lang, "Sell {amount} of {symbol}", amount=amount, symbol=what))
    if payload.get("limit_price") is not None:
        lines.append(t(lang, "Limit price: {price}", price=fmt_money(Decimal(payload["limit_price"]), cur, lang)))
    if payload.get("quote"):
        q = payload["quote"]
        lines.append(t(lang, "Quote: bid {bid} / ask {ask}", bid=fmt_money(Decimal(q["bid"]), cur, lang), ask=fmt_money(Decimal(q["ask"]), cur, lang)))
        if not q.get("market_open", True):
            lines.append(t(lang, "The market is closed: the order waits for the open."))
    if payload.get("estimate") is not None:
        lines.append(t(lang, "Estimated {what}: {amount}", what=t(lang, "cost") if side == "buy" else t(lang, "proceeds"), amount=money_text(int(payload["estimate"]), cur, lang)))
    if side == "buy" and payload.get("reserve") is not None:
        lines.append(t(lang, "Held until filled (price band {band}%): {amount}", band=fmt_number(Decimal(payload.get("band_bps", 0)) / 100, lang), amount=money_text(int(payload["reserve"]), cur, lang)))
    if int(payload.get("fee", 0)):
        lines.append(t(lang, "Fee: {fee}", fee=money_text(int(payload["fee"]), cur, lang)))
    return lines


_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def describe_rrule(rule: str, lang: str) -> str:
    """An RRULE in words: 'every week on Monday'."""
    from babel.dates import get_day_names

    from bot.i18n import LOCALES

    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    freq = parts.get("FREQ", "")
    interval = int(parts.get("INTERVAL", "1"))
    text = {
        "DAILY": t(lang, "every day"),
        "WEEKLY": t(lang, "every week") if interval == 1 else t(lang, "every {n} weeks", n=interval),
        "MONTHLY": t(lang, "every month") if interval == 1 else t(lang, "every {n} months", n=interval),
        "YEARLY": t(lang, "every year"),
    }.get(freq, rule)
    if "BYDAY" in parts:
        names = get_day_names("wide", locale=LOCALES.get(lang, "en_US"))
        days = [names[_DAYS[d[-2:]]] for d in parts["BYDAY"].split(",") if d[-2:] in _DAYS]
        text += " (" + ", ".join(days) + ")"
    if "BYMONTHDAY" in parts:
        text += " (" + t(lang, "day {n}", n=parts["BYMONTHDAY"]) + ")"
    return text


def _date(value: str):  # type: ignore[no-untyped-def]
    from datetime import date

    return date.fromisoformat(value)
