"""A Telegram Bot API server on loopback for tests: the API's own JSON, plus a user side to play people."""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import itertools
import json
import re
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON = dict[str, Any]

_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}")
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_DEEP_LINK_RE = re.compile(r"^https://t\.me/(?P<bot>[A-Za-z0-9_]+)\?start=(?P<payload>[A-Za-z0-9_-]{1,64})$")
_INT_FIELDS = {
    "chat_id", "message_id", "user_id", "offset", "limit", "timeout", "reply_to_message_id",
    "cache_time", "max_connections", "from_chat_id",
}


class ApiError(Exception):
    """An error answered in Telegram's shape: `ok: false`, `error_code`, `description`, `parameters`.

    `http_status` is the HTTP status it is answered with (the error code unless told otherwise:
    some servers in the wild answer 200 with `ok: false`).
    """

    def __init__(self, code: int, description: str, parameters: JSON | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters
        self.http_status = code if http_status is None else http_status

    def body(self) -> JSON:
        """The JSON Telegram answers with."""
        out: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


class DropConnection(Exception):
    """Close the connection without answering (a network drop, as the client sees it)."""


@dataclass
class Fault:
    """A way the server fails calls: of one method or every one (`method` None), to one chat or
    every chat (`chat_id` None), `times` times or until healed (`times` None).

    It answers `code` with Telegram's error body (429 carries `retry_after`); with `ok_false` the
    same body comes with HTTP 200; with `drop` the connection is closed without an answer.
    """

    method: str | None = None
    chat_id: int | None = None
    code: int = 500
    description: str | None = None
    retry_after: int | None = None
    ok_false: bool = False
    drop: bool = False
    times: int | None = None
    hits: int = 0

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether a call of `method` (lower-case) to `chat_id` meets this fault."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self) -> ApiError:
        """The error this fault answers with."""
        if self.code == 429:
            wait = self.retry_after if self.retry_after is not None else 1
            return ApiError(429, self.description or f"Too Many Requests: retry after {wait}",
                            {"retry_after": wait}, http_status=200 if self.ok_false else None)
        try:
            phrase = HTTPStatus(self.code).phrase
        except ValueError:
            phrase = "Error"
        params = {"retry_after": self.retry_after} if self.retry_after else None
        return ApiError(self.code, self.description or phrase, params,
                        http_status=200 if self.ok_false else None)


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class User:
    """A person (or the bot) on the test server."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_api(self) -> JSON:
        """The Bot API `User` object."""
        out: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code and not self.is_bot:
            out["language_code"] = self.language_code
        return out


@dataclass
class Chat:
    """A private chat or a group on the test server."""

    id: int
    type: str
    title: str | None = None
    user: User | None = None
    members: list[int] = field(default_factory=list)
    next_message_id: int = 1
    instance: str = ""

    def to_api(self) -> JSON:
        """The Bot API `Chat` object."""
        if self.type == "private" and self.user is not None:
            out: JSON = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                out["last_name"] = self.user.last_name
            if self.user.username:
                out["username"] = self.user.username
            return out
        return {"id": self.id, "type": self.type, "title": self.title or ""}


@dataclass
class StoredFile:
    """Bytes the bot uploaded (sendPhoto, sendDocument)."""

    file_id: str
    unique_id: str
    content: bytes
    filename: str
    mime: str


@dataclass
class Seen:
    """A message as the people in its chat see it now, with its history."""

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    text: str
    buttons: list[list[JSON]]
    photo: StoredFile | None
    document: StoredFile | None
    deleted: bool
    history: list[str]
    reply_to: int | None
    raw: JSON

    def button(self, label: str) -> JSON:
        """The button whose label contains `label` (case-insensitive)."""
        for row in self.buttons:
            for b in row:
                if label.lower() in str(b.get("text", "")).lower():
                    return b
        raise KeyError(f"no button {label!r} on message {self.message_id}: {self.buttons}")

    def labels(self) -> list[str]:
        """Every button label, row by row."""
        return [str(b.get("text", "")) for row in self.buttons for b in row]


@dataclass
class _Msg:
    """Server-side state of one message."""

    api: JSON
    deleted: bool = False
    history: list[str] = field(default_factory=list)
    photo: StoredFile | None = None
    document: StoredFile | None = None


@dataclass
class CallbackAnswer:
    """What a person saw after pressing a button: a toast or an alert."""

    query_id: str
    user_id: int
    text: str
    show_alert: bool
    url: str | None = None


@dataclass
class _Query:
    """A callback query waiting for its answer."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: bool = False


@dataclass
class Call:
    """One Bot API call the bot made, as logged by the server."""

    method: str
    params: JSON
    ok: bool
    at: float


class BotApiServer:
    """A fake Telegram for one bot: serves the Bot API over HTTP and plays the people talking to it."""

    def __init__(
        self,
        token: str = "123456789:TEST-token_for_finbot",
        bot_username: str = "finbot_test_bot",
        bot_name: str = "finbot",
        *,
        privacy: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot = User(bot_id, bot_name, username=bot_username, is_bot=True, language_code=None)
        self.privacy = privacy
        self.webhook_retry_delay = webhook_retry_delay
        self._host, self._port = host, port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._ids = itertools.count(1000)
        self._users: dict[int, User] = {}
        self._chats: dict[int, Chat] = {}
        self._messages: dict[tuple[int, int], _Msg] = {}
        self._started: set[int] = set()
        self._updates: list[JSON] = []
        self._history: list[JSON] = []
        self._migrated: dict[int, int] = {}
        self._next_update_id = 100_000
        self._confirmed_up_to = 0
        self._delivered = 0
        self._allowed_updates: list[str] | None = None
        self._webhook: JSON = {}
        self._webhook_error: tuple[int, str] | None = None
        self._queries: dict[str, _Query] = {}
        self._answers: list[CallbackAnswer] = []
        self._files: dict[str, StoredFile] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._faults: list[Fault] = []
        #: getUpdates answers immediately whatever `timeout` asks (a server that ignores it).
        self.ignore_poll_timeout = False
        self.get_updates_calls = 0
        self._limits: dict[str, float] = {}
        self._sent_at: list[tuple[float, int]] = []
        self.calls: list[Call] = []
        self._http: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._running = False

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> BotApiServer:
        """Listen on loopback (a free port unless one was given) and start webhook delivery."""
        server = self

        class Handler(_Handler):
            api = server

        self._http = ThreadingHTTPServer((self._host, self._port), Handler)
        self._http.daemon_threads = True
        self._running = True
        for target in (self._http.serve_forever, self._deliver_loop):
            t = threading.Thread(target=target, daemon=True, name=f"botapi-{target.__name__}")
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        """Stop serving and wake every long poll."""
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._http is not None, "server not started"
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. http://127.0.0.1:PORT."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give python-telegram-bot as `base_url` (it appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What to give python-telegram-bot as `base_file_url`."""
        return f"{self.url}/file/bot"

    # ---------------------------------------------------------------- people and chats

    def create_user(
        self,
        first_name: str,
        username: str | None = None,
        *,
        last_name: str | None = None,
        lang: str | None = "en",
        user_id: int | None = None,
    ) -> User:
        """A person, with or without a username."""
        with self._lock:
            uid = user_id if user_id is not None else 10_000 + next(self._ids)
            user = User(uid, first_name, username=username, last_name=last_name, language_code=lang)
            self._users[uid] = user
            self._chats[uid] = Chat(uid, "private", user=user, members=[uid, self.bot.id],
                                    instance=f"ci{uid}")
            return user

    def rename(self, user: User, username: str | None) -> None:
        """Change a person's username (ids stay, handles change)."""
        with self._lock:
            user.username = username

    def private_chat(self, user: User) -> int:
        """The id of `user`'s private chat with the bot (equal to the user's id, as on Telegram)."""
        return user.id

    def create_group(
        self, title: str, creator: User, members: Iterable[User] = (), *, supergroup: bool = False
    ) -> int:
        """A group with `creator`, `members` and the bot; the bot learns of it by `new_chat_members`."""
        with self._lock:
            gid = -(4_000_000_000 + next(self._ids)) if not supergroup else -(1_000_000_000_000 + next(self._ids))
            people = [creator, *[m for m in members if m.id != creator.id]]
            chat = Chat(gid, "supergroup" if supergroup else "group", title=title,
                        members=[u.id for u in people] + [self.bot.id], instance=f"ci{-gid}")
            self._chats[gid] = chat
            msg = self._new_message(chat, creator, None)
            msg["new_chat_members"] = [u.to_api() for u in people[1:]] + [self.bot.to_api()]
            self._store_and_route(chat, msg, force=True)
            return gid

    def upgrade_group(self, chat_id: int) -> int:
        """Turn a basic group into a supergroup with a new id, as Telegram does; the old id answers
        400 with `migrate_to_chat_id` from then on."""
        with self._lock:
            old = self._chats[chat_id]
            new_id = -(1_000_000_000_000 + next(self._ids))
            self._chats[new_id] = Chat(new_id, "supergroup", title=old.title, members=list(old.members),
                                       instance=old.instance)
            self._migrated[chat_id] = new_id
            return new_id

    def add_member(self, chat_id: int, user: User, *, by: User | None = None) -> JSON:
        """Add `user` to a group; the bot is told with a `new_chat_members` service message."""
        with self._lock:
            chat = self._chats[chat_id]
            if user.id not in chat.members:
                chat.members.append(user.id)
            msg = self._new_message(chat, by or user, None)
            msg["new_chat_members"] = [user.to_api()]
            self._store_and_route(chat, msg, force=True)
            return msg

    def remove_member(self, chat_id: int, user: User, *, kicked: bool = False, by: User | None = None) -> JSON:
        """`user` leaves the group (or is kicked by `by`): a `left_chat_member` service message, and a
        `chat_member` update (Telegram sends it only when asked for in allowed_updates, to an administrator bot)."""
        with self._lock:
            chat = self._chats[chat_id]
            if user.id in chat.members:
                chat.members.remove(user.id)
            actor = by or user
            msg = self._new_message(chat, actor, None)
            msg["left_chat_member"] = user.to_api()
            self._store_and_route(chat, msg, force=True)
            new: JSON = {"status": "kicked", "user": user.to_api(), "until_date": 0} if kicked else \
                {"status": "left", "user": user.to_api()}
            self._enqueue({"chat_member": {"chat": chat.to_api(), "from": actor.to_api(), "date": int(time.time()),
                                           "old_chat_member": {"status": "member", "user": user.to_api()},
                                           "new_chat_member": new}})
            return msg

    # ---------------------------------------------------------------- acting as people

    def send(
        self,
        user: User,
        text: str,
        chat_id: int | None = None,
        *,
        reply_to: int | None = None,
        text_mentions: dict[str, User] | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """Post `text` as `user` (private chat by default); entities are found as Telegram would.

        `text_mentions` maps a substring of the text to the person it names (a `text_mention`,
        for people without a username); `entities` overrides the detection entirely.
        """
        with self._lock:
            chat = self._chats[chat_id if chat_id is not None else user.id]
            if user.id not in chat.members:
                raise ValueError(f"{user.first_name} is not in chat {chat.id}")
            msg = self._new_message(chat, user, text)
            msg["text"] = text
            ents = entities if entities is not None else self.find_entities(text, text_mentions)
            if ents:
                msg["entities"] = ents
            if reply_to is not None:
                target = self._messages.get((chat.id, reply_to))
                if target is None or target.deleted:
                    raise ValueError(f"no message {reply_to} in chat {chat.id}")
                msg["reply_to_message"] = {k: v for k, v in target.api.items() if k != "reply_to_message"}
            if chat.type == "private":
                self._started.add(user.id)
            self._store_and_route(chat, msg)
            return msg

    def edit(self, user: User, message: JSON | Seen, text: str,
             text_mentions: dict[str, User] | None = None) -> JSON:
        """Edit one of `user`'s own messages; the bot gets an `edited_message` if it saw the original."""
        chat_id, mid = _ids_of(message)
        with self._lock:
            stored = self._messages.get((chat_id, mid))
            if stored is None or stored.deleted or stored.api["from"]["id"] != user.id:
                raise ValueError(f"{user.first_name} cannot edit message {mid} in {chat_id}")
            stored.history.append(str(stored.api.get("text", "")))
            stored.api["text"] = text
            stored.api["edit_date"] = max(int(time.time()), stored.api["date"] + len(stored.history))
            ents = self.find_entities(text, text_mentions)
            if ents:
                stored.api["entities"] = ents
            else:
                stored.api.pop("entities", None)
            chat = self._chats[chat_id]
            if self._bot_sees(chat, stored.api):
                self._enqueue({"edited_message": dict(stored.api)})
            return dict(stored.api)

    def reply(self, user: User, message: JSON | Seen, text: str, **kw: Any) -> JSON:
        """Reply to `message` (one the user can see) with `text`."""
        chat_id, mid = _ids_of(message)
        return self.send(user, text, chat_id, reply_to=mid, **kw)

    def follow_link(self, user: User, url: str) -> JSON:
        """Follow a deep link `https://t.me/<bot>?start=<payload>`: `/start <payload>` in the private chat."""
        m = _DEEP_LINK_RE.match(url)
        if not m or m.group("bot").lower() != (self.bot.username or "").lower():
            raise ValueError(f"not a deep link to this bot: {url}")
        return self.send(user, f"/start {m.group('payload')}")

    def press(self, user: User, message: JSON | Seen, label: str) -> str | JSON:
        """Press the inline button labelled `label` as `user`: a callback query id, or (for a
        deep-link button) the `/start` message it posts."""
        chat_id, mid = _ids_of(message)
        with self._lock:
            stored = self._messages.get((chat_id, mid))
            if stored is None or stored.deleted:
                raise ValueError(f"no message {mid} in chat {chat_id}")
            chat = self._chats[chat_id]
            if user.id not in chat.members:
                raise ValueError(f"{user.first_name} cannot see chat {chat_id}")
            seen = self._seen(stored)
            button = seen.button(label)
            if "url" in button:
                url = str(button["url"])
            else:
                if "callback_data" not in button:
                    raise ValueError(f"button {button} has no callback_data")
                qid = str(next(self._ids) * 7919 + 1_000_000_000)
                self._queries[qid] = _Query(qid, user.id, chat_id, mid, str(button["callback_data"]))
                update = {"callback_query": {
                    "id": qid, "from": user.to_api(), "message": dict(stored.api),
                    "chat_instance": chat.instance, "data": button["callback_data"],
                }}
                self._enqueue(update)
                return qid
        return self.follow_link(user, url)

    @staticmethod
    def find_entities(text: str, text_mentions: dict[str, User] | None = None) -> list[JSON]:
        """Entities as Telegram marks them: a leading bot command, @mentions, text mentions (UTF-16)."""
        spans: list[tuple[int, int, JSON]] = []
        m = _COMMAND_RE.match(text)
        if m:
            spans.append((m.start(), m.end(), {"type": "bot_command"}))
        for m in _MENTION_RE.finditer(text):
            if not any(s <= m.start() < e for s, e, _ in spans):
                spans.append((m.start(), m.end(), {"type": "mention"}))
        for needle, person in (text_mentions or {}).items():
            i = text.find(needle)
            if i < 0:
                raise ValueError(f"{needle!r} not in {text!r}")
            spans.append((i, i + len(needle), {"type": "text_mention", "user": person.to_api()}))
        out = []
        for s, e, ent in sorted(spans, key=lambda x: x[0]):
            out.append({**ent, "offset": utf16_len(text[:s]), "length": utf16_len(text[s:e])})
        return out

    # ---------------------------------------------------------------- what people see

    def messages(self, chat_id: int, *, from_bot: bool | None = None, deleted: bool = False) -> list[Seen]:
        """Messages of a chat in order (bot's only with from_bot=True); deleted ones only if asked."""
        with self._lock:
            out = []
            for (cid, _), stored in sorted(self._messages.items(), key=lambda kv: kv[0][1]):
                if cid != chat_id or (stored.deleted and not deleted):
                    continue
                seen = self._seen(stored)
                if from_bot is None or seen.from_bot == from_bot:
                    out.append(seen)
            return out

    def inbox(self, user: User) -> list[Seen]:
        """What the bot sent `user` in their private chat."""
        return self.messages(user.id, from_bot=True)

    def message(self, chat_id: int, message_id: int) -> Seen:
        """One message as it is now (deleted ones too)."""
        with self._lock:
            return self._seen(self._messages[(chat_id, message_id)])

    def answers(self, user: User | None = None) -> list[CallbackAnswer]:
        """Callback answers (toasts and alerts) shown, to `user` or to everyone."""
        with self._lock:
            return [a for a in self._answers if user is None or a.user_id == user.id]

    def commands(self, language_code: str = "", scope: str = "default") -> list[JSON]:
        """The command menu the bot set for a language ('' = every language without its own)."""
        with self._lock:
            return list(self._commands.get((scope, language_code), []))

    def calls_of(self, method: str) -> list[Call]:
        """Logged calls of one method."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def file(self, file_id: str) -> StoredFile:
        """A file the bot uploaded."""
        with self._lock:
            return self._files[file_id]

    def pending_updates(self) -> int:
        """Updates not yet confirmed (polling) or acknowledged (webhook)."""
        with self._lock:
            return len(self._updates)

    def update_count(self) -> int:
        """Updates produced so far."""
        with self._lock:
            return self._next_update_id - 100_000

    def webhook_info(self) -> JSON:
        """What getWebhookInfo answers."""
        with self._lock:
            return self._webhook_info()

    # ---------------------------------------------------------------- waiting

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked after every API call); return its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s")
                self._cond.wait(min(left, 0.05))

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the bot has taken every update (confirmed by offset or answered 2xx)."""
        self.wait_until(lambda: not self._updates, timeout)

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self, method: str, times: int = 1, *, retry_after: int = 1, code: int = 429,
        description: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail (429 with retry_after by default)."""
        self.fail(method, code=code, retry_after=retry_after if code == 429 else None,
                  description=description, times=times)

    def fail(
        self, method: str | None = None, *, chat_id: int | None = None, code: int = 500,
        ok_false: bool = False, drop: bool = False, retry_after: int | None = None,
        description: str | None = None, times: int | None = None,
    ) -> Fault:
        """Make calls fail: of `method` (or every method) to `chat_id` (or every chat; a press
        answer belongs to the chat of the pressed message), `times` times or until `heal`.

        `code` is the error (404, 500, 400 ...); `ok_false` answers it with HTTP 200 and
        `{"ok": false}`; `drop` closes the connection without an answer."""
        fault = Fault(method.lower() if method else None, chat_id, code, description, retry_after,
                      ok_false, drop, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def heal(self, fault: Fault | None = None) -> None:
        """Stop one fault (or every fault)."""
        with self._lock:
            self._faults = [f for f in self._faults if fault is not None and f is not fault]

    def replay(self, update_id: int) -> None:
        """Deliver an update again with the same update_id, even past the bot's offset (a redelivery)."""
        with self._cond:
            original = next((u for u in self._history if u["update_id"] == update_id), None)
            if original is None:
                raise KeyError(f"no update {update_id}")
            self._updates.append({**original, "_replay": "queued"})
            self._cond.notify_all()

    def history(self) -> list[JSON]:
        """Every update produced so far, delivered or not."""
        with self._lock:
            return [dict(u) for u in self._history]

    def enforce_limits(self, *, global_per_second: float = 30, group_per_minute: float = 20) -> None:
        """Answer 429 as Telegram does when the bot sends faster than these limits."""
        with self._lock:
            self._limits = {"global": global_per_second, "group": group_per_minute}

    # ---------------------------------------------------------------- internals: messages

    def _new_message(self, chat: Chat, sender: User, text: str | None) -> JSON:
        mid = chat.next_message_id
        chat.next_message_id += 1
        return {"message_id": mid, "from": sender.to_api(), "chat": chat.to_api(),
                "date": int(time.time())}

    def _store_and_route(self, chat: Chat, msg: JSON, *, force: bool = False) -> None:
        self._messages[(chat.id, msg["message_id"])] = _Msg(msg)
        if force or self._bot_sees(chat, msg):
            self._enqueue({"message": msg})
        self._cond.notify_all()

    def _bot_sees(self, chat: Chat, msg: JSON) -> bool:
        if chat.type == "private" or not self.privacy:
            return True
        text = str(msg.get("text", ""))
        uname = (self.bot.username or "").lower()
        for ent in msg.get("entities", []):
            span = _utf16_slice(text, ent["offset"], ent["length"])
            if ent["type"] == "bot_command" and ent["offset"] == 0:
                at = span.find("@")
                if at < 0 or span[at + 1:].lower() == uname:
                    return True
            if ent["type"] == "mention" and span[1:].lower() == uname:
                return True
            if ent["type"] == "text_mention" and ent["user"]["id"] == self.bot.id:
                return True
        reply = msg.get("reply_to_message")
        return bool(reply and reply.get("from", {}).get("id") == self.bot.id)

    def _seen(self, stored: _Msg) -> Seen:
        api = stored.api
        markup = api.get("reply_markup") or {}
        return Seen(
            chat_id=api["chat"]["id"], message_id=api["message_id"], sender_id=api["from"]["id"],
            from_bot=api["from"]["id"] == self.bot.id,
            text=str(api.get("text", api.get("caption", ""))),
            buttons=[list(r) for r in markup.get("inline_keyboard", [])],
            photo=stored.photo, document=stored.document, deleted=stored.deleted,
            history=list(stored.history),
            reply_to=(api.get("reply_to_message") or {}).get("message_id"), raw=api,
        )

    def _enqueue(self, payload: JSON) -> None:
        kind = next(iter(payload))
        if self._allowed_updates is not None and self._allowed_updates and kind not in self._allowed_updates:
            return
        self._next_update_id += 1
        update = {"update_id": self._next_update_id, **payload}
        self._updates.append(update)
        self._history.append(update)
        self._cond.notify_all()

    # ---------------------------------------------------------------- internals: webhook delivery

    def _deliver_loop(self) -> None:
        while True:
            with self._cond:
                while self._running and not (self._webhook.get("url") and self._updates):
                    self._cond.wait(0.5)
                if not self._running:
                    return
                update = self._updates[0]
                url = str(self._webhook["url"])
                secret = self._webhook.get("secret_token")
            req = urllib.request.Request(url, data=json.dumps(_public(update)).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            if secret:
                req.add_header("X-Telegram-Bot-Api-Secret-Token", str(secret))
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    ok = 200 <= resp.status < 300
                    err = f"Wrong response from the webhook: {resp.status}"
            except urllib.error.HTTPError as exc:
                ok, err = False, f"Wrong response from the webhook: {exc.code} {exc.reason}"
            except OSError as exc:
                ok, err = False, f"Connection failed: {exc}"
            with self._cond:
                if ok and self._updates and self._updates[0] is update:
                    self._updates.pop(0)
                    self._delivered += 1
                    self._cond.notify_all()
                    continue
                if not ok:
                    self._webhook_error = (int(time.time()), err)
            if not ok:
                time.sleep(self.webhook_retry_delay)

    def _webhook_info(self) -> JSON:
        info: JSON = {"url": self._webhook.get("url", ""), "has_custom_certificate": False,
                      "pending_update_count": len(self._updates)}
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook.get("max_connections", 40)
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates:
                info["allowed_updates"] = self._allowed_updates
        if self._webhook_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    # ---------------------------------------------------------------- internals: the API

    def handle(self, method: str, params: JSON, files: dict[str, tuple[str, str, bytes]]) -> Any:
        """Answer one Bot API call (the result, or raise ApiError)."""
        name = method.lower()
        with self._cond:
            fault = next((f for f in self._faults if f.matches(name, self._chat_of(name, params))),
                         None)
            if fault is not None:
                fault.hits += 1
                self.calls.append(Call(method, params, False, time.time()))
                self._cond.notify_all()
                if fault.drop:
                    raise DropConnection(method)
                raise fault.error()
        fn = getattr(self, f"_api_{name}", None)
        if fn is None:
            raise ApiError(404, "Not Found")
        try:
            result = fn(params, files) if name in ("sendphoto", "senddocument") else fn(params)
        except ApiError:
            with self._cond:
                self.calls.append(Call(method, params, False, time.time()))
                self._cond.notify_all()
            raise
        with self._cond:
            if name != "getupdates" or result:
                self.calls.append(Call(method, params, True, time.time()))
            self._cond.notify_all()
        return result

    def _chat_of(self, method: str, params: JSON) -> int | None:
        """The chat a call is about (a press answer: the chat of the pressed message)."""
        if method == "answercallbackquery":
            q = self._queries.get(str(params.get("callback_query_id") or ""))
            return q.chat_id if q is not None else None
        try:
            return int(params["chat_id"]) if "chat_id" in params else None
        except (TypeError, ValueError):
            return None

    def _api_getme(self, p: JSON) -> JSON:
        return {**self.bot.to_api(), "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy, "supports_inline_queries": False,
                "can_connect_to_business": False, "has_main_web_app": False}

    def _api_getupdates(self, p: JSON) -> list[JSON]:
        offset = int(p.get("offset") or 0)
        limit = max(1, min(100, int(p.get("limit") or 100)))
        timeout = max(0.0, min(50.0, float(p.get("timeout") or 0)))
        if self.ignore_poll_timeout:
            timeout = 0.0
        deadline = time.monotonic() + timeout
        with self._cond:
            self.get_updates_calls += 1
            if self._webhook.get("url"):
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active;"
                                    " use deleteWebhook to delete the webhook first")
            if "allowed_updates" in p:
                allowed = p["allowed_updates"]
                self._allowed_updates = list(allowed) if allowed else None
            if offset > 0:
                self._updates = [u for u in self._updates
                                 if u["update_id"] >= offset or u.get("_replay") == "queued"]
                self._confirmed_up_to = max(self._confirmed_up_to, offset - 1)
            elif offset < 0:
                self._updates = self._updates[offset:]
            self._cond.notify_all()
            while True:
                if self._updates:
                    batch = self._updates[:limit]
                    for u in batch:
                        if "_replay" in u:
                            u["_replay"] = "returned"
                    return [_public(u) for u in batch]
                left = deadline - time.monotonic()
                if left <= 0 or not self._running:
                    return []
                self._cond.wait(left)

    def _api_setwebhook(self, p: JSON) -> bool:
        url = str(p.get("url") or "")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._cond:
            if p.get("drop_pending_updates"):
                self._updates.clear()
            if "allowed_updates" in p:
                self._allowed_updates = list(p["allowed_updates"]) or None
            self._webhook = {"url": url, "secret_token": secret,
                             "max_connections": int(p.get("max_connections") or 40)} if url else {}
            self._webhook_error = None
            self._cond.notify_all()
        return True

    def _api_deletewebhook(self, p: JSON) -> bool:
        with self._cond:
            if p.get("drop_pending_updates"):
                self._updates.clear()
            self._webhook = {}
            self._cond.notify_all()
        return True

    def _api_getwebhookinfo(self, p: JSON) -> JSON:
        with self._lock:
            return self._webhook_info()

    def _chat_for_send(self, p: JSON) -> Chat:
        wanted = _as_int(p.get("chat_id"))
        if wanted in self._migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": self._migrated[wanted]})
        chat = self._chats.get(wanted)
        if chat is None or self.bot.id not in chat.members:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.type == "private" and chat.id not in self._started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        self._check_limits(chat)
        return chat

    def _check_limits(self, chat: Chat) -> None:
        if not self._limits:
            return
        now = time.monotonic()
        self._sent_at = [(t, c) for t, c in self._sent_at if now - t < 60]
        last_second = sum(1 for t, _ in self._sent_at if now - t < 1)
        in_group = sum(1 for _, c in self._sent_at if c == chat.id)
        if last_second >= self._limits["global"]:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if chat.type != "private" and in_group >= self._limits["group"]:
            oldest = min(t for t, c in self._sent_at if c == chat.id)
            wait = max(1, int(60 - (now - oldest)) + 1)
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        self._sent_at.append((now, chat.id))

    def _bot_message(self, p: JSON) -> tuple[Chat, JSON]:
        chat = self._chat_for_send(p)
        msg = self._new_message(chat, self.bot, None)
        reply_to = p.get("reply_to_message_id") or (p.get("reply_parameters") or {}).get("message_id")
        if reply_to:
            target = self._messages.get((chat.id, int(reply_to)))
            if target is None or target.deleted:
                raise ApiError(400, "Bad Request: message to be replied not found")
            msg["reply_to_message"] = {k: v for k, v in target.api.items() if k != "reply_to_message"}
        markup = p.get("reply_markup")
        if markup:
            msg["reply_markup"] = _check_markup(markup, chat.type)
        return chat, msg

    def _api_sendmessage(self, p: JSON) -> JSON:
        text = str(p.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        with self._cond:
            chat, msg = self._bot_message(p)
            msg["text"] = text
            if p.get("entities"):
                msg["entities"] = p["entities"]
            self._messages[(chat.id, msg["message_id"])] = _Msg(msg)
            return msg

    def _upload(self, p: JSON, files: dict[str, tuple[str, str, bytes]], key: str) -> StoredFile:
        ref = p.get(key)
        if key in files:
            filename, mime, content = files[key]
        elif isinstance(ref, str) and ref.startswith("attach://") and ref[9:] in files:
            filename, mime, content = files[ref[9:]]
        elif isinstance(ref, str) and ref in self._files:
            return self._files[ref]
        else:
            raise ApiError(400, f"Bad Request: there is no {key} in the request")
        if not content:
            raise ApiError(400, "Bad Request: file must be non-empty")
        n = next(self._ids)
        sf = StoredFile(f"BQAC{n:08d}{key[:2].upper()}x", f"AgAD{n:06d}", content, filename, mime)
        self._files[sf.file_id] = sf
        return sf

    def _api_sendphoto(self, p: JSON, files: dict[str, tuple[str, str, bytes]]) -> JSON:
        with self._cond:
            chat, msg = self._bot_message(p)
            sf = self._upload(p, files, "photo")
            w, h = _png_size(sf.content)
            msg["photo"] = [{"file_id": sf.file_id, "file_unique_id": sf.unique_id, "width": w,
                             "height": h, "file_size": len(sf.content)}]
            if p.get("caption"):
                msg["caption"] = str(p["caption"])
            self._messages[(chat.id, msg["message_id"])] = _Msg(msg, photo=sf)
            return msg

    def _api_senddocument(self, p: JSON, files: dict[str, tuple[str, str, bytes]]) -> JSON:
        with self._cond:
            chat, msg = self._bot_message(p)
            sf = self._upload(p, files, "document")
            msg["document"] = {"file_id": sf.file_id, "file_unique_id": sf.unique_id,
                               "file_name": sf.filename, "mime_type": sf.mime,
                               "file_size": len(sf.content)}
            if p.get("caption"):
                msg["caption"] = str(p["caption"])
            self._messages[(chat.id, msg["message_id"])] = _Msg(msg, document=sf)
            return msg

    def _editable(self, p: JSON) -> _Msg:
        if p.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by this server")
        chat_id, mid = _as_int(p.get("chat_id")), _as_int(p.get("message_id"))
        stored = self._messages.get((chat_id, mid))
        if stored is None or stored.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        if stored.api["from"]["id"] != self.bot.id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _api_editmessagetext(self, p: JSON) -> JSON:
        text = str(p.get("text") or "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        with self._cond:
            stored = self._editable(p)
            if "text" not in stored.api:
                raise ApiError(400, "Bad Request: there is no text in the message to edit")
            markup = _check_markup(p["reply_markup"]) if p.get("reply_markup") else None
            if stored.api["text"] == text and stored.api.get("reply_markup") == markup:
                raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                    "content and reply markup are exactly the same as a current "
                                    "content and reply markup of the message")
            stored.history.append(stored.api["text"])
            stored.api["text"] = text
            stored.api["edit_date"] = int(time.time())
            if markup:
                stored.api["reply_markup"] = markup
            else:
                stored.api.pop("reply_markup", None)
            return dict(stored.api)

    def _api_editmessagecaption(self, p: JSON) -> JSON:
        with self._cond:
            stored = self._editable(p)
            stored.history.append(str(stored.api.get("caption", "")))
            stored.api["caption"] = str(p.get("caption") or "")
            markup = _check_markup(p["reply_markup"]) if p.get("reply_markup") else None
            if markup:
                stored.api["reply_markup"] = markup
            else:
                stored.api.pop("reply_markup", None)
            return dict(stored.api)

    def _api_editmessagereplymarkup(self, p: JSON) -> JSON:
        with self._cond:
            stored = self._editable(p)
            markup = _check_markup(p["reply_markup"]) if p.get("reply_markup") else None
            if stored.api.get("reply_markup") == markup:
                raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                    "content and reply markup are exactly the same as a current "
                                    "content and reply markup of the message")
            if markup:
                stored.api["reply_markup"] = markup
            else:
                stored.api.pop("reply_markup", None)
            stored.api["edit_date"] = int(time.time())
            return dict(stored.api)

    def _api_deletemessage(self, p: JSON) -> bool:
        with self._cond:
            chat_id, mid = _as_int(p.get("chat_id")), _as_int(p.get("message_id"))
            stored = self._messages.get((chat_id, mid))
            if stored is None or stored.deleted:
                raise ApiError(400, "Bad Request: message to delete not found")
            chat = self._chats[chat_id]
            if chat.type != "private" and stored.api["from"]["id"] != self.bot.id:
                raise ApiError(400, "Bad Request: message can't be deleted")
            stored.deleted = True
            return True

    def _api_answercallbackquery(self, p: JSON) -> bool:
        qid = str(p.get("callback_query_id") or "")
        with self._cond:
            q = self._queries.get(qid)
            if q is None or q.answered:
                raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                    "or query ID is invalid")
            q.answered = True
            self._answers.append(CallbackAnswer(qid, q.user_id, str(p.get("text") or ""),
                                                bool(p.get("show_alert")), p.get("url")))
            return True

    def _api_getchatmember(self, p: JSON) -> JSON:
        with self._lock:
            chat = self._chats.get(_as_int(p.get("chat_id")))
            uid = _as_int(p.get("user_id"))
            user = self._users.get(uid) or (self.bot if uid == self.bot.id else None)
            if chat is None:
                raise ApiError(400, "Bad Request: chat not found")
            if user is None:
                raise ApiError(400, "Bad Request: user not found")
            if uid not in chat.members:
                return {"status": "left", "user": user.to_api()}
            creator = chat.type != "private" and chat.members and chat.members[0] == uid
            return {"status": "creator" if creator else "member", "user": user.to_api(),
                    **({"is_anonymous": False} if creator else {})}

    def _api_getchat(self, p: JSON) -> JSON:
        with self._lock:
            chat = self._chats.get(_as_int(p.get("chat_id")))
            if chat is None:
                raise ApiError(400, "Bad Request: chat not found")
            return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11,
                    "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                            "unique_gifts": False, "premium_subscription": False}}

    def _api_sendchataction(self, p: JSON) -> bool:
        with self._lock:
            self._chat_for_send(p)
        return True

    @staticmethod
    def _scope(p: JSON) -> str:
        scope = p.get("scope") or {"type": "default"}
        return str(scope.get("type", "default"))

    def _api_setmycommands(self, p: JSON) -> bool:
        commands = p.get("commands") or []
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is invalid")
        lang = str(p.get("language_code") or "")
        if lang and not re.fullmatch(r"[a-z]{2}", lang):
            raise ApiError(400, "Bad Request: invalid language code specified")
        with self._lock:
            self._commands[(self._scope(p), lang)] = [
                {"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _api_getmycommands(self, p: JSON) -> list[JSON]:
        with self._lock:
            return list(self._commands.get((self._scope(p), str(p.get("language_code") or "")), []))

    def _api_deletemycommands(self, p: JSON) -> bool:
        with self._lock:
            self._commands.pop((self._scope(p), str(p.get("language_code") or "")), None)
        return True

    def _api_getfile(self, p: JSON) -> JSON:
        with self._lock:
            sf = self._files.get(str(p.get("file_id") or ""))
            if sf is None:
                raise ApiError(400, "Bad Request: invalid file_id")
            return {"file_id": sf.file_id, "file_unique_id": sf.unique_id,
                    "file_size": len(sf.content), "file_path": f"files/{sf.file_id}"}

    def _api_close(self, p: JSON) -> bool:
        return True

    def _api_logout(self, p: JSON) -> bool:
        return True


# -------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    """Routes /bot<token>/<method> and /file/bot<token>/<path> to the server."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    api: BotApiServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = parsed.path.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "file" and parts[1] == f"bot{self.api.token}":
            self._file(parts[-1])
            return
        if len(parts) != 2 or not parts[0].startswith("bot"):
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        if parts[0][3:] != self.api.token:
            self._send(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        try:
            params, files = _parse_params(parsed.query, self.headers.get("Content-Type", ""), body)
            result = self.api.handle(parts[1], params, files)
        except ApiError as exc:
            self._send(exc.http_status, exc.body())
            return
        except DropConnection:
            self.close_connection = True  # no answer at all: the client sees the connection drop
            return
        except (ValueError, KeyError, TypeError) as exc:
            self._send(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
            return
        self._send(200, {"ok": True, "result": result})

    def _file(self, file_id: str) -> None:
        try:
            sf = self.api.file(file_id)
        except KeyError:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.send_response(200)
        self.send_header("Content-Type", sf.mime)
        self.send_header("Content-Length", str(len(sf.content)))
        self.end_headers()
        self.wfile.write(sf.content)

    def _send(self, code: int, payload: JSON) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass


def _parse_params(query: str, ctype: str, body: bytes) -> tuple[JSON, dict[str, tuple[str, str, bytes]]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body (files apart)."""
    raw: dict[str, Any] = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
    files: dict[str, tuple[str, str, bytes]] = {}
    if body and ctype.startswith("application/json"):
        raw.update(json.loads(body))
    elif body and ctype.startswith("application/x-www-form-urlencoded"):
        raw.update({k: v[-1] for k, v in urllib.parse.parse_qs(body.decode()).items()})
    elif body and ctype.startswith("multipart/form-data"):
        head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[str(name)] = (part.get_filename() or "file", part.get_content_type(), payload)
            else:
                raw[str(name)] = payload.decode()
    return {k: _coerce(k, v) for k, v in raw.items()}, files


def _coerce(key: str, value: Any) -> Any:
    """Turn form strings into what the JSON body would have carried."""
    if not isinstance(value, str):
        return value
    if key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if value[:1] in "[{" or value in ("true", "false", "null"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _check_markup(markup: Any, chat_type: str = "private") -> JSON:
    """Validate an inline keyboard as Telegram does (callback_data of 1-64 bytes; a Web App button
    only with an https URL and only in a private chat)."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return markup if isinstance(markup, dict) else {}
    for row in markup["inline_keyboard"]:
        for b in row:
            if not b.get("text"):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = b.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            web_app = b.get("web_app")
            if web_app is not None:
                url = str((web_app or {}).get("url") or "")
                if not url.startswith("https://"):
                    raise ApiError(400, f"Bad Request: inline keyboard button Web App URL '{url}' is invalid: "
                                        "Only HTTPS links are allowed")
                if chat_type != "private":
                    raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
                continue
            if data is None and not b.get("url"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button")
    return {"inline_keyboard": [[dict(b) for b in row] for row in markup["inline_keyboard"]]}


def _public(update: JSON) -> JSON:
    """An update as sent to the bot (without the server's own bookkeeping)."""
    return {k: v for k, v in update.items() if not k.startswith("_")}


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "Bad Request: chat not found") from None


def _ids_of(message: JSON | Seen) -> tuple[int, int]:
    if isinstance(message, Seen):
        return message.chat_id, message.message_id
    return int(message["chat"]["id"]), int(message["message_id"])


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2:(offset + length) * 2].decode("utf-16-le", errors="replace")


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    return 1, 1


def main() -> None:
    """Serve until interrupted: `python -m tests.tools.botapi_server --port N`."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token", default="123456789:TEST-token_for_finbot")
    ap.add_argument("--username", default="finbot_test_bot")
    ap.add_argument("--no-privacy", action="store_true")
    args = ap.parse_args()
    server = BotApiServer(args.token, args.username, privacy=not args.no_privacy, port=args.port).start()
    print(f"Bot API server on {server.base_url}{server.token}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
