"""Receipts: a compact picture of a done payment (amount, payer and payee, time, transfer id) that the
payer can keep or forward. The outcome of a done send or request payment carries a Receipt button;
its press sends the picture in the payer's private chat, drawn from the action as it was executed."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.actions import attempt_id
from bot.app import App
from bot.bus import Bus
from bot.charts import receipt
from bot.context import Ctx
from bot.directory import display
from bot.events import Attachment, Button
from bot.handlers import tokens
from bot.i18n import t
from bot.models import Action, PressToken, User
from bot.payloads import Payload, PayRequest, Send, load
from bot.statements import file_tag

CHOICE = "receipt"


def register(bus: Bus) -> None:
    bus.presses[CHOICE] = on_receipt_press


def has_receipt(payload: Payload) -> bool:
    """Whether a done action of this payload gets a receipt: a payment to people, now (not a standing order)."""
    return isinstance(payload, PayRequest) or (isinstance(payload, Send) and not payload.scheduled)


def buttons(app: App, s: Session, a: Action, user: User, payload: Payload) -> tuple[tuple[Button, ...], ...]:
    """The Receipt button of a done payment's outcome (the payer's alone; reusable while requests live)."""
    if not has_receipt(payload) or a.done_at is None:
        return ()
    token = tokens.raw_token(app, s, CHOICE, now=a.done_at, action_id=a.id, allowed=user.id)
    return ((Button(t(user.lang, "🧾 Receipt"), data=token),),)


def _zone(user: User) -> Any:
    name = getattr(user, "tz", None)  # a person's own time zone, where the profile has one
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def of(a: Action, user: User) -> receipt.Receipt | None:
    """The receipt of an executed payment, from what its card bound (the payload) and when it was done."""
    payload = load(a.payload)
    if a.status != "executed" or a.done_at is None or not has_receipt(payload):
        return None
    run = attempt_id(a.id, a.attempt)
    if isinstance(payload, PayRequest):
        amount, currency, payee, note = payload.amount, payload.currency, payload.to_label, payload.note
        tid = f"{run}:0"
    else:
        assert isinstance(payload, Send)
        amount, currency, note = payload.total, payload.currency, payload.note
        payee = ", ".join(leg.label for leg in payload.legs)
        tid = f"{run}:0" if len(payload.legs) == 1 else f"{run}:0..{len(payload.legs) - 1}"
    return receipt.Receipt(amount=amount, currency=currency, payer=display(user), payee=payee, at=a.done_at,
                           transfer_id=tid, lang=user.lang, note=note, tz=_zone(user))


def on_receipt_press(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    a = c.s.get(Action, tok.action_id) if tok.action_id else None
    got = of(a, c.user) if a is not None and a.initiator_id == c.user.id else None
    if got is None:
        c.answer(t(c.lang, "This button is no longer valid."))
        return
    if c.ev.press is not None:
        c.answer(t(c.lang, "OK"), alert=False)
    assert a is not None
    name = f"receipt-{file_tag(c.user.handle, c.uid)}-{a.done_at:%Y-%m-%d}-{a.digest[:8]}.png"
    c.say(t(c.lang, "Your receipt: forward it to whoever needs it."), chat_id=c.user.private_chat_id,
          photo=Attachment(name, receipt.png(got), "image/png"))
