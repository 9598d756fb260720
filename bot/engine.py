"""The conversation engine: one event in, replies out; money moves only after confirmation and step-up."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import commands
from bot.actions import canonical, describe, digest, money_text, needs_stepup
from bot.clock import aware
from bot.config import Settings
from bot.crash import crash_point
from bot.directory import Directory, display, owner_of
from bot.events import Attachment, Button, Chat, ChatKind, Event, Reply, ReplyKind
from bot.execution import Executor, Outcome
from bot.funding import FundingPort
from bot.i18n import LANG_NAMES, LANGS, fmt_datetime, normalize_lang, t, tn
from bot.models import (
    Action,
    AdminAct,
    Challenge,
    ChatRow,
    Conversation,
    Escrow,
    Identity,
    PaymentRequest,
    PressToken,
    ProcessedEvent,
    Schedule,
    SentMessage,
    User,
)
from bot.policy import Policy, PolicyInput
from bot.reasons import RETRYABLE
from bot.reasons import reason as reason_text
from bot.stepup import PinCheck, PinResult, StepUp, Weak, load_pin_key, weak_pin
from ledger import Ledger
from ledger.money import TooPrecise, to_minor

log = logging.getLogger("finbot.engine")

AWAITING = ("awaiting_confirm", "awaiting_stepup")


def intent_from_dict(data: dict[str, Any]) -> Any:
    """An Intent back from its contract JSON (kept in a conversation while a slot is asked for)."""
    from datetime import date

    from intents.model import DECIMAL_KEYS, Intent

    fields: dict[str, Any] = dict(data)
    for key in DECIMAL_KEYS:
        if fields.get(key) is not None:
            fields[key] = Decimal(str(fields[key]))
    fields["recipients"] = tuple(fields.get("recipients") or ())
    if fields.get("when"):
        fields["when"] = date.fromisoformat(fields["when"])
    return Intent(**fields)


def attempt_id(action_id: str, attempt: int) -> str:
    """What an attempt's transfer ids derive from: the action's id, then `:try<n>` for attempts after a failure."""
    return action_id if attempt <= 0 else f"{action_id}:try{attempt}"


def press_token() -> str:
    """A fresh opaque button token. Never one starting with "kp": a press whose data starts so is read
    as a PIN keypad key (1 in 4096 random tokens did, and their card could not be confirmed)."""
    while True:
        token = secrets.token_urlsafe(16)
        if not token.startswith("kp"):
            return token


def sent_you(who: str, lang: str, amount: int, currency: str, note: str | None) -> str:
    """What a recipient is told of money sent to them."""
    text = t(lang, "{who} sent you {amount}.", who=who, amount=money_text(amount, currency, lang))
    if note:
        text += " " + t(lang, "Note: {note}", note=note)
    return text


def edit_or_send(sent: tuple[str, str] | None, ref: str, chat_id: str | None, text: str,
                 buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
    """Edit the message `ref` names when it was sent (`sent`: its chat and message id), else send it to `chat_id`."""
    if sent is not None:
        return [Reply(ReplyKind.edit, sent[0], text, buttons, target_message_id=sent[1], ref=ref)]
    if chat_id is None:
        return []
    return [Reply(ReplyKind.message, chat_id, text, buttons, ref=ref)]


@dataclass
class Ctx:
    """What one event's handling works with."""

    s: Session
    ev: Event
    user: User
    chat: ChatRow
    now: datetime
    replies: list[Reply] = field(default_factory=list)
    after: list[Callable[[], list[Reply]]] = field(default_factory=list)
    pins: dict[tuple[str, str], bool] = field(default_factory=dict)  # PIN verdicts reached before the write lock

    @property
    def lang(self) -> str:
        return self.user.lang

    @property
    def private(self) -> bool:
        return self.ev.chat.kind == ChatKind.private

    def say(self, text: str, *, chat_id: str | None = None, buttons: tuple[tuple[Button, ...], ...] = (),
            ref: str | None = None, photo: Attachment | None = None, document: Attachment | None = None) -> None:
        self.replies.append(Reply(ReplyKind.message, chat_id or self.ev.chat.chat_id, text, buttons,
                                  photo=photo, document=document, ref=ref))

    def answer(self, text: str, alert: bool = True) -> None:
        if self.ev.press is not None:
            self.replies.append(Reply(ReplyKind.answer_press, self.ev.chat.chat_id, text,
                                      press_id=self.ev.press.press_id, alert=alert))
        else:
            self.say(text)


