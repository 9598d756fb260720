"""The engine's hot path: a send, its Confirm press and the PIN answer in a private chat, on the driver's
own connection with hand-written SQL (as the ledger's write path); any other event, or any turn off
that common road, rolls back and goes the general (ORM) way, which then does everything itself."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import commands
from bot.actions import canonical, describe, digest, needs_stepup
from bot.directory import display
from bot.events import ChatKind, Event, Reply, ReplyKind
from bot.i18n import normalize_lang, t
from bot.models import Action
from bot.policy import PolicyInput
from bot.stepup import PinCheck
from ledger.money import to_minor

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.execution import Outcome

log = logging.getLogger("finbot.engine")

Done = tuple[list[Reply], list[Callable[[], list[Reply]]]]


class Bail(Exception):
    """Not a hot-path case: roll back; the general path handles the event from the start."""


@dataclass
class UserRow:
    """The columns of bot_users the hot path reads (and the step-up check may change)."""

    id: int
    handle: str | None
    name: str | None
    lang: str
    lang_chosen: bool
    currency: str
    kyc_tier: int
    private_chat_id: str | None
    pin_hash: str | None
    pin_failures: int
    stepup_locked_until: datetime | None
    totp_secret: str | None
    is_operator: bool


@dataclass(frozen=True)
class Named:
    """Someone as others see them (what `display` reads)."""

    id: int
    handle: str | None
    name: str | None


@dataclass
class ActionRow:
    """The columns of bot_actions the hot path reads."""

    id: str
    kind: str
    origin_group: bool
    payload: str
    digest: str
    status: str
    expires_at: datetime | None


class Sql:
    """The statements, in the driver's parameter style."""

    def __init__(self, pg: bool) -> None:
        p = self.p = "%s" if pg else "?"
        self.insert_event = f"INSERT INTO bot_processed_events (messenger, event_id, at) VALUES ({p}, {p}, {p})"
        self.user = (
            "SELECT u.id, u.handle, u.name, u.lang, u.lang_chosen, u.currency, u.kyc_tier, u.private_chat_id, "
            "u.pin_hash, u.pin_failures, u.stepup_locked_until, u.totp_secret, u.is_operator, c.state "
            "FROM bot_identities i JOIN bot_users u ON u.id = i.user_id "
            "LEFT JOIN bot_conversations c ON c.user_id = u.id "
            f"WHERE i.messenger = {p} AND i.external_id = {p}"
        )
        self.chat = f"SELECT kind FROM bot_chats WHERE messenger = {p} AND chat_id = {p}"
        self.by_handle = f"SELECT id, handle, name FROM bot_users WHERE handle = {p} LIMIT 1"
        self.action_exists = f"SELECT 1 FROM bot_actions WHERE id = {p}"
        self.insert_action = (
            "INSERT INTO bot_actions (id, kind, initiator_id, messenger, origin_chat_id, origin_group, payload, "
            "digest, status, stepup_method, result, card_chat_id, card_message_id, created_at, expires_at, done_at) "
            f"VALUES ({', '.join([p] * 16)})"
        )
        self.insert_token = (
            "INSERT INTO bot_press_tokens (token, action_id, request_id, choice, allowed_user_id, single_use, "
            f"used_at, expires_at) VALUES ({', '.join([p] * 8)})"
        )
        self.claim_token = (
            f"UPDATE bot_press_tokens SET used_at = {p} WHERE token = {p} AND used_at IS NULL "
            "RETURNING action_id, choice, allowed_user_id, single_use, expires_at"
        )
        self.action = (
            "SELECT id, kind, origin_group, payload, digest, status, expires_at FROM bot_actions "
            f"WHERE id = {p}"
        )
        self.to_execute = f"SELECT kind, payload, status FROM bot_actions WHERE id = {p}"
        self.insert_challenge = (
            "INSERT INTO bot_challenges (action_id, user_id, digest, method, pin_ok, status, created_at, expires_at) "
            f"VALUES ({', '.join([p] * 8)}) RETURNING id"
        )
        self.stepup = f"UPDATE bot_actions SET status = 'awaiting_stepup', stepup_method = {p} WHERE id = {p}"
        self.challenge = (
            "SELECT c.action_id, c.user_id, c.digest, c.method, c.status, c.expires_at, a.id, a.kind, a.origin_group, "
            "a.payload, a.digest, a.status, a.expires_at FROM bot_challenges c "
            f"LEFT JOIN bot_actions a ON a.id = c.action_id WHERE c.id = {p}"
        )
        self.pass_challenge = (
            f"UPDATE bot_challenges SET pin_ok = {p}, status = 'passed' WHERE id = {p} AND status = 'open'"
        )
        self.executing = (
            f"UPDATE bot_actions SET status = 'executing' WHERE id = {p} AND status = 'awaiting_stepup'"
        )
        self.record = (
            f"UPDATE bot_actions SET status = {p}, result = {p}, done_at = {p} WHERE id = {p} AND status = 'executing' "
            "RETURNING initiator_id, card_chat_id"
        )
        self.pin_failures = f"UPDATE bot_users SET pin_failures = {p} WHERE id = {p}"
        self.update_state = f"UPDATE bot_conversations SET state = {p}, updated_at = {p} WHERE user_id = {p}"
        self.insert_state = f"INSERT INTO bot_conversations (user_id, state, updated_at) VALUES ({p}, {p}, {p})"
        self.sent = f"SELECT chat_id, message_id FROM bot_sent_messages WHERE ref = {p}"
        self.upsert_sent = (
            f"INSERT INTO bot_sent_messages (ref, chat_id, message_id) VALUES ({p}, {p}, {p}) "
            "ON CONFLICT (ref) DO UPDATE SET chat_id = excluded.chat_id, message_id = excluded.message_id"
        )

    def briefs(self, ids: list[int]) -> tuple[str, tuple[int, ...]]:
        """id, handle, name, lang and private chat of some users."""
        unique = tuple(dict.fromkeys(ids))
        marks = ", ".join([self.p] * len(unique))
        return f"SELECT id, handle, name, lang, private_chat_id FROM bot_users WHERE id IN ({marks})", unique


