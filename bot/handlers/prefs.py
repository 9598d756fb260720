"""A person's preferences: /lang and /currency."""

from __future__ import annotations

from babel.numbers import get_currency_precision

from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.handlers import wallets
from bot.i18n import LANG_NAMES, LANGS, t


def register(bus: Bus) -> None:
    bus.commands["lang"] = cmd_lang
    bus.commands["currency"] = cmd_currency


def cmd_lang(app: App, c: Ctx, arg: str) -> None:
    """/lang en|nb|fr: the language the bot speaks with this person."""
    code = arg.strip().lower()
    if code in ("no", "nn", "norsk"):
        code = "nb"
    if code not in LANGS:
        options = ", ".join(f"{k} ({v})" for k, v in LANG_NAMES.items())
        c.say(t(c.lang, "Choose a language: /lang en, /lang nb or /lang fr. Available: {options}", options=options))
        return
    c.user.lang, c.user.lang_chosen = code, True
    c.say(t(code, "I will speak {name} with you.", name=LANG_NAMES[code]))


def cmd_currency(app: App, c: Ctx, arg: str) -> None:
    """/currency CUR: the default currency (its wallet opened)."""

    code = arg.strip().upper()
    known = {"USD", "EUR", "NOK", "GBP", "SEK", "DKK"}
    if not code:
        c.say(t(c.lang, "Your default currency is {code}. To change it, write /currency and one of {codes}, e.g. /currency EUR.",
                code=c.user.currency, codes=", ".join(sorted(known))))
        return
    if code not in known:
        c.say(t(c.lang, "Choose one of {codes}, e.g. /currency EUR.", codes=", ".join(sorted(known))))
        return
    get_currency_precision(code)
    c.user.currency = code
    wallets.open_wallet(app, c, c.user, code)
    c.say(t(c.lang, "Your default currency is now {code}.", code=code))


