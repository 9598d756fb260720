"""Slash commands: splitting them off the text, the menu, button labels and help in three languages."""

from __future__ import annotations

import re
from collections.abc import Container

from bot.i18n import t

_CMD = re.compile(r"^/([A-Za-z_]+)(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)

CANCEL = frozenset({"cancel", "avbryt", "annuler", "annule"})

# commands the engine answers itself; all others go to the intent parser with their words
ENGINE_COMMANDS = frozenset({"start", "pin", "lang", "currency", "totp", "passkey", "statement", "admin", "help", "hjelp", "aide"}) | CANCEL


def split(text: str, known: Container[str] = ENGINE_COMMANDS) -> tuple[str | None, str]:
    """('pin', '') for '/pin', ('start', 'abc') for '/start@finbot abc'; (None, text) for words and for
    commands not in `known` (the engine's own, or the bus's registry)."""
    m = _CMD.match(text.strip())
    if not m:
        return None, text
    name = m.group(1).lower()
    if name not in known:
        return None, text
    return name, (m.group(2) or "").strip()


def labels(lang: str) -> dict[str, str]:
    """Button labels as the user sees them."""
    return {
        "confirm": t(lang, "Confirm"),
        "cancel": t(lang, "Cancel"),
        "pay": t(lang, "Pay"),
        "decline": t(lang, "Decline"),
        "cancel_order": t(lang, "Cancel order"),
        "claim": t(lang, "Claim"),
        "close": t(lang, "Close"),
    }


def menu(lang: str) -> list[tuple[str, str]]:
    """The command menu (setMyCommands) in one language."""
    return [
        ("start", t(lang, "Open your wallet")),
        ("send", t(lang, "Send money: /send 20 @anna")),
        ("request", t(lang, "Ask for money: /request 20 @anna")),
        ("split", t(lang, "Split a bill: /split 60 @bob @carol")),
        ("debts", t(lang, "In a group: who owes whom")),
        ("settle", t(lang, "In a group: settle up the debts")),
        ("collect", t(lang, "In a group: collect money: /collect $10 for the gift")),
        ("redpacket", t(lang, "In a group: a red packet: /redpacket $20 for 5 people")),
        ("tip", t(lang, "Tip the author of a message: reply with /tip 2")),
        ("balance", t(lang, "Show your balance")),
        ("history", t(lang, "Latest transactions")),
        ("statement", t(lang, "Monthly statement (CSV and chart)")),
        ("deposit", t(lang, "Top up: /deposit 100")),
        ("withdraw", t(lang, "Withdraw: /withdraw 50")),
        ("convert", t(lang, "Convert money: /convert 100 USD EUR")),
        ("buy", t(lang, "Buy shares: /buy 2 AAPL")),
        ("sell", t(lang, "Sell shares: /sell 2 AAPL")),
        ("portfolio", t(lang, "Your holdings")),
        ("pin", t(lang, "Set or change your PIN")),
        ("totp", t(lang, "Turn on one-time codes")),
        ("passkey", t(lang, "Passkeys: confirm with your fingerprint or face")),
        ("lang", t(lang, "Language: /lang en|nb|fr")),
        ("currency", t(lang, "Default currency: /currency EUR")),
        ("cancel", t(lang, "Cancel what is pending")),
        ("help", t(lang, "What I can do")),
    ]


def help_text(lang: str) -> str:
    """The /help answer."""
    lines = [t(lang, "Here is what you can write to me:")]
    lines += [
        "• " + t(lang, "send $20 to @anna — pay someone"),
        "• " + t(lang, "request $20 from @anna — ask for money"),
        "• " + t(lang, "split 60 with @bob @carol — share a bill"),
        "• " + t(lang, "in a group: I paid 90 for dinner, split with @bob @carol / who owes what? / settle up"),
        "• " + t(lang, "in a group: collect $10 from everyone for the gift / red packet $20 for 5 people / tip 2 (as a reply)"),
        "• " + t(lang, "top up $100 / withdraw 50 — move money in and out"),
        "• " + t(lang, "convert $50 to EUR — change money into another currency (/wallets keep|convert)"),
        "• " + t(lang, "show balance / history / /statement"),
        "• " + t(lang, "buy 2 shares of AAPL / sell half my NVDA / price of AAPL / my portfolio"),
        "• " + t(lang, "every monday send @mom 50 — a standing order"),
    ]
    lines.append(t(lang, "Every payment shows a card first; press Confirm and give your PIN in our private chat."))
    lines.append(t(lang, "Commands: /pin /totp /passkey /lang /currency /cancel"))
    return "\n".join(lines)
