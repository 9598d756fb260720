"""The FX room: "convert $50 to EUR", payments across currencies, the keep-foreign-wallets choice, totals and limits."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from bot.actions import money_text
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Reply, ReplyKind
from bot.execution import Outcome
from bot.fx import RoundsToZero, SameCurrency, quote_receive, quote_spend, value_in
from bot.fxpayloads import Convert, FxPayRequest, FxSend
from bot.fxservice import (
    balance_total,
    execute,
    payee_currency,
    payer_currency,
    plan_send,
    set_keep_foreign,
)
from bot.fxtext import both_amounts, error_text, expired, total_line, unknown_currency_text
from bot.handlers import cards, outcomes
from bot.i18n import t
from bot.models import Action, PaymentRequest, User
from bot.payloads import Payload, Send
from bot.rates import FxError, RatesPort, UnknownCurrency, embedded
from intents.model import Intent
from ledger import TooPrecise, to_minor

_TARGET = re.compile(r"(?:\bto|\binto|\btil|\bi|\ben|\bvers)\s+([^\s\d.,!?]+)\s*[.!?]?\s*$", re.IGNORECASE)


def rates(app: App) -> RatesPort:
    """The app's rates port (the embedded ECB table when none was wired)."""
    port: RatesPort | None = app.rates
    return port if port is not None else embedded()


# currency words the parser knows (the intent contract's currency marks), besides codes
_WORDS = {"dollar", "dollars", "bucks", "euro", "euros", "pound", "pounds", "krone", "kroner", "kr", "kroner.",
          "dollaren", "dollarer", "pund", "livres", "livre"}


def unknown_target(text: str, known: frozenset[str]) -> str | None:
    """The word after "to"/"til"/"en" ending a conversion that names no currency finbot has rates for."""
    m = _TARGET.search(text.strip())
    if m is None:
        return None
    word = m.group(1).strip("\u201c\u201d\"'")
    if word.upper() in known or word.lower() in _WORDS:
        return None
    return word


def is_iso_code(word: str) -> bool:
    """Whether the word is an ISO 4217 currency code (babel's list), whatever the rates cover."""
    from ledger import UnknownAsset, exponent

    if len(word) != 3 or not word.isalpha():
        return False
    try:
        exponent(word.upper())
    except UnknownAsset:
        return False
    return True


def on_convert(app: App, c: Ctx, intent: Intent) -> None:
    """A conversion into one's own wallet: quote it and show the card (its price holds until the card expires)."""
    src = (intent.currency or c.user.currency).upper()
    dst = (intent.to_currency or "").upper()
    if intent.currency and intent.to_currency and src == dst:
        c.say(error_text(SameCurrency(src), c.lang))
        return
    if not dst or intent.clarify:
        word = unknown_target(c.ev.text or "", rates(app).currencies())
        if word is not None and is_iso_code(word):  # a real currency the rates do not cover
            c.say(error_text(UnknownCurrency(word.upper()), c.lang))
        elif word is not None:
            c.say(unknown_currency_text(word, c.lang))
        elif intent.amount is None:
            c.say(t(c.lang, "How much, and into which currency? For example \"convert 100 USD to EUR\"."))
        else:
            c.say(t(c.lang, "Into which currency? For example \"convert 100 USD to EUR\"."))
        return
    if intent.amount is None:
        c.say(t(c.lang, "How much, and into which currency? For example \"convert 100 USD to EUR\"."))
        return
    try:
        minor = to_minor(intent.amount, src)
    except TooPrecise:
        c.say(t(c.lang, "{currency} has no amounts that small. How much exactly?", currency=src))
        return
    if minor <= 0:
        c.say(t(c.lang, "The amount must be more than zero."))
        return
    try:
        q = quote_spend(rates(app), src, dst, minor, on=c.now.date(), max_age_days=app.settings.fx_max_rate_age_days,
                        spread_bps=app.settings.fx_spread_bps, expires_at=c.now + app.ttl)
    except FxError as err:
        c.say(error_text(err, c.lang))
        return
    cards.propose(app, c, Convert(currency=dst, from_user=c.uid, fx=q, from_label=display(c.user)))


def fx_send(app: App, c: Ctx, send: Send) -> bool:
    """A send whose payer or payees use another currency than the one named: True when it was handled here
    (a quote card, or a refusal said; nothing moved), False for a plain send in the named currency."""
    if send.scheduled or any(leg.to_user is None for leg in send.legs):
        return False  # a standing order, or a payee who never wrote to the bot: the money goes as named
    named, amount = send.currency, send.legs[0].amount
    payees = [c.s.get(User, int(leg.to_user or 0)) for leg in send.legs]
    if any(p is None for p in payees):
        return False
    ledger = app.ledger
    wanted = {payee_currency(c.s, ledger, p, named) for p in payees if p is not None}
    payee_cur = wanted.pop() if len(wanted) == 1 else named
    payer_cur = payer_currency(ledger, c.user, named, send.total)
    if payer_cur == named and payee_cur == named:
        return False
    try:
        plan = plan_send(app.settings, rates(app), payer_cur=payer_cur, named=named, payee_cur=payee_cur,
                         amount=amount, payees=len(send.legs), now=c.now, expires_at=c.now + app.ttl)
    except FxError as err:
        c.say(error_text(err, c.lang))
        return True
    if plan.quote is None:
        # payer and payees share another currency: a plain payment of the named amount's worth in it
        if plan.each <= 0:
            c.say(error_text(RoundsToZero(named), c.lang))
            return True
        cards.propose(app, c, replace(send, currency=plan.paid_in,
                                      legs=tuple(replace(leg, amount=plan.each) for leg in send.legs)))
        return True
    cards.propose(app, c, FxSend(currency=plan.received_in, legs=tuple(replace(leg, amount=plan.each) for leg in send.legs),
                                 note=send.note, from_user=c.uid, fx=plan.quote, named=named, named_amount=amount,
                                 from_label=display(c.user)))
    return True


