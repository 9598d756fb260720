"""A stand-in for the engine port: scripted replies that exercise every kind of Reply the transport renders."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bot.events import Attachment, Button, Event, Reply, ReplyKind

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x08\x08\x02\x00\x00\x00"
       b"\x00\x00\x00\x00\x00\x00\x00\x00IEND\xaeB`\x82")


@dataclass
class _Card:
    """A confirmation card the fake proposed: who may confirm it and whether it was used."""

    initiator: str
    chat_id: str
    ref: str
    used: bool = False


@dataclass
class FakeEngine:
    """Implements handle/tick/message_sent/bot_commands; idempotent on event_id like the real one.

    Texts it understands: `card` (a card with Confirm/Cancel), `link` (a deep-link button),
    `pin <digits>` (deletes the typed PIN), `photo`, `doc`, `long`, `echo <text>`, `burst <n>`
    (n messages at once), `tell <chat_id>` (writes to another chat), `/start [payload]`.
    With `journal` set, every event id it handled is appended to that file (for crash tests), and
    `crash_on` makes it exit the process abruptly on an event whose text is that.
    """

    journal: Path | None = None
    crash_on: str | None = None
    crash_in_message_sent: bool = False
    events: list[Event] = field(default_factory=list)
    sent: dict[str, tuple[str, str]] = field(default_factory=dict)
    due: list[Reply] = field(default_factory=list)
    calls: int = 0
    _done: dict[str, list[Reply]] = field(default_factory=dict)
    _cards: dict[str, _Card] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.journal is not None and self.journal.exists():
            for line in self.journal.read_text().splitlines():
                rec = json.loads(line)
                self._done[rec["event_id"]] = []

    def handle(self, event: Event) -> list[Reply]:
        """Replies for one event; the same event again yields nothing new."""
        with self._lock:
            self.calls += 1
            if event.event_id in self._done:
                return []
            self.events.append(event)
            replies = self._replies(event)
            self._done[event.event_id] = replies
            if self.journal is not None:
                with self.journal.open("a") as fh:
                    fh.write(json.dumps({"event_id": event.event_id, "text": event.text}) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            if self.crash_on is not None and event.text == self.crash_on:
                os._exit(17)
            return replies

    def tick(self) -> list[Reply]:
        """Whatever a test queued as due."""
        with self._lock:
            out, self.due = self.due, []
            return out

    def message_sent(self, ref: str, chat_id: str, message_id: str) -> None:
        """Remember where a card landed, to edit it later."""
        with self._lock:
            self.sent[ref] = (chat_id, message_id)
        if self.crash_in_message_sent:
            os._exit(18)

    def bot_commands(self, lang: str) -> list[tuple[str, str]]:
        """A small menu, distinct per language."""
        return [("start", f"start [{lang}]"), ("send", f"send money [{lang}]"),
                ("balance", f"balance [{lang}]")]

    # ------------------------------------------------------------------

    def _replies(self, ev: Event) -> list[Reply]:
        chat = ev.chat.chat_id
        if ev.press is not None:
            return self._press(ev)
        if ev.members:
            names = ", ".join(p.handle or p.name or p.user_id for p in ev.members)
            return [Reply(ReplyKind.message, chat, f"welcome {names}")]
        text = ev.text or ""
        if not ev.addressed:
            return []
        if text.startswith("/start"):
            payload = text[len("/start"):].strip()
            return [Reply(ReplyKind.message, chat, f"hello {payload}" if payload else "hello")]
        if text == "card":
            n = len(self._cards) + 1
            ref = f"card-{n}"
            self._cards[f"ok{n}"] = _Card(ev.sender.user_id, chat, ref)
            self._cards[f"no{n}"] = _Card(ev.sender.user_id, chat, ref)
            buttons = ((Button("Confirm", data=f"ok{n}"), Button("Cancel", data=f"no{n}")),)
            return [Reply(ReplyKind.message, chat, f"Send 10 USD? (card {n})", buttons=buttons, ref=ref)]
        if text == "link":
            return [Reply(ReplyKind.message, chat, "Confirm in private",
                          buttons=((Button("Open", start_payload=f"su-{ev.sender.user_id}"),),))]
        if text.startswith("pin "):
            return [Reply(ReplyKind.delete, chat, target_message_id=ev.message_id),
                    Reply(ReplyKind.message, chat, "PIN saved")]
        if text == "photo":
            return [Reply(ReplyKind.message, chat, "your QR", photo=Attachment("qr.png", PNG, "image/png"))]
        if text == "doc":
            return [Reply(ReplyKind.message, chat, "statement",
                          document=Attachment("statement.csv", b"date,amount\n2024-01-01,10.00\n", "text/csv"))]
        if text.startswith("burst "):
            return [Reply(ReplyKind.message, chat, f"burst {i}") for i in range(int(text.split()[1]))]
        if text.startswith("tell "):
            return [Reply(ReplyKind.message, text.split()[1], "psst"), Reply(ReplyKind.message, chat, "told")]
        if text == "long":
            return [Reply(ReplyKind.message, chat, ("line of text\n" * 700).strip())]
        if text.lstrip("/").startswith("echo"):
            parts = [f"{text[m.offset:m.offset + m.length]}={m.handle or ''}/{m.person.user_id if m.person else ''}"
                     for m in ev.entities]
            reply_to = f" reply-to={ev.reply_to.author.user_id}" if ev.reply_to and ev.reply_to.author else ""
            return [Reply(ReplyKind.message, chat, f"{text} | {' '.join(parts)}{reply_to}")]
        return [Reply(ReplyKind.message, chat, f"got: {text}")]

    def _press(self, ev: Event) -> list[Reply]:
        assert ev.press is not None
        card = self._cards.get(ev.press.data)
        pid = ev.press.press_id
        chat = ev.chat.chat_id
        if card is None:
            return [Reply(ReplyKind.answer_press, chat, "Unknown button", press_id=pid, alert=True)]
        if card.initiator != ev.sender.user_id:
            return [Reply(ReplyKind.answer_press, chat, "Only the person who asked can confirm.",
                          press_id=pid, alert=True)]
        if card.used:
            return [Reply(ReplyKind.answer_press, chat, "Already done.", press_id=pid, alert=True)]
        for c in self._cards.values():
            if c.ref == card.ref:
                c.used = True
        where = self.sent.get(card.ref)
        verdict = "Done" if ev.press.data.startswith("ok") else "Cancelled"
        out = [Reply(ReplyKind.answer_press, chat, verdict, press_id=pid)]
        if where is not None:
            out.append(Reply(ReplyKind.edit, where[0], f"{verdict}: 10 USD", target_message_id=where[1]))
        return out
