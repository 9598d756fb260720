"""Updates become events: addressing in groups, Python offsets for UTF-16 entities, people learnt, presses."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from adapters.telegram.convert import BotIdentity, to_event, utf16_to_index
from bot.events import ChatKind, Event
from tests.tools.botapi_server import BotApiServer

ME = BotIdentity(123456789, "finbot_test_bot")


def event_of(server: BotApiServer, index: int = -1) -> Event:
    """The event for one of the updates the server queued for the bot."""
    data: dict[str, Any] = server._updates[index]
    event = to_event(Update.de_json(data, None), ME)
    assert event is not None
    return event


def mentioned(ev: Event) -> list[str]:
    assert ev.text is not None
    return [ev.text[m.offset:m.offset + m.length] for m in ev.entities]


@pytest.mark.parametrize(("text", "units", "index"), [
    ("abc", 2, 2), ("💶ab", 2, 1), ("💶ab", 3, 2), ("a💶💶b", 5, 3), ("é", 1, 1), ("x", 9, 1),
])
def test_utf16_offsets_map_to_python_indices(text: str, units: int, index: int) -> None:
    assert utf16_to_index(text, units) == index


def test_private_message_is_addressed_and_names_the_sender(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice", last_name="Liddell", lang="nb")
    msg = server.send(alice, "send 20 to @bob")
    ev = event_of(server)
    assert ev.addressed and ev.chat.kind is ChatKind.private and ev.chat.chat_id == str(alice.id)
    assert ev.sender.user_id == str(alice.id) and ev.sender.handle == "alice"
    assert ev.sender.name == "Alice Liddell" and ev.sender.lang == "nb" and ev.sender.messenger == "telegram"
    assert ev.event_id == f"m:{alice.id}:{msg['message_id']}" and ev.message_id == str(msg["message_id"])
    assert ev.at.tzinfo is not None and mentioned(ev) == ["@bob"] and ev.entities[0].handle == "bob"


def test_command_for_this_bot_loses_the_suffix_and_offsets_follow(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    group = server.create_group("Trip", alice)
    server.send(alice, "/send@finbot_test_bot 💶20 to @bob_b", group)
    ev = event_of(server)
    assert ev.addressed and ev.chat.kind is ChatKind.group and ev.chat.title == "Trip"
    assert ev.text == "/send 💶20 to @bob_b"
    assert mentioned(ev) == ["@bob_b"] and ev.entities[0].offset == 13


def test_leading_mention_of_the_bot_is_cut(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    group = server.create_group("Trip", alice)
    server.send(alice, "@finbot_test_bot, split 60 with @bob_b @carol", group)
    ev = event_of(server)
    assert ev.addressed and ev.text == "split 60 with @bob_b @carol"
    assert mentioned(ev) == ["@bob_b", "@carol"]


def test_mention_of_the_bot_mid_text_addresses_it_but_is_not_a_person(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    group = server.create_group("Trip", alice)
    server.send(alice, "hey @FinBot_Test_Bot pay @bob_b", group)
    ev = event_of(server)
    assert ev.addressed and ev.text == "hey @FinBot_Test_Bot pay @bob_b" and mentioned(ev) == ["@bob_b"]


def test_text_mention_carries_the_person_without_username(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bøb", None, last_name="Ø")
    server.send(alice, "🎉 send 5 to Bøb Ø now", text_mentions={"Bøb Ø": bob})
    ev = event_of(server)
    assert mentioned(ev) == ["Bøb Ø"]
    m = ev.entities[0]
    assert m.handle is None and m.person is not None
    assert m.person.user_id == str(bob.id) and m.person.name == "Bøb Ø"


def test_reply_to_the_bot_is_addressed_and_reports_the_author(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob", "bob")
    group = server.create_group("Trip", alice, [bob])
    server._api_sendmessage({"chat_id": group, "text": "card"})
    bot_msg = server.messages(group, from_bot=True)[0]
    server.reply(bob, bot_msg, "yes")
    ev = event_of(server)
    assert ev.addressed and ev.reply_to is not None and ev.reply_to.message_id == str(bot_msg.message_id)
    assert ev.reply_to.author is not None and ev.reply_to.author.is_bot


def test_reply_to_a_person_names_them_and_is_not_addressed_with_privacy_off() -> None:
    with BotApiServer(privacy=False) as server:
        alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob")
        group = server.create_group("Trip", alice, [bob])
        said = server.send(bob, "I paid the taxi", group)
        server.reply(alice, said, "thanks")
        ev = event_of(server)
        assert not ev.addressed
        assert ev.reply_to is not None and ev.reply_to.author is not None
        assert ev.reply_to.author.user_id == str(bob.id) and ev.reply_to.author.handle is None


def test_command_for_another_bot_is_not_addressed() -> None:
    with BotApiServer(privacy=False) as server:
        alice = server.create_user("Alice", "alice")
        group = server.create_group("Trip", alice)
        server.send(alice, "/send@otherbot 5", group)
        assert not event_of(server).addressed


def test_new_members_are_learnt(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob", "bob")
    group = server.create_group("Trip", alice, [bob])
    ev = event_of(server, 0)
    assert ev.chat.chat_id == str(group) and ev.text is None
    assert [(p.handle, p.is_bot) for p in ev.members] == [("bob", False), ("finbot_test_bot", True)]


def test_deep_link_start_keeps_its_payload(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    server.follow_link(alice, "https://t.me/finbot_test_bot?start=su_Ab-9")
    assert event_of(server).text == "/start su_Ab-9"


def test_press_becomes_a_press_event(server: BotApiServer) -> None:
    alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob", "bob")
    group = server.create_group("Trip", alice, [bob])
    server._api_sendmessage({"chat_id": group, "text": "card", "reply_markup": {
        "inline_keyboard": [[{"text": "Confirm", "callback_data": "opaque-token"}]]}})
    card = server.messages(group, from_bot=True)[0]
    qid = server.press(bob, card, "Confirm")
    ev = event_of(server)
    assert ev.event_id == f"cb:{qid}" and ev.sender.user_id == str(bob.id)
    assert ev.press is not None and ev.press.data == "opaque-token" and ev.press.press_id == qid
    assert ev.press.message_id == str(card.message_id) and ev.chat.chat_id == str(group)


def test_nothing_for_the_engine_in_a_sticker() -> None:
    update = Update.de_json({"update_id": 5, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
        "from": {"id": 1, "is_bot": False, "first_name": "A"}, "sticker": {
            "file_id": "x", "file_unique_id": "y", "width": 1, "height": 1, "is_animated": False,
            "is_video": False, "type": "regular"}}}, None)
    assert to_event(update, ME) is None


def test_an_edited_message_is_a_new_event_about_the_same_message(server: BotApiServer) -> None:
    alice = server.create_user("Alice", "alice")
    original = server.send(alice, "send 20 to @bob_b")
    first = event_of(server)
    server.edit(alice, original, "send 25 to @bob_b")
    ev = event_of(server)
    assert ev.edited and not first.edited and ev.text == "send 25 to @bob_b"
    assert ev.message_id == first.message_id and ev.event_id != first.event_id
    server.edit(alice, original, "send 30 to @bob_b")
    assert event_of(server).event_id not in (ev.event_id, first.event_id)


def test_leaving_and_kicks_are_learnt_from_service_messages_and_chat_member_updates(server: BotApiServer) -> None:
    """A member who leaves (or is kicked) reaches the engine as an event with `left`, from the service message and
    from the chat_member update alike (the adapter asks for chat_member and my_chat_member in allowed_updates)."""
    from adapters.telegram.app import ALLOWED_UPDATES

    assert {"chat_member", "my_chat_member"} <= set(ALLOWED_UPDATES)
    alice, bob, carol = (server.create_user(n, n.lower()) for n in ("Alice", "Bob", "Carol"))
    gid = server.create_group("trip", alice, [bob, carol])
    first = len(server._updates)
    server.remove_member(gid, bob)
    server.remove_member(gid, carol, kicked=True, by=alice)
    events = [event_of(server, i) for i in range(first, len(server._updates))]
    assert [(e.chat.chat_id, [p.handle for p in e.left]) for e in events] == [(str(gid), ["bob"])] * 2 + [(str(gid), ["carol"])] * 2
    assert all(not e.addressed and not e.members for e in events)
    assert events[-1].sender.handle == "alice"  # the kick names who did it
