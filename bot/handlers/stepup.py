"""Step-up of a card: Confirm opens a challenge, the PIN (typed or on the keypad) and a one-time code answer it."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.actions import AWAITING, digest
from bot.app import App
from bot.bus import Bus
from bot.clock import aware
from bot.context import Ctx
from bot.events import Reply, ReplyKind
from bot.handlers import execution, funds, keypad, passkey, replies, risk, state
from bot.i18n import fmt_datetime, t, tn
from bot.models import Action, Challenge
from bot.operators import guard
from bot.payloads import load, needs_stepup
from bot.policy import needs_totp
from bot.stepup import PinCheck


def register(bus: Bus) -> None:
    bus.presses[passkey.PRESS] = lambda app, c, tok, via_link: passkey.on_press(app, c, tok, passed)
    bus.answers["pin"] = answer_pin_state
    bus.answers["totp"] = answer_totp_state


def answer_pin_state(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """A PIN typed as the answer to a card's PIN question."""
    if not app.stepup.valid_pin(text):
        return False
    replies.delete_typed(c)
    answer_pin(app, c, int(st["challenge"]), text)
    return True


def answer_totp_state(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """A one-time code typed as the answer to a card's code question."""
    code = text.replace(" ", "")
    if not code.isdigit():
        return False
    replies.delete_typed(c)
    answer_totp(app, c, int(st["challenge"]), code)
    return True


def refuse_exposed(c: Ctx, chat_id: str | None = None) -> bool:
    """Say so and True when the PIN was exposed in a group (it confirms nothing until changed)."""
    if not c.user.pin_exposed:
        return False
    c.say(t(c.lang, "Your PIN was typed in a group, so I no longer accept it. Change it with /pin, then press Confirm again."),
          chat_id=chat_id or c.user.private_chat_id)
    return True


def ask_pin(app: App, c: Ctx, challenge_id: int, dm: str, text: str) -> None:
    """Ask for the PIN in the private chat: typed, or tapped on an inline keypad."""
    nonce = secrets.token_urlsafe(6)
    state.set(c, {"await": "pin", "challenge": challenge_id, "chat": dm, "kp": nonce, "entered": ""})
    c.replies.append(keypad.pin_prompt(challenge_id, dm or c.ev.chat.chat_id, text, nonce))
    ch = c.s.get(Challenge, challenge_id)
    if ch is not None and passkey.enrolled(app, c):  # the passkey page's button on the question
        passkey.offer(app, c, ch, dm or c.ev.chat.chat_id)


def on_keypad(app: App, c: Ctx, data: str) -> None:
    """A key of the PIN keypad: collect digits, submit on OK; the prompt shows dots, never digits."""
    st = state.get(c)
    if not st or st.get("await") != "pin" or not c.private or not data.startswith("kp" + str(st.get("kp"))):
        c.answer(t(c.lang, "This keypad is no longer valid."))
        return
    key = keypad.key_at(data[2 + len(str(st["kp"])):])
    if key is None:
        c.answer(t(c.lang, "This keypad is no longer valid."))
        return
    entered = str(st.get("entered", ""))
    if key == "OK":
        st["entered"] = ""
        state.set(c, st)
        c.answer("…", alert=False)
        answer_pin(app, c, int(st["challenge"]), entered)
        return
    entered = entered[:-1] if key == "⌫" else (entered + key)[:8]
    st["entered"] = entered
    state.set(c, st)
    c.answer("•" * len(entered) or "·", alert=False)


def close_keypad(app: App, c: Ctx, challenge_id: int, text: str | None = None) -> None:
    """Take the keypad off a PIN prompt once the PIN has been answered (saying how, when not simply received)."""
    sent = replies.sent(c.s, f"pin:{challenge_id}")
    if sent is not None:
        c.replies.append(Reply(ReplyKind.edit, sent.chat_id, text or t(c.lang, "PIN received."), target_message_id=sent.message_id))


def resume_stepup(app: App, c: Ctx, a: Action, lead: str | None = None) -> bool:
    """Ask again, in the private chat, for what this card's open challenge still needs; False when it has none."""
    ch = c.s.exec(select(Challenge).where(Challenge.action_id == a.id, Challenge.user_id == c.user.id,
                                          Challenge.status == "open").order_by(col(Challenge.id).desc())).first()
    dm = c.user.private_chat_id
    if ch is None or dm is None or c.now > (aware(ch.expires_at) or c.now):
        return False
    if refuse_exposed(c, dm):
        return True
    summary = load(a.payload).describe(c.lang)
    if not c.user.pin_hash:
        state.set(c, {"await": "pin_new", "chat": dm, "then": ch.id})
        c.say(t(c.lang, "To confirm:\n{summary}\n\nYou need a PIN first. Choose a PIN of 4 to 8 digits.", summary=summary), chat_id=dm)
        return True
    if ch.pin_ok and needs_totp(ch.method):
        state.set(c, {"await": "totp", "challenge": ch.id, "chat": dm})
        c.say((lead + "\n" if lead else "") + summary + "\n\n" + t(c.lang, "Now send the 6-digit code from your authenticator app."), chat_id=dm)
        return True
    text = pin_question(c.lang, summary)
    ask_pin(app, c, ch.id or 0, dm, lead + "\n" + text if lead else text)
    return True


def next_waiting(app: App, c: Ctx, done_id: str) -> None:
    """After one card's step-up: another card of this person still waiting for a PIN is asked for next."""
    rows = c.s.exec(select(Action).where(Action.initiator_id == c.user.id, Action.status == "awaiting_stepup",
                                         col(Action.id) != done_id).order_by(col(Action.created_at).desc())).all()
    for other in rows:
        if resume_stepup(app, c, other, t(c.lang, "Another card is still waiting for your PIN:")):
            return


def expire(app: App, c: Ctx, a: Action) -> None:
    """The card has expired: say so, close its challenges and its card."""
    a.status, a.result = "expired", "expired"
    close_challenges(app, c, a.id)
    c.answer(t(c.lang, "This card has expired. Nothing was done."))
    c.replies.extend(replies.edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Expired: nothing was done.")))


def confirm(app: App, c: Ctx, a: Action) -> None:
    """Confirm pressed (or a pay press): check the card, then execute it or open its step-up challenge."""
    if a.status not in AWAITING:
        c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status)))
        return
    frozen = guard.frozen_refusal(c.s, c.user, a.kind)
    if frozen is not None:  # held, not executed: the card waits (and expires as cards do)
        c.answer(frozen)
        return
    if c.now > (aware(a.expires_at) or c.now):
        expire(app, c, a)
        return
    if digest(a.payload) != a.digest:
        a.status, a.result = "cancelled", "tampered"
        c.answer(t(c.lang, "This card changed after it was shown, so it is void. Nothing was done."))
        return
    if not needs_stepup(a.kind):
        a.status = "executing"
        c.after.append(lambda: execution.execute(app, a.id))
        return
    if a.status == "awaiting_stepup":
        if resume_stepup(app, c, a):
            return
        a.status = "awaiting_confirm"  # its challenge is gone: a new one below
    locked = app.stepup.locked(c.user, c.now)
    if locked is not None:
        c.say(t(c.lang, "Confirmations are locked until {time} after too many wrong PINs.", time=fmt_datetime(locked, c.lang)),
              chat_id=c.user.private_chat_id)
        return
    if refuse_exposed(c):
        return
    if funds.short_at_confirm(app, c, a):
        return
    payload = load(a.payload)
    method = risk.stepup_method(app, c, a, payload)
    ch = Challenge(action_id=a.id, user_id=c.user.id or 0, digest=a.digest, method=method, created_at=c.now,
                   expires_at=aware(a.expires_at) or c.now)
    c.s.add(ch)
    c.s.flush()
    a.status, a.stepup_method = "awaiting_stepup", method
    dm = c.user.private_chat_id
    if dm is None:
        c.answer(t(c.lang, "Open a private chat with me first (send /start there), then press Confirm again."))
        a.status = "awaiting_confirm"
        return
    summary = load(a.payload).describe(c.lang)
    if not c.user.pin_hash:
        state.set(c, {"await": "pin_new", "chat": dm, "then": ch.id})
        c.say(t(c.lang, "To confirm:\n{summary}\n\nYou need a PIN first. Choose a PIN of 4 to 8 digits.", summary=summary), chat_id=dm)
        return
    ask_pin(app, c, ch.id or 0, dm, pin_question(c.lang, summary))


