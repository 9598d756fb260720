"""`finbot simulate`: play a scenario file (one event a line) through the real engine and ledger."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from adapters.local.world import LocalWorld, parse_duration


class ScenarioError(Exception):
    """A line the simulator cannot read."""

    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no


def play(world: LocalWorld, lines: Iterable[str], out: TextIO = sys.stdout) -> int:
    """Play every line, printing one JSON object per message the bot sends or edits; lines played."""
    played = 0
    for no, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#") or text.startswith("//"):
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(no, f"not JSON ({exc.msg})") from exc
        if not isinstance(item, dict):
            raise ScenarioError(no, "each line must be a JSON object")
        for shown in step(world, item, no):
            out.write(json.dumps(shown, ensure_ascii=False) + "\n")
        out.flush()
        played += 1
    return played


def step(world: LocalWorld, item: dict[str, Any], no: int) -> list[dict[str, Any]]:
    """One scenario line: a message, a press, members, who left, an operator, or the clock moving on."""
    if "advance" in item:
        try:
            duration = parse_duration(str(item["advance"]))
        except ValueError as exc:
            raise ScenarioError(no, str(exc)) from exc
        return world.render(world.advance(duration))
    if item.get("operator"):
        user = _str(item, "user", no)
        world.engine.set_operator("local", user, user)
        return []
    for key in ("user", "chat", "lang", "press", "reply_to", "members", "left"):
        value = item.get(key)
        if any("\x00" in str(v) for v in (value if isinstance(value, list) else [value])):
            raise ScenarioError(no, f"{key} has a NUL byte (only a message's text may, and the bot refuses it)")
    chat = item.get("chat")
    if "members" in item:
        if not isinstance(chat, str) or not chat.startswith("g:") or not isinstance(item["members"], list):
            raise ScenarioError(no, "members needs a group chat \"g:<name>\" and a list of users")
        names = [str(n).lstrip("@") for n in item["members"]]
        return world.render(world.members(chat, names)) if names else []
    if "left" in item:
        if not isinstance(chat, str) or not chat.startswith("g:") or not isinstance(item["left"], list):
            raise ScenarioError(no, "left needs a group chat \"g:<name>\" and a list of users")
        names = [str(n).lstrip("@") for n in item["left"]]
        return world.render(world.left(chat, names)) if names else []
    user = _str(item, "user", no).lstrip("@")
    if not isinstance(chat, str):
        raise ScenarioError(no, "chat is missing")
    lang = item.get("lang")
    try:
        world.chat(user, chat)
    except ValueError as exc:
        raise ScenarioError(no, str(exc)) from exc
    if "press" in item:
        replies = world.press(user, chat, str(item["press"]), lang=lang)
        return world.render(replies or [], presser=user)
    if "text" in item:
        replies = world.say(user, chat, str(item["text"]), lang=lang, reply_to=item.get("reply_to"))
        return world.render(replies)
    raise ScenarioError(no, "a line needs text, press, members, left, advance or operator")


def _str(item: dict[str, Any], key: str, no: int) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ScenarioError(no, f"{key} is missing")
    return value


def start_clock(world: LocalWorld, now: datetime | None) -> None:
    """Set the world's clock from --now, or keep the stored one (the real time on a new world)."""
    if now is not None:
        world.set_now(now)
    elif world.get("clock") is None:
        world.set_now(world.now())
