"""A migrated database with a ledger, settings and a few people, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from bot.config import Settings, load_settings
from bot.db import migrate_all
from bot.directory import owner_of
from bot.models import User
from ledger import Ledger, TransferSpec, create_engine

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)


@dataclass
class Env:
    db: sa.Engine
    ledger: Ledger
    settings: Settings

    def user(self, handle: str, *, operator: bool = False, pin: bool = True, lang: str = "en") -> User:
        with Session(self.db, expire_on_commit=False) as s:
            u = User(handle=handle, lang=lang, started=True, private_chat_id=f"dm:{handle}", is_operator=operator,
                     pin_hash="hmac-sha256$x$y" if pin else None, created_at=NOW)
            s.add(u)
            s.commit()
            return u

    def get(self, user_id: int | None) -> User:
        with Session(self.db, expire_on_commit=False) as s:
            u = s.get(User, user_id)
            assert u is not None
            return u

    def fund(self, user: User, minor: int, tid: str, currency: str = "USD") -> int:
        w = self.ledger.open_account(owner_of(user.id or 0), currency, "wallet", label="@" + (user.handle or ""))
        src = self.ledger.system_account("sandbox_funding", currency)
        assert self.ledger.create_transfer(TransferSpec(id=tid, debit_account_id=src.id, credit_account_id=w.id, amount=minor)).ok
        return w.id

    def pay(self, a: User, b: User, minor: int, tid: str, currency: str = "USD") -> None:
        wa = self.ledger.open_account(owner_of(a.id or 0), currency, "wallet", label="@" + (a.handle or ""))
        wb = self.ledger.open_account(owner_of(b.id or 0), currency, "wallet", label="@" + (b.handle or ""))
        assert self.ledger.create_transfer(TransferSpec(id=tid, debit_account_id=wa.id, credit_account_id=wb.id, amount=minor)).ok

    def posted(self, user: User, currency: str = "USD") -> int:
        acc = self.ledger.find_account(owner_of(user.id or 0), currency, "wallet")
        return 0 if acc is None else self.ledger.balance(acc.id).posted


def _env(url: str, tmp_path: Path) -> Iterator[Env]:
    db = create_engine(url)
    migrate_all(db)
    ledger = Ledger(db, clock=lambda: NOW)
    settings = load_settings(database_url=url, output_dir=tmp_path / "out", pin_key_file=str(tmp_path / "pin.key"))
    yield Env(db, ledger, settings)
    assert ledger.check().ok
    ledger.close()
    db.dispose()


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Iterator[Env]:
    """On SQLite and on PostgreSQL."""
    yield from _env(db_url, tmp_path)


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path) -> Iterator[Env]:
    """On SQLite only: for the paths whose SQL is the same on both (the both-database tests cover the rest)."""
    yield from _env(sqlite_url, tmp_path)
