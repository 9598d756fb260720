"""A migrated database (SQLite and PostgreSQL), its ledger, a group and funded members, for the group-money domain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bot.db import migrate_all
from bot.directory import owner_of
from bot.events import Chat, ChatKind, Event, Person
from bot.groups import membership
from bot.models import ChatRow, User
from ledger import Ledger, TransferSpec, create_engine

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@dataclass
class Group:
    """A test world: database, ledger, the group's row and its members by name."""

    db: sa.Engine
    ledger: Ledger
    chat_row_id: int
    ids: dict[str, int]

    def wallet(self, user_id: int, currency: str) -> int:
        return self.ledger.open_account(owner_of(user_id), currency).id

    def balance(self, name: str, currency: str = "USD") -> int:
        acc = self.ledger.find_account(owner_of(self.ids[name]), currency)
        return self.ledger.balance(acc.id).available if acc is not None else 0

    def fund(self, name: str, amount: int, currency: str = "USD") -> None:
        src = self.ledger.system_account("sandbox_funding", currency).id
        res = self.ledger.create_transfer(TransferSpec(id=f"fund:{name}:{amount}:{currency}", debit_account_id=src,
                                                       credit_account_id=self.wallet(self.ids[name], currency),
                                                       amount=amount))
        assert res.ok, res

    def add(self, name: str, *, started: bool = True) -> int:
        from bot.directory import Directory

        with Session(self.db, expire_on_commit=False) as s:
            user = Directory().user_for(s, Person("local", name, handle=name), NOW)
            user.started = started
            chat = s.get(ChatRow, self.chat_row_id)
            assert chat is not None
            membership.joined(s, chat, user)
            s.commit()
            assert user.id is not None
            self.ids[name] = user.id
            return user.id

    def leave(self, name: str) -> None:
        with Session(self.db) as s:
            chat = s.get(ChatRow, self.chat_row_id)
            user = s.get(User, self.ids[name])
            assert chat is not None and user is not None
            membership.left(s, chat, user, NOW)
            s.commit()


def make_group(url: str, names: tuple[str, ...] = ("alice", "bob", "carol", "dave")) -> Group:
    db = create_engine(url)
    migrate_all(db)
    ledger = Ledger(db, clock=lambda: NOW)
    from bot.directory import Directory

    ev = Event("e0", Chat("local", "g:trip", ChatKind.group, "trip"), Person("local", "alice"), NOW)
    with Session(db, expire_on_commit=False) as s:
        chat = Directory.chat_row(s, ev)
        s.commit()
        assert chat.id is not None
    g = Group(db, ledger, chat.id, {})
    for n in names:
        g.add(n)
    return g


@pytest.fixture
def group(db_url: str) -> Iterator[Group]:
    g = make_group(db_url)
    yield g
    report = g.ledger.check()
    assert report.ok, report.problems
    from bot.groups.reconcile import reconcile

    assert reconcile(g.db, g.ledger) == []
    g.ledger.close()
    g.db.dispose()
