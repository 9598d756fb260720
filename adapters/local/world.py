"""The local messenger: chats, a persistent message log and clock, and rendering of replies."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.engine import Engine
from bot.events import (
    Button,
    Chat,
    ChatKind,
    Event,
    Mention,
    Person,
    Press,
    Reply,
    ReplyKind,
    ReplyTo,
)

MESSENGER = "local"
metadata = sa.MetaData()
messages = sa.Table(
    "local_messages", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chat", sa.String, nullable=False, index=True),
    sa.Column("author", sa.String, nullable=False),  # a user name, or "" for the bot
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("buttons", sa.Text, nullable=False, default="[]"),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
)
state = sa.Table(
    "local_state", metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,32})")


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration (weeks, days, hours, minutes, seconds) as a timedelta."""
    m = _DURATION.match(text.strip().upper())
    if not m or text.strip().upper() in ("P", "PT"):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    w, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)


def _buttons_json(buttons: tuple[tuple[Button, ...], ...]) -> str:
    """A message's buttons as the log keeps them: label and what a press does, row by row."""
    return json.dumps([[{"label": b.label, "data": b.data, "start": b.start_payload, "url": b.url or b.web_app}
                        for b in row] for row in buttons])


def _norm_label(label: str) -> str:
    kept = [ch for ch in unicodedata.normalize("NFKC", label).lower()
            if unicodedata.category(ch)[0] in ("L", "N")]
    return "".join(kept)


@dataclass
class Shown:
    """One rendered bot message, as the simulator prints it."""

    data: dict[str, Any]


