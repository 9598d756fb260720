"""Events in and replies out: the plain data every adapter builds and renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ChatKind(StrEnum):
    """Whether a chat is one person's private chat with the bot or a group."""

    private = "private"
    group = "group"


@dataclass(frozen=True)
class Person:
    """Someone as a messenger reports them: the id is stable, the handle may change."""

    messenger: str
    user_id: str
    handle: str | None = None
    name: str | None = None
    lang: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Chat:
    """A chat on a messenger."""

    messenger: str
    chat_id: str
    kind: ChatKind
    title: str | None = None


@dataclass(frozen=True)
class Mention:
    """An @mention in the text; `person` is set for mentions of people without a username."""

    offset: int
    length: int
    handle: str | None = None
    person: Person | None = None


@dataclass(frozen=True)
class ReplyTo:
    """The message an event replies to."""

    message_id: str
    author: Person | None = None


@dataclass(frozen=True)
class Press:
    """A press of an inline button: `data` is the opaque token the engine put on the button."""

    press_id: str
    data: str
    message_id: str | None = None


@dataclass(frozen=True)
class Event:
    """One thing that happened in a chat; `event_id` is unique per messenger and stable on redelivery."""

    event_id: str
    chat: Chat
    sender: Person
    at: datetime
    text: str | None = None
    message_id: str | None = None
    entities: tuple[Mention, ...] = ()
    reply_to: ReplyTo | None = None
    press: Press | None = None
    members: tuple[Person, ...] = ()  # people who are in the group (joined, added, declared)
    left: tuple[Person, ...] = ()  # people who left the group or were removed from it
    addressed: bool = True
    edited: bool = False


@dataclass(frozen=True)
class Button:
    """An inline button: a press token (`data`), a deep link into the private chat, a URL, or a web
    page to open as a Telegram Mini App (`web_app`: an https URL; other messengers show it as a link)."""

    label: str
    data: str | None = None
    start_payload: str | None = None
    url: str | None = None
    web_app: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file the bot sends: a picture (QR code, chart) or a document (CSV statement)."""

    filename: str
    content: bytes
    mime: str
    ephemeral: bool = False  # a secret (a TOTP QR code): sent from memory, never kept on disk


class ReplyKind(StrEnum):
    """What an adapter must do with a reply."""

    message = "message"
    edit = "edit"
    delete = "delete"
    answer_press = "answer_press"


@dataclass(frozen=True)
class Reply:
    """One thing for an adapter to render.

    message: send `text` (and `buttons`, `photo` or `document`) to `chat_id`; when `ref` is set the
    adapter reports the sent message's id with `Engine.message_sent(ref, chat_id, message_id)`.
    edit: change the message `target_message_id` (text and buttons). delete: remove
    `target_message_id` (a typed PIN). answer_press: answer the press `press_id` with `text`,
    as an alert when `alert`.
    """

    kind: ReplyKind
    chat_id: str
    text: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
    photo: Attachment | None = None
    document: Attachment | None = None
    ref: str | None = None
    target_message_id: str | None = None
    press_id: str | None = None
    alert: bool = False
    meta: dict[str, str] = field(default_factory=dict)
