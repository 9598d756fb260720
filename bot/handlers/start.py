"""/start (the wallet opened, waiting money claimed, waiting requests shown, a deep link's token used) and /help."""

from __future__ import annotations

from bot import commands
from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.handlers import cards, escrow, requests, wallets
from bot.i18n import t
from intents.model import Intent


def register(bus: Bus) -> None:
    bus.commands["start"] = cmd_start
    for name in ("help", "hjelp", "aide"):
        bus.commands[name] = cmd_help
    bus.intents["help"] = intent_help


def cmd_help(app: App, c: Ctx, arg: str) -> None:
    c.say(commands.help_text(c.lang))


def intent_help(app: App, c: Ctx, intent: Intent) -> None:
    c.say(commands.help_text(c.lang))


def cmd_start(app: App, c: Ctx, payload: str) -> None:
    """/start: welcome, open the wallet, claim what waits for this handle; with a payload, the link's token."""
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
    wallets.open_wallet(app, c, c.user, c.user.currency)
    escrow.claim(app, c)
    requests.deliver_waiting(app, c)
    if payload:
        cards.use_token(app, c, payload, via_link=True)
    elif not first:
        c.say(t(c.lang, "Welcome back! /help shows what I can do."))


