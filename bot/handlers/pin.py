"""PIN and one-time codes of one's own: /pin, /totp, their answers, and a PIN typed where it must not be."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import display
from bot.events import Attachment, Event
from bot.handlers import replies, state, stepup
from bot.i18n import fmt_datetime, t
from bot.models import Action, Challenge, Conversation, Identity, User
from bot.payloads import load
from bot.stepup import PinCheck, PinResult, Weak, weak_pin
from ledger.db import READ_ONLY

PROOFS = ("pin_current", "factor_pin", "factor_code", "op_pin")  # answers that prove who one is before a change


def register(bus: Bus) -> None:
    bus.commands["pin"] = lambda app, c, arg: cmd_pin(app, c)
    bus.commands["totp"] = cmd_totp
    for kind in PROOFS:
        bus.answers[kind] = answer_proof
    bus.answers["pin_new"] = answer_pin_new
    bus.answers["pin_repeat"] = answer_pin_repeat
    bus.answers["totp_enrol"] = answer_totp_enrol


def verify_early(app: App, ev: Event) -> dict[tuple[str, str], bool]:
    """Verify what may be a PIN answer (digits typed, or the keypad's OK) against the stored hash on a
    read-only connection, before the event's write transaction takes the lock (BEGIN IMMEDIATE on
    SQLite): the lock is held only to record the outcome. A verdict is keyed by the hash it was
    reached on; a hash changed meanwhile is verified again under the lock."""
    text = (ev.text or "").strip()
    keypad_ok = ev.press is not None and ev.press.data.startswith("kp") and ev.press.data.endswith("32")
    if not app.stepup.valid_pin(text) and not keypad_ok:
        return {}
    with app.db.connect() as raw:
        conn = raw.execution_options(**{READ_ONLY: True})
        row = conn.execute(sa.select(col(User.id), col(User.pin_hash)).join(Identity, col(Identity.user_id) == col(User.id)).where(
            col(Identity.messenger) == ev.sender.messenger, col(Identity.external_id) == ev.sender.user_id)).first()
        if row is None or not row.pin_hash:
            return {}
        candidates = [text] if app.stepup.valid_pin(text) else []
        if keypad_ok:
            raw_state = conn.execute(sa.select(col(Conversation.state)).where(col(Conversation.user_id) == row.id)).scalar()
            entered = str(json.loads(raw_state or "{}").get("entered", ""))
            if app.stepup.valid_pin(entered):
                candidates.append(entered)
        conn.rollback()
    return {(row.pin_hash, pin): app.stepup.verify(row.pin_hash, pin) for pin in candidates}


def is_pin(app: App, c: Ctx, text: str) -> bool:
    """Whether `text` is this person's PIN (the early verdict, else verified now)."""
    stored = c.user.pin_hash
    if not stored or not app.stepup.valid_pin(text):
        return False
    verdict = c.pins.get((stored, text))
    return app.stepup.verify(stored, text) if verdict is None else verdict


def cmd_pin(app: App, c: Ctx) -> None:
    if not c.private:
        c.say(t(c.lang, "Set your PIN in our private chat, never in a group."))
        return
    if c.user.pin_hash:
        # changing a PIN takes the current one (or a one-time code), never the account alone
        if refuse_locked(app, c):
            return
        state.set(c, {"await": "pin_current", "chat": c.ev.chat.chat_id})
        if c.user.totp_secret:
            c.say(t(c.lang, "To change your PIN, type your current PIN, or a 6-digit code from your authenticator app if you forgot it. I delete it from the chat right away."))
        else:
            c.say(t(c.lang, "To change your PIN, type your current PIN. I delete it from the chat right away. Forgot it? An operator can reset it."))
        return
    state.set(c, {"await": "pin_new", "chat": c.ev.chat.chat_id})
    c.say(t(c.lang, "Choose a PIN of 4 to 8 digits and send it to me. I delete it from the chat right away."))


def refuse_locked(app: App, c: Ctx) -> bool:
    """Say so and True when step-up is locked after too many wrong answers."""
    locked = app.stepup.locked(c.user, c.now)
    if locked is None:
        return False
    c.say(t(c.lang, "Confirmations are locked until {time} after too many wrong PINs.", time=fmt_datetime(locked, c.lang)))
    return True


