"""Escrow, the room: money sent to a handle waits; claimed on their /start, returned when the days are over."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import escrow as book
from bot import uow
from bot.actions import money_text
from bot.app import App
from bot.bus import Bus
from bot.clock import aware
from bot.context import Ctx
from bot.crash import crash_point
from bot.directory import display
from bot.events import Reply, ReplyKind
from bot.i18n import t
from bot.models import Escrow, User
from bot.payloads import Send

log = logging.getLogger("finbot.engine")


def register(bus: Bus) -> None:
    bus.ticks.append(due)


def record(app: App, s: Session, transfer_prefix: str, sender_id: int, payload: Send, now: datetime) -> None:
    """An escrow row for each leg whose payee never wrote to the bot (its transfer is `<prefix>:<leg>`)."""
    for i, leg in enumerate(payload.legs):
        if not leg.escrow:
            continue
        assert leg.handle is not None
        s.add(Escrow(action_id=transfer_prefix, leg=i, sender_id=sender_id, handle=leg.handle, amount=leg.amount,
                     currency=payload.currency, transfer_id=f"{transfer_prefix}:{i}",
                     expires_at=now + timedelta(days=app.settings.escrow_days)))


def claim(app: App, c: Ctx) -> None:
    """Money waiting for this handle: post each hold on to the new user's wallet (bot/book.py)."""
    if not c.user.handle:
        return
    rows = c.s.exec(select(Escrow).where(Escrow.handle == c.user.handle, Escrow.status == book.HELD)).all()
    if not rows:
        return
    claims = [(r.id or 0, r.amount, r.currency, r.transfer_id, r.sender_id) for r in rows]
    uid = c.user.id
    assert uid is not None
    ledger = uow.ledger(app, c)
    settled: list[tuple[int, int, str, int, str]] = []
    for eid, amount, cur, tid, sender_id in claims:
        wallet = app.executor.wallet(uid, cur, display(c.user))
        fate = book.claim(ledger, tid, app.executor.system("escrow", cur), wallet, amount)
        crash_point("escrow_claim_committed")
        if fate in (book.CLAIMED, book.RETURNED):
            settled.append((eid, amount, cur, sender_id, fate))
        else:
            log.error("escrow claim %s: the hold %s is %s", eid, tid, fate)
    for eid, amount, cur, sender_id, fate in settled:
        if not book.settle(c.s, eid, fate, c.now):
            continue  # the sweep wrote it (and told whom it concerns)
        sender = c.s.get(User, sender_id)
        if fate == book.CLAIMED:
            c.say(t(c.lang, "{who} sent you {amount}. It is in your wallet now.", who=display(sender) if sender else "?",
                    amount=money_text(amount, cur, c.lang)))
        elif sender is not None and sender.private_chat_id:
            c.say(t(sender.lang, "@{handle} did not claim {amount} in time, so it is back in your wallet.",
                    handle=c.user.handle, amount=money_text(amount, cur, sender.lang)), chat_id=sender.private_chat_id)


def due(app: App, now: datetime) -> list[Reply]:
    """Escrow whose days are over: void each hold back to the sender, unless the ledger says it was claimed."""
    out: list[Reply] = []
    with Session(app.db, expire_on_commit=False) as s:
        held = s.exec(select(Escrow).where(Escrow.status == book.HELD, col(Escrow.expires_at) <= now)).all()
        ripe = [(e.id or 0, e.sender_id, e.amount, e.currency, e.handle, e.transfer_id)
               for e in held if (aware(e.expires_at) or now) <= now]
        s.rollback()
    for eid, sender_id, amount, cur, handle, tid in ripe:
        fate = book.give_back(app.ledger, tid)
        crash_point("escrow_return_committed")
        if fate not in (book.CLAIMED, book.RETURNED):
            log.error("escrow return %s: the hold %s is %s", eid, tid, fate)
            continue
        with Session(app.db, expire_on_commit=False) as s:
            if not book.settle(s, eid, fate, now):
                s.rollback()
                continue  # the payee's claim wrote it
            sender = s.get(User, sender_id)
            payee = app.directory.by_handle(s, handle)
            if fate == book.RETURNED and sender is not None and sender.private_chat_id:
                out.append(Reply(ReplyKind.message, sender.private_chat_id,
                                     t(sender.lang, "@{handle} did not claim {amount} in time, so it is back in your wallet.",
                                       handle=handle, amount=money_text(amount, cur, sender.lang))))
            if fate == book.CLAIMED and payee is not None and payee.private_chat_id:
                out.append(Reply(ReplyKind.message, payee.private_chat_id,
                                     t(payee.lang, "{who} sent you {amount}. It is in your wallet now.",
                                       who=display(sender) if sender else "?", amount=money_text(amount, cur, payee.lang))))
            s.commit()
    return out


