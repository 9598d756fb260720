"""What people read about conversions: the quote's lines on a card, why a conversion cannot be made, limits, totals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.actions import money_text
from bot.fx import Quote, RoundsToZero, SameCurrency
from bot.i18n import fmt_date, fmt_datetime, fmt_number, t
from bot.limits import Breach
from bot.rates import FxError, NoRate, RatesUnavailable, StaleRate, UnknownCurrency


def rate_line(q: Quote, lang: str) -> str:
    """'Rate: 1 USD = 0.895095 EUR (ECB (embedded), Oct 30, 2026)'."""
    return t(lang, "Rate: 1 {sell} = {rate} {buy} ({source}, {date})", sell=q.sell, buy=q.buy,
             rate=fmt_number(q.rate, lang), source=q.source, date=fmt_date(q.rate_date, lang))


def fee_line(q: Quote, lang: str) -> str:
    """'Fee (0.5%): $0.12'."""
    pct = fmt_number((Decimal(q.spread_bps) / 100).normalize(), lang)
    return t(lang, "Fee ({pct}%): {fee}", pct=pct, fee=money_text(q.fee, q.sell, lang))


def expiry_line(q: Quote, lang: str) -> str:
    """'This price holds until 11/18/26, 3:05 PM UTC, when the card expires; after that, ask again.'"""
    if q.expires_at is None:
        return ""
    return t(lang, "This price holds until {when}, when the card expires; after that, ask again for a new price.",
             when=fmt_datetime(q.expires_at, lang))


def convert_lines(q: Quote, lang: str) -> list[str]:
    """The card of a conversion into one's own wallet."""
    lines = [
        t(lang, "Convert {cost} to {buy}", cost=money_text(q.cost, q.sell, lang), buy=q.buy),
        t(lang, "You receive: {amount}", amount=money_text(q.receive, q.buy, lang)),
        rate_line(q, lang),
        fee_line(q, lang),
        t(lang, "You pay in all: {amount}", amount=money_text(q.total, q.sell, lang)),
    ]
    exp = expiry_line(q, lang)
    return lines + ([exp] if exp else [])


def send_quote_lines(q: Quote, lang: str) -> list[str]:
    """The quote's lines under a cross-currency send: what it costs the payer, the rate, the fee, the lifetime."""
    lines = [
        t(lang, "It costs you {total} from your {sell} wallet ({cost} and the fee).",
          total=money_text(q.total, q.sell, lang), sell=q.sell, cost=money_text(q.cost, q.sell, lang)),
        rate_line(q, lang),
        fee_line(q, lang),
    ]
    exp = expiry_line(q, lang)
    return lines + ([exp] if exp else [])


def both_amounts(minor: int, currency: str, other_minor: int, other: str, lang: str) -> str:
    """'20,00 € (≈ $22.34)': an amount and what it is worth in another currency."""
    if currency == other:
        return money_text(minor, currency, lang)
    return t(lang, "{amount} (≈ {other})", amount=money_text(minor, currency, lang),
             other=money_text(other_minor, other, lang))


def error_text(err: FxError, lang: str) -> str:
    """Why a conversion cannot be made, as a sentence that says what to do; nothing was moved."""
    if isinstance(err, SameCurrency):
        return t(lang, "That is the currency you already pay with: there is nothing to convert.")
    if isinstance(err, UnknownCurrency):
        return t(lang, "I have no rates for {code}. Currencies I can convert: {codes}.", code=err.currency,
                 codes=_codes_hint())
    if isinstance(err, StaleRate):
        return t(lang, "The newest exchange rate I have is from {date}, more than {n} days old, so I will not price a conversion on it. Nothing was moved; try again when rates are updated.",
                 date=fmt_date(err.as_of, lang), n=err.max_age_days)
    if isinstance(err, NoRate):
        return t(lang, "There is no exchange rate between {base} and {quote} for that day. Nothing was moved.",
                 base=err.base, quote=err.quote)
    if isinstance(err, RoundsToZero):
        return t(lang, "That amount is worth less than the smallest unit of the other currency. Try a larger amount.")
    if isinstance(err, RatesUnavailable):
        return t(lang, "Exchange rates cannot be had right now. Nothing was moved; try again in a moment.")
    return t(lang, "That conversion cannot be made. Nothing was moved.")


def unknown_currency_text(word: str, lang: str) -> str:
    """A currency word or code finbot does not know."""
    return t(lang, "I don't know the currency \u201c{word}\u201d. Write a code such as EUR, USD, NOK, SEK or GBP.", word=word)


_HINT: str | None = None


def _codes_hint() -> str:
    global _HINT
    if _HINT is None:
        from bot.rates import embedded

        _HINT = ", ".join(sorted(embedded().currencies()))
    return _HINT


def limit_text(b: Breach, lang: str) -> str:
    """Why an action passes the tier's limit, in the payer's currency and the reference currency."""
    limit = money_text(b.limit_minor, b.currency, lang)
    ref = money_text(b.limit_ref, b.reference, lang)
    shown = limit if b.currency == b.reference else t(lang, "{amount} (≈ {other})", amount=ref, other=limit)
    if b.period == "day":
        return t(lang, "That would pass your limit of {limit} a day (used today: {used}). An operator can raise your tier.",
                 limit=shown, used=money_text(b.used_minor, b.currency, lang))
    if b.period == "month":
        return t(lang, "That would pass your limit of {limit} a month (used this month: {used}). An operator can raise your tier.",
                 limit=shown, used=money_text(b.used_minor, b.currency, lang))
    return t(lang, "That is above your limit of {limit} per payment. An operator can raise your tier.", limit=shown)


def total_line(minor: int, currency: str, on: date, lang: str) -> str:
    """'Total ≈ $123.45 at the rates of Oct 30, 2026'."""
    return t(lang, "Total \u2248 {amount} at the rates of {date}", amount=money_text(minor, currency, lang),
             date=fmt_date(on, lang))


def statement_fx_text(memo: str | None, lang: str) -> str | None:
    """'Conversion USD → EUR at 0.895095 · for pizza' for a conversion leg's memo, 'conversion fee' for its
    fee leg, else None."""
    from bot.fx import parse_memo

    if memo and memo.startswith("fx fee "):
        return t(lang, "conversion fee")
    got = parse_memo(memo)
    if got is None or memo is None:
        return None
    sell, buy, rate = got
    text = t(lang, "Conversion {sell} \u2192 {buy} at {rate}", sell=sell, buy=buy, rate=fmt_number(rate, lang))
    note = memo.split(" @", 1)[1].partition(" ")[2].strip()
    return f"{text} \u00b7 {note}" if note else text


def quote_of(payload: dict[str, Any]) -> Quote | None:
    """The quote a card's payload holds, if any."""
    fx = payload.get("fx")
    return Quote.from_payload(fx) if isinstance(fx, dict) else None


def expired(q: Quote, now: datetime) -> bool:
    """Whether the quote's lifetime is over."""
    return q.expires_at is not None and now >= q.expires_at
