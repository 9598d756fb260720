"""Collections (pots) in a group: the card with its progress, Pay (the member's own card and step-up), Close and
Cancel by the organiser (the holds settled after the commit), reminders and the deadline."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import commands
from bot.actions import digest, money_text
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Button, Reply
from bot.execution import Outcome
from bot.groups import pots, texts
from bot.groups.models import Pot
from bot.groups.payloads import (
    PotPay,
)
from bot.handlers import cards, funds, payments, replies, stepup, tokens
from bot.handlers.group_common import in_group, notify, wallet
from bot.i18n import t
from bot.models import Action, PressToken, User
from bot.payloads import Payload
from intents.model import Intent


def register(bus: Bus) -> None:
    bus.intents["collect"] = intent_collect
    bus.presses["pot_pay"] = press_pot_pay
    bus.presses["pot_close"] = press_pot_end
    bus.presses["pot_cancel"] = press_pot_end
    bus.executors["pot_pay"] = execute_pot_pay
    bus.after_record["pot_pay"] = after_pot_pay
    bus.ticks.append(pots_due)


def intent_collect(app: App, c: Ctx, intent: Intent) -> None:
    if not in_group(c):
        return
    cur = payments.currency(c, intent)
    amount = payments.minor(app, c, intent.amount, cur)
    if amount is None:
        return
    invited: list[int] = []
    if intent.recipients:
        legs = payments.resolve(app, c, tuple(intent.recipients))
        if legs is None:
            return
        invited = [leg.to_user for leg in legs if leg.to_user is not None]
    pot_id = cards.action_id(c, c.ev.message_id or c.ev.event_id)
    if c.s.get(Pot, pot_id) is not None:
        return
    assert c.chat.id is not None and c.user.id is not None
    remind = app.settings.pot_remind_hours
    pot = Pot(id=pot_id, chat_row_id=c.chat.id, chat_id=c.ev.chat.chat_id, organiser_id=c.user.id, amount=amount,
              currency=cur, note=intent.note, invited=json.dumps(invited), everyone=not invited,
              deadline=c.now + timedelta(days=app.settings.pot_days),
              remind_at=c.now + timedelta(hours=remind) if remind > 0 else None, created_at=c.now)
    c.s.add(pot)
    c.s.flush()
    c.replies.extend(_pot_card(app, c.s, pot))


def _pot_card(app: App, s: Session, pot: Pot) -> list[Reply]:
    organiser = s.get(User, pot.organiser_id)
    lang = organiser.lang if organiser else app.settings.default_language
    prog = pots.progress(s, pot)
    text = texts.pot_card(lang, organiser=display(organiser) if organiser else "?", amount=pot.amount, currency=pot.currency,
                          note=pot.note, paid=[display(u) for u in prog.paid], unpaid=[display(u) for u in prog.unpaid],
                          total=prog.total, deadline=pot.deadline, status=pot.status)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if pot.status == pots.OPEN:
        labels = commands.labels(lang)
        found = {tk.choice: tk.token for tk in s.exec(select(PressToken).where(PressToken.action_id == pot.id)).all()}
        life = pot.deadline - pot.created_at + timedelta(days=1)

        def tok(choice: str, allowed: int | None) -> str:
            return found.get(choice) or tokens.raw_token(app, s, choice, now=pot.created_at, action_id=pot.id,
                                                         allowed=allowed, lifetime=life)

        buttons = ((Button(labels["pay"], start_payload=tok("pot_pay", None)),
                    Button(labels.get("close", t(lang, "Close")), data=tok("pot_close", pot.organiser_id)),
                    Button(labels["cancel"], data=tok("pot_cancel", pot.organiser_id))),)
    return replies.edit_or_send(s, f"pot:{pot.id}", pot.chat_id, text, buttons)


def press_pot_pay(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    pot = c.s.get(Pot, tok.action_id or "")
    why = pots.refusal(c.s, pot, c.user.id or 0)
    if why is not None:
        c.answer(texts.refusal(c.lang, why))
        return
    assert pot is not None
    if not c.private and not via_link:
        c.answer(t(c.lang, "Open our private chat to pay."))
        return
    organiser = c.s.get(User, pot.organiser_id)
    payload = PotPay(currency=pot.currency, amount=pot.amount, pot_id=pot.id, to_label=display(organiser) if organiser else "?",
                     note=pot.note, from_user=c.user.id or 0, from_label=display(c.user))
    if not funds.limit_ok(app, c, payload):
        return
    aid = f"potpay:{pot.id}:{c.user.id}"
    a = c.s.get(Action, aid)
    if a is None or a.status in ("cancelled", "expired", "failed"):
        attempt = 0
        if a is not None:
            attempt = a.attempt + 1  # the failed attempt's ids stay failed: this one has its own
            c.s.delete(a)
            c.s.flush()
        body = payload.to_json()
        a = Action(id=aid, kind=payload.kind, initiator_id=c.user.id or 0, messenger=c.ev.chat.messenger,
                   origin_chat_id=c.ev.chat.chat_id, origin_group=False, payload=body, digest=digest(body),
                   created_at=c.now, expires_at=c.now + app.ttl, card_chat_id=c.user.private_chat_id, attempt=attempt)
        c.s.add(a)
        c.s.flush()
    if not via_link:
        c.answer(t(c.lang, "OK"), alert=False)
    stepup.confirm(app, c, a)


def execute_pot_pay(app: App, run_id: str, payload: Payload) -> Outcome:
    assert isinstance(payload, PotPay)
    got = pots.pay(app.db, app.ledger, payload.pot_id, payload.from_user, f"{run_id}:pot", wallet(app), app.clock())
    return Outcome(got.ok, "ok" if got.ok else got.code)


def after_pot_pay(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome, now: datetime) -> list[Reply]:
    assert isinstance(payload, PotPay)
    out = replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, t(user.lang, "Paid ✅") + "\n" + payload.describe(user.lang))
    pot = s.get(Pot, payload.pot_id)
    if pot is not None:
        out += _pot_card(app, s, pot)
    return out


def press_pot_end(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    pot = c.s.get(Pot, tok.action_id or "")
    if pot is None or pot.organiser_id != c.user.id:
        c.answer(texts.refusal(c.lang, "not_organiser" if pot is not None else "no_pot"))
        return
    if pot.status != pots.OPEN:
        c.answer(texts.refusal(c.lang, "pot_" + pot.status))
        return
    how = pots.CLOSED if tok.choice == "pot_close" else pots.CANCELLED
    pot.status, pot.done_at = how, c.now  # written with this event; the holds are settled after its commit
    # a payment still at its PIN step is refused at execution (the pot is no longer open) and moves nothing
    c.answer(t(c.lang, "Closed: the collected money goes to you.") if how == pots.CLOSED
             else t(c.lang, "Cancelled: every payment goes back."), alert=False)
    pot_id = pot.id
    c.after.append(lambda: _finish_pot(app, pot_id))


def _finish_pot(app: App, pot_id: str) -> list[Reply]:
    now = app.clock()
    pots.settle_rest(app.db, app.ledger, pot_id, wallet(app), now)
    with Session(app.db, expire_on_commit=False) as s:
        pot = s.get(Pot, pot_id)
        if pot is None:
            return []
        out = _pot_card(app, s, pot)
        if pot.status == pots.CANCELLED:
            for u in pots.progress(s, pot).paid:
                out += notify(s, u, pot.chat_id, app.messenger,
                               t(u.lang, "The collection was cancelled: your {amount} came back to you.",
                                 amount=money_text(pot.amount, pot.currency, u.lang)))
        s.commit()
    return out




def pots_due(app: App, now: datetime) -> list[Reply]:
    """Pots past their deadline close (paid to the organiser); those who have not paid are reminded once; the holds
    of pots ended in the last day are settled again (a payment that came back after the end, a crash)."""
    out: list[Reply] = []
    late, remind = pots.due(app.db, now)
    for pot_id in late:
        if pots.end(app.db, pot_id, pots.CLOSED, now):
            out += _finish_pot(app, pot_id)
    for pot_id in remind:
        if pots.mark_reminded(app.db, pot_id):
            out += _remind(app, pot_id)
    with Session(app.db) as s:
        ended = [p.id for p in s.exec(select(Pot).where(col(Pot.status).in_((pots.CLOSED, pots.CANCELLED)),
                                                        col(Pot.done_at) >= now - timedelta(days=1))).all()]
    for pot_id in ended:
        pots.settle_rest(app.db, app.ledger, pot_id, wallet(app), now)
    return out


def _remind(app: App, pot_id: str) -> list[Reply]:
    out: list[Reply] = []
    with Session(app.db, expire_on_commit=False) as s:
        pot = s.get(Pot, pot_id)
        if pot is None:
            return out
        organiser = s.get(User, pot.organiser_id)
        for u in pots.progress(s, pot).unpaid:
            out += notify(s, u, pot.chat_id, app.messenger,
                          t(u.lang, "Reminder: {who} collects {amount} for {what}. Press Pay on the card in the group.",
                            who=display(organiser) if organiser else "?",
                            amount=money_text(pot.amount, pot.currency, u.lang),
                            what=pot.note or t(u.lang, "a collection")))
        s.commit()
    return out
