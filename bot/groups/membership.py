"""Who is in a group now: joined (a message, a `members` line, a chat_member update) or left (left, kicked)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.models import ChatMember, ChatRow, User


def _row(s: Session, chat: ChatRow, user: User) -> ChatMember | None:
    return s.exec(select(ChatMember).where(ChatMember.chat_row_id == chat.id, ChatMember.user_id == user.id)).first()


def joined(s: Session, chat: ChatRow, user: User) -> None:
    """`user` is in the group (again): part of "everyone" from now on."""
    if chat.kind != "group":
        return
    row = _row(s, chat, user)
    if row is None:
        assert chat.id is not None and user.id is not None
        s.add(ChatMember(chat_row_id=chat.id, user_id=user.id))
        s.flush()
    elif row.left_at is not None:
        row.left_at = None
        s.flush()


def left(s: Session, chat: ChatRow, user: User, now: datetime) -> bool:
    """`user` left or was removed: no longer in "everyone", cannot claim or pay in; True when this changed it."""
    if chat.kind != "group":
        return False
    row = _row(s, chat, user)
    if row is None:
        assert chat.id is not None and user.id is not None
        s.add(ChatMember(chat_row_id=chat.id, user_id=user.id, left_at=now))
        s.flush()
        return True
    if row.left_at is not None:
        return False
    row.left_at = now
    s.flush()
    return True


def is_member(s: Session, chat_row_id: int, user_id: int) -> bool:
    """Whether the user is in the group now (seen there and not left since)."""
    row = s.exec(select(ChatMember).where(ChatMember.chat_row_id == chat_row_id, ChatMember.user_id == user_id)).first()
    return row is not None and row.left_at is None


def current(s: Session, chat_row_id: int) -> list[User]:
    """Everyone in the group now (people, not bots), in the order they were first seen."""
    return list(s.exec(
        select(User).join(ChatMember, col(ChatMember.user_id) == col(User.id))
        .where(ChatMember.chat_row_id == chat_row_id, col(ChatMember.left_at).is_(None), col(User.is_bot) == False)  # noqa: E712
        .order_by(col(ChatMember.id))
    ).all())


def has_left(s: Session, chat_id: str, messenger: str, user_id: int) -> bool:
    """Whether the user left the group chat `chat_id`: the bot tells them nothing more from it."""
    chat = s.exec(select(ChatRow).where(ChatRow.messenger == messenger, ChatRow.chat_id == chat_id)).first()
    if chat is None or chat.kind != "group":
        return False
    row = s.exec(select(ChatMember).where(ChatMember.chat_row_id == chat.id, ChatMember.user_id == user_id)).first()
    return row is not None and row.left_at is not None