class LocalWorld:
    """The local messenger's state in the same database as the engine, so runs continue one world."""

    def __init__(self, engine: Engine | None, db: sa.Engine, output_dir: Path, *, live: bool = False) -> None:
        self.engine: Engine = engine  # type: ignore[assignment]  # set by the caller when built later
        self.db = db
        self.output_dir = output_dir
        self.live = live  # the terminal chat: real time, plus however far /advance has moved it on
        self._now: datetime | None = None
        self._offset: float | None = None
        metadata.create_all(db, checkfirst=True)

    # --- persistent bits -----------------------------------------------------------------

    def get(self, key: str) -> str | None:
        with self.db.connect() as conn:
            return conn.execute(sa.select(state.c.value).where(state.c.key == key)).scalar_one_or_none()

    def put(self, key: str, value: str) -> None:
        with self.db.begin() as conn:
            done = conn.execute(sa.update(state).where(state.c.key == key).values(value=value)).rowcount
            if not done:
                conn.execute(sa.insert(state).values(key=key, value=value))

    def now(self) -> datetime:
        """The world's clock: stored in the database so later runs go on from it (live: the real time plus the
        stored offset that `advance` adds to)."""
        if self.live:
            if self._offset is None:
                self._offset = float(self.get("live_offset") or 0)
            return datetime.now(UTC) + timedelta(seconds=self._offset)
        if self._now is None:
            raw = self.get("clock")
            if not raw:
                return datetime.now(UTC)
            self._now = datetime.fromisoformat(raw)
        return self._now

    def set_now(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)
        self.put("clock", self._now.isoformat())

    def next_id(self, name: str) -> int:
        """The next number of a counter, drawn atomically: two processes on one database never draw the same one."""
        bumped = sa.cast(sa.cast(state.c.value, sa.Integer) + 1, sa.String)
        for _ in range(10):
            try:
                with self.db.begin() as conn:
                    got = conn.execute(sa.update(state).where(state.c.key == name).values(value=bumped)
                                       .returning(state.c.value)).scalar_one_or_none()
                    if got is not None:
                        return int(got)
                    conn.execute(sa.insert(state).values(key=name, value="1"))
                    return 1
            except sa.exc.IntegrityError:
                continue  # another process made the counter first: bump it
        raise RuntimeError(f"could not draw the next {name}")

    def user_lang(self, user: str) -> str | None:
        return self.get(f"lang:{user}")

    # --- people and chats ----------------------------------------------------------------

    def person(self, user: str, lang: str | None = None) -> Person:
        if lang:
            self.put(f"lang:{user}", lang)
        return Person(MESSENGER, user, handle=user, name=user.capitalize(), lang=lang or self.user_lang(user))

    @staticmethod
    def chat(user: str, chat: str) -> Chat:
        if chat == "dm":
            return Chat(MESSENGER, f"dm:{user}", ChatKind.private)
        if chat.startswith("dm:"):
            return Chat(MESSENGER, chat, ChatKind.private)
        if chat.startswith("g:"):
            return Chat(MESSENGER, chat, ChatKind.group, title=chat[2:])
        raise ValueError(f"unknown chat {chat!r}: use \"dm\" or \"g:<name>\"")

    def log_message(self, chat: str, author: str, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> str:
        text = text.replace("\x00", "\ufffd")  # the log is a text column: a NUL shows as the replacement mark
        with self.db.begin() as conn:
            res = conn.execute(sa.insert(messages).values(chat=chat, author=author, text=text,
                                                          buttons=_buttons_json(buttons)))
            return str(res.inserted_primary_key[0])  # type: ignore[index]

    def newest_with_buttons(self, chat: str, label: str | None = None) -> tuple[str, list[list[dict[str, Any]]]] | None:
        """The newest bot message in `chat` with buttons (with a button of that label, when given)."""
        want = _norm_label(label) if label is not None else None
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(messages.c.seq, messages.c.buttons).where(
                messages.c.chat == chat, messages.c.deleted == sa.false(), messages.c.author == "")
                .order_by(messages.c.seq.desc()).limit(200)).all()
        for seq, raw in rows:
            btns = json.loads(raw)
            flat = [b for row in btns for b in row]
            if flat and (want is None or any(_norm_label(b["label"]) == want for b in flat)):
                return str(seq), btns
        return None

    def newest_by(self, chat: str, author: str) -> str | None:
        with self.db.connect() as conn:
            return conn.execute(sa.select(sa.func.max(messages.c.seq)).where(
                messages.c.chat == chat, messages.c.author == author)).scalar_one_or_none()

    # --- events --------------------------------------------------------------------------

    def event_id(self) -> str:
        return f"local-{self.next_id('event_seq')}"

    def say(self, user: str, chat: str, text: str, *, lang: str | None = None, reply_to: str | None = None) -> list[Reply]:
        person = self.person(user, lang)
        ch = self.chat(user, chat)
        message_id = self.log_message(ch.chat_id, user, text)
        entities = tuple(Mention(m.start(), m.end() - m.start(), handle=m.group(1).lower()) for m in _MENTION.finditer(text))
        rt = None
        if reply_to:
            target = reply_to.lstrip("@")
            mid = self.newest_by(ch.chat_id, target) if target not in ("bot", "finbot") else None
            rt = ReplyTo(str(mid or 0), author=self.person(target) if target not in ("bot", "finbot") else None)
        ev = Event(self.event_id(), ch, person, self.now(), text=text, message_id=message_id, entities=entities, reply_to=rt)
        return self.engine.handle(ev)

    def members(self, chat: str, names: list[str]) -> list[Reply]:
        ch = self.chat(names[0] if names else "nobody", chat)
        people = tuple(self.person(n) for n in names)
        ev = Event(self.event_id(), ch, people[0], self.now(), members=people)
        return self.engine.handle(ev)

    def left(self, chat: str, names: list[str]) -> list[Reply]:
        """`names` leave the group (what Telegram reports as a chat_member update)."""
        ch = self.chat(names[0] if names else "nobody", chat)
        people = tuple(self.person(n) for n in names)
        ev = Event(self.event_id(), ch, people[0], self.now(), left=people)
        return self.engine.handle(ev)

    def find_button(self, chat_id: str, label: str) -> tuple[str, dict[str, Any]] | None:
        """The message and button a press of `label` ('#2': the second button) in the chat would press."""
        by_position = label.startswith("#") and label[1:].isdigit()
        found = self.newest_with_buttons(chat_id, None if by_position else label)
        if found is None:
            return None
        seq, rows = found
        flat = [b for row in rows for b in row]
        if by_position:
            idx = int(label[1:]) - 1
            return (seq, flat[idx]) if 0 <= idx < len(flat) else None
        want = _norm_label(label)
        button = next((b for b in flat if _norm_label(b["label"]) == want), None)
        return (seq, button) if button is not None else None

    def press(self, user: str, chat: str, label: str, *, lang: str | None = None) -> list[Reply] | None:
        """Press the button with that label on the newest message in the chat that has one ('#2': the second
        button of the newest message with buttons); None when nothing matches."""
        person = self.person(user, lang)
        ch = self.chat(user, chat)
        found = self.find_button(ch.chat_id, label)
        if found is None:
            return None
        seq, button = found
        if button.get("data"):
            ev = Event(self.event_id(), ch, person, self.now(), press=Press(f"press-{self.next_id('press_seq')}", button["data"], seq))
            return self.engine.handle(ev)
        if button.get("start"):
            return self.say(user, "dm", f"/start {button['start']}", lang=lang)
        return []

    def advance(self, duration: timedelta) -> list[Reply]:
        """Move the clock on and run due work (schedules, expiries, escrow returns, fills), as `simulate` does:
        the scheduler clock (bot/standing/clock.py) wakes the tick at each due instant on the way, as it would
        in a running bot, then once at the end."""
        from bot.handlers import standing
        from bot.standing.clock import SchedulerClock

        start = self.now()
        app = self.engine.app
        clock = SchedulerClock(lambda now: standing.next_wake(app, now), lambda _now: self.engine.tick())
        out: list[Reply] = []
        for replies in clock.advance(start, start + duration, self._move_to):
            out += replies
        return out

    def _move_to(self, when: datetime) -> None:
        if self.live:
            self._offset = float(self.get("live_offset") or 0) + (when - self.now()).total_seconds()
            self.put("live_offset", str(self._offset))
        else:
            self.set_now(when)

    # --- rendering -----------------------------------------------------------------------

    def render(self, replies: list[Reply], presser: str | None = None) -> list[dict[str, Any]]:
        """Apply replies to the log and return what a person sees, one dict per message or edit."""
        out: list[dict[str, Any]] = []
        for r in replies:
            buttons = [[b.label for b in row] for row in r.buttons]
            if r.kind == ReplyKind.message:
                mid = self.log_message(r.chat_id, "", r.text, r.buttons)
                if r.ref:
                    self.engine.message_sent(r.ref, r.chat_id, mid)
                item: dict[str, Any] = {"chat": r.chat_id, "text": r.text, "buttons": buttons}
                links = [[b.label, b.url or b.web_app] for row in r.buttons for b in row if b.url or b.web_app]
                if links:
                    item["links"] = links  # a link's address, for the terminal to print (a web page to open)
                if r.photo is not None and r.photo.ephemeral:
                    item["secret_photo"] = r.photo.filename  # shown once, never written to disk
                elif r.photo is not None:
                    item["photo"] = self._save(r.photo.filename, r.photo.content)
                if r.document is not None:
                    item["document"] = self._save(r.document.filename, r.document.content)
                out.append(item)
            elif r.kind == ReplyKind.edit:
                with self.db.begin() as conn:
                    conn.execute(sa.update(messages).where(messages.c.seq == int(r.target_message_id or 0))
                                 .values(text=r.text, buttons=_buttons_json(r.buttons)))
                out.append({"chat": r.chat_id, "edit": True, "text": r.text, "buttons": buttons})
            elif r.kind == ReplyKind.delete:
                with self.db.begin() as conn:
                    conn.execute(sa.update(messages).where(messages.c.seq == int(r.target_message_id or 0)).values(deleted=True))
            elif r.kind == ReplyKind.answer_press and r.text:
                out.append({"chat": r.chat_id, "notice": True, "to": presser, "text": r.text})
        return out

    def _save(self, filename: str, content: bytes) -> str:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / filename).write_bytes(content)
        return filename
