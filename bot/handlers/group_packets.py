"""Red packets in a group: the sender's card and step-up, the packet's card with Claim, claims paid after the commit
(eligibility at payout: bot/groups/packets.py), and the rest back to the sender at expiry."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot import commands
from bot.actions import attempt_id, money_text
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Button, Reply
from bot.execution import Outcome
from bot.groups import holds, packets, texts
from bot.groups.models import RedPacket
from bot.groups.payloads import (
    RedPacketFund,
)
from bot.handlers import cards, payments, replies, tokens
from bot.handlers.group_common import commit, in_group, notify, press_reply, wallet
from bot.i18n import t
from bot.models import Action, PressToken, User
from bot.payloads import Payload, load
from intents.model import Intent

_LUCKY = re.compile(r"\b(lucky|random|tilfeldig|heldig|chanceux|hasard|aléatoire)\b|🎲", re.IGNORECASE)


def register(bus: Bus) -> None:
    bus.intents["red_packet"] = intent_red_packet
    bus.presses["claim"] = press_claim
    bus.presses["packet_mode"] = press_packet_mode
    bus.executors["red_packet"] = execute_packet
    bus.after_record["red_packet"] = after_packet
    bus.ticks.append(packets_due)


def intent_red_packet(app: App, c: Ctx, intent: Intent) -> None:
    if not in_group(c):
        return
    cur = payments.currency(c, intent)
    amount = payments.minor(app, c, intent.amount, cur)
    if amount is None:
        return
    if not intent.count:
        c.say(t(c.lang, "For how many people? For example \"red packet $20 for 5 people\"."))
        return
    count = int(intent.count)
    mode = packets.LUCKY if _LUCKY.search(c.ev.text or "") else packets.EQUAL
    try:
        parts = packets.split_parts(amount, count, mode)
    except packets.PacketProblem:
        c.say(t(c.lang, "That is too little to share between {n} people: every part needs at least the smallest coin.",
                n=count))
        return
    assert c.chat.id is not None
    _propose(app, c, RedPacketFund(currency=cur, amount=amount, parts=tuple(parts), mode=mode, note=intent.note,
                                   chat_row_id=c.chat.id, chat_id=c.ev.chat.chat_id,
                                   hours=app.settings.red_packet_hours, from_user=c.uid))


def _propose(app: App, c: Ctx, payload: RedPacketFund) -> None:
    """The sender's card, with a setting to switch between equal and lucky parts (a new card each time)."""
    cards.propose(app, c, payload)
    aid = cards.action_id(c, c.ev.message_id or c.ev.event_id)
    for i, r in enumerate(c.replies):
        if r.ref == f"card:{aid}":
            token = tokens.token(app, c, "packet_mode", action_id=aid, allowed=c.uid)
            label = t(c.lang, "🎲 Lucky parts instead") if payload.mode == packets.EQUAL else t(c.lang, "Equal parts instead")
            c.replies[i] = replace(r, buttons=r.buttons + ((Button(label, data=token),),))


def press_packet_mode(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """The card's setting pressed: this card is void, a new one with the other kind of parts takes its place."""
    a = cards.action_of(c, tok)
    if a is None:
        return
    if a.status != "awaiting_confirm":
        c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status)))
        return
    old = load(a.payload)
    assert isinstance(old, RedPacketFund)
    mode = packets.EQUAL if old.mode == packets.LUCKY else packets.LUCKY
    a.status, a.result = "cancelled", "changed"
    c.replies.extend(replies.edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Changed: see the new card below.")))
    c.answer(t(c.lang, "OK"), alert=False)
    _propose(app, c, dataclasses.replace(old, mode=mode, parts=tuple(packets.split_parts(old.amount, len(old.parts), mode))))


def execute_packet(app: App, run_id: str, payload: Payload) -> Outcome:
    assert isinstance(payload, RedPacketFund)
    wallet = app.executor.wallet(payload.from_user, payload.currency, payload.from_label)
    specs = packets.fund_specs(run_id, wallet, holds.account(app.ledger, payload.currency), list(payload.parts), payload.note)
    return commit(app, specs)


def _packet_card(app: App, s: Session, p: RedPacket) -> list[Reply]:
    sender = s.get(User, p.sender_id)
    lang = sender.lang if sender else app.settings.default_language
    claimed = [(display(u), amount) for u, amount in packets.claimers(s, p.id)]
    text = texts.packet_card(lang, sender=display(sender) if sender else "?", amount=p.amount, currency=p.currency,
                             count=p.count, mode=p.mode, note=p.note, claimed=claimed, expires_at=p.expires_at,
                             status=p.status)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if p.status == "open" and len(claimed) < p.count:
        tok = s.exec(select(PressToken).where(PressToken.action_id == p.id, PressToken.choice == "claim")).first()
        token = tok.token if tok is not None else tokens.raw_token(
            app, s, "claim", now=p.created_at, action_id=p.id, lifetime=timedelta(hours=app.settings.red_packet_hours + 1))
        buttons = ((Button(commands.labels(lang).get("claim", t(lang, "Claim")), data=token),),)
    return replies.edit_or_send(s, f"packet:{p.id}", p.chat_id, text, buttons)


def after_packet(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome, now: datetime) -> list[Reply]:
    assert isinstance(payload, RedPacketFund)
    pid = attempt_id(a.id, a.attempt)
    p = packets.record(s, pid, chat_row_id=payload.chat_row_id, chat_id=payload.chat_id, sender_id=payload.from_user,
                       currency=payload.currency, parts=list(payload.parts), mode=payload.mode, note=payload.note,
                       expires_at=now + timedelta(hours=payload.hours), now=now)
    done = replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, t(user.lang, "Done ✅") + "\n" + payload.describe(user.lang))
    return done + _packet_card(app, s, p)


def press_claim(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    packet_id, user_id = tok.action_id or "", c.user.id or 0
    answer, lang = press_reply(c), c.lang

    def run() -> list[Reply]:
        got = packets.claim(app.db, app.ledger, packet_id, user_id, wallet(app), app.clock())
        if got.ok:
            text = t(lang, "You got {amount} from the red packet 🧧", amount=money_text(got.amount, got.currency, lang))
        else:
            text = texts.refusal(lang, got.code)
        out = [answer(text)]
        if got.ok:
            with Session(app.db, expire_on_commit=False) as s:
                p = s.get(RedPacket, packet_id)
                if p is not None:
                    out += _packet_card(app, s, p)
                    s.commit()
        return out

    c.after.append(run)




def packets_due(app: App, now: datetime) -> list[Reply]:
    """Claims a crash interrupted after taking their part are paid; packets past expiry give the rest back."""
    out: list[Reply] = []
    pay_to = wallet(app)
    packets.resume(app.db, app.ledger, pay_to, now)
    for e in packets.expire_due(app.db, app.ledger, now, pay_to):
        with Session(app.db, expire_on_commit=False) as s:
            p = s.get(RedPacket, e.packet_id)
            sender = s.get(User, e.sender_id)
            if p is not None:
                out += _packet_card(app, s, p)
            if sender is not None and e.returned:
                out += notify(s, sender, e.chat_id, app.messenger,
                              t(sender.lang, "Your red packet expired: {amount} nobody claimed came back to you.",
                                amount=money_text(e.returned, e.currency, sender.lang)))
            s.commit()
    return out