def _same(value: Any) -> Any:
    return value


def _is_integrity_error(exc: BaseException) -> bool:
    return any(cls.__name__ == "IntegrityError" for cls in type(exc).__mro__)


class HotPath:
    """The common road of a payment in a private chat, statement for statement what the general path
    writes and answers there, at a fraction of its cost."""

    @classmethod
    def for_engine(cls, engine: Engine) -> HotPath | None:
        """The hot path of an engine, on the databases it knows (SQLite and PostgreSQL)."""
        if engine.db.dialect.name not in ("sqlite", "postgresql"):
            return None
        return cls(engine)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.db = engine.db
        dialect = self.db.dialect
        self.pg = dialect.name == "postgresql"
        self.sql = Sql(self.pg)
        # the ORM's own conversions of these column types, so rows read and written here are the same
        table = Action.__table__  # type: ignore[attr-defined]
        dt = table.c.created_at.type.dialect_impl(dialect)
        flag = table.c.origin_group.type.dialect_impl(dialect)
        self.dt_in: Callable[[Any], Any] = dt.bind_processor(dialect) or _same
        self.dt_out: Callable[[Any], Any] = dt.result_processor(dialect, None) or _same
        self.bool_in: Callable[[Any], Any] = flag.bind_processor(dialect) or _same
        self.bool_out: Callable[[Any], Any] = flag.result_processor(dialect, None) or _same
        self.private_chats: set[tuple[str, str]] = set()  # chat rows are never changed nor deleted
        self._idle: list[tuple[Any, Any]] = []  # connections of our own, between uses (no pool checkout and reset)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        """A driver connection, outside any transaction; closed instead of kept after an error."""
        try:
            raw, conn = self._idle.pop()
        except IndexError:
            raw = self.db.raw_connection()
            conn = raw.driver_connection
            raw.detach()  # ours from now on: the pool neither counts nor resets it
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(Exception):
                raw.close()
            raise
        if len(self._idle) < 8 and self._clean(conn):
            self._idle.append((raw, conn))
        else:
            with contextlib.suppress(Exception):
                raw.close()

    def _clean(self, conn: Any) -> bool:
        """Whether a connection is open, outside any transaction, at the level it was made with."""
        try:
            if self.pg:
                return bool(conn.info.transaction_status == 0)  # IDLE
            return not conn.in_transaction
        except Exception:
            return False

    # ------------------------------------------------------------------ transactions

    def _begin(self, conn: Any) -> None:
        if not self.pg:
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time, as the general path's sessions

    def _commit(self, conn: Any) -> None:
        if self.pg:
            conn.commit()
        else:
            conn.execute("COMMIT")

    def _rollback(self, conn: Any) -> None:
        if self.pg:
            conn.rollback()
        elif conn.in_transaction:
            conn.execute("ROLLBACK")

    # ------------------------------------------------------------------ events

    def handle(self, ev: Event, now: datetime) -> Done | None:
        """Replies and after-commit jobs of an event on the hot path; None when it is not one (nothing written)."""
        if (ev.chat.kind != ChatKind.private or not ev.addressed or ev.edited or ev.members
                or ev.reply_to is not None or any(m.person is not None for m in ev.entities)):
            return None
        text = ""
        if ev.press is None:
            text = (ev.text or "").strip()
            if not text or commands.split(text)[0] is not None:
                return None
        elif ev.press.data.startswith("kp"):
            return None
        with self._connection() as conn:
            # A PIN answer commits without its own flush to disk (see _pin): SQLite takes the level
            # outside a transaction, and in this event only the PIN answer's commit can follow.
            relaxed = None
            if ev.press is None and not self.pg and self.engine.stepup.valid_pin(text):
                relaxed = conn.execute("PRAGMA synchronous").fetchone()[0]
                conn.execute("PRAGMA synchronous=NORMAL")
            try:
                return self._event(conn, ev, text, now)
            finally:
                if relaxed is not None:
                    try:
                        conn.execute(f"PRAGMA synchronous={int(relaxed)}")
                    except Exception:
                        conn.close()  # never kept at the lower level

    def _event(self, conn: Any, ev: Event, text: str, now: datetime) -> Done | None:
        user: UserRow | None = None
        try:
            self._begin(conn)
            try:
                conn.execute(self.sql.insert_event, (ev.chat.messenger, ev.event_id, self.dt_in(now)))
            except Exception as exc:
                if not _is_integrity_error(exc):
                    raise
                self._rollback(conn)
                return [], []  # a redelivered event
            user, state, has_state = self._user(conn, ev)
            self._chat(conn, ev)
            if ev.press is not None:
                done = self._press(conn, ev, user, has_state, now)
            elif state:
                if not (state.get("await") == "pin" and state.get("chat") == ev.chat.chat_id
                        and self.engine.stepup.valid_pin(text)):
                    raise Bail
                done = self._pin(conn, ev, user, state, text, now)
            else:
                if self.engine.stepup.valid_pin(text):
                    raise Bail
                done = self._send(conn, ev, user, text, now)
            self._commit(conn)
            return done
        except Bail:
            self._rollback(conn)
            return None
        except Exception:
            log.exception("event %s failed", ev.event_id)
            with contextlib.suppress(Exception):
                self._rollback(conn)  # if even that fails, the connection is not kept
            return self.engine._failure(ev, user.lang if user is not None else None), []

    def _user(self, conn: Any, ev: Event) -> tuple[UserRow, dict[str, Any] | None, bool]:
        """The sender, when known and when the general path would change nothing about them."""
        row = conn.execute(self.sql.user, (ev.sender.messenger, ev.sender.user_id)).fetchone()
        if row is None:
            raise Bail
        u = UserRow(row[0], row[1], row[2], row[3], bool(self.bool_out(row[4])), row[5], row[6], row[7], row[8],
                    row[9], self.dt_out(row[10]), row[11], bool(self.bool_out(row[12])))
        person = ev.sender
        if person.name and person.name != u.name:
            raise Bail
        if person.lang and not u.lang_chosen and normalize_lang(person.lang, u.lang) != u.lang:
            raise Bail
        if (person.handle.lower().lstrip("@") if person.handle else None) != u.handle:
            raise Bail
        if u.handle and u.handle in self.engine.operators and not u.is_operator:
            raise Bail
        if u.private_chat_id != ev.chat.chat_id:
            raise Bail
        state: dict[str, Any] | None = json.loads(row[13]) if row[13] is not None else None
        return u, state or None, row[13] is not None

    def _chat(self, conn: Any, ev: Event) -> None:
        key = (ev.chat.messenger, ev.chat.chat_id)
        if key in self.private_chats:
            return
        row = conn.execute(self.sql.chat, key).fetchone()
        if row is None or row[0] == ChatKind.group.value:
            raise Bail
        self.private_chats.add(key)

    def _action(self, conn: Any, action_id: str) -> ActionRow:
        row = conn.execute(self.sql.action, (action_id,)).fetchone()
        if row is None:
            raise Bail
        return ActionRow(row[0], row[1], bool(self.bool_out(row[2])), row[3], row[4], row[5], self.dt_out(row[6]))

    def _set_state(self, conn: Any, u: UserRow, has_row: bool, state: dict[str, Any] | None, now: datetime) -> None:
        text = json.dumps(state or {})
        if has_row:
            conn.execute(self.sql.update_state, (text, self.dt_in(now), u.id))
        else:
            conn.execute(self.sql.insert_state, (u.id, text, self.dt_in(now)))

    # "send $20 to @anna": a pending action and its card
    def _send(self, conn: Any, ev: Event, u: UserRow, text: str, now: datetime) -> Done:
        from bot.engine import press_token
        from intents import parse

        engine = self.engine
        intent = parse(text, now=now, hint_lang=u.lang, directory=engine.instruments)
        if intent.clarify or intent.intent != "send" or intent.amount is None:
            raise Bail
        cur = (intent.currency or u.currency).upper()
        try:
            minor = to_minor(intent.amount, cur)
        except Exception:
            raise Bail from None
        if minor <= 0:
            raise Bail
        legs: list[dict[str, Any]] = []
        seen: set[int] = set()
        for r in intent.recipients:
            if not r.startswith("@"):
                raise Bail  # a reply or a bare name
            row = conn.execute(self.sql.by_handle, (r[1:].lower().lstrip("@"),)).fetchone()
            if row is None or row[0] == u.id:
                raise Bail  # escrow for an unknown handle, or oneself
            if row[0] in seen:
                continue
            seen.add(row[0])
            other = Named(row[0], row[1], row[2])
            legs.append({"to_user": other.id, "handle": other.handle, "label": display(other), "escrow": False})  # type: ignore[arg-type]
        if not legs:
            raise Bail
        if u.kyc_tier < 2:
            limit = engine.settings.kyc_tier0_limit if u.kyc_tier <= 0 else engine.settings.kyc_tier1_limit
            try:
                cap = to_minor(limit, cur)
            except Exception:
                raise Bail from None
            if minor * len(legs) > cap:
                raise Bail  # above the user's limit: the general path says so
        for leg in legs:
            leg["amount"] = minor
        payload: dict[str, Any] = {"kind": "send", "currency": cur, "legs": legs, "note": intent.note, "fee": 0,
                                   "from_user": u.id, "escrow_days": engine.settings.escrow_days}
        if intent.recurrence:
            payload["recurrence"] = intent.recurrence
        if intent.when:
            payload["when"] = intent.when.isoformat()
        action_id = f"{ev.chat.messenger}:{ev.chat.chat_id}:{ev.message_id or ev.event_id}"
        if conn.execute(self.sql.action_exists, (action_id,)).fetchone() is not None:
            raise Bail
        who = display(u)  # type: ignore[arg-type]
        payload.setdefault("from_label", who)
        body = canonical(payload)
        chat_id = ev.chat.chat_id
        expires = self.dt_in(now + engine.ttl)
        conn.execute(self.sql.insert_action, (
            action_id, "send", u.id, ev.chat.messenger, chat_id, self.bool_in(False), body, digest(body),
            "awaiting_confirm", None, None, chat_id, None, self.dt_in(now), expires, None))
        confirm, cancel = press_token(), press_token()
        single = self.bool_in(True)
        conn.cursor().executemany(self.sql.insert_token, [
            (confirm, action_id, None, "confirm", u.id, single, None, expires),
            (cancel, action_id, None, "cancel", u.id, single, None, expires),
        ])
        return [engine._card(u.lang, True, who, "send", payload, action_id, confirm, cancel, chat_id)], []

    # Confirm pressed: a step-up challenge and the PIN question
    def _press(self, conn: Any, ev: Event, u: UserRow, has_state: bool, now: datetime) -> Done:
        assert ev.press is not None
        engine = self.engine
        data = ev.press.data
        # claimed first, in one statement: any check below that fails rolls the claim back
        tok = conn.execute(self.sql.claim_token, (self.dt_in(now), data)).fetchall()
        if not tok:
            raise Bail  # unknown, or already used: the general path says so
        action_id, choice, allowed, single_use, expires_at = tok[0]
        if allowed is not None and allowed != u.id:
            raise Bail
        expires = self.dt_out(expires_at)
        if expires is not None and now > expires:
            raise Bail
        if choice != "confirm" or action_id is None or not self.bool_out(single_use):
            raise Bail
        a = self._action(conn, action_id)
        lang = u.lang
        replies = [Reply(ReplyKind.answer_press, ev.chat.chat_id, t(lang, "Confirmed."), press_id=ev.press.press_id)]
        if (a.status != "awaiting_confirm" or now > (a.expires_at or now) or digest(a.payload) != a.digest
                or not needs_stepup(a.kind)):
            raise Bail
        if engine.stepup.locked(u, now) is not None:  # type: ignore[arg-type]
            raise Bail
        if u.totp_secret or not u.pin_hash or u.private_chat_id is None:
            raise Bail  # a second factor the policy may ask for, or no PIN yet
        payload = json.loads(a.payload)
        # the policy weighs payee and velocity only for someone with a second factor (Engine._stepup_method)
        method = engine.policy.method(PolicyInput(kind=a.kind, amount_major=engine._amount_major(payload), new_payee=False,
                                                  from_group=a.origin_group, recent_count=0, totp_enrolled=False))
        ch_id = conn.execute(self.sql.insert_challenge, (
            a.id, u.id, a.digest, method, self.bool_in(False), "open", self.dt_in(now),
            self.dt_in(a.expires_at or now))).fetchall()[0][0]
        conn.execute(self.sql.stepup, (method, a.id))
        dm = u.private_chat_id
        nonce = secrets.token_urlsafe(6)
        self._set_state(conn, u, has_state, {"await": "pin", "challenge": ch_id, "chat": dm, "kp": nonce, "entered": ""}, now)
        replies.append(engine._pin_prompt(ch_id, dm, engine._pin_question(lang, describe(payload, lang)), nonce))
        return replies, []

    # The PIN typed: the challenge passes and the action executes after commit. That commit does
    # not wait for its own flush to disk: before any reply leaves, the execution commits again with a
    # full flush (the ledger's transfer, or the record of the outcome), and the log (SQLite's WAL,
    # PostgreSQL's WAL) is flushed in commit order, so that flush makes this commit durable too. A
    # crash before it loses only what nobody was told yet; the money is never ahead of the action.
    def _pin(self, conn: Any, ev: Event, u: UserRow, state: dict[str, Any], pin: str, now: datetime) -> Done:
        engine = self.engine
        lang = u.lang
        replies: list[Reply] = []
        if ev.message_id:
            replies.append(Reply(ReplyKind.delete, ev.chat.chat_id, target_message_id=ev.message_id))
        challenge_id = int(state["challenge"])
        ch = conn.execute(self.sql.challenge, (challenge_id,)).fetchone()
        if ch is None or ch[6] is None:
            raise Bail
        ch_user, ch_digest, method, ch_status, ch_expires = ch[1:6]
        a = ActionRow(ch[6], ch[7], bool(self.bool_out(ch[8])), ch[9], ch[10], ch[11], self.dt_out(ch[12]))
        if ch_status != "open" or ch_user != u.id or method != "pin":
            raise Bail
        ch_expires = self.dt_out(ch_expires)
        if now > (ch_expires or now) or a.status != "awaiting_stepup":
            raise Bail
        if digest(a.payload) != ch_digest or a.digest != ch_digest:
            raise Bail
        failures = u.pin_failures
        if engine.stepup.check_pin(u, pin, now).status != PinCheck.ok:  # type: ignore[arg-type]
            raise Bail  # wrong, locked or no PIN: the general path counts and answers
        if conn.execute(self.sql.pass_challenge, (self.bool_in(True), challenge_id)).rowcount != 1:
            raise Bail
        self._set_state(conn, u, True, None, now)
        sent = conn.execute(self.sql.sent, (f"pin:{challenge_id}",)).fetchone()
        if sent is not None:
            replies.append(Reply(ReplyKind.edit, sent[0], t(lang, "PIN received."), target_message_id=sent[1]))
        if conn.execute(self.sql.executing, (a.id,)).rowcount != 1:
            raise Bail
        if self.pg:
            conn.execute("SET LOCAL synchronous_commit TO OFF")
        if u.pin_failures != failures:
            conn.execute(self.sql.pin_failures, (u.pin_failures, u.id))
        replies.append(Reply(ReplyKind.message, ev.chat.chat_id, t(lang, "PIN accepted. Working on it…")))
        action_id = a.id
        return replies, [lambda: engine._execute(action_id)]

    # ------------------------------------------------------------------ execution

    def action_to_execute(self, action_id: str) -> tuple[str, str] | None:
        """Kind and payload of an action whose status is 'executing' (a plain read)."""
        with self._connection() as conn:
            row = conn.execute(self.sql.to_execute, (action_id,)).fetchone()
            if self.pg:
                conn.rollback()
        if row is None or row[2] != "executing":
            return None
        return row[0], row[1]

    def record_send(self, action_id: str, payload: dict[str, Any], outcome: Outcome, now: datetime) -> list[Reply] | None:
        """Record a send that moved its money, and tell both sides; None: let the general path do it."""
        with self._connection() as conn:
            try:
                return self._record_send(conn, action_id, payload, outcome, now)
            except BaseException:
                with contextlib.suppress(Exception):
                    self._rollback(conn)
                raise

    def _record_send(self, conn: Any, action_id: str, payload: dict[str, Any], outcome: Outcome,
                     now: datetime) -> list[Reply] | None:
        from bot.engine import edit_or_send, sent_you

        self._begin(conn)
        moved = conn.execute(self.sql.record, ("executed", outcome.code, self.dt_in(now), action_id)).fetchall()
        if len(moved) != 1:
            self._rollback(conn)
            return []
        initiator_id, card_chat_id = moved[0]
        targets = [int(leg["to_user"]) for leg in payload["legs"] if leg.get("to_user") is not None]
        people = {r[0]: r for r in conn.execute(*self.sql.briefs([initiator_id, *targets])).fetchall()}
        row = people.get(initiator_id)
        if row is None:
            self._rollback(conn)
            return None  # the general path fails on it as before
        lang, private_chat_id = row[3], row[4]
        done = t(lang, "Done ✅") + "\n" + describe(payload, lang)
        replies: list[Reply] = []
        sender = display(Named(row[0], row[1], row[2]))  # type: ignore[arg-type]
        for leg in payload["legs"]:
            if leg.get("to_user") is None:
                continue
            other = people.get(int(leg["to_user"]))
            if other is None or not other[4]:
                continue
            replies.append(Reply(ReplyKind.message, other[4], sent_you(sender, other[3], int(leg["amount"]),
                                                                        payload["currency"], payload.get("note"))))
        ref = f"card:{action_id}"
        sent = conn.execute(self.sql.sent, (ref,)).fetchone()
        replies += edit_or_send(None if sent is None else (sent[0], sent[1]), ref, card_chat_id, done)
        if private_chat_id and private_chat_id != card_chat_id:
            replies.append(Reply(ReplyKind.message, private_chat_id, done))
        self._commit(conn)
        return replies

    def message_sent(self, ref: str, chat_id: str, message_id: str) -> None:
        """Remember the messenger's id of a message the engine named: one upsert."""
        with self._connection() as conn:
            try:
                self._begin(conn)
                conn.execute(self.sql.upsert_sent, (ref, chat_id, message_id))
                self._commit(conn)
            except BaseException:
                with contextlib.suppress(Exception):
                    self._rollback(conn)
                raise
