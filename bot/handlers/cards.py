"""Cards: propose an action (its card with Confirm and Cancel), the presses on it, cancelling, expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import commands
from bot.actions import AWAITING, digest
from bot.app import App
from bot.bus import Bus
from bot.clock import aware
from bot.context import Ctx
from bot.directory import display
from bot.events import Button, Reply, ReplyKind
from bot.handlers import funds, replies, state, stepup, tokens
from bot.i18n import t
from bot.models import Action, Challenge, PressToken, User
from bot.payloads import Payload, load, needs_stepup, retryable
from intents.model import Intent


def register(bus: Bus) -> None:
    bus.presses["confirm"] = press_confirm
    bus.presses["cancel"] = press_cancel
    bus.presses["retry"] = press_retry
    for name in commands.CANCEL:
        bus.commands[name] = lambda app, c, arg: cancel_pending(app, c)
    bus.intents["cancel"] = intent_cancel
    bus.ticks.append(expire_due)


def action_id(c: Ctx, suffix: str) -> str:
    """The id of an action made by this event: messenger, chat, and the message (or another suffix)."""
    return f"{c.ev.chat.messenger}:{c.ev.chat.chat_id}:{suffix}"


def propose(app: App, c: Ctx, payload: Payload) -> None:
    """Make a pending action of the payload's kind and show its card with Confirm and Cancel (once per
    message: the action's id derives from it). Refused above the initiator's limit; a card the wallet
    cannot pay says so at once and offers a top-up."""
    aid = action_id(c, c.ev.message_id or c.ev.event_id)
    if c.s.get(Action, aid) is not None:
        return
    if not funds.limit_ok(app, c, payload):
        return
    payload = payload.labelled(display(c.user))
    body = payload.to_json()
    a = Action(id=aid, kind=payload.kind, initiator_id=c.user.id or 0, messenger=c.ev.chat.messenger,
               origin_chat_id=c.ev.chat.chat_id, origin_group=not c.private, payload=body, digest=digest(body),
               created_at=c.now, expires_at=c.now + app.ttl, card_chat_id=c.ev.chat.chat_id)
    c.s.add(a)
    c.s.flush()
    confirm = tokens.token(app, c, "confirm", action_id=a.id, allowed=c.user.id)
    cancel = tokens.token(app, c, "cancel", action_id=a.id, allowed=c.user.id)
    shown = card(c.lang, c.private, display(c.user), payload, a.id, confirm, cancel, c.ev.chat.chat_id)
    short = funds.shortfall(app, c.user, payload)
    if short is not None:  # say so now, not after the PIN: the card offers the top-up
        cur, have, need = short
        topup = tokens.raw_token(app, c.s, "topup", now=c.now, action_id=a.id, allowed=c.user.id, lifetime=app.ttl)
        shown = replace(shown, text=shown.text + "\n" + funds.short_text(c.lang, cur, have, need, on_card=True),
                        buttons=shown.buttons + ((funds.topup_button(c.lang, cur, need - have, topup, link=not c.private),),))
    c.replies.append(shown)


def card(lang: str, private: bool, who: str, payload: Payload, aid: str, confirm: str, cancel: str,
         chat_id: str) -> Reply:
    """The confirmation card of a new action, with its Confirm and Cancel buttons."""
    labels = commands.labels(lang)
    stepup_needed = needs_stepup(payload.kind)
    if private or not stepup_needed:
        confirm_btn = Button(labels["confirm"], data=confirm)
    else:
        confirm_btn = Button(labels["confirm"], start_payload=confirm)
    text = payload.describe(lang)
    head = t(lang, "Please check:") if private else t(lang, "{who}, please check:", who=who)
    tail = "" if private or not stepup_needed else "\n" + t(lang, "Confirm opens our private chat, where you give your PIN.")
    return Reply(ReplyKind.message, chat_id, f"{head}\n{text}{tail}",
                 ((confirm_btn, Button(labels["cancel"], data=cancel)),), ref=f"card:{aid}")


def on_press(app: App, c: Ctx) -> None:
    """A button pressed: its data is a token (or a keypad key)."""
    assert c.ev.press is not None
    use_token(app, c, c.ev.press.data, via_link=False)


def use_token(app: App, c: Ctx, token: str, *, via_link: bool) -> None:
    """A token pressed (or opened through a /start link): checked, claimed when single-use, then handed to
    the handler of its choice (`bus.presses`)."""
    if token.startswith("kp") and not via_link:
        stepup.on_keypad(app, c, token)
        return
    tok = c.s.get(PressToken, token)
    if tok is None:
        c.answer(t(c.lang, "This button is no longer valid."))
        return
    if tok.allowed_user_id is not None and tok.allowed_user_id != c.user.id:
        owner = c.s.get(User, tok.allowed_user_id)
        c.answer(t(c.lang, "Only {who} can use this button.", who=display(owner) if owner else "?"))
        return
    expires = aware(tok.expires_at)
    if expires and c.now > expires:
        c.answer(t(c.lang, "This card has expired. Nothing was done."))
        return
    if tok.single_use:
        claimed = c.s.execute(
            sa.update(PressToken).where(col(PressToken.token) == token, col(PressToken.used_at).is_(None)).values(used_at=c.now)
        ).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            pressed_again(app, c, tok)
            return
    handler = app.bus.press_handler(tok.choice)
    if handler is None:
        action_of(c, tok)
        return
    handler(app, c, tok, via_link)


def action_of(c: Ctx, tok: PressToken) -> Action | None:
    """The action a card's token names; None (after saying the button is no longer valid) when there is none."""
    a = c.s.get(Action, tok.action_id) if tok.action_id else None
    if a is None:
        c.answer(t(c.lang, "This button is no longer valid."))
    return a


