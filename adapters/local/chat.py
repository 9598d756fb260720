"""`finbot chat`: a terminal chat with the bot, switching person with /as and chat with /group."""

from __future__ import annotations

import shlex
import sys
from typing import TextIO

from adapters.local.world import LocalWorld, parse_duration
from bot.i18n import fmt_datetime, normalize_lang, t


def _banner(lang: str, user: str, out: object) -> str:
    return t(lang, """finbot terminal chat. You are @{user} in your private chat with the bot.
  /as NAME        become another person (e.g. /as bob)
  /group NAME     talk in the group chat NAME (e.g. /group trip); /dm goes back to the private chat; /where says where you are
  /press LABEL    press a button on the newest card (e.g. /press Confirm, /press #2)
  /reply NAME TEXT reply to NAME's newest message
  /advance PT25H  move the clock on (ISO 8601 duration) and run due work
  /quit           leave
Everything else is sent to the bot as you type it. Files (statements, charts, QR codes) are saved
under {out}/. /help lists what the bot understands.

First three things to type:
  1. /start
  2. /pin            then a PIN of 4 to 8 digits, twice (e.g. 4826)
  3. top up $100     then /press Confirm, and your PIN
""", user=user, out=out)


def _lang(world: LocalWorld, user: str) -> str:
    """The language the bot speaks with `user` (their /lang, else their client's, else the default)."""
    from sqlmodel import Session, select

    from bot.models import User

    with Session(world.db) as s:
        row = s.exec(select(User).where(User.handle == user.lower())).first()
    if row is not None:
        return row.lang
    return normalize_lang(world.user_lang(user), world.engine.settings.default_language if world.engine else "en")


def _where(lang: str, user: str, chat: str) -> str:
    if chat == "dm":
        return t(lang, "You are @{user}, in your private chat with the bot.", user=user)
    return t(lang, "You are @{user}, in the group {group}: everyone in it sees what you write. /dm goes back to your private chat.",
             user=user, group=chat[2:])


def _is_link(world: LocalWorld, user: str, chat: str, label: str) -> bool:
    """Whether the button a /press names opens the private chat (a deep link) rather than answering here."""
    found = world.find_button(world.chat(user, chat).chat_id, label)
    return bool(found and found[1].get("start"))


def _show(world: LocalWorld, items: list[dict[str, object]], out: TextIO, lang: str = "en") -> None:
    for item in items:
        where = str(item["chat"])
        head = t(lang, "✎ edited") if item.get("edit") else (t(lang, "! notice") if item.get("notice") else "bot")
        out.write(f"  [{where}] {head}:\n")
        for line in str(item.get("text", "")).splitlines():
            out.write(f"      {line}\n")
        for key in ("photo", "document"):
            if item.get(key):
                out.write("      " + t(lang, "📎 saved {path}", path=world.output_dir / str(item[key])) + "\n")
        buttons = item.get("buttons") or []
        if buttons:
            out.write("      " + "  ".join(f"[{b}]" for row in buttons for b in row) + "\n")  # type: ignore[union-attr]
        for label, url in item.get("links") or []:  # type: ignore[misc]
            out.write("      " + t(lang, "🔗 {label}: open {url}", label=label, url=url) + "\n")
    out.flush()


def run_chat(world: LocalWorld, user: str = "alice", inp: TextIO = sys.stdin, out: TextIO = sys.stdout,
             *, web: bool = True) -> None:
    """Read lines until /quit or end of input; with PUBLIC_BASE_URL (or WEB_SERVE) set, the bot's web
    app (the passkey pages) runs beside it and what it makes the bot say is printed as it happens."""
    server = None
    if web and world.engine is not None:
        from adapters.local.web import start_web

        server = start_web(world, world.engine.settings, lambda items: _show(world, items, out, _lang(world, user)))
        if server is not None:
            url = world.engine.settings.public_base_url.rstrip("/") or server.url
            out.write(t(_lang(world, user), "The bot's web pages (passkeys) answer on {url}.", url=url) + "\n")
    try:
        _chat_loop(world, user, inp, out)
    finally:
        if server is not None:
            server.stop()


def _chat_loop(world: LocalWorld, user: str, inp: TextIO, out: TextIO) -> None:
    chat = "dm"
    out.write(_banner(_lang(world, user), user, world.output_dir))
    while True:
        out.write(f"{user}@{chat}> ")
        out.flush()
        line = inp.readline()
        if not line:
            out.write("\n")
            return
        text = line.strip()
        if not text:
            continue
        lang = _lang(world, user)
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        try:
            if text in ("/quit", "/exit"):
                return
            if word == "/as":
                if not rest:
                    out.write("  " + t(lang, "usage: /as NAME") + "\n")
                    continue
                user, chat = rest.lstrip("@"), "dm"
                out.write("  " + _where(_lang(world, user), user, chat) + "\n")
                continue
            if word in ("/group", "/dm", "/where"):
                if word == "/dm":
                    chat = "dm"
                elif word == "/group" and rest:
                    chat = "g:" + (rest[2:] if rest.startswith("g:") else rest).strip()
                out.write("  " + _where(lang, user, chat) + "\n")
                continue
            if word == "/press":
                link = _is_link(world, user, chat, rest)
                got = world.press(user, chat, rest)
                if got is None:
                    out.write("  " + t(lang, "(no such button on the newest card here)") + "\n")
                else:
                    _show(world, world.render(got, presser=user), out, lang)
                    if link and chat != "dm":  # a link into the private chat takes you there, as the messenger does
                        chat = "dm"
                        out.write("  " + _where(_lang(world, user), user, chat) + "\n")
                continue
            if word == "/reply":
                parts = shlex.split(rest)
                if len(parts) < 2:
                    out.write("  " + t(lang, "usage: /reply NAME TEXT") + "\n")
                    continue
                _show(world, world.render(world.say(user, chat, " ".join(parts[1:]), reply_to=parts[0])), out, lang)
                continue
            if word == "/advance":
                if not rest:
                    out.write("  " + t(lang, "usage: /advance PT25H (an ISO 8601 duration: P1D, PT30M, P1W)") + "\n")
                    continue
                duration = parse_duration(rest)
                shown = world.render(world.advance(duration))
                out.write("  " + t(lang, "The clock is now {time}.", time=fmt_datetime(world.now(), lang)) + "\n")
                _show(world, shown, out, lang)
                continue
            _show(world, world.render(world.say(user, chat, text)), out, _lang(world, user))
        except ValueError as exc:
            out.write(f"  {exc}\n")
