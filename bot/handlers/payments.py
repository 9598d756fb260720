"""Payments: send (to users, or to a handle whose money waits in escrow), top up, withdraw; payees resolved."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from bot.actions import AWAITING, attempt_id
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Reply
from bot.execution import Outcome
from bot.handlers import cards, escrow, execution, funds, outcomes, schedules
from bot.i18n import t
from bot.models import Action, PressToken, User
from bot.payloads import Deposit, Leg, Payload, Send, Withdraw, load
from intents.model import Intent
from ledger import TooPrecise, to_minor


def register(bus: Bus) -> None:
    bus.intents["send"] = intent_send
    bus.intents["deposit"] = intent_deposit
    bus.intents["withdraw"] = intent_withdraw
    bus.presses["topup"] = on_topup_press
    bus.executors["send"] = execute_send
    bus.executors["deposit"] = execution.on_ledger
    bus.executors["withdraw"] = execution.on_ledger
    bus.after_record["send"] = after_send


def currency(c: Ctx, intent: Intent) -> str:
    """The intent's currency, else the person's default one."""
    return (intent.currency or c.user.currency).upper()


def minor(app: App, c: Ctx, amount: Decimal | None, currency: str) -> int | None:
    """An amount in minor units of `currency`; None after saying why (too precise, or not above zero)."""
    assert amount is not None
    try:
        value = to_minor(amount, currency)
    except TooPrecise:
        c.say(t(c.lang, "{currency} has no amounts that small. How much exactly?", currency=currency))
        return None
    if value <= 0:
        c.say(t(c.lang, "The amount must be more than zero."))
        return None
    return value


def resolve(app: App, c: Ctx, recipients: tuple[str, ...]) -> list[Leg] | None:
    """Recipients as legs (amount 0): a known user's id, or a handle whose money waits in escrow; None after
    saying why (an unknown name, oneself, nobody)."""
    legs: list[Leg] = []
    seen: set[str] = set()
    for r in recipients:
        if r == "reply":
            author = c.ev.reply_to.author if c.ev.reply_to else None
            if author is None:
                c.say(t(c.lang, "Reply to a message of the person you mean, or write their @username."))
                return None
            user = app.directory.user_for(c.s, author, c.now)
        elif r.startswith("@"):
            found_user = app.directory.by_handle(c.s, r[1:])
            if found_user is None:
                if r[1:] in seen:
                    continue
                seen.add(r[1:])
                legs.append(Leg(to_user=None, handle=r[1:], label=r, escrow=True))
                continue
            user = found_user
        else:
            found = app.directory.resolve_name(c.s, c.chat, r)
            if len(found) != 1:
                c.say(t(c.lang, "Who is {name}? Write their @username.", name=r))
                return None
            user = found[0]
        if user.id == c.user.id:
            c.say(t(c.lang, "You can't do that with yourself."))
            return None
        key = f"u{user.id}"
        if key in seen:
            continue
        seen.add(key)
        legs.append(Leg(to_user=user.id, handle=user.handle, label=display(user), escrow=False))
    if not legs:
        c.say(t(c.lang, "To whom? Write their @username."))
        return None
    return legs


def amount_and_payees(app: App, c: Ctx, intent: Intent) -> tuple[str, int, list[Leg]] | None:
    """Currency, amount in minor units and resolved payees of a send, request or split; None after saying why."""
    cur = currency(c, intent)
    value = minor(app, c, intent.amount, cur)
    if value is None:
        return None
    legs = resolve(app, c, tuple(intent.recipients))
    if legs is None:
        return None
    return cur, value, legs


def intent_send(app: App, c: Ctx, intent: Intent) -> None:
    got = amount_and_payees(app, c, intent)
    if got is None:
        return
    cur, value, legs = got
    cards.propose(app, c, Send(currency=cur, legs=tuple(replace(leg, amount=value) for leg in legs), note=intent.note,
                               fee=0, from_user=c.uid, escrow_days=app.settings.escrow_days,
                               recurrence=intent.recurrence or None, when=intent.when or None))


def intent_deposit(app: App, c: Ctx, intent: Intent) -> None:
    cur = currency(c, intent)
    value = minor(app, c, intent.amount, cur)
    if value is None:
        return
    cards.propose(app, c, Deposit(currency=cur, amount=value, fee=0, from_user=c.uid))


def intent_withdraw(app: App, c: Ctx, intent: Intent) -> None:
    cur = currency(c, intent)
    value = minor(app, c, intent.amount, cur)
    if value is None:
        return
    cards.propose(app, c, Withdraw(currency=cur, amount=value, fee=0, from_user=c.uid))


def on_topup_press(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """The Top up button of a card the wallet cannot pay: a top-up card for what is missing, in the private chat."""
    a = c.s.get(Action, tok.action_id) if tok.action_id else None
    if a is None or a.status not in AWAITING:
        c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status if a else "expired")))
        return
    short = funds.shortfall(app, c.user, load(a.payload))
    if short is None:
        c.answer(t(c.lang, "Your wallet has enough now: press Confirm on the card."))
        return
    if not c.private:
        c.answer(t(c.lang, "Open our private chat to top up."))
        return
    cur, have, need = short
    if c.ev.press is not None:
        c.answer(t(c.lang, "OK"), alert=False)
    cards.propose(app, c, Deposit(currency=cur, amount=need - have, fee=0, from_user=c.uid))


def execute_send(app: App, run_id: str, payload: Payload) -> Outcome:
    """A send moves its money now; a standing or future one only becomes a schedule (it runs later)."""
    assert isinstance(payload, Send)
    if payload.scheduled:
        return Outcome(True, "scheduled")
    return execution.on_ledger(app, run_id, payload)


def after_send(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
               now: datetime) -> list[Reply]:
    """A send done: escrow rows for handles without an account, the payees told, the card closed;
    a standing order confirmed: its schedule written."""
    assert isinstance(payload, Send)
    if payload.scheduled:
        return schedules.confirmed(app, s, a, user, payload, now)
    escrow.record(app, s, attempt_id(a.id, a.attempt), user.id or 0, payload, now)
    return outcomes.notify_recipients(s, user, payload) + outcomes.done_card(s, a, user, payload)