def press_confirm(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    a = action_of(c, tok)
    if a is None:
        return
    if not via_link:
        c.answer(t(c.lang, "Confirmed. Check our private chat."), alert=False) if not c.private else c.answer(t(c.lang, "Confirmed."), alert=False)
    stepup.confirm(app, c, a)


def press_cancel(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    a = action_of(c, tok)
    if a is None:
        return
    if a.status in AWAITING:
        a.status, a.result = "cancelled", "by_user"
        stepup.close_challenges(app, c, a.id)
        c.answer(t(c.lang, "Cancelled."), alert=False)
        c.replies.extend(replies.edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Cancelled: nothing was done.")))
    else:
        c.answer(t(c.lang, "Too late to cancel: it is {status}.", status=t(c.lang, a.status)))


def press_retry(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    a = action_of(c, tok)
    if a is not None:
        retry(app, c, a)


def retry(app: App, c: Ctx, a: Action) -> None:
    """A failed card confirmed again: a new attempt (transfer ids of its own), with its own step-up."""
    if a.status != "failed" or not retryable(a.kind):
        c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status)))
        return
    a.attempt += 1
    a.status, a.result, a.done_at = "awaiting_confirm", None, None
    a.expires_at = c.now + app.ttl
    c.answer(t(c.lang, "Trying again."), alert=False)
    stepup.confirm(app, c, a)


def pressed_again(app: App, c: Ctx, tok: PressToken) -> None:
    """A Confirm or Cancel pressed again: "Already done." only when it is; a card still waiting for
    its PIN asks for it again (its own challenge, named), so no other card's step-up leaves it stuck."""
    a = c.s.get(Action, tok.action_id) if tok.action_id else None
    if a is None:
        c.answer(t(c.lang, "This button is no longer valid."))
        return
    if tok.choice == "confirm" and a.status in AWAITING:
        if a.status == "awaiting_stepup":
            c.answer(t(c.lang, "Your PIN is awaited for this card: see our private chat."), alert=False)
        stepup.confirm(app, c, a)
        return
    if a.status == "executed":
        c.answer(t(c.lang, "Already done."), alert=False)
    else:
        c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status)), alert=False)


def cancel_pending(app: App, c: Ctx) -> None:
    """Cancel the question the bot is waiting on and every card waiting for confirmation, and say which."""
    question = question_text(c, state.get(c))
    state.set(c, None)
    pending = c.s.exec(select(Action).where(Action.initiator_id == c.user.id, col(Action.status).in_(AWAITING))
                       .order_by(col(Action.created_at))).all()
    done: list[str] = [question] if question else []
    for a in pending:
        a.status, a.result = "cancelled", "by_user"
        stepup.close_challenges(app, c, a.id)
        c.replies.extend(replies.edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Cancelled: nothing was done.")))
        done.append(load(a.payload).describe(c.lang).splitlines()[0])
    if not done:
        c.say(t(c.lang, "Nothing to cancel."))
        return
    c.say(t(c.lang, "Cancelled, nothing was done:") + "\n" + "\n".join(f"• {line}" for line in done))


def question_text(c: Ctx, st: dict[str, Any] | None) -> str | None:
    """What the pending question was about, in words (None for a PIN question: its card is named instead)."""
    kind = (st or {}).get("await")
    if kind in ("pin_new", "pin_repeat"):
        return t(c.lang, "choosing your PIN")
    if kind == "totp_enrol":
        return t(c.lang, "setting up one-time codes")
    if kind == "slot" and st is not None:
        saved = st.get("intent") or {}
        verb = {"send": t(c.lang, "send"), "request": t(c.lang, "request"), "split": t(c.lang, "split"),
                "deposit": t(c.lang, "top up"), "withdraw": t(c.lang, "withdraw")}.get(str(saved.get("intent")), "")
        if st.get("slot") == "amount":
            return t(c.lang, "the question \"How much?\" ({what})", what=verb)
        return t(c.lang, "the question \"To whom?\" ({what})", what=verb)
    return None


def intent_cancel(app: App, c: Ctx, intent: Intent) -> None:
    cancel_pending(app, c)


def expire_due(app: App, now: datetime) -> list[Reply]:
    """Expire every card past its time and close it (the tick)."""
    out: list[Reply] = []
    with Session(app.db, expire_on_commit=False) as s:
        rows = s.exec(select(Action).where(col(Action.status).in_(AWAITING), col(Action.expires_at) <= now)).all()
        for a in rows:
            if (aware(a.expires_at) or now) > now:
                continue
            a.status, a.result = "expired", "expired"
            for ch in s.exec(select(Challenge).where(Challenge.action_id == a.id, Challenge.status == "open")).all():
                ch.status = "expired"
            user = s.get(User, a.initiator_id)
            lang = user.lang if user else "en"
            out += replies.edit_or_send(s, f"card:{a.id}", None, t(lang, "Expired: nothing was done."))
        s.commit()
    return out
