"""Slash commands mean the same as the words, with or without @botname, in every language."""

from __future__ import annotations

import pytest

from .conftest import read

COMMANDS = {
    "/send 20 @anna": "send",
    "/pay 20 @anna": "send",
    "/request 20 @anna": "request",
    "/split 60 @bob @carol": "split",
    "/balance": "balance",
    "/history": "history",
    "/deposit 50": "deposit",
    "/topup 50": "deposit",
    "/withdraw 40": "withdraw",
    "/buy 2 AAPL": "buy",
    "/sell 2 AAPL": "sell",
    "/quote MSFT": "quote",
    "/portfolio": "portfolio",
    "/cancel": "cancel",
    "/help": "help",
}


@pytest.mark.parametrize(("text", "intent"), COMMANDS.items())
@pytest.mark.parametrize("suffix", ["", "@finbot_bot"])
def test_commands(text: str, intent: str, suffix: str) -> None:
    name, _, rest = text.partition(" ")
    got = read(f"{name}{suffix} {rest}".strip())
    assert got.intent == intent
    assert got.clarify is None or intent == "split"
    assert "@finbot_bot" not in got.recipients


def test_command_slots() -> None:
    got = read("/send@finbot_bot 20 @anna")
    assert (got.amount, got.recipients) == (20, ("@anna",))
    got = read("/split 60 @bob @carol")
    assert got.recipients == ("@bob", "@carol") and got.clarify is None
    got = read("/buy 2 AAPL")
    assert (got.symbol, got.quantity) == ("AAPL", 2)
    assert read("/send anna 20").recipients == ("anna",)


@pytest.mark.parametrize(
    ("text", "lang", "intent"),
    [
        ("/saldo", "nb", "balance"),
        ("/betal 200 @ola", "nb", "send"),
        ("/kjop 5 Equinor", "nb", "buy"),
        ("/selg 5 EQNR", "nb", "sell"),
        ("/avbryt", "nb", "cancel"),
        ("/hjelp", "nb", "help"),
        ("/solde", "fr", "balance"),
        ("/envoyer 20 @anna", "fr", "send"),
        ("/acheter 3 LVMH", "fr", "buy"),
        ("/vendre 3 LVMH", "fr", "sell"),
        ("/annuler", "fr", "cancel"),
        ("/aide", "fr", "help"),
        ("/send 20 @anna", "nb", "send"),
    ],
)
def test_commands_in_each_language(text: str, lang: str, intent: str) -> None:
    assert read(text, lang).intent == intent


@pytest.mark.parametrize("text", ["/start", "/start abc123", "/pin", "/lang fr", "/currency EUR", "/totp", "/admin", "/nonsense"])
def test_engine_commands_are_none(text: str) -> None:
    assert read(text).intent == "none"


def test_slash_number_is_not_a_command() -> None:
    assert read("/20").intent == "none"
