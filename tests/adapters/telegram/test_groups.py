"""Group money on Telegram end to end (loopback Bot API server, real engine and ledger): a red packet confirmed
in private and claimed in the group (refused to its sender and to who never started the bot, once each), an expense, the debts
picture sent after "who owes what?", and who left (a chat_member update) out of "everyone"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.adapters.telegram.harness import bot_settings
from tests.adapters.telegram.test_with_engine import FAST_PIN, World, assert_book_holds, balances
from tests.tools.botapi_server import BotApiServer

BOT = "@finbot_test_bot"


@pytest.fixture
def world(server: BotApiServer, sqlite_url: str) -> Iterator[World]:
    w = World(server, sqlite_url, bot_settings(server, sqlite_url, webhook=False, **FAST_PIN))
    w.start()
    yield w
    w.stop()


def test_red_packet_claims_leavers_expense_and_the_debts_picture(world: World) -> None:
    s = world.server
    alice, bob, carol, dave = (s.create_user(n, n.lower()) for n in ("Alice", "Bob", "Carol", "Dave"))
    world.onboard(alice, "4826")
    world.top_up(alice, 100, "4826")
    for u in (bob, carol):
        world.say(u, "/start")
    group = s.create_group("Trip", alice, [bob, carol, dave])
    s.settle()
    world.say(alice, f"{BOT} red packet $9 for 2 people", group)
    card = world.last_with(group, "Confirm")
    assert card.button("Confirm")["url"].startswith("https://t.me/finbot_test_bot?start=")
    world.press(alice, card, "Confirm")
    world.say(alice, "4826")
    packet = world.last_with(group, "Claim")
    assert "🧧" in packet.text
    world.press(alice, packet, "Claim")  # the sender's own packet
    world.press(dave, packet, "Claim")  # never started the bot
    world.press(bob, packet, "Claim")
    world.press(bob, packet, "Claim")  # once each
    answers = {u.first_name: [a.text for a in s.answers(u)] for u in (alice, bob, dave)}
    assert "own" in answers["Alice"][-1]
    assert "/start" in answers["Dave"][-1]
    assert "$4.50" in answers["Bob"][0] and "already" in answers["Bob"][1]
    assert "@bob: $4.50" in s.message(group, packet.message_id).text
    # an expense, then the picture of who owes whom, in the group
    world.say(bob, f"{BOT} I paid 30 for taxi, split with @alice", group)
    world.press(bob, world.last_with(group, "Confirm"), "Confirm")
    world.say(bob, f"{BOT} who owes what?", group)
    shown = world.last(group)
    assert shown.photo is not None and shown.photo.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "@alice owes $15.00" in shown.text and "@bob is owed $15.00" in shown.text
    # who left is no longer part of "everyone" (Telegram tells the bot with a chat_member update)
    s.remove_member(group, carol)
    s.settle()
    world.say(bob, f"{BOT} split 30 with everyone", group)
    split = world.last_with(group, "Confirm")
    assert "@alice: $10.00" in split.text and "@dave: $10.00" in split.text and "@carol" not in split.text
    # balances are posted: the part nobody claimed yet is still held from alice's wallet
    assert balances(world.url) == {"@alice": {"USD": "95.50"}, "@bob": {"USD": "4.50"}}
    assert_book_holds(world.url)
