"""`finbot chat`: a terminal chat with the bot, switching person with /as and chat with /group."""

from __future__ import annotations

import shlex
import sys
from typing import TextIO

from adapters.local.world import LocalWorld, parse_duration

BANNER = """finbot terminal chat. You are @{user} in your private chat with the bot.
  /as NAME        become another person (e.g. /as bob)
  /group NAME     talk in the group chat NAME (e.g. /group trip); /dm goes back to the private chat
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
"""


def _show(world: LocalWorld, items: list[dict[str, object]], out: TextIO) -> None:
    for item in items:
        where = str(item["chat"])
        head = "✎ edited" if item.get("edit") else ("! notice" if item.get("notice") else "bot")
        out.write(f"  [{where}] {head}:\n")
        for line in str(item.get("text", "")).splitlines():
            out.write(f"      {line}\n")
        for key in ("photo", "document"):
            if item.get(key):
                out.write(f"      📎 saved {world.output_dir / str(item[key])}\n")
        buttons = item.get("buttons") or []
        if buttons:
            out.write("      " + "  ".join(f"[{b}]" for row in buttons for b in row) + "\n")  # type: ignore[union-attr]
    out.flush()


def run_chat(world: LocalWorld, user: str = "alice", inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Read lines until /quit or end of input."""
    chat = "dm"
    out.write(BANNER.format(user=user, out=world.output_dir))
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
        try:
            if text in ("/quit", "/exit"):
                return
            if text.startswith("/as "):
                user = text[4:].strip().lstrip("@") or user
                chat = "dm"
                out.write(f"  you are now @{user}, in your private chat\n")
                continue
            if text.startswith("/group "):
                chat = "g:" + text[7:].strip()
                continue
            if text == "/dm":
                chat = "dm"
                continue
            if text.startswith("/press "):
                got = world.press(user, chat, text[7:].strip())
                if got is None:
                    out.write("  (no such button on the newest card here)\n")
                else:
                    _show(world, world.render(got, presser=user), out)
                continue
            if text.startswith("/reply "):
                parts = shlex.split(text[7:])
                if len(parts) < 2:
                    out.write("  usage: /reply NAME TEXT\n")
                    continue
                _show(world, world.render(world.say(user, chat, " ".join(parts[1:]), reply_to=parts[0])), out)
                continue
            if text.startswith("/advance "):
                _show(world, world.render(world.advance(parse_duration(text[9:]))), out)
                continue
            _show(world, world.render(world.say(user, chat, text)), out)
        except ValueError as exc:
            out.write(f"  {exc}\n")
