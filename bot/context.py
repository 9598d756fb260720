"""Ctx: what one event's handling works with (session, event, user, chat, now, replies, after-commit jobs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.events import Attachment, Button, ChatKind, Event, Reply, ReplyKind
from bot.models import ChatRow, User


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
    def uid(self) -> int:
        """The person's user id (every event's user has one)."""
        assert self.user.id is not None
        return self.user.id

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