def weak_pin_text(lang: str, why: Weak) -> str:
    if why == Weak.same:
        return t(lang, "That PIN is too easy to guess: all its digits are the same. Choose another one.")
    if why == Weak.run:
        return t(lang, "That PIN is too easy to guess: its digits run in order. Choose another one.")
    return t(lang, "That PIN is too easy to guess: it is one of the most common PINs. Choose another one.")


def pin_typed_in_group(app: App, c: Ctx, text: str) -> bool:
    """A person's PIN typed in a group: deleted, and exposed (refused for step-up until changed)."""
    if not is_pin(app, c, text):
        return False
    replies.delete_typed(c)
    c.user.pin_exposed = True
    c.say(t(c.lang, "I deleted a message that was your PIN. Others may have seen it, so it no longer confirms anything: change it with /pin in our private chat."))
    if c.user.private_chat_id:
        c.say(t(c.lang, "Your PIN was typed in a group, so I no longer accept it. Change it now with /pin."),
              chat_id=c.user.private_chat_id)
    return True


def proof_failed(app: App, c: Ctx, result: PinResult) -> None:
    """The answer to a wrong PIN or code given as proof for a change."""
    if result.status == PinCheck.locked:
        state.set(c, None)
        c.say(t(c.lang, "Too many wrong answers: confirmations are locked until {time}. Nothing was changed.",
                time=fmt_datetime(result.locked_until or c.now, c.lang)))
    elif result.status == PinCheck.no_pin:
        state.set(c, None)
        c.say(t(c.lang, "You have no PIN yet. Choose one with /pin."))
    else:
        c.say(t(c.lang, "That is not right. {n} tries left.", n=result.tries_left))


