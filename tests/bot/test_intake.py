"""The engine's intake refuses a NUL byte in a message with a clear answer, whatever adapter sent it."""

from __future__ import annotations

from adapters.local.world import LocalWorld
from bot.events import Chat, ChatKind, Event, Person, Press
from tests.bot.test_engine import balance, onboard


def test_nul_bytes_anywhere_in_an_event_never_crash_the_engine(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$20")
    onboard(world, "bob")
    dm = Chat("local", "dm:alice", ChatKind.private)
    alice = Person("local", "alice", handle="alice", name="Al\x00ice")
    said = world.engine.handle(Event("nul-1\x00", dm, alice, world.now(), text="send $5\x00 to @bob", message_id="m\x001"))
    assert len(said) == 1 and "NUL" in said[0].text
    pressed = world.engine.handle(Event("nul-2", dm, alice, world.now(), press=Press("p\x00", "tok\x00en", None)))
    assert pressed and "no longer valid" in pressed[0].text
    assert balance(world, "bob") == 0 and balance(world, "alice") == 2000