def pin_question(lang: str, summary: str) -> str:
    """The question that asks for the PIN of a card."""
    return t(lang, "To confirm:\n{summary}\n\nType your PIN, or tap it on the keypad. I delete a typed PIN from the chat right away.", summary=summary)


def close_challenges(app: App, c: Ctx, action_id: str) -> None:
    """Expire the open challenges of an action (and the PIN question asking for one)."""
    for ch in c.s.exec(select(Challenge).where(Challenge.action_id == action_id, Challenge.status == "open")).all():
        ch.status = "expired"
        st = state.get(c)
        if st and st.get("challenge") == ch.id:
            state.set(c, None)


def challenge_action(app: App, c: Ctx, challenge_id: int) -> tuple[Challenge, Action] | None:
    """The open challenge and its action, when the answer may still pass it; else says why and gives None."""
    ch = c.s.get(Challenge, challenge_id)
    a = c.s.get(Action, ch.action_id) if ch is not None else None
    if ch is None or a is None or ch.status != "open" or ch.user_id != c.user.id:
        state.set(c, None)
        c.say(t(c.lang, "There is nothing waiting for your PIN."))
        return None
    if c.now > (aware(ch.expires_at) or c.now) or a.status != "awaiting_stepup":
        ch.status = "expired"
        state.set(c, None)
        if a.status in AWAITING:
            expire(app, c, a)
        else:
            c.say(t(c.lang, "This confirmation is no longer open. Nothing was done."))
        return None
    if digest(a.payload) != ch.digest or a.digest != ch.digest:
        ch.status, a.status, a.result = "failed", "cancelled", "tampered"
        state.set(c, None)
        c.say(t(c.lang, "This card changed after it was shown, so it is void. Nothing was done."))
        return None
    return ch, a