class Engine:
    """Turns events into replies; the only path from a chat message to the ledger or the broker."""

    def __init__(
        self,
        *,
        db: sa.Engine,
        ledger: Ledger,
        settings: Settings,
        funding: FundingPort,
        clock: Callable[[], datetime] | None = None,
        messenger: str = "local",
        broker: Any = None,
        instruments: Any = None,
    ) -> None:
        self.db = db
        self.ledger = ledger
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.messenger = messenger
        self.directory = Directory(settings.default_language, settings.default_currency.upper())
        self.stepup = StepUp(
            key=load_pin_key(settings.pin_pepper, settings.pin_key_path()),
            max_attempts=settings.pin_max_attempts,
            lockout=timedelta(seconds=settings.pin_lockout_seconds),
            time_cost=settings.pin_argon2_time_cost,
            memory_kib=settings.pin_argon2_memory_kib,
        )
        self.policy = Policy(
            totp_above=settings.stepup_totp_above,
            group_totp_above=settings.stepup_group_totp_above,
            velocity_max=settings.stepup_velocity_max_count,
            new_payee_totp=settings.stepup_new_payee_totp,
        )
        self.broker = broker
        self.instruments = instruments
        self.executor = Executor(ledger=ledger, funding=funding, broker=broker)
        self.ttl = timedelta(seconds=settings.confirmation_ttl_seconds)
        self.operators = settings.operators()

    # ------------------------------------------------------------------ public surface

    def handle(self, ev: Event) -> list[Reply]:
        """Handle one event exactly once; a redelivered event (same id) returns no replies."""
        from bot import intake

        refused = intake.has_nul_text(ev)
        ev = intake.clean(ev)
        now = self.clock()
        ctx: Ctx | None = None
        relabel: list[tuple[int, str]] = []
        try:
            pins = self._verify_pin_early(ev)
            with Session(self.db, expire_on_commit=False) as s:
                s.add(ProcessedEvent(messenger=ev.chat.messenger, event_id=ev.event_id, at=now))
                try:
                    s.flush()
                except IntegrityError:
                    return []
                user = self.directory.user_for(s, ev.sender, now)
                if user.handle and user.handle in self.operators:
                    user.is_operator = True
                chat = self.directory.chat_row(s, ev)
                ctx = Ctx(s=s, ev=ev, user=user, chat=chat, now=now, pins=pins)
                self._observe(ctx)
                if refused:
                    ctx.say(t(ctx.lang, "Your message has a hidden control character (a NUL byte) that I can't read, "
                                        "so I did nothing with it. Please type it again."))
                else:
                    self._dispatch(ctx)
                relabel = list(s.info.get("relabelled", []))
                s.commit()
        except Exception:
            log.exception("event %s failed", ev.event_id)
            return self._failure(ev, ctx.lang if ctx is not None else None)
        replies = list(ctx.replies)
        for user_id, label in relabel:
            self.ledger.set_label(owner_of(user_id), label)
            self.executor.forget(user_id)
        for job in ctx.after:
            replies.extend(job())
        return replies


    def _verify_pin_early(self, ev: Event) -> dict[tuple[str, str], bool]:
        """Verify what may be a PIN answer (digits typed, or the keypad's OK) against the stored hash on a
        read-only connection, before the event's write transaction takes the lock (BEGIN IMMEDIATE on
        SQLite): the lock is held only to record the outcome. A verdict is keyed by the hash it was
        reached on; a hash changed meanwhile is verified again under the lock."""
        from ledger.db import READ_ONLY

        text = (ev.text or "").strip()
        keypad_ok = ev.press is not None and ev.press.data.startswith("kp") and ev.press.data.endswith("32")
        if not self.stepup.valid_pin(text) and not keypad_ok:
            return {}
        with self.db.connect() as raw:
            conn = raw.execution_options(**{READ_ONLY: True})
            row = conn.execute(sa.select(User.id, User.pin_hash).join(Identity, col(Identity.user_id) == col(User.id)).where(
                Identity.messenger == ev.sender.messenger, Identity.external_id == ev.sender.user_id)).first()
            if row is None or not row.pin_hash:
                return {}
            candidates = [text] if self.stepup.valid_pin(text) else []
            if keypad_ok:
                raw_state = conn.execute(sa.select(Conversation.state).where(Conversation.user_id == row.id)).scalar()
                entered = str(json.loads(raw_state or "{}").get("entered", ""))
                if self.stepup.valid_pin(entered):
                    candidates.append(entered)
            conn.rollback()
        return {(row.pin_hash, pin): self.stepup.verify(row.pin_hash, pin) for pin in candidates}

    def _is_pin(self, c: Ctx, text: str) -> bool:
        """Whether `text` is this person's PIN (the early verdict, else verified now)."""
        stored = c.user.pin_hash
        if not stored or not self.stepup.valid_pin(text):
            return False
        verdict = c.pins.get((stored, text))
        return self.stepup.verify(stored, text) if verdict is None else verdict

    @staticmethod
    def _failure(ev: Event, lang: str | None) -> list[Reply]:
        """The answer to an event whose handling failed (and so changed nothing)."""
        text = t(lang or normalize_lang(ev.sender.lang), "Sorry, something went wrong on my side. Nothing was changed; please try again.")
        if ev.press is not None:
            return [Reply(ReplyKind.answer_press, ev.chat.chat_id, text, press_id=ev.press.press_id, alert=True)]
        return [Reply(ReplyKind.message, ev.chat.chat_id, text)]

    def message_sent(self, ref: str, chat_id: str, message_id: str) -> None:
        """Remember the messenger's id of a message the engine named (to edit it later)."""
        with Session(self.db) as s:
            row = s.get(SentMessage, ref)
            if row is None:
                s.add(SentMessage(ref=ref, chat_id=chat_id, message_id=message_id))
            else:
                row.chat_id, row.message_id = chat_id, message_id
            s.commit()

    def set_operator(self, messenger: str, external_id: str, handle: str | None = None) -> None:
        """Make someone an operator (as listing them in FINBOT_OPERATORS does)."""
        from bot.events import Person

        with Session(self.db, expire_on_commit=False) as s:
            user = self.directory.user_for(s, Person(messenger, external_id, handle=handle), self.clock())
            user.is_operator = True
            s.commit()

    def bot_commands(self, lang: str) -> list[tuple[str, str]]:
        """The command menu in one language."""
        return commands.menu(lang)

    def tick(self) -> list[Reply]:
        """Due work: expire cards, finish interrupted executions, return escrow, run schedules."""
        now = self.clock()
        replies: list[Reply] = []
        replies += self._expire_actions(now)
        replies += self._resume_executing()
        replies += self._escrow_due(now)
        replies += self._schedules_due(now)
        self.ledger.expire_pending()
        if self.broker is not None:
            replies += self._broker_poll()
        return replies

    # ------------------------------------------------------------------ plumbing

    def _observe(self, c: Ctx) -> None:
        """Learn who is in the chat and who is mentioned: handles, ids, membership."""
        if c.private:
            c.user.private_chat_id = c.ev.chat.chat_id
        self.directory.note_member(c.s, c.chat, c.user)
        for person in c.ev.members:
            self.directory.note_member(c.s, c.chat, self.directory.user_for(c.s, person, c.now))
        for mention in c.ev.entities:
            if mention.person is not None:
                self.directory.user_for(c.s, mention.person, c.now)
        if c.ev.reply_to is not None and c.ev.reply_to.author is not None:
            other = self.directory.user_for(c.s, c.ev.reply_to.author, c.now)
            self.directory.note_member(c.s, c.chat, other)

    def _ledger(self, c: Ctx) -> Ledger:
        """The ledger, after committing the engine's own work (one writer at a time on SQLite)."""
        c.s.commit()
        return self.ledger

    def _token(self, c: Ctx, choice: str, *, action_id: str, allowed: int | None) -> str:
        """A single-use token for a card's Confirm or Cancel, valid as long as the card."""
        return self._raw_token(c.s, choice, now=c.now, action_id=action_id, allowed=allowed, single_use=True,
                               lifetime=self.ttl)

    def _get_state(self, c: Ctx) -> dict[str, Any] | None:
        row = c.s.get(Conversation, c.user.id)
        if row is None:
            return None
        state: dict[str, Any] = json.loads(row.state)
        return state or None

    def _set_state(self, c: Ctx, state: dict[str, Any] | None) -> None:
        row = c.s.get(Conversation, c.user.id)
        text = json.dumps(state or {})
        if row is None:
            assert c.user.id is not None
            c.s.add(Conversation(user_id=c.user.id, state=text, updated_at=c.now))
        else:
            row.state, row.updated_at = text, c.now

    def _sent(self, s: Session, ref: str) -> SentMessage | None:
        return s.get(SentMessage, ref)

    def _edit_or_send(self, s: Session, ref: str, chat_id: str | None, text: str,
                      buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
        sent = self._sent(s, ref)
        return edit_or_send(None if sent is None else (sent.chat_id, sent.message_id), ref, chat_id, text, buttons)

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, c: Ctx) -> None:
        ev = c.ev
        if ev.press is not None:
            self._on_press(c)
            return
        text = (ev.text or "").strip()
        if not text:
            return
        if not c.private and self._pin_typed_in_group(c, text):
            return
        if not ev.addressed:
            # not for the bot, unless it is a PIN typed in the group by someone we are asking for one
            state = self._get_state(c)
            if state and not c.private and self.stepup.valid_pin(text):
                self._on_state(c, state, text)
            return
        if ev.edited:
            self._on_edit(c)
            return
        cmd, arg = commands.split(text)
        if cmd == "start":
            self._cmd_start(c, arg)
            return
        if cmd in commands.CANCEL:
            self._cancel_pending(c)
            return
        state = self._get_state(c)
        if state and cmd is None and self._on_state(c, state, text):
            return
        if cmd == "pin":
            self._cmd_pin(c)
        elif cmd == "lang":
            self._cmd_lang(c, arg)
        elif cmd == "currency":
            self._cmd_currency(c, arg)
        elif cmd == "totp":
            self._cmd_totp(c, arg)
        elif cmd == "statement":
            self._cmd_statement(c, arg)
        elif cmd == "admin":
            self._cmd_admin(c, arg)
        elif cmd in ("help", "hjelp", "aide"):
            c.say(commands.help_text(c.lang))
        else:
            self._on_text(c, text)

    # ------------------------------------------------------------------ commands

    def _cmd_start(self, c: Ctx, payload: str) -> None:
        first = not c.user.started
        c.user.started = True
        if not c.private:
            c.say(t(c.lang, "Write to me in a private chat to start."))
            return
        uid = c.user.id
        assert uid is not None
        if first:
            c.say(t(c.lang, "Welcome to finbot! I keep a wallet for you and move money only after you confirm it with your PIN.")
                  + "\n" + t(c.lang, "Choose a PIN with /pin, top up with \"top up $100\", then try \"send $20 to @anna\". /help shows more."))
        self._open_wallet(c, c.user, c.user.currency)
        self._claim_escrow(c)
        self._deliver_waiting_requests(c)
        if payload:
            self._use_token(c, payload, via_link=True)
        elif not first:
            c.say(t(c.lang, "Welcome back! /help shows what I can do."))

    def _cmd_pin(self, c: Ctx) -> None:
        if not c.private:
            c.say(t(c.lang, "Set your PIN in our private chat, never in a group."))
            return
        if c.user.pin_hash:
            # changing a PIN takes the current one (or a one-time code), never the account alone
            if self._refuse_locked(c):
                return
            self._set_state(c, {"await": "pin_current", "chat": c.ev.chat.chat_id})
            if c.user.totp_secret:
                c.say(t(c.lang, "To change your PIN, type your current PIN, or a 6-digit code from your authenticator app if you forgot it. I delete it from the chat right away."))
            else:
                c.say(t(c.lang, "To change your PIN, type your current PIN. I delete it from the chat right away. Forgot it? An operator can reset it."))
            return
        self._set_state(c, {"await": "pin_new", "chat": c.ev.chat.chat_id})
        c.say(t(c.lang, "Choose a PIN of 4 to 8 digits and send it to me. I delete it from the chat right away."))

    def _refuse_locked(self, c: Ctx) -> bool:
        """Say so and True when step-up is locked after too many wrong answers."""
        locked = self.stepup.locked(c.user, c.now)
        if locked is None:
            return False
        c.say(t(c.lang, "Confirmations are locked until {time} after too many wrong PINs.", time=fmt_datetime(locked, c.lang)))
        return True

    def _weak_pin_text(self, lang: str, why: Weak) -> str:
        if why == Weak.same:
            return t(lang, "That PIN is too easy to guess: all its digits are the same. Choose another one.")
        if why == Weak.run:
            return t(lang, "That PIN is too easy to guess: its digits run in order. Choose another one.")
        return t(lang, "That PIN is too easy to guess: it is one of the most common PINs. Choose another one.")

    def _pin_typed_in_group(self, c: Ctx, text: str) -> bool:
        """A person's PIN typed in a group: deleted, and exposed (refused for step-up until changed)."""
        if not self._is_pin(c, text):
            return False
        self._delete_typed(c)
        c.user.pin_exposed = True
        c.say(t(c.lang, "I deleted a message that was your PIN. Others may have seen it, so it no longer confirms anything: change it with /pin in our private chat."))
        if c.user.private_chat_id:
            c.say(t(c.lang, "Your PIN was typed in a group, so I no longer accept it. Change it now with /pin."),
                  chat_id=c.user.private_chat_id)
        return True

    def _refuse_exposed(self, c: Ctx, chat_id: str | None = None) -> bool:
        """Say so and True when the PIN was exposed in a group (it confirms nothing until changed)."""
        if not c.user.pin_exposed:
            return False
        c.say(t(c.lang, "Your PIN was typed in a group, so I no longer accept it. Change it with /pin, then press Confirm again."),
              chat_id=chat_id or c.user.private_chat_id)
        return True

    def _proof_failed(self, c: Ctx, result: PinResult) -> None:
        """The answer to a wrong PIN or code given as proof for a change."""
        if result.status == PinCheck.locked:
            self._set_state(c, None)
            c.say(t(c.lang, "Too many wrong answers: confirmations are locked until {time}. Nothing was changed.",
                    time=fmt_datetime(result.locked_until or c.now, c.lang)))
        elif result.status == PinCheck.no_pin:
            self._set_state(c, None)
            c.say(t(c.lang, "You have no PIN yet. Choose one with /pin."))
        else:
            c.say(t(c.lang, "That is not right. {n} tries left.", n=result.tries_left))

    def _on_stepup_state(self, c: Ctx, kind: str, state: dict[str, Any], text: str) -> bool | None:
        """Answers to a PIN change, a factor change or an operator's reset; None when `kind` is none of these."""
        if kind not in ("pin_current", "factor_pin", "factor_code", "op_pin"):
            return None
        code = text.replace(" ", "")
        if not code.isdigit():
            return False
        self._delete_typed(c)
        if kind == "pin_current":
            totp = code if c.user.totp_secret and len(code) == 6 else None
            result = self.stepup.check(c.s, c.user, c.now, pin=code, totp_code=totp, known=c.pins)
            if not result.ok:
                self._proof_failed(c, result)
                return True
            self._set_state(c, {"await": "pin_new", "chat": state["chat"], "proved": True})
            c.say(t(c.lang, "Choose a new PIN of 4 to 8 digits."))
            return True
        if kind == "factor_pin":
            result = self.stepup.check(c.s, c.user, c.now, pin=code, known=c.pins)
            if not result.ok:
                self._proof_failed(c, result)
                return True
            if c.user.totp_secret:
                self._set_state(c, {**state, "await": "factor_code"})
                c.say(t(c.lang, "Now send the current 6-digit code from your authenticator app."))
                return True
            self._factor_change(c, state)
            return True
        if kind == "factor_code":
            result = self.stepup.check(c.s, c.user, c.now, totp_code=code)
            if not result.ok:
                self._proof_failed(c, result)
                return True
            self._factor_change(c, state)
            return True
        # op_pin: an operator's own PIN, then the reset of someone else's
        result = self.stepup.check(c.s, c.user, c.now, pin=code, known=c.pins)
        if not result.ok:
            self._proof_failed(c, result)
            return True
        self._set_state(c, None)
        target = c.s.get(User, int(state["target"]))
        if target is None or target.id == c.user.id:
            c.say(t(c.lang, "Nothing was changed."))
            return True
        target.pin_hash, target.pin_failures, target.stepup_locked_until, target.pin_exposed = None, 0, None, False
        c.say(t(c.lang, "The PIN of {who} is reset; they choose a new one with /pin.", who=display(target)))
        if target.private_chat_id:
            c.say(t(target.lang, "An operator reset your PIN. Choose a new one with /pin."), chat_id=target.private_chat_id)
        return True

    def _factor_change(self, c: Ctx, state: dict[str, Any]) -> None:
        """After the current factors were given: enrol a new authenticator, or turn codes off."""
        if state.get("then") == "off":
            c.user.totp_secret, c.user.totp_pending_secret, c.user.totp_last_counter = None, None, None
            self._set_state(c, None)
            c.say(t(c.lang, "One-time codes are off."))
            return
        secret = self.stepup.new_totp_secret()
        c.user.totp_pending_secret = secret
        uri = self.stepup.totp_uri(secret, display(c.user))
        png = self.stepup.qr_png(uri)
        self._set_state(c, {"await": "totp_enrol", "chat": state["chat"]})
        c.say(t(c.lang, "Scan this QR code with your authenticator app, or enter this key in it by hand: {secret}\nThen send me the 6-digit code it shows.",
                secret=secret),
              photo=Attachment(f"totp-{c.user.id}.png", png, "image/png", ephemeral=True))

    def _admin_resetpin(self, c: Ctx, handle: str) -> None:
        """An operator resets someone's forgotten PIN after giving their own PIN (not yet maker-checker)."""
        if not c.private:
            c.say(t(c.lang, "Set your PIN in our private chat, never in a group."))
            return
        target = self.directory.by_handle(c.s, handle)
        if target is None:
            c.say(t(c.lang, "I don't know {who}.", who=handle))
            return
        if target.id == c.user.id:
            c.say(t(c.lang, "You cannot reset your own PIN: ask another operator."))
            return
        if not c.user.pin_hash:
            c.say(t(c.lang, "You have no PIN yet. Choose one with /pin."))
            return
        if self._refuse_locked(c):
            return
        self._set_state(c, {"await": "op_pin", "target": target.id, "chat": c.ev.chat.chat_id})
        c.say(t(c.lang, "To reset the PIN of {who}, type your own PIN.", who=display(target)))

    def _cmd_lang(self, c: Ctx, arg: str) -> None:
        code = arg.strip().lower()
        if code in ("no", "nn", "norsk"):
            code = "nb"
        if code not in LANGS:
            options = ", ".join(f"{k} ({v})" for k, v in LANG_NAMES.items())
            c.say(t(c.lang, "Choose a language: /lang en, /lang nb or /lang fr. Available: {options}", options=options))
            return
        c.user.lang, c.user.lang_chosen = code, True
        c.say(t(code, "I will speak {name} with you.", name=LANG_NAMES[code]))

    def _cmd_currency(self, c: Ctx, arg: str) -> None:
        from babel.numbers import get_currency_precision

        code = arg.strip().upper()
        known = {"USD", "EUR", "NOK", "GBP", "SEK", "DKK"}
        if not code:
            c.say(t(c.lang, "Your default currency is {code}. To change it, write /currency and one of {codes}, e.g. /currency EUR.",
                    code=c.user.currency, codes=", ".join(sorted(known))))
            return
        if code not in known:
            c.say(t(c.lang, "Choose one of {codes}, e.g. /currency EUR.", codes=", ".join(sorted(known))))
            return
        get_currency_precision(code)
        c.user.currency = code
        self._open_wallet(c, c.user, code)
        c.say(t(c.lang, "Your default currency is now {code}.", code=code))

    def _cmd_totp(self, c: Ctx, arg: str = "") -> None:
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
        if self._refuse_locked(c):
            return
        # replacing or removing a factor takes the current ones: the PIN, then the current code when enrolled
        self._set_state(c, {"await": "factor_pin", "then": "off" if off else "enrol", "chat": c.ev.chat.chat_id})
        c.say(t(c.lang, "First type your current PIN. I delete it from the chat right away."))

    def _cmd_statement(self, c: Ctx, arg: str) -> None:
        from bot import statements

        p = self._in_private(c, "statement:" + arg[:40])
        if p is None:
            return
        c = p
        uid = c.user.id
        assert uid is not None
        words = arg.upper().split()
        cur = next((w for w in words if len(w) == 3 and w.isalpha()), None)
        month = next((w for w in arg.split() if "-" in w), c.now.strftime("%Y-%m"))
        try:
            start, end = statements.month_bounds(month)
        except ValueError:
            c.say(t(c.lang, "Write the month as YYYY-MM, e.g. /statement {m}.", m=c.now.strftime("%Y-%m")))
            return
        month = start.strftime("%Y-%m")  # as written in file names: "2026-+1" was a valid month too
        ledger = self._ledger(c)
        wallets = {a.asset: a for a in ledger.accounts(owner_of(uid)) if a.kind == "wallet"}
        months = {asset: ledger.statement(a.id, start, end) for asset, a in wallets.items() if cur in (None, asset)}
        if cur is None:  # the default currency, else the wallet with the most entries that month
            best = max(months, key=lambda asset: (len(months[asset]), asset == c.user.currency), default=None)
            cur = best if best is not None and months[best] else c.user.currency
        lines = months.get(cur, [])
        labels = self._account_labels(ledger, [ln.counterparty_account_id for ln in lines], c.lang)
        csv_bytes = statements.csv_bytes(lines, cur, labels)
        png = statements.chart_png(ledger, {a: acc.id for a, acc in wallets.items()}, months, cur, start, end, c.now,
                                   c.user.name or f"@{c.user.handle}", c.lang,
                                   self._account_labels(ledger, [ln.counterparty_account_id for m in months.values() for ln in m], c.lang))
        name = f"statement-{statements.file_tag(c.user.handle, uid)}-{month}-{cur}"
        c.say(tn(c.lang, "Your statement for {month}: {n} entry.", "Your statement for {month}: {n} entries.", len(lines), month=month),
              document=Attachment(f"{name}.csv", csv_bytes, "text/csv"))
        c.say(t(c.lang, "Balance over {month}", month=month), photo=Attachment(f"{name}.png", png, "image/png"))

    def _cmd_admin(self, c: Ctx, arg: str) -> None:
        """Operators' commands; every one given (refused ones too) is written to the admin log and logged."""
        parts = arg.split()
        sub = parts[0].lower() if parts else "help"
        target: User | None = None
        if not c.user.is_operator:
            result = "refused: not an operator"
            c.say(t(c.lang, "Only operators can use /admin."))
        else:
            if sub in ("tier", "user", "unlock") and len(parts) >= 2:
                target = self.directory.by_handle(c.s, parts[1])
            result = self._admin_act(c, sub, parts, target)
        assert c.user.id is not None
        c.s.add(AdminAct(at=c.now, operator_id=c.user.id, verb=sub[:40], target_id=target.id if target else None,
                         command=arg[:500], result=result))
        log.info("admin %s by %s on %s: %s (%s)", sub, display(c.user), display(target) if target else "-", result, arg)

    def _admin_act(self, c: Ctx, sub: str, parts: list[str], target: User | None) -> str:
        """Do one /admin command; what came of it, for the admin log."""
        if sub in ("tier", "user", "unlock") and len(parts) >= 2 and target is None:
            c.say(t(c.lang, "I don't know {who}.", who=parts[1]))
            return "refused: unknown user"
        if sub in ("tier", "unlock") and target is not None and target.id == c.user.id:
            c.say(t(c.lang, "Nobody acts on themselves: ask another operator."))
            return "refused: on themselves"
        if sub == "check":
            from bot.escrow import reconcile

            report = self._ledger(c).check()
            problems = report.problems + reconcile(self.db, self.ledger)
            c.say(("OK: " if not problems else "PROBLEMS: ") + report.summary + ("\n" + "\n".join(problems[:20]) if problems else ""))
            return "ok"
        if sub == "tier" and len(parts) == 3 and target is not None:
            tiers = self.settings.kyc_tiers()
            n = int(parts[2]) if parts[2].isdigit() else None
            if n not in tiers:
                no_limit = t(c.lang, "no limit")
                listed = ", ".join(f"{k} ({money_text(to_minor(v, target.currency), target.currency, c.lang) if v is not None else no_limit})"
                                   for k, v in sorted(tiers.items()))
                c.say(t(c.lang, "There is no tier {n}. The tiers are: {tiers}.", n=parts[2], tiers=listed))
                return f"refused: unknown tier {parts[2][:20]}"
            before = target.kyc_tier
            target.kyc_tier = n
            c.say(t(c.lang, "{who} is now KYC tier {n}.", who=display(target), n=n))
            return f"ok: tier {before} -> {n}"
        if sub == "user" and len(parts) == 2 and target is not None:
            ledger = self._ledger(c)
            bal = self._balance_lines(ledger, target, c.lang)
            c.say(f"{display(target)} tier={target.kyc_tier} lang={target.lang} started={target.started}\n{bal}")
            return "ok"
        if sub == "unlock" and len(parts) == 2 and target is not None:
            target.stepup_locked_until, target.pin_failures = None, 0
            c.say(t(c.lang, "Step-up unlocked for {who}.", who=display(target)))
            return "ok"
        if sub in ("deadletters", "dead"):
            from bot.deadletters import report as dead_letters

            c.say(dead_letters(c.s.connection(), c.lang))
            return "ok"
        if sub == "resetpin" and len(parts) == 2:
            self._admin_resetpin(c, parts[1])
            return "ok"
        c.say("/admin check | /admin user @handle | /admin tier @handle N | /admin unlock @handle"
              " | /admin resetpin @handle | /admin deadletters")
        return "usage"

    # ------------------------------------------------------------------ free text

    def _on_text(self, c: Ctx, text: str) -> None:
        from intents import parse

        if c.private and self.stepup.valid_pin(text):
            self._delete_typed(c)
            c.say(t(c.lang, "Nothing is waiting for your PIN right now."))
            return
        intent = parse(text, now=c.now, hint_lang=c.lang, directory=self.instruments, reply=c.ev.reply_to is not None)
        kind = intent.intent
        if intent.clarify:
            self._clarify(c, intent)
            return
        if kind == "none":
            if c.private or text.startswith("/"):
                c.say(t(c.lang, "I didn't get that. Try \"send $20 to @anna\", \"show balance\" or /help."))
            return
        handler = {
            "send": self._intent_send,
            "request": self._intent_request,
            "split": self._intent_split,
            "deposit": self._intent_deposit,
            "withdraw": self._intent_withdraw,
            "balance": self._intent_balance,
            "history": self._intent_history,
            "cancel": lambda c, i: self._cancel_pending(c),
            "help": lambda c, i: c.say(commands.help_text(c.lang)),
            "buy": self._intent_trade,
            "sell": self._intent_trade,
            "quote": self._intent_quote,
            "portfolio": self._intent_portfolio,
        }.get(kind)
        if handler is None:
            c.say(t(c.lang, "I didn't get that. Try \"send $20 to @anna\", \"show balance\" or /help."))
            return
        handler(c, intent)

    def _clarify(self, c: Ctx, intent: Any) -> None:
        code = intent.clarify
        if code in ("missing_amount", "ambiguous_amount") and intent.intent in ("send", "request", "split", "deposit", "withdraw"):
            self._set_state(c, {"await": "slot", "slot": "amount", "chat": c.ev.chat.chat_id,
                                "intent": intent.to_json_dict()})
            if code == "ambiguous_amount":
                c.say(t(c.lang, "I'm not sure about the amount. How much exactly? For example 1000 or 1.50."))
            else:
                c.say(t(c.lang, "How much?"))
            return
        if code == "missing_recipient":
            self._set_state(c, {"await": "slot", "slot": "recipient", "chat": c.ev.chat.chat_id,
                                "intent": intent.to_json_dict()})
            c.say(t(c.lang, "To whom? Write their @username."))
            return
        if code == "unknown_symbol":
            if intent.intent in ("buy", "sell"):
                self._set_state(c, {"await": "slot", "slot": "symbol", "chat": c.ev.chat.chat_id,
                                    "intent": intent.to_json_dict()})
            c.say(t(c.lang, "I don't know that stock. Try a ticker like AAPL, EQNR or MC."))
            return
        if code in ("missing_quantity", "missing_amount") and intent.intent in ("buy", "sell"):
            self._set_state(c, {"await": "slot", "slot": "quantity", "chat": c.ev.chat.chat_id,
                                "intent": intent.to_json_dict()})
            c.say(t(c.lang, "How many shares, or how much money? For example \"buy 2 {symbol}\" or \"buy $100 of {symbol}\".",
                    symbol=intent.symbol or "AAPL"))
            return
        c.say(t(c.lang, "I'm not sure what you want to do. Try \"send $20 to @anna\" or \"request $20 from @anna\"."))

    def _on_state(self, c: Ctx, state: dict[str, Any], text: str) -> bool:
        """An answer to something the bot asked; False when the text is not such an answer."""
        if self._pin_as_answer(c, state, text):
            return True
        if state.get("chat") != c.ev.chat.chat_id:
            if state.get("await") in ("pin", "pin_new", "pin_repeat") and not c.private and self.stepup.valid_pin(text):
                if c.ev.message_id:
                    c.replies.append(Reply(ReplyKind.delete, c.ev.chat.chat_id, target_message_id=c.ev.message_id))
                c.say(t(c.lang, "Never type your PIN in a group. Answer in our private chat."))
                return True
            return False
        kind = state.get("await")
        handled = self._on_stepup_state(c, str(kind), state, text)
        if handled is not None:
            return handled
        if kind == "pin_new":
            self._delete_typed(c)
            if not self.stepup.valid_pin(text):
                c.say(t(c.lang, "A PIN is 4 to 8 digits. Try again, or /cancel."))
                return True
            why = weak_pin(text)
            if why is not None:
                c.say(self._weak_pin_text(c.lang, why))
                return True
            if c.user.pin_exposed and self._is_pin(c, text):
                c.say(t(c.lang, "That is the PIN that was typed in a group. Choose another one."))
                return True
            state.update({"await": "pin_repeat", "hash": self.stepup.hash_pin(text)})
            self._set_state(c, state)
            c.say(t(c.lang, "Type the same PIN once more."))
            return True
        if kind == "pin_repeat":
            self._delete_typed(c)
            if not self.stepup.verify(state.get("hash"), text):
                self._set_state(c, {"await": "pin_new", "chat": state["chat"], "then": state.get("then"),
                                    "proved": state.get("proved")})
                c.say(t(c.lang, "The two PINs differ. Choose a PIN of 4 to 8 digits again."))
                return True
            if c.user.pin_hash and not state.get("proved"):  # a PIN is replaced only after the current factor
                self._set_state(c, None)
                c.say(t(c.lang, "Nothing was changed."))
                return True
            c.user.pin_hash, c.user.pin_failures, c.user.pin_exposed = state["hash"], 0, False
            then = state.get("then")
            self._set_state(c, None)
            c.say(t(c.lang, "Your PIN is set."))
            if then:
                ch = c.s.get(Challenge, int(then))
                a = c.s.get(Action, ch.action_id) if ch is not None else None
                if ch is not None and ch.status == "open" and a is not None:
                    summary = describe(json.loads(a.payload), c.lang)
                    self._ask_pin(c, ch.id or 0, c.ev.chat.chat_id, self._pin_question(c.lang, summary))
            return True
        if kind == "pin":
            if not self.stepup.valid_pin(text):
                return False
            self._delete_typed(c)
            self._answer_pin(c, int(state["challenge"]), text)
            return True
        if kind == "totp":
            code = text.replace(" ", "")
            if not code.isdigit():
                return False
            self._delete_typed(c)
            self._answer_totp(c, int(state["challenge"]), code)
            return True
        if kind == "totp_enrol":
            code = text.replace(" ", "")
            if not code.isdigit():
                return False
            self._delete_typed(c)
            secret = c.user.totp_pending_secret
            counter = self.stepup.check_totp(secret, code, c.now, None) if secret else None
            if counter is None:
                c.say(t(c.lang, "That code is not right. Send the 6-digit code your app shows now, or /cancel."))
                return True
            c.user.totp_secret, c.user.totp_pending_secret, c.user.totp_last_counter = secret, None, counter
            self._set_state(c, None)
            c.say(t(c.lang, "One-time codes are on: large or unusual payments will ask for one."))
            return True
        if kind == "slot":
            return self._fill_slot(c, state, text)
        return False

    def _pin_as_answer(self, c: Ctx, state: dict[str, Any], text: str) -> bool:
        """The person's PIN sent as the answer to a question that is not for a PIN ("How much?"): deleted,
        never used (as an amount or anything else), never echoed."""
        if state.get("await") in ("pin", "pin_new", "pin_repeat", "pin_current", "factor_pin", "op_pin"):
            return False
        if not self._is_pin(c, text):
            return False
        if not c.private:
            return self._pin_typed_in_group(c, text)
        self._delete_typed(c)
        c.say(t(c.lang, "That was your PIN, so I deleted it and did not use it. Answer the question, or /cancel."))
        return True

    def _delete_typed(self, c: Ctx) -> None:
        if c.ev.message_id:
            c.replies.append(Reply(ReplyKind.delete, c.ev.chat.chat_id, target_message_id=c.ev.message_id))

    def _fill_slot(self, c: Ctx, state: dict[str, Any], text: str) -> bool:
        """Fill the slot the bot asked for with an answer that fits it. A message that is a command of
        its own replaces the question (False: the caller handles it as new); anything else asks again."""
        from intents import parse

        saved = dict(state["intent"])
        slot = state["slot"]
        if not self._slot_answer(c, slot, text, saved):
            full = parse(text, now=c.now, hint_lang=c.lang, directory=self.instruments, reply=c.ev.reply_to is not None)
            if full.intent != "none":
                self._set_state(c, None)
                c.say(t(c.lang, "OK, I dropped my earlier question."))
                return False
            if slot == "amount":
                c.say(t(c.lang, "Write just the amount, e.g. 20 or 20.50, or /cancel."))
            elif slot == "recipient":
                c.say(t(c.lang, "Write their @username, or /cancel."))
            elif slot == "symbol":
                c.say(t(c.lang, "Write just the ticker, e.g. AAPL, or /cancel."))
            else:
                c.say(t(c.lang, "Write just the number of shares, e.g. 2, or an amount like $100, or /cancel."))
            return True
        if saved.get("clarify") == "ambiguous_answer":
            c.say(t(c.lang, "I'm not sure about the amount. How much exactly? For example 1000 or 1.50."))
            return True
        saved["clarify"] = None
        self._set_state(c, None)
        intent = intent_from_dict(saved)
        if intent.intent in ("buy", "sell"):
            if intent.symbol is None:
                self._clarify(c, intent_from_dict({**saved, "clarify": "unknown_symbol"}))
            elif intent.quantity is None and intent.notional is None and intent.fraction is None:
                self._clarify(c, intent_from_dict({**saved, "clarify": "missing_quantity"}))
            else:
                self._on_intent_obj(c, intent)
            return True
        if intent.amount is None and intent.intent in ("send", "request", "split", "deposit", "withdraw"):
            self._clarify(c, intent_from_dict({**saved, "clarify": "missing_amount"}))
            return True
        if not intent.recipients and intent.intent in ("send", "request", "split"):
            self._clarify(c, intent_from_dict({**saved, "clarify": "missing_recipient"}))
            return True
        self._on_intent_obj(c, intent)
        return True

    def _slot_answer(self, c: Ctx, slot: str, text: str, saved: dict[str, Any]) -> bool:
        """Put `text` into `saved` when it is just an answer to the slot asked for (True), else change nothing."""
        from intents import parse, parse_amount

        words = text.replace(",", " ").split()
        if slot == "recipient":
            handles = [w.lower() for w in words if w.startswith("@") and len(w) > 1]
            rest = [w for w in words if not w.startswith("@") and w.lower() not in ("and", "og", "et", "&")]
            if not handles or rest:
                return False
            saved["recipients"] = handles
            return True
        if slot == "symbol":
            if len(words) != 1:
                return False
            inst = self.instruments.get(words[0].upper()) if self.instruments is not None else None
            if inst is None:
                full = parse(text, now=c.now, hint_lang=c.lang, directory=self.instruments, reply=c.ev.reply_to is not None)
                if full.intent != "quote" or not full.symbol:
                    return False
                saved["symbol"] = full.symbol
            else:
                saved["symbol"] = inst.symbol
            return True
        # amount or quantity: a bare amount, nothing that reads as a command of its own
        if parse(text, now=c.now, hint_lang=c.lang, directory=self.instruments, reply=c.ev.reply_to is not None).intent != "none":
            return False
        got = parse_amount(text, saved.get("lang") or c.lang)
        if got is None:
            return False
        if got.clarify:
            saved["clarify"] = "ambiguous_answer"
            return True
        if slot == "amount":
            saved["amount"] = str(got.amount)
            if got.currency:
                saved["currency"] = got.currency
        elif got.currency:
            saved["notional"], saved["quantity"] = str(got.amount), None
            saved["currency"] = got.currency
        else:
            saved["quantity"] = str(got.amount)
        return True

    def _on_intent_obj(self, c: Ctx, intent: Any) -> None:
        handler = {
            "send": self._intent_send, "request": self._intent_request, "split": self._intent_split,
            "deposit": self._intent_deposit, "withdraw": self._intent_withdraw,
            "buy": self._intent_trade, "sell": self._intent_trade,
        }.get(intent.intent)
        if handler is not None:
            handler(c, intent)

    def _on_edit(self, c: Ctx) -> None:
        """An edited message voids the card it created: the person confirms what they now wrote."""
        action_id = self._action_id(c, c.ev.message_id or "")
        a = c.s.get(Action, action_id)
        if a is not None and a.status in AWAITING:
            a.status, a.result = "cancelled", "edited"
            c.say(t(c.lang, "You changed your message, so the earlier card is void. Here is the new one."))
            c.replies.extend(self._edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Void: the message was changed.")))
            edited = Event(**{**c.ev.__dict__, "event_id": c.ev.event_id + ":edit", "message_id": (c.ev.message_id or "") + "e", "edited": False})
            self._on_text(Ctx(s=c.s, ev=edited, user=c.user, chat=c.chat, now=c.now, replies=c.replies, after=c.after), (c.ev.text or "").strip())

    # ------------------------------------------------------------------ money intents

    def _action_id(self, c: Ctx, suffix: str) -> str:
        return f"{c.ev.chat.messenger}:{c.ev.chat.chat_id}:{suffix}"

    def _currency(self, c: Ctx, intent: Any) -> str:
        return (intent.currency or c.user.currency).upper()

    def _minor(self, c: Ctx, amount: Decimal, currency: str) -> int | None:
        try:
            minor = to_minor(amount, currency)
        except TooPrecise:
            c.say(t(c.lang, "{currency} has no amounts that small. How much exactly?", currency=currency))
            return None
        if minor <= 0:
            c.say(t(c.lang, "The amount must be more than zero."))
            return None
        return minor

    def _limit_ok(self, c: Ctx, kind: str, payload: dict[str, Any]) -> bool:
        """True when the action is within the initiator's per-payment limit; else says so (every road asks this)."""
        from bot.limits import over_limit

        cap = over_limit(self.settings, c.user.kyc_tier, kind, payload)
        if cap is None:
            return True
        c.say(t(c.lang, "That is above your limit of {limit} per payment. An operator can raise your tier.",
                limit=money_text(cap, payload["currency"], c.lang)))
        return False

    def _resolve(self, c: Ctx, recipients: tuple[str, ...]) -> list[dict[str, Any]] | None:
        """Recipients as legs: a known user's id, or a handle whose money waits in escrow."""
        legs: list[dict[str, Any]] = []
        seen: set[str] = set()
        for r in recipients:
            if r == "reply":
                author = c.ev.reply_to.author if c.ev.reply_to else None
                if author is None:
                    c.say(t(c.lang, "Reply to a message of the person you mean, or write their @username."))
                    return None
                user = self.directory.user_for(c.s, author, c.now)
            elif r.startswith("@"):
                user = self.directory.by_handle(c.s, r[1:])
                if user is None:
                    if r[1:] in seen:
                        continue
                    seen.add(r[1:])
                    legs.append({"to_user": None, "handle": r[1:], "label": r, "escrow": True})
                    continue
            else:
                found = self.directory.resolve_name(c.s, c.chat, r)
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
            legs.append({"to_user": user.id, "handle": user.handle, "label": display(user), "escrow": False})
        if not legs:
            c.say(t(c.lang, "To whom? Write their @username."))
            return None
        return legs

    def _amount_and_payees(self, c: Ctx, intent: Any) -> tuple[str, int, list[dict[str, Any]]] | None:
        """Currency, amount in minor units and resolved payees of a send, request or split; None after saying why."""
        cur = self._currency(c, intent)
        minor = self._minor(c, intent.amount, cur)
        if minor is None:
            return None
        legs = self._resolve(c, tuple(intent.recipients))
        if legs is None:
            return None
        return cur, minor, legs

    def _intent_send(self, c: Ctx, intent: Any) -> None:
        got = self._amount_and_payees(c, intent)
        if got is None:
            return
        cur, minor, legs = got
        for leg in legs:
            leg["amount"] = minor
        payload: dict[str, Any] = {"kind": "send", "currency": cur, "legs": legs, "note": intent.note, "fee": 0,
                                   "from_user": c.user.id, "escrow_days": self.settings.escrow_days}
        if intent.recurrence:
            payload["recurrence"] = intent.recurrence
        if intent.when:
            payload["when"] = intent.when.isoformat()
        self._propose(c, "send", payload)

    def _intent_request(self, c: Ctx, intent: Any) -> None:
        got = self._amount_and_payees(c, intent)
        if got is None:
            return
        cur, minor, legs = got
        for leg in legs:
            leg["amount"] = minor
        self._propose(c, "request", {"kind": "request", "currency": cur, "legs": legs, "note": intent.note,
                                     "from_user": c.user.id})

    def _intent_split(self, c: Ctx, intent: Any) -> None:
        from ledger.money import split_largest_remainder

        got = self._amount_and_payees(c, intent)
        if got is None:
            return
        cur, total, legs = got
        keys = [display(c.user)] + [leg["label"] for leg in legs]
        shares = split_largest_remainder(total, [1] * len(keys), keys)
        for leg, share in zip(legs, shares[1:], strict=True):
            leg["amount"] = share
        self._propose(c, "split", {"kind": "split", "currency": cur, "legs": legs, "note": intent.note,
                                   "total": total, "own_share": shares[0], "from_user": c.user.id})

    def _intent_deposit(self, c: Ctx, intent: Any) -> None:
        cur = self._currency(c, intent)
        minor = self._minor(c, intent.amount, cur)
        if minor is None:
            return
        self._propose(c, "deposit", {"kind": "deposit", "currency": cur, "amount": minor, "fee": 0, "from_user": c.user.id})

    def _intent_withdraw(self, c: Ctx, intent: Any) -> None:
        cur = self._currency(c, intent)
        minor = self._minor(c, intent.amount, cur)
        if minor is None:
            return
        self._propose(c, "withdraw", {"kind": "withdraw", "currency": cur, "amount": minor, "fee": 0, "from_user": c.user.id})

    def _in_private(self, c: Ctx, what: str) -> Ctx | None:
        """Where to give a private answer (balance, history, statement, portfolio): the event's own context in a
        private chat; asked in a group, a context writing to the person's private chat, with a pointer left in
        the group; None when they have no private chat yet (the pointer is then a link that opens one)."""
        if c.private:
            return c
        dm = c.user.private_chat_id
        if dm is None:
            token = self._raw_token(c.s, f"show:{what}", now=c.now, allowed=c.user.id, lifetime=self.ttl)
            c.say(t(c.lang, "{who}, I answer that only in our private chat. Open it with the button and I will answer there.",
                    who=display(c.user)),
                  buttons=((Button(t(c.lang, "Open our private chat"), start_payload=token),),))
            return None
        c.say(t(c.lang, "{who}, I sent the answer to our private chat.", who=display(c.user)))
        ev = replace(c.ev, chat=Chat(c.ev.chat.messenger, dm, ChatKind.private), message_id=None, press=None)
        return Ctx(s=c.s, ev=ev, user=c.user, chat=c.chat, now=c.now, replies=c.replies, after=c.after)

    def _on_show_press(self, c: Ctx, tok: PressToken) -> None:
        """The group pointer's link, opened in the private chat: the private answer it stands for."""
        if not c.private:
            c.answer(t(c.lang, "Open our private chat to see it."))
            return
        _, what, arg = (tok.choice.split(":", 2) + ["", ""])[:3]
        if what == "statement":
            self._cmd_statement(c, arg)
        elif what == "history":
            self._intent_history(c, None)
        elif what == "portfolio":
            self._intent_portfolio(c, None)
        else:
            from types import SimpleNamespace

            self._intent_balance(c, SimpleNamespace(currency=arg or None))

    def _intent_balance(self, c: Ctx, intent: Any) -> None:
        p = self._in_private(c, "balance:" + (intent.currency or ""))
        if p is None:
            return
        c = p
        ledger = self._ledger(c)
        self._open_wallet(c, c.user, c.user.currency)
        c.say(self._balance_lines(ledger, c.user, c.lang, only=intent.currency))

    def _balance_lines(self, ledger: Ledger, user: User, lang: str, only: str | None = None) -> str:
        assert user.id is not None
        accounts = [a for a in ledger.accounts(owner_of(user.id)) if a.kind == "wallet" and (only is None or a.asset == only.upper())]
        if not accounts:
            return t(lang, "You have no {cur} wallet yet.", cur=only or user.currency)
        bals = ledger.balances([a.id for a in accounts])
        lines = [t(lang, "Your balance:")]
        for a in accounts:
            b = bals[a.id]
            line = f"  {money_text(b.posted, a.asset, lang)}"
            if b.debits_pending:
                line += " " + t(lang, "({amount} on hold)", amount=money_text(b.debits_pending, a.asset, lang))
            lines.append(line)
        return "\n".join(lines)

    def _intent_history(self, c: Ctx, intent: Any) -> None:
        p = self._in_private(c, "history")
        if p is None:
            return
        c = p
        uid = c.user.id
        assert uid is not None
        ledger = self._ledger(c)
        entries = []
        for a in ledger.accounts(owner_of(uid)):
            if a.kind != "wallet":
                continue
            for line in ledger.statement(a.id):
                entries.append((line, a.asset))
        entries.sort(key=lambda e: e[0].at, reverse=True)
        if not entries:
            c.say(t(c.lang, "No transactions yet."))
            return
        labels = self._account_labels(ledger, [e[0].counterparty_account_id for e in entries[:10]], c.lang)
        out = [t(c.lang, "Your latest transactions:")]
        for line, asset in entries[:10]:
            sign = "+" if line.amount > 0 else "−"
            words = self._history_words(c, line, labels.get(line.counterparty_account_id, ""))
            out.append(f"{fmt_datetime(aware(line.at) or line.at, c.lang)}  {sign}{money_text(abs(line.amount), asset, c.lang)}  {words}")
        c.say("\n".join(out))

    def _history_words(self, c: Ctx, line: Any, label: str) -> str:
        """Who or what a history line is with, and its memo in the person's language, each said once; a trade
        names its instrument ("bought AAPL"), not just "broker"."""
        from bot.models import OrderRow

        coid = line.transfer_id.split(":", 1)[0]
        if coid.startswith("fb-"):
            order = c.s.get(OrderRow, coid)
            if order is not None:
                return (t(c.lang, "bought {symbol}", symbol=order.symbol) if order.side == "buy"
                        else t(c.lang, "sold {symbol}", symbol=order.symbol))
        system_memos = {
            "top-up": t(c.lang, "top-up"), "withdrawal": t(c.lang, "withdrawal"),
            "escrow claim": t(c.lang, "waiting money claimed"), "escrow return": t(c.lang, "waiting money returned"),
            "payout declined": t(c.lang, "payout declined"), "trading fee": t(c.lang, "fee"),
        }
        if line.memo in system_memos:  # the system's own memo says more than the system account's name
            return system_memos[line.memo]
        parts = [p for p in (label, line.memo) if p]
        if len(parts) == 2 and parts[0].lower() == parts[1].lower():
            parts = parts[:1]
        return " · ".join(parts)

    def _account_labels(self, ledger: Ledger, account_ids: list[int], lang: str) -> dict[int, str]:
        names = {
            "sandbox_funding": t(lang, "top-up"), "payouts": t(lang, "withdrawal"), "escrow": t(lang, "waiting money"),
            "fees": t(lang, "fee"), "broker_omnibus": t(lang, "broker"), "fx_liquidity": t(lang, "exchange"),
        }
        out: dict[int, str] = {}
        for aid in set(account_ids):
            acc = ledger.get_account(aid)
            if acc is None:
                continue
            out[aid] = acc.label or names.get(acc.kind, acc.kind) if acc.owner != "system" else names.get(acc.kind, acc.kind)
        return out

    # ------------------------------------------------------------------ trading (brokerage port)

    def _intent_trade(self, c: Ctx, intent: Any) -> None:
        from bot import trading

        trading.propose_order(self, c, intent)

    def _intent_quote(self, c: Ctx, intent: Any) -> None:
        from bot import trading

        trading.show_quote(self, c, intent)

    def _intent_portfolio(self, c: Ctx, intent: Any) -> None:
        from bot import trading

        p = self._in_private(c, "portfolio")
        if p is not None:
            trading.show_portfolio(self, p)

    def _broker_poll(self) -> list[Reply]:
        from bot import trading

        return trading.poll(self)

    # ------------------------------------------------------------------ proposals and cards

    def _propose(self, c: Ctx, kind: str, payload: dict[str, Any]) -> None:
        """Make a pending action and show its card with Confirm and Cancel."""
        action_id = self._action_id(c, c.ev.message_id or c.ev.event_id)
        if c.s.get(Action, action_id) is not None:
            return
        if not self._limit_ok(c, kind, payload):
            return
        payload.setdefault("from_label", display(c.user))
        body = canonical(payload)
        a = Action(id=action_id, kind=kind, initiator_id=c.user.id or 0, messenger=c.ev.chat.messenger,
                   origin_chat_id=c.ev.chat.chat_id, origin_group=not c.private, payload=body, digest=digest(body),
                   created_at=c.now, expires_at=c.now + self.ttl, card_chat_id=c.ev.chat.chat_id)
        c.s.add(a)
        c.s.flush()
        confirm = self._token(c, "confirm", action_id=a.id, allowed=c.user.id)
        cancel = self._token(c, "cancel", action_id=a.id, allowed=c.user.id)
        card = self._card(c.lang, c.private, display(c.user), kind, payload, a.id, confirm, cancel, c.ev.chat.chat_id)
        short = self._shortfall(c.user, kind, payload)
        if short is not None:  # say so now, not after the PIN: the card offers the top-up
            cur, have, need = short
            topup = self._raw_token(c.s, "topup", now=c.now, action_id=a.id, allowed=c.user.id, lifetime=self.ttl)
            card = replace(card, text=card.text + "\n" + self._short_text(c.lang, cur, have, need, on_card=True),
                           buttons=card.buttons + ((self._topup_button(c.lang, cur, need - have, topup, link=not c.private),),))
        c.replies.append(card)

    @staticmethod
    def _needs_funds(kind: str, payload: dict[str, Any]) -> tuple[str, int] | None:
        """The currency and minor units a wallet must hold for the action to execute now (None: nothing leaves it now)."""
        if payload.get("recurrence") or payload.get("when"):
            return None  # a standing or future order draws on the wallet when it runs
        cur = str(payload.get("currency", ""))
        if kind == "send":
            return cur, sum(int(leg["amount"]) for leg in payload["legs"])
        if kind in ("withdraw", "pay_request"):
            return cur, int(payload["amount"]) + int(payload.get("fee") or 0)
        if kind == "buy" and payload.get("reserve") is not None:
            return cur, int(payload["reserve"])  # what the order holds until it fills: the buying power it needs
        return None

    def _shortfall(self, user: User, kind: str, payload: dict[str, Any]) -> tuple[str, int, int] | None:
        """(currency, available, needed) when the user's wallet holds less than the action needs; else None."""
        need = self._needs_funds(kind, payload)
        if need is None or user.id is None:
            return None
        cur, amount = need
        acc = self.ledger.find_account(owner_of(user.id), cur)
        have = self.ledger.balance(acc.id).available if acc is not None else 0
        return (cur, have, amount) if have < amount else None

    @staticmethod
    def _short_text(lang: str, cur: str, have: int, need: int, *, on_card: bool) -> str:
        text = t(lang, "⚠️ Not enough money: your wallet has {have}, this needs {need}.",
                 have=money_text(have, cur, lang), need=money_text(need, cur, lang))
        if on_card:
            return text + " " + t(lang, "Top up {amount} first, then press Confirm.", amount=money_text(need - have, cur, lang))
        return text + " " + t(lang, "Top up {amount} first; the card stays open until it expires.", amount=money_text(need - have, cur, lang))

    @staticmethod
    def _topup_button(lang: str, cur: str, amount: int, token: str, *, link: bool) -> Button:
        label = t(lang, "Top up {amount}", amount=money_text(amount, cur, lang))
        return Button(label, start_payload=token) if link else Button(label, data=token)

    def _short_at_confirm(self, c: Ctx, a: Action) -> bool:
        """Before any step-up: when the wallet cannot pay, say so with a top-up and a fresh Confirm, and ask no PIN."""
        short = self._shortfall(c.user, a.kind, json.loads(a.payload))
        if short is None:
            return False
        cur, have, need = short
        topup = self._raw_token(c.s, "topup", now=c.now, action_id=a.id, allowed=c.user.id, lifetime=self.ttl)
        confirm = self._token(c, "confirm", action_id=a.id, allowed=c.user.id)
        labels = commands.labels(c.lang)
        dm = c.user.private_chat_id
        link = dm is None and not c.private
        buttons = ((self._topup_button(c.lang, cur, need - have, topup, link=link),
                    Button(labels["confirm"], start_payload=confirm) if link else Button(labels["confirm"], data=confirm)),)
        text = describe(json.loads(a.payload), c.lang) + "\n" + self._short_text(c.lang, cur, have, need, on_card=False)
        c.say(text, chat_id=dm, buttons=buttons)
        return True

    def _on_topup_press(self, c: Ctx, tok: PressToken) -> None:
        """The Top up button of a card the wallet cannot pay: a top-up card for what is missing, in the private chat."""
        a = c.s.get(Action, tok.action_id) if tok.action_id else None
        if a is None or a.status not in AWAITING:
            c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status if a else "expired")))
            return
        short = self._shortfall(c.user, a.kind, json.loads(a.payload))
        if short is None:
            c.answer(t(c.lang, "Your wallet has enough now: press Confirm on the card."))
            return
        if not c.private:
            c.answer(t(c.lang, "Open our private chat to top up."))
            return
        cur, have, need = short
        if c.ev.press is not None:
            c.answer(t(c.lang, "OK"), alert=False)
        self._propose(c, "deposit", {"kind": "deposit", "currency": cur, "amount": need - have, "fee": 0, "from_user": c.user.id})

    @staticmethod
    def _card(lang: str, private: bool, who: str, kind: str, payload: dict[str, Any], action_id: str,
              confirm: str, cancel: str, chat_id: str) -> Reply:
        """The confirmation card of a new action, with its Confirm and Cancel buttons."""
        labels = commands.labels(lang)
        if private or not needs_stepup(kind):
            confirm_btn = Button(labels["confirm"], data=confirm)
        else:
            confirm_btn = Button(labels["confirm"], start_payload=confirm)
        text = describe(payload, lang)
        head = t(lang, "Please check:") if private else t(lang, "{who}, please check:", who=who)
        tail = "" if private or not needs_stepup(kind) else "\n" + t(lang, "Confirm opens our private chat, where you give your PIN.")
        return Reply(ReplyKind.message, chat_id, f"{head}\n{text}{tail}",
                     ((confirm_btn, Button(labels["cancel"], data=cancel)),), ref=f"card:{action_id}")

    def _on_press(self, c: Ctx) -> None:
        assert c.ev.press is not None
        self._use_token(c, c.ev.press.data, via_link=False)

    def _use_token(self, c: Ctx, token: str, *, via_link: bool) -> None:
        if token.startswith("kp") and not via_link:
            self._on_keypad(c, token)
            return
        tok = c.s.get(PressToken, token)
        if tok is None:
            c.answer(t(c.lang, "This button is no longer valid."))
            return
        if tok.allowed_user_id is not None and tok.allowed_user_id != c.user.id:
            owner = c.s.get(User, tok.allowed_user_id)
            c.answer(t(c.lang, "Only {who} can use this button.", who=display(owner) if owner else "?"))
            return
        if aware(tok.expires_at) and c.now > aware(tok.expires_at):  # type: ignore[operator]
            c.answer(t(c.lang, "This card has expired. Nothing was done."))
            return
        if tok.choice in ("pay", "decline"):
            self._on_request_press(c, tok, via_link)
            return
        if tok.choice == "topup":
            self._on_topup_press(c, tok)
            return
        if tok.choice.startswith("show:"):
            self._on_show_press(c, tok)
            return
        if tok.single_use:
            claimed = c.s.execute(
                sa.update(PressToken).where(col(PressToken.token) == token, col(PressToken.used_at).is_(None)).values(used_at=c.now)
            ).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                self._pressed_again(c, tok)
                return
        a = c.s.get(Action, tok.action_id) if tok.action_id else None
        if a is None:
            c.answer(t(c.lang, "This button is no longer valid."))
            return
        if tok.choice == "cancel_order":
            from bot import trading

            c.answer(t(c.lang, "Cancelling the order…"), alert=False)
            action_id = a.id
            c.after.append(lambda: trading.cancel_order(self, action_id))
            return
        if tok.choice == "cancel":
            if a.status in AWAITING:
                a.status, a.result = "cancelled", "by_user"
                self._close_challenges(c, a.id)
                c.answer(t(c.lang, "Cancelled."), alert=False)
                c.replies.extend(self._edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Cancelled: nothing was done.")))
            else:
                c.answer(t(c.lang, "Too late to cancel: it is {status}.", status=t(c.lang, a.status)))
            return
        if tok.choice == "retry":
            self._retry(c, a)
            return
        if tok.choice == "confirm":
            if not via_link:
                c.answer(t(c.lang, "Confirmed. Check our private chat."), alert=False) if not c.private else c.answer(t(c.lang, "Confirmed."), alert=False)
            self._confirm(c, a)

    def _retry(self, c: Ctx, a: Action) -> None:
        """A failed card confirmed again: a new attempt (transfer ids of its own), with its own step-up."""
        if a.status != "failed" or a.kind not in ("send", "deposit", "withdraw"):
            c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status)))
            return
        a.attempt += 1
        a.status, a.result, a.done_at = "awaiting_confirm", None, None
        a.expires_at = c.now + self.ttl
        c.answer(t(c.lang, "Trying again."), alert=False)
        self._confirm(c, a)

    KEYPAD = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("⌫", "0", "OK"))

    def _ask_pin(self, c: Ctx, challenge_id: int, dm: str, text: str) -> None:
        """Ask for the PIN in the private chat: typed, or tapped on an inline keypad."""
        nonce = secrets.token_urlsafe(6)
        self._set_state(c, {"await": "pin", "challenge": challenge_id, "chat": dm, "kp": nonce, "entered": ""})
        c.replies.append(self._pin_prompt(challenge_id, dm or c.ev.chat.chat_id, text, nonce))

    def _pin_prompt(self, challenge_id: int, dm: str, text: str, nonce: str) -> Reply:
        """The PIN question with its keypad (keys carry the nonce of this question)."""
        buttons = tuple(tuple(Button(key, data=f"kp{nonce}{i}{j}") for j, key in enumerate(row))
                        for i, row in enumerate(self.KEYPAD))
        return Reply(ReplyKind.message, dm, text, buttons, ref=f"pin:{challenge_id}")

    def _on_keypad(self, c: Ctx, data: str) -> None:
        """A key of the PIN keypad: collect digits, submit on OK; the prompt shows dots, never digits."""
        state = self._get_state(c)
        if not state or state.get("await") != "pin" or not c.private or not data.startswith("kp" + str(state.get("kp"))):
            c.answer(t(c.lang, "This keypad is no longer valid."))
            return
        pos = data[2 + len(str(state["kp"])):]
        if len(pos) != 2 or not pos.isdigit() or int(pos[0]) > 3 or int(pos[1]) > 2:
            c.answer(t(c.lang, "This keypad is no longer valid."))
            return
        key = self.KEYPAD[int(pos[0])][int(pos[1])]
        entered = str(state.get("entered", ""))
        if key == "OK":
            state["entered"] = ""
            self._set_state(c, state)
            c.answer("…", alert=False)
            self._answer_pin(c, int(state["challenge"]), entered)
            return
        entered = entered[:-1] if key == "⌫" else (entered + key)[:8]
        state["entered"] = entered
        self._set_state(c, state)
        c.answer("•" * len(entered) or "·", alert=False)

    def _close_keypad(self, c: Ctx, challenge_id: int, text: str | None = None) -> None:
        """Take the keypad off a PIN prompt once the PIN has been answered (saying how, when not simply received)."""
        sent = self._sent(c.s, f"pin:{challenge_id}")
        if sent is not None:
            c.replies.append(Reply(ReplyKind.edit, sent.chat_id, text or t(c.lang, "PIN received."), target_message_id=sent.message_id))

    def _pressed_again(self, c: Ctx, tok: PressToken) -> None:
        """A Confirm or Cancel pressed again: "Already done." only when it is; a card still waiting for
        its PIN asks for it again (its own challenge, named), so no other card's step-up leaves it stuck."""
        a = c.s.get(Action, tok.action_id) if tok.action_id else None
        if a is None:
            c.answer(t(c.lang, "This button is no longer valid."))
            return
        if tok.choice == "confirm" and a.status in AWAITING:
            if a.status == "awaiting_stepup":
                c.answer(t(c.lang, "Your PIN is awaited for this card: see our private chat."), alert=False)
            self._confirm(c, a)
            return
        if a.status == "executed":
            c.answer(t(c.lang, "Already done."), alert=False)
        else:
            c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status)), alert=False)

    def _resume_stepup(self, c: Ctx, a: Action, lead: str | None = None) -> bool:
        """Ask again, in the private chat, for what this card's open challenge still needs; False when it has none."""
        ch = c.s.exec(select(Challenge).where(Challenge.action_id == a.id, Challenge.user_id == c.user.id,
                                              Challenge.status == "open").order_by(col(Challenge.id).desc())).first()
        dm = c.user.private_chat_id
        if ch is None or dm is None or c.now > (aware(ch.expires_at) or c.now):
            return False
        if self._refuse_exposed(c, dm):
            return True
        summary = describe(json.loads(a.payload), c.lang)
        if not c.user.pin_hash:
            self._set_state(c, {"await": "pin_new", "chat": dm, "then": ch.id})
            c.say(t(c.lang, "To confirm:\n{summary}\n\nYou need a PIN first. Choose a PIN of 4 to 8 digits.", summary=summary), chat_id=dm)
            return True
        if ch.pin_ok and ch.method == "pin+totp":
            self._set_state(c, {"await": "totp", "challenge": ch.id, "chat": dm})
            c.say((lead + "\n" if lead else "") + summary + "\n\n" + t(c.lang, "Now send the 6-digit code from your authenticator app."), chat_id=dm)
            return True
        text = self._pin_question(c.lang, summary)
        self._ask_pin(c, ch.id or 0, dm, lead + "\n" + text if lead else text)
        return True

    def _next_waiting(self, c: Ctx, done_id: str) -> None:
        """After one card's step-up: another card of this person still waiting for a PIN is asked for next."""
        rows = c.s.exec(select(Action).where(Action.initiator_id == c.user.id, Action.status == "awaiting_stepup",
                                             col(Action.id) != done_id).order_by(col(Action.created_at).desc())).all()
        for other in rows:
            if self._resume_stepup(c, other, t(c.lang, "Another card is still waiting for your PIN:")):
                return

    def _expire(self, c: Ctx, a: Action) -> None:
        a.status, a.result = "expired", "expired"
        self._close_challenges(c, a.id)
        c.answer(t(c.lang, "This card has expired. Nothing was done."))
        c.replies.extend(self._edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Expired: nothing was done.")))

    def _confirm(self, c: Ctx, a: Action) -> None:
        if a.status not in AWAITING:
            c.answer(t(c.lang, "This card is already {status}.", status=t(c.lang, a.status)))
            return
        if c.now > (aware(a.expires_at) or c.now):
            self._expire(c, a)
            return
        if digest(a.payload) != a.digest:
            a.status, a.result = "cancelled", "tampered"
            c.answer(t(c.lang, "This card changed after it was shown, so it is void. Nothing was done."))
            return
        if not needs_stepup(a.kind):
            a.status = "executing"
            c.after.append(lambda: self._execute(a.id))
            return
        if a.status == "awaiting_stepup":
            if self._resume_stepup(c, a):
                return
            a.status = "awaiting_confirm"  # its challenge is gone: a new one below
        locked = self.stepup.locked(c.user, c.now)
        if locked is not None:
            c.say(t(c.lang, "Confirmations are locked until {time} after too many wrong PINs.", time=fmt_datetime(locked, c.lang)),
                  chat_id=c.user.private_chat_id)
            return
        if self._refuse_exposed(c):
            return
        if self._short_at_confirm(c, a):
            return
        payload = json.loads(a.payload)
        method = self._stepup_method(c, a, payload)
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
        summary = describe(json.loads(a.payload), c.lang)
        if not c.user.pin_hash:
            self._set_state(c, {"await": "pin_new", "chat": dm, "then": ch.id})
            c.say(t(c.lang, "To confirm:\n{summary}\n\nYou need a PIN first. Choose a PIN of 4 to 8 digits.", summary=summary), chat_id=dm)
            return
        self._ask_pin(c, ch.id or 0, dm, self._pin_question(c.lang, summary))

    @staticmethod
    def _pin_question(lang: str, summary: str) -> str:
        return t(lang, "To confirm:\n{summary}\n\nType your PIN, or tap it on the keypad. I delete a typed PIN from the chat right away.", summary=summary)

    def _stepup_method(self, c: Ctx, a: Action, payload: dict[str, Any]) -> str:
        """The policy's step-up method. It weighs payee and velocity only for someone with a second
        factor ('pin' for everyone else), so the two queries run only then: the payee one reads every
        send the user ever made."""
        enrolled = bool(c.user.totp_secret)
        return self.policy.method(PolicyInput(
            kind=a.kind, amount_major=self._amount_major(payload),
            new_payee=self._new_payee(c, payload) if enrolled else False, from_group=a.origin_group,
            recent_count=self._recent_count(c) if enrolled else 0, totp_enrolled=enrolled))

    def _amount_major(self, payload: dict[str, Any]) -> Decimal:
        from ledger.money import from_minor

        cur = payload.get("currency", "USD")
        if "legs" in payload:
            return from_minor(sum(int(leg["amount"]) for leg in payload["legs"]), cur)
        if "amount" in payload:
            return from_minor(int(payload["amount"]), cur)
        if payload.get("estimate") is not None:
            return from_minor(int(payload["estimate"]), cur)
        return Decimal(0)

    def _new_payee(self, c: Ctx, payload: dict[str, Any]) -> bool:
        targets = {leg.get("to_user") for leg in payload.get("legs", [])}
        if not targets:
            return False
        done = c.s.exec(select(Action).where(Action.initiator_id == c.user.id, Action.status == "executed", Action.kind == "send")).all()
        paid: set[Any] = set()
        for a in done:
            paid |= {leg.get("to_user") for leg in json.loads(a.payload).get("legs", [])}
        return not targets <= paid

    def _recent_count(self, c: Ctx) -> int:
        since = c.now - timedelta(seconds=self.settings.stepup_velocity_window_seconds)
        rows = c.s.exec(select(sa.func.count()).select_from(Action).where(
            Action.initiator_id == c.user.id, col(Action.created_at) >= since, Action.status == "executed")).one()
        return int(rows)

    def _close_challenges(self, c: Ctx, action_id: str) -> None:
        for ch in c.s.exec(select(Challenge).where(Challenge.action_id == action_id, Challenge.status == "open")).all():
            ch.status = "expired"
            state = self._get_state(c)
            if state and state.get("challenge") == ch.id:
                self._set_state(c, None)

    def _challenge_action(self, c: Ctx, challenge_id: int) -> tuple[Challenge, Action] | None:
        ch = c.s.get(Challenge, challenge_id)
        a = c.s.get(Action, ch.action_id) if ch is not None else None
        if ch is None or a is None or ch.status != "open" or ch.user_id != c.user.id:
            self._set_state(c, None)
            c.say(t(c.lang, "There is nothing waiting for your PIN."))
            return None
        if c.now > (aware(ch.expires_at) or c.now) or a.status != "awaiting_stepup":
            ch.status = "expired"
            self._set_state(c, None)
            if a.status in AWAITING:
                self._expire(c, a)
            else:
                c.say(t(c.lang, "This confirmation is no longer open. Nothing was done."))
            return None
        if digest(a.payload) != ch.digest or a.digest != ch.digest:
            ch.status, a.status, a.result = "failed", "cancelled", "tampered"
            self._set_state(c, None)
            c.say(t(c.lang, "This card changed after it was shown, so it is void. Nothing was done."))
            return None
        return ch, a

    def _answer_pin(self, c: Ctx, challenge_id: int, pin: str) -> None:
        found = self._challenge_action(c, challenge_id)
        if found is None:
            return
        ch, a = found
        if self._refuse_exposed(c, c.ev.chat.chat_id):
            self._set_state(c, None)
            return
        result = self.stepup.check(c.s, c.user, c.now, pin=pin, known=c.pins)
        if result.status == PinCheck.wrong:
            c.say(tn(c.lang, "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", result.tries_left))
            return
        if result.status in (PinCheck.locked, PinCheck.no_pin):
            ch.status, a.status, a.result = "failed", "cancelled", "stepup_locked"
            self._set_state(c, None)
            self._close_keypad(c, ch.id or 0, t(c.lang, "Locked: too many wrong PINs. Nothing was done."))
            until = result.locked_until or c.now
            c.say(t(c.lang, "Too many wrong PINs: confirmations are locked until {time}. Nothing was done.",
                    time=fmt_datetime(until, c.lang)))
            c.replies.extend(self._edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Cancelled: the PIN check failed.")))
            return
        ch.pin_ok = True
        if ch.method == "pin+totp":
            self._set_state(c, {"await": "totp", "challenge": ch.id, "chat": c.ev.chat.chat_id})
            c.say(t(c.lang, "Now send the 6-digit code from your authenticator app."))
            return
        self._pass(c, ch, a)

    def _answer_totp(self, c: Ctx, challenge_id: int, code: str) -> None:
        found = self._challenge_action(c, challenge_id)
        if found is None:
            return
        ch, a = found
        result = self.stepup.check(c.s, c.user, c.now, totp_code=code if ch.pin_ok else None)
        if not result.ok:  # a wrong code counts toward the same lockout as a wrong PIN
            if result.status == PinCheck.locked:
                ch.status, a.status, a.result = "failed", "cancelled", "stepup_locked"
                self._set_state(c, None)
                c.say(t(c.lang, "Too many wrong answers: confirmations are locked. Nothing was done."))
                return
            c.say(t(c.lang, "That code is not right or was already used. Send the current code."))
            return
        self._pass(c, ch, a)

    def _pass(self, c: Ctx, ch: Challenge, a: Action) -> None:
        claimed = c.s.execute(
            sa.update(Challenge).where(col(Challenge.id) == ch.id, col(Challenge.status) == "open").values(status="passed")
        ).rowcount  # type: ignore[attr-defined]
        self._set_state(c, None)
        self._close_keypad(c, ch.id or 0)
        if claimed != 1:
            return
        moved = c.s.execute(
            sa.update(Action).where(col(Action.id) == a.id, col(Action.status) == "awaiting_stepup").values(status="executing")
        ).rowcount  # type: ignore[attr-defined]
        if moved != 1:
            return
        c.s.expire(a)
        c.say(t(c.lang, "PIN accepted. Working on it…"))
        action_id = a.id
        c.after.append(lambda: self._execute(action_id))
        self._next_waiting(c, action_id)

    def _cancel_pending(self, c: Ctx) -> None:
        """Cancel the question the bot is waiting on and every card waiting for confirmation, and say which."""
        question = self._question_text(c, self._get_state(c))
        self._set_state(c, None)
        pending = c.s.exec(select(Action).where(Action.initiator_id == c.user.id, col(Action.status).in_(AWAITING))
                           .order_by(col(Action.created_at))).all()
        done: list[str] = [question] if question else []
        for a in pending:
            a.status, a.result = "cancelled", "by_user"
            self._close_challenges(c, a.id)
            c.replies.extend(self._edit_or_send(c.s, f"card:{a.id}", None, t(c.lang, "Cancelled: nothing was done.")))
            done.append(describe(json.loads(a.payload), c.lang).splitlines()[0])
        if not done:
            c.say(t(c.lang, "Nothing to cancel."))
            return
        c.say(t(c.lang, "Cancelled, nothing was done:") + "\n" + "\n".join(f"• {line}" for line in done))

    def _question_text(self, c: Ctx, state: dict[str, Any] | None) -> str | None:
        """What the pending question was about, in words (None for a PIN question: its card is named instead)."""
        kind = (state or {}).get("await")
        if kind in ("pin_new", "pin_repeat"):
            return t(c.lang, "choosing your PIN")
        if kind == "totp_enrol":
            return t(c.lang, "setting up one-time codes")
        if kind == "slot" and state is not None:
            saved = state.get("intent") or {}
            verb = {"send": t(c.lang, "send"), "request": t(c.lang, "request"), "split": t(c.lang, "split"),
                    "deposit": t(c.lang, "top up"), "withdraw": t(c.lang, "withdraw")}.get(str(saved.get("intent")), "")
            if state.get("slot") == "amount":
                return t(c.lang, "the question \"How much?\" ({what})", what=verb)
            return t(c.lang, "the question \"To whom?\" ({what})", what=verb)
        return None

    # ------------------------------------------------------------------ execution (after commit)

    def _execute(self, action_id: str) -> list[Reply]:
        with Session(self.db, expire_on_commit=False) as s:
            a = s.get(Action, action_id)
            if a is None or a.status != "executing":
                return []
            payload = json.loads(a.payload)
            kind = a.kind
            run_id = attempt_id(a.id, a.attempt)
            s.rollback()
        if kind == "send" and (payload.get("recurrence") or payload.get("when")):
            outcome = Outcome(True, "scheduled")
        elif kind in ("request", "split"):
            outcome = Outcome(True, "ok")
        elif kind in ("buy", "sell"):
            from bot import trading

            outcome = trading.execute_order(self, action_id, payload)
        else:
            outcome = self.executor.run(run_id, kind, payload)
            crash_point("after_ledger_commit")
        return self._record(action_id, payload, outcome, kind)

    def _record(self, action_id: str, payload: dict[str, Any], outcome: Outcome, kind: str | None = None) -> list[Reply]:
        now = self.clock()
        with Session(self.db, expire_on_commit=False) as s:
            moved = s.execute(
                sa.update(Action).where(col(Action.id) == action_id, col(Action.status) == "executing").values(
                    status="executed" if outcome.ok else "failed", result=outcome.code, done_at=now)
            ).rowcount  # type: ignore[attr-defined]
            if moved != 1:
                s.rollback()
                return []
            a = s.get(Action, action_id)
            assert a is not None
            user = s.get(User, a.initiator_id)
            assert user is not None
            replies = self._after_record(s, a, user, payload, outcome, now)
            s.commit()
        return replies

    def _after_record(self, s: Session, a: Action, user: User, payload: dict[str, Any], outcome: Outcome, now: datetime) -> list[Reply]:
        lang = user.lang
        replies: list[Reply] = []
        summary = describe(payload, lang)
        if not outcome.ok:
            reason = self._reason(outcome.code, lang)
            text = t(lang, "Not done: {reason}", reason=reason) + "\n" + summary
            buttons: tuple[tuple[Button, ...], ...] = ()
            if a.kind in ("send", "deposit", "withdraw") and outcome.code in RETRYABLE:
                retry = self._raw_token(s, "retry", action_id=a.id, allowed=user.id, now=now, single_use=True,
                                        lifetime=self.ttl)
                buttons = ((Button(commands.labels(lang)["confirm"], data=retry),),)
                text += "\n" + t(lang, "Put it right, then press Confirm to try again.")
            return replies + self._card_and_outcome(s, a, user, text, buttons)
        kind = a.kind
        if kind == "send" and (payload.get("recurrence") or payload.get("when")):
            self._make_schedule(s, a, user, payload, now)
            done = t(lang, "Scheduled ✅") + "\n" + summary
        elif kind in ("request", "split"):
            return self._make_requests(s, a, user, payload, now)
        elif kind in ("buy", "sell"):
            from bot import trading

            replies = trading.after_order(self, s, a, user, payload, outcome, now)
            shown = next((r.text for r in replies if r.kind in (ReplyKind.edit, ReplyKind.message)), None)
            return replies + (self._outcome_message(s, a, user, shown) if shown else [])
        else:
            done = t(lang, "Done ✅") + "\n" + summary
            if kind == "send":
                self._record_escrow(s, attempt_id(a.id, a.attempt), user.id or 0, payload, now)
                replies += self._notify_recipients(s, user, payload)
            if kind == "pay_request":
                replies += self._request_paid(s, payload, now)
        return replies + self._card_and_outcome(s, a, user, done)

    def _card_and_outcome(self, s: Session, a: Action, user: User, text: str,
                          buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
        """Close the card and tell the outcome once where the person looks: a card in a group is edited to
        the outcome (the group sees it) and the private chat gets it as a new message; a card in the
        private chat itself is closed with a short line, and the outcome follows it as a new message."""
        outcome = self._outcome_message(s, a, user, text, buttons)
        if outcome and a.card_chat_id == user.private_chat_id:
            closed = t(user.lang, "Confirmed: the result is below.") + "\n" + describe(json.loads(a.payload), user.lang)
            return self._edit_or_send(s, f"card:{a.id}", a.card_chat_id, closed) + outcome
        return self._edit_or_send(s, f"card:{a.id}", a.card_chat_id, text, buttons) + outcome

    def _outcome_message(self, s: Session, a: Action, user: User, text: str,
                         buttons: tuple[tuple[Button, ...], ...] = ()) -> list[Reply]:
        """The outcome as a new message in the person's private chat, where they gave the PIN: the card it
        edits may be far up the chat, or in a group (whose card edit the group sees)."""
        if not user.private_chat_id:
            return []
        sent = self._sent(s, f"card:{a.id}")
        if sent is None and a.card_chat_id == user.private_chat_id:
            return []  # the card was never shown, so _edit_or_send has just sent the outcome as a new message
        return [Reply(ReplyKind.message, user.private_chat_id, text, buttons)]

    def _reason(self, code: str, lang: str) -> str:
        """Why it was not done, as a sentence (bot/reasons.py has one for every code; never the code itself)."""
        return reason_text(code, lang)

    def _notify_recipients(self, s: Session, sender: User, payload: dict[str, Any]) -> list[Reply]:
        out: list[Reply] = []
        cur = payload["currency"]
        for leg in payload["legs"]:
            if leg.get("to_user") is None:
                continue
            other = s.get(User, leg["to_user"])
            if other is None or not other.private_chat_id:
                continue
            out.append(Reply(ReplyKind.message, other.private_chat_id, sent_you(display(sender), other.lang, int(leg["amount"]), cur, payload.get("note"))))
        return out

    def _record_escrow(self, s: Session, transfer_prefix: str, sender_id: int, payload: dict[str, Any],
                       now: datetime) -> None:
        """An escrow row for each leg whose payee never wrote to the bot (its transfer is `<prefix>:<leg>`)."""
        for i, leg in enumerate(payload["legs"]):
            if not leg.get("escrow"):
                continue
            s.add(Escrow(action_id=transfer_prefix, leg=i, sender_id=sender_id, handle=leg["handle"], amount=int(leg["amount"]),
                         currency=payload["currency"], transfer_id=f"{transfer_prefix}:{i}",
                         expires_at=now + timedelta(days=self.settings.escrow_days)))

    # ------------------------------------------------------------------ requests and splits

    def _make_requests(self, s: Session, a: Action, user: User, payload: dict[str, Any], now: datetime) -> list[Reply]:
        lang = user.lang
        replies: list[Reply] = []
        cur = payload["currency"]
        reqs: list[PaymentRequest] = []
        for leg in payload["legs"]:
            req = PaymentRequest(action_id=a.id, requester_id=user.id or 0, payer_id=leg.get("to_user"),
                                 payer_handle=leg.get("handle"), amount=int(leg["amount"]), currency=cur,
                                 note=payload.get("note"), chat_id=a.origin_chat_id, created_at=now)
            s.add(req)
            reqs.append(req)
        s.flush()
        if a.origin_group:
            replies += self._group_request_card(s, a, user, reqs, now, new=True)
        else:
            replies += self._edit_or_send(s, f"card:{a.id}", a.card_chat_id, t(lang, "Request sent ✅") + "\n" + describe(payload, lang))
            for req in reqs:
                payer = s.get(User, req.payer_id) if req.payer_id else None
                if payer is not None and payer.private_chat_id:
                    replies += self._dm_request_card(s, req, user, payer, now)
        return replies

    def _group_request_card(self, s: Session, a: Action, requester: User, reqs: list[PaymentRequest], now: datetime, *, new: bool) -> list[Reply]:
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
            pay = self._raw_token(s, "pay", action_id=a.id, now=now)
            decline = self._raw_token(s, "decline", action_id=a.id, now=now)
            buttons = ((Button(labels["pay"], start_payload=pay), Button(labels["decline"], data=decline)),)
        else:
            lines.append(t(lang, "Everyone has answered."))
        return self._edit_or_send(s, f"card:{a.id}", a.card_chat_id, "\n".join(lines), buttons)

    def _raw_token(self, s: Session, choice: str, *, now: datetime, action_id: str | None = None,
                   request_id: int | None = None, allowed: int | None = None, single_use: bool = False,
                   lifetime: timedelta | None = None) -> str:
        """An opaque button token; by default a reusable one living as long as a request (escrow days)."""
        token = press_token()
        s.add(PressToken(token=token, action_id=action_id, request_id=request_id, choice=choice, allowed_user_id=allowed,
                         single_use=single_use,
                         expires_at=now + (lifetime or timedelta(days=self.settings.escrow_days))))
        return token

    def _dm_request_card(self, s: Session, req: PaymentRequest, requester: User, payer: User, now: datetime) -> list[Reply]:
        lang = payer.lang
        labels = commands.labels(lang)
        pay = self._raw_token(s, "pay", request_id=req.id, allowed=payer.id, now=now)
        decline = self._raw_token(s, "decline", request_id=req.id, allowed=payer.id, now=now)
        text = t(lang, "{who} asks you for {amount}.", who=display(requester), amount=money_text(req.amount, req.currency, lang))
        if req.note:
            text += "\n" + t(lang, "Note: {note}", note=req.note)
        assert payer.private_chat_id is not None
        return [Reply(ReplyKind.message, payer.private_chat_id, text,
                      ((Button(labels["pay"], data=pay), Button(labels["decline"], data=decline)),), ref=f"req:{req.id}")]

    def _deliver_waiting_requests(self, c: Ctx) -> None:
        if not c.user.handle:
            return
        rows = c.s.exec(select(PaymentRequest).where(PaymentRequest.status == "open", col(PaymentRequest.payer_id).is_(None),
                                                     PaymentRequest.payer_handle == c.user.handle)).all()
        for req in rows:
            req.payer_id = c.user.id
        mine = c.s.exec(select(PaymentRequest).where(PaymentRequest.status == "open", PaymentRequest.payer_id == c.user.id)).all()
        for req in mine:
            if self._sent(c.s, f"req:{req.id}") is not None:
                continue
            a = c.s.get(Action, req.action_id)
            if a is not None and a.origin_group:
                continue
            requester = c.s.get(User, req.requester_id)
            if requester is not None:
                c.replies.extend(self._dm_request_card(c.s, req, requester, c.user, c.now))

    def _on_request_press(self, c: Ctx, tok: PressToken, via_link: bool) -> None:
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
            c.replies.extend(self._refresh_request_cards(c.s, req, c.now))
            if requester.private_chat_id:
                c.say(t(requester.lang, "{who} declined your request of {amount}.", who=display(c.user),
                        amount=money_text(req.amount, req.currency, requester.lang)), chat_id=requester.private_chat_id)
            return
        if not c.private and not via_link:
            c.answer(t(c.lang, "Open our private chat to pay."))
            return
        action_id = f"pay:{req.id}"
        a = c.s.get(Action, action_id)
        payload = {"kind": "pay_request", "currency": req.currency, "amount": req.amount, "request_id": req.id,
                   "to_user": requester.id, "to_label": display(requester), "note": req.note, "fee": 0, "from_user": c.user.id,
                   "from_label": display(c.user)}
        if (a is None or a.status not in AWAITING) and not self._limit_ok(c, "pay_request", payload):
            return
        if a is None or a.status in ("cancelled", "expired", "failed"):
            attempt = 0
            if a is not None:
                attempt = a.attempt + 1  # the failed attempt's transfer ids stay failed: this one has its own
                c.s.delete(a)
                c.s.flush()
            body = canonical(payload)
            a = Action(id=action_id, kind="pay_request", initiator_id=c.user.id or 0, messenger=c.ev.chat.messenger,
                       origin_chat_id=c.ev.chat.chat_id, origin_group=False, payload=body, digest=digest(body),
                       created_at=c.now, expires_at=c.now + self.ttl, card_chat_id=c.user.private_chat_id,
                       attempt=attempt)
            c.s.add(a)
            c.s.flush()
        if not via_link:
            c.answer(t(c.lang, "OK"), alert=False)
        self._confirm(c, a)

    def _refresh_request_cards(self, s: Session, req: PaymentRequest, now: datetime) -> list[Reply]:
        a = s.get(Action, req.action_id)
        requester = s.get(User, req.requester_id)
        if a is None or requester is None:
            return []
        if a.origin_group:
            reqs = list(s.exec(select(PaymentRequest).where(PaymentRequest.action_id == a.id).order_by(col(PaymentRequest.id))).all())
            return self._group_request_card(s, a, requester, reqs, now, new=False)
        payer = s.get(User, req.payer_id) if req.payer_id else None
        lang = payer.lang if payer else requester.lang
        word = {"paid": t(lang, "Paid ✅"), "declined": t(lang, "Declined")}.get(req.status, req.status)
        sent = self._sent(s, f"req:{req.id}")
        if sent is None:
            return []
        return [Reply(ReplyKind.edit, sent.chat_id, f"{word}: {money_text(req.amount, req.currency, lang)} → {display(requester)}",
                      target_message_id=sent.message_id)]

    def _request_paid(self, s: Session, payload: dict[str, Any], now: datetime) -> list[Reply]:
        req = s.get(PaymentRequest, payload["request_id"])
        if req is None:
            return []
        req.status, req.done_at = "paid", now
        out = self._refresh_request_cards(s, req, now)
        requester = s.get(User, req.requester_id)
        payer = s.get(User, req.payer_id) if req.payer_id else None
        if requester is not None and requester.private_chat_id:
            out.append(Reply(ReplyKind.message, requester.private_chat_id,
                             t(requester.lang, "{who} paid you {amount}.", who=display(payer) if payer else "?",
                               amount=money_text(req.amount, req.currency, requester.lang))))
        return out

    # ------------------------------------------------------------------ wallets and escrow

    def _open_wallet(self, c: Ctx, user: User, currency: str) -> None:
        assert user.id is not None
        ledger = self._ledger(c)
        owner, label = owner_of(user.id), display(user)
        ledger.open_account(owner, currency, "wallet", label=label)
        self.executor.forget(user.id)
        # set_label writes (a durable commit) even when every label is already right: read first
        if user.handle and any(a.label != label for a in ledger.accounts(owner)):
            ledger.set_label(owner, label)

    def _claim_escrow(self, c: Ctx) -> None:
        """Money waiting for this handle: post each hold on to the new user's wallet (bot/escrow.py)."""
        from bot import escrow

        if not c.user.handle:
            return
        rows = c.s.exec(select(Escrow).where(Escrow.handle == c.user.handle, Escrow.status == escrow.HELD)).all()
        if not rows:
            return
        claims = [(r.id or 0, r.amount, r.currency, r.transfer_id, r.sender_id) for r in rows]
        uid = c.user.id
        assert uid is not None
        ledger = self._ledger(c)
        settled: list[tuple[int, int, str, int, str]] = []
        for eid, amount, cur, tid, sender_id in claims:
            wallet = self.executor.wallet(uid, cur, display(c.user))
            fate = escrow.claim(ledger, tid, self.executor.system("escrow", cur), wallet, amount)
            crash_point("escrow_claim_committed")
            if fate in (escrow.CLAIMED, escrow.RETURNED):
                settled.append((eid, amount, cur, sender_id, fate))
            else:
                log.error("escrow claim %s: the hold %s is %s", eid, tid, fate)
        for eid, amount, cur, sender_id, fate in settled:
            if not escrow.settle(c.s, eid, fate, c.now):
                continue  # the sweep wrote it (and told whom it concerns)
            sender = c.s.get(User, sender_id)
            if fate == escrow.CLAIMED:
                c.say(t(c.lang, "{who} sent you {amount}. It is in your wallet now.", who=display(sender) if sender else "?",
                        amount=money_text(amount, cur, c.lang)))
            elif sender is not None and sender.private_chat_id:
                c.say(t(sender.lang, "@{handle} did not claim {amount} in time, so it is back in your wallet.",
                        handle=c.user.handle, amount=money_text(amount, cur, sender.lang)), chat_id=sender.private_chat_id)

    def _escrow_due(self, now: datetime) -> list[Reply]:
        """Escrow whose days are over: void each hold back to the sender, unless the ledger says it was claimed."""
        from bot import escrow

        replies: list[Reply] = []
        with Session(self.db, expire_on_commit=False) as s:
            held = s.exec(select(Escrow).where(Escrow.status == escrow.HELD, col(Escrow.expires_at) <= now)).all()
            due = [(e.id or 0, e.sender_id, e.amount, e.currency, e.handle, e.transfer_id)
                   for e in held if (aware(e.expires_at) or now) <= now]
            s.rollback()
        for eid, sender_id, amount, cur, handle, tid in due:
            fate = escrow.give_back(self.ledger, tid)
            crash_point("escrow_return_committed")
            if fate not in (escrow.CLAIMED, escrow.RETURNED):
                log.error("escrow return %s: the hold %s is %s", eid, tid, fate)
                continue
            with Session(self.db, expire_on_commit=False) as s:
                if not escrow.settle(s, eid, fate, now):
                    s.rollback()
                    continue  # the payee's claim wrote it
                sender = s.get(User, sender_id)
                payee = self.directory.by_handle(s, handle)
                if fate == escrow.RETURNED and sender is not None and sender.private_chat_id:
                    replies.append(Reply(ReplyKind.message, sender.private_chat_id,
                                         t(sender.lang, "@{handle} did not claim {amount} in time, so it is back in your wallet.",
                                           handle=handle, amount=money_text(amount, cur, sender.lang))))
                if fate == escrow.CLAIMED and payee is not None and payee.private_chat_id:
                    replies.append(Reply(ReplyKind.message, payee.private_chat_id,
                                         t(payee.lang, "{who} sent you {amount}. It is in your wallet now.",
                                           who=display(sender) if sender else "?", amount=money_text(amount, cur, payee.lang))))
                s.commit()
        return replies

    # ------------------------------------------------------------------ schedules

    def _make_schedule(self, s: Session, a: Action, user: User, payload: dict[str, Any], now: datetime) -> None:
        from bot.schedules import first_run

        s.add(Schedule(action_id=a.id, user_id=user.id or 0, rrule=payload.get("recurrence"), payload=a.payload,
                       next_run=first_run(payload, now), created_at=now))

    def _schedules_due(self, now: datetime) -> list[Reply]:
        from bot.schedules import next_run

        replies: list[Reply] = []
        for _ in range(1000):
            with Session(self.db, expire_on_commit=False) as s:
                row = s.exec(select(Schedule).where(Schedule.active == True, col(Schedule.next_run).is_not(None))  # noqa: E712
                             .order_by(col(Schedule.next_run))).first()
                if row is None or (aware(row.next_run) or now) > now:
                    break
                sid, run_at, payload = row.id, aware(row.next_run), json.loads(row.payload)
                action_id, user_id = row.action_id, row.user_id
                s.rollback()
            assert run_at is not None
            occurrence = f"{action_id}@{run_at.date().isoformat()}"
            outcome = self.executor.run(occurrence, "send", {**payload, "recurrence": None, "when": None})
            with Session(self.db, expire_on_commit=False) as s:
                row = s.get(Schedule, sid)
                if row is None or aware(row.next_run) != run_at:
                    continue
                nxt = next_run(row.rrule, run_at) if row.rrule else None
                row.next_run = nxt
                row.active = nxt is not None
                user = s.get(User, user_id)
                if user is not None and user.private_chat_id:
                    lang = user.lang
                    what = describe({**payload, "recurrence": None, "when": None}, lang)
                    text = (t(lang, "Scheduled payment done ✅") if outcome.ok else
                            t(lang, "Scheduled payment not done: {reason}", reason=self._reason(outcome.code, lang)))
                    replies.append(Reply(ReplyKind.message, user.private_chat_id, f"{text}\n{what}"))
                if outcome.ok:
                    self._record_escrow(s, occurrence, user_id, payload, now)
                    if user is not None:
                        replies += self._notify_recipients(s, user, payload)
                s.commit()
        return replies

    # ------------------------------------------------------------------ expiry and recovery

    def _expire_actions(self, now: datetime) -> list[Reply]:
        replies: list[Reply] = []
        with Session(self.db, expire_on_commit=False) as s:
            rows = s.exec(select(Action).where(col(Action.status).in_(AWAITING), col(Action.expires_at) <= now)).all()
            for a in rows:
                if (aware(a.expires_at) or now) > now:
                    continue
                a.status, a.result = "expired", "expired"
                for ch in s.exec(select(Challenge).where(Challenge.action_id == a.id, Challenge.status == "open")).all():
                    ch.status = "expired"
                user = s.get(User, a.initiator_id)
                lang = user.lang if user else "en"
                replies += self._edit_or_send(s, f"card:{a.id}", None, t(lang, "Expired: nothing was done."))
            s.commit()
        return replies

    def _resume_executing(self) -> list[Reply]:
        with Session(self.db) as s:
            ids = [a.id for a in s.exec(select(Action).where(Action.status == "executing")).all()]
        replies: list[Reply] = []
        for action_id in ids:
            replies += self._execute(action_id)
        return replies