def answer_proof(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """Answers to a PIN change, a factor change or an operator's reset (the current PIN or code)."""
    kind = st.get("await")
    code = text.replace(" ", "")
    if not code.isdigit():
        return False
    replies.delete_typed(c)
    if kind == "pin_current":
        totp = code if c.user.totp_secret and len(code) == 6 else None
        result = app.stepup.check(c.s, c.user, c.now, pin=code, totp_code=totp, known=c.pins)
        if not result.ok:
            proof_failed(app, c, result)
            return True
        state.set(c, {"await": "pin_new", "chat": st["chat"], "proved": True})
        c.say(t(c.lang, "Choose a new PIN of 4 to 8 digits."))
        return True
    if kind == "factor_pin":
        result = app.stepup.check(c.s, c.user, c.now, pin=code, known=c.pins)
        if not result.ok:
            proof_failed(app, c, result)
            return True
        if c.user.totp_secret:
            state.set(c, {**st, "await": "factor_code"})
            c.say(t(c.lang, "Now send the current 6-digit code from your authenticator app."))
            return True
        factor_change(app, c, st)
        return True
    if kind == "factor_code":
        result = app.stepup.check(c.s, c.user, c.now, totp_code=code)
        if not result.ok:
            proof_failed(app, c, result)
            return True
        factor_change(app, c, st)
        return True
    # op_pin: a one-operator PIN reset asked before maker-checker (bot/handlers/operators.py) took its place;
    # a question left over from then resets nothing
    state.set(c, None)
    c.say(t(c.lang, "Nothing was changed."))
    return True


def factor_change(app: App, c: Ctx, st: dict[str, Any]) -> None:
    """After the current factors were given: enrol a new authenticator, add a passkey, or turn codes off."""
    if st.get("then") == "passkey":
        from bot.handlers import passkey

        passkey.enrol_link(app, c)
        return
    if st.get("then") == "off":
        c.user.totp_secret, c.user.totp_pending_secret, c.user.totp_last_counter = None, None, None
        state.set(c, None)
        c.say(t(c.lang, "One-time codes are off."))
        return
    secret = app.stepup.new_totp_secret()
    c.user.totp_pending_secret = secret
    uri = app.stepup.totp_uri(secret, display(c.user))
    png = app.stepup.qr_png(uri)
    state.set(c, {"await": "totp_enrol", "chat": st["chat"]})
    c.say(t(c.lang, "Scan this QR code with your authenticator app, or enter this key in it by hand: {secret}\nThen send me the 6-digit code it shows.",
            secret=secret),
          photo=Attachment(f"totp-{c.user.id}.png", png, "image/png", ephemeral=True))


def cmd_totp(app: App, c: Ctx, arg: str = "") -> None:
    if not c.private:
        c.say(t(c.lang, "Set up codes in our private chat, never in a group."))
        return
    off = arg.strip().lower() in ("off", "av", "remove", "stop")
    if not c.user.pin_hash:
        c.say(t(c.lang, "You have no PIN yet. Choose one with /pin."))
        return
    if off and not c.user.totp_secret:
        c.say(t(c.lang, "One-time codes are off."))
        return
    if refuse_locked(app, c):
        return
    # replacing or removing a factor takes the current ones: the PIN, then the current code when enrolled
    state.set(c, {"await": "factor_pin", "then": "off" if off else "enrol", "chat": c.ev.chat.chat_id})
    c.say(t(c.lang, "First type your current PIN. I delete it from the chat right away."))


def pin_as_answer(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """The person's PIN sent as the answer to a question that is not for a PIN ("How much?"): deleted,
    never used (as an amount or anything else), never echoed."""
    if st.get("await") in ("pin", "pin_new", "pin_repeat", "pin_current", "factor_pin", "op_pin"):
        return False
    if not is_pin(app, c, text):
        return False
    if not c.private:
        return pin_typed_in_group(app, c, text)
    replies.delete_typed(c)
    c.say(t(c.lang, "That was your PIN, so I deleted it and did not use it. Answer the question, or /cancel."))
    return True


def answer_pin_new(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """A new PIN chosen (it is asked once more)."""
    replies.delete_typed(c)
    if not app.stepup.valid_pin(text):
        c.say(t(c.lang, "A PIN is 4 to 8 digits. Try again, or /cancel."))
        return True
    why = weak_pin(text)
    if why is not None:
        c.say(weak_pin_text(c.lang, why))
        return True
    if c.user.pin_exposed and is_pin(app, c, text):
        c.say(t(c.lang, "That is the PIN that was typed in a group. Choose another one."))
        return True
    st.update({"await": "pin_repeat", "hash": app.stepup.hash_pin(text)})
    state.set(c, st)
    c.say(t(c.lang, "Type the same PIN once more."))
    return True


def answer_pin_repeat(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """The new PIN typed again: set (then the card that waited for it asks for it)."""
    replies.delete_typed(c)
    if not app.stepup.verify(st.get("hash"), text):
        state.set(c, {"await": "pin_new", "chat": st["chat"], "then": st.get("then"),
                            "proved": st.get("proved")})
        c.say(t(c.lang, "The two PINs differ. Choose a PIN of 4 to 8 digits again."))
        return True
    if c.user.pin_hash and not st.get("proved"):  # a PIN is replaced only after the current factor
        state.set(c, None)
        c.say(t(c.lang, "Nothing was changed."))
        return True
    c.user.pin_hash, c.user.pin_failures, c.user.pin_exposed = st["hash"], 0, False
    then = st.get("then")
    state.set(c, None)
    c.say(t(c.lang, "Your PIN is set."))
    if then:
        ch = c.s.get(Challenge, int(then))
        a = c.s.get(Action, ch.action_id) if ch is not None else None
        if ch is not None and ch.status == "open" and a is not None:
            summary = load(a.payload).describe(c.lang)
            stepup.ask_pin(app, c, ch.id or 0, c.ev.chat.chat_id, stepup.pin_question(c.lang, summary))
    return True


def answer_totp_enrol(app: App, c: Ctx, st: dict[str, Any], text: str) -> bool:
    """The first code of a newly scanned authenticator: one-time codes are on."""
    code = text.replace(" ", "")
    if not code.isdigit():
        return False
    replies.delete_typed(c)
    secret = c.user.totp_pending_secret
    counter = app.stepup.check_totp(secret, code, c.now, None) if secret else None
    if counter is None:
        c.say(t(c.lang, "That code is not right. Send the 6-digit code your app shows now, or /cancel."))
        return True
    c.user.totp_secret, c.user.totp_pending_secret, c.user.totp_last_counter = secret, None, counter
    state.set(c, None)
    c.say(t(c.lang, "One-time codes are on: large or unusual payments will ask for one."))
    return True