def answer_pin(app: App, c: Ctx, challenge_id: int, pin: str) -> None:
    """A PIN given for a challenge: wrong (tries left), locked, or right (then a code, or execution)."""
    found = challenge_action(app, c, challenge_id)
    if found is None:
        return
    ch, a = found
    if passkey.refuse_pin(c, ch):
        return
    if refuse_exposed(c, c.ev.chat.chat_id):
        state.set(c, None)
        return
    result = app.stepup.check(c.s, c.user, c.now, pin=pin, known=c.pins)
    if result.status == PinCheck.wrong:
        c.say(tn(c.lang, "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", result.tries_left))
        return
    if result.status in (PinCheck.locked, PinCheck.no_pin):
        ch.status, a.status, a.result = "failed", "cancelled", "stepup_locked"
        state.set(c, None)
        close_keypad(app, c, ch.id or 0, t(c.lang, "Locked: too many wrong PINs. Nothing was done."))
        until = result.locked_until or c.now
        c.say(t(c.lang, "Too many wrong PINs: confirmations are locked until {time}. Nothing was done.",
                time=fmt_datetime(until, c.lang)))
        c.replies.extend(replies.edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Cancelled: the PIN check failed.")))
        return
    ch.pin_ok = True
    if needs_totp(ch.method):
        state.set(c, {"await": "totp", "challenge": ch.id, "chat": c.ev.chat.chat_id})
        c.say(t(c.lang, "Now send the 6-digit code from your authenticator app."))
        return
    passed(app, c, ch, a)


def answer_totp(app: App, c: Ctx, challenge_id: int, code: str) -> None:
    """A one-time code given for a challenge whose PIN was right."""
    found = challenge_action(app, c, challenge_id)
    if found is None:
        return
    ch, a = found
    result = app.stepup.check(c.s, c.user, c.now, totp_code=code if ch.pin_ok else None)
    if not result.ok:  # a wrong code counts toward the same lockout as a wrong PIN
        if result.status == PinCheck.locked:
            ch.status, a.status, a.result = "failed", "cancelled", "stepup_locked"
            state.set(c, None)
            c.say(t(c.lang, "Too many wrong answers: confirmations are locked. Nothing was done."))
            return
        c.say(t(c.lang, "That code is not right or was already used. Send the current code."))
        return
    passed(app, c, ch, a)


def passed(app: App, c: Ctx, ch: Challenge, a: Action, how: str = "pin") -> None:
    """The challenge is passed: claim it and the action once, then execute after the commit."""
    claimed = c.s.execute(
        sa.update(Challenge).where(col(Challenge.id) == ch.id, col(Challenge.status) == "open").values(status="passed")
    ).rowcount  # type: ignore[attr-defined]
    state.set(c, None)
    close_keypad(app, c, ch.id or 0, t(c.lang, "Confirmed with your passkey.") if how == "passkey" else None)
    if claimed != 1:
        return
    moved = c.s.execute(
        sa.update(Action).where(col(Action.id) == a.id, col(Action.status) == "awaiting_stepup").values(status="executing")
    ).rowcount  # type: ignore[attr-defined]
    if moved != 1:
        return
    action_id, known = a.id, (a.kind, a.payload, a.attempt)  # read before the expiry (which would read them again)
    c.s.expire(a)
    c.say(t(c.lang, "Passkey accepted. Working on it…") if how == "passkey" else t(c.lang, "PIN accepted. Working on it…"))
    c.after.append(lambda: execution.execute(app, action_id, known))
    next_waiting(app, c, action_id)


