"""Requests and splits: asking people for money; their Pay (a pay_request card of their own) and Decline."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, col, select

from bot import commands
from bot.actions import AWAITING, digest, money_text
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Button, Reply, ReplyKind
from bot.execution import Outcome
from bot.handlers import cards, execution, funds, outcomes, payments, replies, stepup, tokens
from bot.i18n import t
from bot.models import Action, PaymentRequest, PressToken, User
from bot.payloads import Payload, PayRequest, Request, Split
from intents.model import Intent
from ledger.money import split_largest_remainder


def register(bus: Bus) -> None:
    bus.intents["request"] = intent_request
    bus.intents["split"] = intent_split
    bus.presses["pay"] = on_request_press
    bus.presses["decline"] = on_request_press
    bus.executors["request"] = nothing_moves
    bus.executors["split"] = nothing_moves
    bus.executors["pay_request"] = execution.on_ledger
    bus.after_record["request"] = after_request
    bus.after_record["split"] = after_request
    bus.after_record["pay_request"] = after_pay


def intent_request(app: App, c: Ctx, intent: Intent) -> None:
    got = payments.amount_and_payees(app, c, intent)
    if got is None:
        return
    cur, value, legs = got
    cards.propose(app, c, Request(currency=cur, legs=tuple(replace(leg, amount=value) for leg in legs), note=intent.note,
                                  from_user=c.uid))


def intent_split(app: App, c: Ctx, intent: Intent) -> None:
    got = payments.amount_and_payees(app, c, intent)
    if got is None:
        return
    cur, total, legs = got
    keys = [display(c.user)] + [leg.label for leg in legs]
    shares = split_largest_remainder(total, [1] * len(keys), keys)
    shared = tuple(replace(leg, amount=share) for leg, share in zip(legs, shares[1:], strict=True))
    cards.propose(app, c, Split(currency=cur, legs=shared, note=intent.note, total=total, own_share=shares[0],
                                from_user=c.uid))


def nothing_moves(app: App, run_id: str, payload: Payload) -> Outcome:
    """A request or a split moves no money when confirmed: the requests are made when it is recorded."""
    return Outcome(True, "ok")


def after_request(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
                  now: datetime) -> list[Reply]:
    assert isinstance(payload, Request | Split)
    return make_requests(app, s, a, user, payload, now)


def after_pay(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
              now: datetime) -> list[Reply]:
    assert isinstance(payload, PayRequest)
    return request_paid(app, s, payload, now) + outcomes.done_card(s, a, user, payload)


def make_requests(app: App, s: Session, a: Action, user: User, payload: Request | Split, now: datetime) -> list[Reply]:
    """One PaymentRequest a leg; the group's card lists them, or each payer gets theirs in private."""
    lang = user.lang
    out: list[Reply] = []
    cur = payload.currency
    reqs: list[PaymentRequest] = []
    for leg in payload.legs:
        req = PaymentRequest(action_id=a.id, requester_id=user.id or 0, payer_id=leg.to_user,
                             payer_handle=leg.handle, amount=leg.amount, currency=cur,
                             note=payload.note, chat_id=a.origin_chat_id, created_at=now)
        s.add(req)
        reqs.append(req)
    s.flush()
    if a.origin_group:
        out += group_request_card(app, s, a, user, reqs, now, new=True)
    else:
        out += replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, t(lang, "Request sent ✅") + "\n" + payload.describe(lang))
        for req in reqs:
            payer = s.get(User, req.payer_id) if req.payer_id else None
            if payer is not None and payer.private_chat_id:
                out += dm_request_card(app, s, req, user, payer, now)
    return out


def group_request_card(app: App, s: Session, a: Action, requester: User, reqs: list[PaymentRequest], now: datetime, *, new: bool) -> list[Reply]:
    """The group's card of a request or split: who owes what, who paid, Pay and Decline while any is open."""
    lang = requester.lang
    lines = [t(lang, "{who} asks:", who=display(requester))]
    for req in reqs:
        payer = s.get(User, req.payer_id) if req.payer_id else None
        label = display(payer) if payer else "@" + (req.payer_handle or "?")
        mark = {"paid": " ✅", "declined": " ✗"}.get(req.status, "")
        lines.append(f"  • {label}: {money_text(req.amount, req.currency, lang)}{mark}")
    if reqs and reqs[0].note:
        lines.append(t(lang, "Note: {note}", note=reqs[0].note))
    open_left = any(r.status == "open" for r in reqs)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if open_left:
        labels = commands.labels(lang)
        pay = tokens.raw_token(app, s, "pay", action_id=a.id, now=now)
        decline = tokens.raw_token(app, s, "decline", action_id=a.id, now=now)
        buttons = ((Button(labels["pay"], start_payload=pay), Button(labels["decline"], data=decline)),)
    else:
        lines.append(t(lang, "Everyone has answered."))
    return replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, "\n".join(lines), buttons)


def dm_request_card(app: App, s: Session, req: PaymentRequest, requester: User, payer: User, now: datetime) -> list[Reply]:
    """The payer's own card of a request, in their private chat."""
    lang = payer.lang
    labels = commands.labels(lang)
    pay = tokens.raw_token(app, s, "pay", request_id=req.id, allowed=payer.id, now=now)
    decline = tokens.raw_token(app, s, "decline", request_id=req.id, allowed=payer.id, now=now)
    text = t(lang, "{who} asks you for {amount}.", who=display(requester), amount=money_text(req.amount, req.currency, lang))
    if req.note:
        text += "\n" + t(lang, "Note: {note}", note=req.note)
    assert payer.private_chat_id is not None
    return [Reply(ReplyKind.message, payer.private_chat_id, text,
                  ((Button(labels["pay"], data=pay), Button(labels["decline"], data=decline)),), ref=f"req:{req.id}")]


