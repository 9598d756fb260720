"""Membership: joins and leaves; who left is out of "everyone", and a message or press is no way back in."""

from __future__ import annotations

from sqlmodel import Session

from bot.directory import Directory
from bot.groups import membership
from bot.models import ChatRow, User
from tests.bot.groups.conftest import NOW, Group


def test_left_is_out_until_joined_again(group: Group) -> None:
    g = group
    with Session(g.db) as s:
        assert [u.handle for u in membership.current(s, g.chat_row_id)] == ["alice", "bob", "carol", "dave"]
    g.leave("bob")
    with Session(g.db) as s:
        chat = s.get(ChatRow, g.chat_row_id)
        bob = s.get(User, g.ids["bob"])
        assert chat is not None and bob is not None
        assert not membership.is_member(s, g.chat_row_id, g.ids["bob"])
        assert [u.handle for u in membership.current(s, g.chat_row_id)] == ["alice", "carol", "dave"]
        assert membership.has_left(s, "g:trip", "local", g.ids["bob"])
        Directory().note_member(s, chat, bob)  # what every event from bob does: it does not bring him back
        assert not membership.is_member(s, g.chat_row_id, g.ids["bob"])
        assert [u.handle for u in Directory.members(s, chat)] == ["alice", "carol", "dave"]
        assert not membership.left(s, chat, bob, NOW)  # once
        membership.joined(s, chat, bob)
        assert membership.is_member(s, g.chat_row_id, g.ids["bob"])
        s.commit()