def pay_request_payload(app: App, c: Ctx, req: PaymentRequest, requester: User) -> Payload | None:
    """The payload that pays a request in another currency from the payer's own wallet (the requester gets
    exactly what they asked), or None when the payer pays in the request's currency. Raises FxError."""
    assert req.id is not None and requester.id is not None
    named = req.currency.upper()
    payer_cur = payer_currency(app.ledger, c.user, named, req.amount)
    if payer_cur == named:
        return None
    q = quote_receive(rates(app), payer_cur, named, req.amount, on=c.now.date(),
                      max_age_days=app.settings.fx_max_rate_age_days, spread_bps=app.settings.fx_spread_bps,
                      expires_at=c.now + app.ttl)
    return FxPayRequest(currency=named, amount=req.amount, request_id=req.id, to_user=requester.id,
                        to_label=display(requester), note=req.note, from_user=c.uid, fx=q, from_label=display(c.user))


def worth_text(app: App, minor: int, currency: str, other: str, lang: str, now: datetime) -> str:
    """'$20.00 (≈ 17,90 €)': an amount and its worth in another person's currency at the day's mid rate."""
    try:
        worth = value_in(rates(app), minor, currency, other, now.date())
    except FxError:
        return money_text(minor, currency, lang)
    return both_amounts(minor, currency, worth, other, lang)


def _quote_lapsed(app: App, payload: Convert | FxSend | FxPayRequest) -> Outcome | None:
    now = app.clock()
    if expired(payload.fx, now):
        return Outcome(False, "quote_expired")
    return None


def execute_convert(app: App, run_id: str, payload: Payload) -> Outcome:
    """Post a confirmed conversion's linked chain once (ids derive from the run)."""
    assert isinstance(payload, Convert)
    lapsed = _quote_lapsed(app, payload)
    if lapsed is not None:
        return lapsed
    got = execute(app.ledger, run_id, payload.fx, payload.from_user, [(payload.from_user, payload.fx.receive)],
                  payer_label=payload.from_label)
    return Outcome(got.ok, got.code)


def execute_fx_pay_request(app: App, run_id: str, payload: Payload) -> Outcome:
    """Post a confirmed payment of a request across currencies: the requester gets exactly the amount asked."""
    assert isinstance(payload, FxPayRequest)
    lapsed = _quote_lapsed(app, payload)
    if lapsed is not None:
        return lapsed
    got = execute(app.ledger, run_id, payload.fx, payload.from_user, [(payload.to_user, payload.amount)],
                  memo=payload.note, payer_label=payload.from_label)
    return Outcome(got.ok, got.code)


def execute_fx_send(app: App, run_id: str, payload: Payload) -> Outcome:
    """Post a confirmed payment across currencies: the payer's cost and fee, each payee's exact amount."""
    assert isinstance(payload, FxSend)
    lapsed = _quote_lapsed(app, payload)
    if lapsed is not None:
        return lapsed
    payees = [(int(leg.to_user or 0), leg.amount) for leg in payload.legs]
    got = execute(app.ledger, run_id, payload.fx, payload.from_user, payees, memo=payload.note,
                  payer_label=payload.from_label)
    return Outcome(got.ok, got.code)


def after_fx_send(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
                  now: datetime) -> list[Reply]:
    """Tell each payee what arrived, in their language and currency."""
    assert isinstance(payload, FxSend)
    out: list[Reply] = []
    for leg in payload.legs:
        payee = s.get(User, int(leg.to_user or 0))
        if payee is None or not payee.private_chat_id:
            continue
        text = t(payee.lang, "{who} sent you {amount}.", who=display(user),
                 amount=money_text(leg.amount, payload.currency, payee.lang))
        if payload.note:
            text += "\n" + t(payee.lang, "Note: {note}", note=payload.note)
        out.append(Reply(ReplyKind.message, payee.private_chat_id, text))
    return out + outcomes.done_card(s, a, user, payload)


def on_wallets(app: App, c: Ctx, arg: str) -> None:
    """/wallets keep | /wallets convert: keep money that arrives in other currencies, or have it converted."""
    word = arg.strip().lower()
    assert c.user.id is not None
    if word in ("keep", "behold", "garder"):
        set_keep_foreign(c.s, c.user.id, True, c.now)
        c.say(t(c.lang, "Money sent to you in another currency now stays in that currency, in a wallet of its own."))
    elif word in ("convert", "veksle", "convertir"):
        set_keep_foreign(c.s, c.user.id, False, c.now)
        c.say(t(c.lang, "Money sent to you in another currency is now converted into {code} as it arrives.",
                code=c.user.currency))
    else:
        c.say(t(c.lang, "Write /wallets keep to keep money that arrives in other currencies in wallets of their own, or /wallets convert to receive it in {code}.",
                code=c.user.currency))


def total_text(app: App, user: User, lang: str, now: datetime) -> str | None:
    """The balance's last line: every wallet added up in the person's home currency at today's rates."""
    _, total, as_of = balance_total(app.ledger, rates(app), user, now.date())
    if total is None or as_of is None:
        return None
    return total_line(total, user.currency.upper(), as_of, lang)


def register(bus: Bus) -> None:
    """The FX room's intents, commands and action kinds."""
    bus.intents["convert"] = on_convert
    bus.commands["wallets"] = on_wallets
    bus.executors["convert"] = execute_convert
    bus.executors["fx_send"] = execute_fx_send
    bus.after_record["fx_send"] = after_fx_send
    bus.executors["fx_pay_request"] = execute_fx_pay_request  # its after_record is the requests room's