def deliver_waiting(app: App, c: Ctx) -> None:
    """Requests made of this person before they wrote to the bot: their cards in the private chat now."""
    if not c.user.handle:
        return
    rows = c.s.exec(select(PaymentRequest).where(PaymentRequest.status == "open", col(PaymentRequest.payer_id).is_(None),
                                                 PaymentRequest.payer_handle == c.user.handle)).all()
    for req in rows:
        req.payer_id = c.user.id
    mine = c.s.exec(select(PaymentRequest).where(PaymentRequest.status == "open", PaymentRequest.payer_id == c.user.id)).all()
    for req in mine:
        if replies.sent(c.s, f"req:{req.id}") is not None:
            continue
        a = c.s.get(Action, req.action_id)
        if a is not None and a.origin_group:
            continue
        requester = c.s.get(User, req.requester_id)
        if requester is not None:
            c.replies.extend(dm_request_card(app, c.s, req, requester, c.user, c.now))


def on_request_press(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """Pay or Decline on a request: Decline says so to the requester; Pay opens the payer's own card."""
    if tok.request_id is not None:
        req = c.s.get(PaymentRequest, tok.request_id)
    else:
        req = c.s.exec(select(PaymentRequest).where(PaymentRequest.action_id == tok.action_id,
                                                    PaymentRequest.payer_id == c.user.id)).first()
        if req is None and c.user.handle:
            req = c.s.exec(select(PaymentRequest).where(PaymentRequest.action_id == tok.action_id,
                                                        PaymentRequest.payer_handle == c.user.handle)).first()
            if req is not None:
                req.payer_id = c.user.id
    if req is None:
        c.answer(t(c.lang, "This request is not for you."))
        return
    if req.status != "open":
        c.answer(t(c.lang, "This request is already {status}.", status=t(c.lang, req.status)))
        return
    requester = c.s.get(User, req.requester_id)
    assert requester is not None
    if tok.choice == "decline":
        req.status, req.done_at = "declined", c.now
        c.answer(t(c.lang, "Declined."), alert=False)
        c.replies.extend(refresh_request_cards(app, c.s, req, c.now))
        if requester.private_chat_id:
            c.say(t(requester.lang, "{who} declined your request of {amount}.", who=display(c.user),
                    amount=money_text(req.amount, req.currency, requester.lang)), chat_id=requester.private_chat_id)
        return
    if not c.private and not via_link:
        c.answer(t(c.lang, "Open our private chat to pay."))
        return
    action_id = f"pay:{req.id}"
    a = c.s.get(Action, action_id)
    assert req.id is not None and requester.id is not None
    payload = PayRequest(currency=req.currency, amount=req.amount, request_id=req.id, to_user=requester.id,
                         to_label=display(requester), note=req.note, fee=0, from_user=c.uid, from_label=display(c.user))
    if (a is None or a.status not in AWAITING) and not funds.limit_ok(app, c, payload):
        return
    if a is None or a.status in ("cancelled", "expired", "failed"):
        attempt = 0
        if a is not None:
            attempt = a.attempt + 1  # the failed attempt's transfer ids stay failed: this one has its own
            c.s.delete(a)
            c.s.flush()
        body = payload.to_json()
        a = Action(id=action_id, kind="pay_request", initiator_id=c.user.id or 0, messenger=c.ev.chat.messenger,
                   origin_chat_id=c.ev.chat.chat_id, origin_group=False, payload=body, digest=digest(body),
                   created_at=c.now, expires_at=c.now + app.ttl, card_chat_id=c.user.private_chat_id,
                   attempt=attempt)
        c.s.add(a)
        c.s.flush()
    if not via_link:
        c.answer(t(c.lang, "OK"), alert=False)
    stepup.confirm(app, c, a)


def refresh_request_cards(app: App, s: Session, req: PaymentRequest, now: datetime) -> list[Reply]:
    """Edit the cards of a request once it is paid or declined."""
    a = s.get(Action, req.action_id)
    requester = s.get(User, req.requester_id)
    if a is None or requester is None:
        return []
    if a.origin_group:
        reqs = list(s.exec(select(PaymentRequest).where(PaymentRequest.action_id == a.id).order_by(col(PaymentRequest.id))).all())
        return group_request_card(app, s, a, requester, reqs, now, new=False)
    payer = s.get(User, req.payer_id) if req.payer_id else None
    lang = payer.lang if payer else requester.lang
    word = {"paid": t(lang, "Paid ✅"), "declined": t(lang, "Declined")}.get(req.status, req.status)
    sent = replies.sent(s, f"req:{req.id}")
    if sent is None:
        return []
    return [Reply(ReplyKind.edit, sent.chat_id, f"{word}: {money_text(req.amount, req.currency, lang)} → {display(requester)}",
                  target_message_id=sent.message_id)]


def request_paid(app: App, s: Session, payload: PayRequest, now: datetime) -> list[Reply]:
    """A request paid: marked so, its cards refreshed, the requester told."""
    req = s.get(PaymentRequest, payload.request_id)
    if req is None:
        return []
    req.status, req.done_at = "paid", now
    out = refresh_request_cards(app, s, req, now)
    requester = s.get(User, req.requester_id)
    payer = s.get(User, req.payer_id) if req.payer_id else None
    if requester is not None and requester.private_chat_id:
        out.append(Reply(ReplyKind.message, requester.private_chat_id,
                         t(requester.lang, "{who} paid you {amount}.", who=display(payer) if payer else "?",
                           amount=money_text(req.amount, req.currency, requester.lang))))
    return out


