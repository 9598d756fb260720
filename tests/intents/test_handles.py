"""Counterparties: Telegram handles, bare names, "him/her" in a reply, several payees."""

from __future__ import annotations

import pytest

from .conftest import read


def test_handles_are_lowercased() -> None:
    assert read("send 20 to @Anna_99").recipients == ("@anna_99",)


def test_short_handles_of_the_contract_are_kept() -> None:
    # Telegram asks 5-32 characters, but the contract's own examples use @bob, @ola, @mom.
    assert read("send 20 to @bob").recipients == ("@bob",)


@pytest.mark.parametrize(
    "text",
    [
        "send 20 to @" + "a" * 33,  # longer than Telegram allows
        "send 20 to @1anna",  # must start with a letter
        "send 20 to @anna_",  # cannot end with an underscore
        "envoie 20 € à @léa",  # not ASCII: not a username, and not "@l"
    ],
)
def test_invalid_handles_ask_for_the_recipient(text: str) -> None:
    got = read(text)
    assert got.clarify == "missing_recipient"
    assert all(r.startswith("@") and r[1:].isascii() for r in got.recipients)
    assert "@l" not in got.recipients


def test_longest_valid_handle() -> None:
    handle = "a" + "b" * 31
    assert read(f"send 20 to @{handle}").recipients == (f"@{handle}",)


def test_emails_and_bots_are_not_payees() -> None:
    assert read("send 20 to anna@example.com").recipients in ((), ("anna",))
    assert read("@finbot_bot send 20 to @anna").recipients == ("@anna",)
    assert read("/send@finbot_bot 20 @anna").recipients == ("@anna",)


@pytest.mark.parametrize(
    ("text", "lang", "who"),
    [
        ("pay anna 15 eur for pizza", "en", ("anna",)),
        ("envoie 20 € à Léa", "fr", ("léa",)),
        ("send mom 12", "en", ("mom",)),
        ("vipps Ola 200", "nb", ("ola",)),
        ("send 200 kr til kari", "nb", ("kari",)),
        ("be ola om 50 kr", "nb", ("ola",)),
        ("demande 20 € à julie", "fr", ("julie",)),
        ("split 60 with @bob, @carol and dave", "en", ("@bob", "@carol", "dave")),
        ("del 300 med kari og per", "nb", ("kari", "per")),
        ("partage 90 € avec moi, @a et @b", "fr", ("@a", "@b")),
    ],
)
def test_bare_names(text: str, lang: str, who: tuple[str, ...]) -> None:
    got = read(text, lang)
    assert set(got.recipients) == set(who), got


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("send him 20", "en"),
        ("pay her back 15", "en"),
        ("send ham 200 kr", "nb"),
        ("betal henne 50", "nb"),
        ("envoie-lui 20 €", "fr"),
        ("rembourse-la 25 €", "fr"),
    ],
)
def test_reply_pronouns(text: str, lang: str) -> None:
    assert read(text, lang).recipients == ("reply",)


def test_a_doubtful_name_asks() -> None:
    assert read("send 20 to anna smith").clarify == "missing_recipient"


def test_til_is_a_note_once_the_payee_is_named() -> None:
    got = read("send @ola 200 kr til middag", "nb")
    assert got.recipients == ("@ola",) and got.note == "middag"
    assert read("send 200 kr til kari", "nb").recipients == ("kari",)


@pytest.mark.parametrize(
    ("text", "lang", "note"),
    [
        ("send $20 to @anna for pizza", "en", "pizza"),
        ("send 40 to @olivia for the gas bill", "en", "the gas bill"),
        ("split $60 dinner with @bob @carol", "en", "dinner"),
        ("send 200 kr til @ola for middag", "nb", "middag"),
        ("envoie 15 euros à @paul pour le resto", "fr", "le resto"),
        ("partage 48 € avec @nina pour les courses", "fr", "les courses"),
    ],
)
def test_notes(text: str, lang: str, note: str) -> None:
    assert read(text, lang).note == note
