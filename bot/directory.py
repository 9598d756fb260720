"""People and chats: ids per messenger, handle history, group membership. Money follows ids."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.events import ChatKind, Event, Person
from bot.i18n import normalize_lang
from bot.models import ChatMember, ChatRow, HandleHistory, Identity, User


def owner_of(user_id: int) -> str:
    """The ledger owner string of a user's accounts."""
    return f"user:{user_id}"


def display(user: User) -> str:
    """How a user is named to others: @handle, else their name."""
    if user.handle:
        return "@" + user.handle
    return user.name or f"user {user.id}"


class Directory:
    """Reads and updates who is who; every method works inside the caller's session."""

    def __init__(self, default_lang: str = "en", default_currency: str = "USD") -> None:
        self.default_lang = default_lang
        self.default_currency = default_currency

    def user_for(self, s: Session, person: Person, now: datetime) -> User:
        """The user behind a messenger identity, created on first sight, handle and language kept fresh."""
        # one statement, not the identity and then its user: this runs for every event
        found = s.exec(
            select(User)
            .join(Identity, col(Identity.user_id) == col(User.id))
            .where(Identity.messenger == person.messenger, Identity.external_id == person.user_id)
        ).first()
        if found is not None:
            user = found
        else:
            user = User(
                lang=normalize_lang(person.lang, self.default_lang),
                currency=self.default_currency,
                name=person.name,
                created_at=now,
            )
            s.add(user)
            s.flush()
            assert user.id is not None
            s.add(Identity(user_id=user.id, messenger=person.messenger, external_id=person.user_id))
        if person.is_bot and not user.is_bot:
            user.is_bot = True
        if person.name and person.name != user.name:
            user.name = person.name
        if person.lang and not user.lang_chosen:
            user.lang = normalize_lang(person.lang, user.lang)
        self._set_handle(s, user, person.handle, now)
        return user

    def _set_handle(self, s: Session, user: User, handle: str | None, now: datetime) -> None:
        new = handle.lower().lstrip("@") if handle else None
        if new == user.handle:
            return
        if new:
            # someone else held this handle before: it is theirs no more
            for other in s.exec(select(User).where(User.handle == new, User.id != user.id)).all():
                other.handle = None
                self._close_history(s, other.id, now)
                # their accounts no longer carry the handle: they get their name (for the ledger, after commit)
                s.info.setdefault("relabelled", []).append((other.id, display(other)))
        self._close_history(s, user.id, now)
        user.handle = new
        if new:
            assert user.id is not None
            s.add(HandleHistory(user_id=user.id, handle=new, seen_from=now))
            s.info.setdefault("relabelled", []).append((user.id, "@" + new))  # for the ledger, after commit

    @staticmethod
    def _close_history(s: Session, user_id: int | None, now: datetime) -> None:
        for row in s.exec(
            select(HandleHistory).where(
                HandleHistory.user_id == user_id, col(HandleHistory.seen_until).is_(None)
            )
        ).all():
            row.seen_until = now

    @staticmethod
    def by_handle(s: Session, handle: str) -> User | None:
        """The user who holds this handle now."""
        return s.exec(select(User).where(User.handle == handle.lower().lstrip("@"))).first()

    @staticmethod
    def chat_row(s: Session, ev: Event) -> ChatRow:
        """The chat of an event, recorded on first sight."""
        row = s.exec(
            select(ChatRow).where(
                ChatRow.messenger == ev.chat.messenger, ChatRow.chat_id == ev.chat.chat_id
            )
        ).first()
        if row is None:
            row = ChatRow(
                messenger=ev.chat.messenger,
                chat_id=ev.chat.chat_id,
                kind=ev.chat.kind.value,
                title=ev.chat.title,
            )
            s.add(row)
            s.flush()
        return row

    def note_member(self, s: Session, chat: ChatRow, user: User) -> None:
        """Remember that a user is in a group (one who left stays out until a join says otherwise:
        a press or a redelivered message is no way back in; bot/groups/membership.py records joins)."""
        if chat.kind != ChatKind.group.value:
            return
        exists = s.exec(
            select(ChatMember).where(ChatMember.chat_row_id == chat.id, ChatMember.user_id == user.id)
        ).first()
        if exists is None:
            assert chat.id is not None and user.id is not None
            s.add(ChatMember(chat_row_id=chat.id, user_id=user.id))
            s.flush()

    @staticmethod
    def members(s: Session, chat: ChatRow) -> list[User]:
        """Everyone in a group now (seen there, and not left since)."""
        return list(
            s.exec(
                select(User)
                .join(ChatMember, col(ChatMember.user_id) == col(User.id))
                .where(ChatMember.chat_row_id == chat.id, col(ChatMember.left_at).is_(None), col(User.is_bot) == False)  # noqa: E712
            ).all()
        )

    def resolve_name(self, s: Session, chat: ChatRow, name: str) -> list[User]:
        """Users a bare name may mean in this chat: handle or first name, case-insensitive."""
        name = name.lower()
        pool = self.members(s, chat) if chat.kind == ChatKind.group.value else []
        exact = self.by_handle(s, name)
        found = [u for u in pool if (u.handle == name) or (u.name or "").lower().split(" ")[0] == name]
        if exact is not None and all(u.id != exact.id for u in found):
            found.append(exact)
        return found
