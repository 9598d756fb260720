"""`/admin stats`: people, volume per currency, pending cards, failed executions, locked and frozen, dead letters."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import deadletters
from bot.i18n import t
from bot.models import Action, User
from bot.operators.audit import to_us
from bot.operators.models import AccountStanding
from bot.operators.standing import locked_count
from ledger import Ledger, TransferFlag
from ledger.db import READ_ONLY
from ledger.tables import transfers as transfers_t

WINDOWS = (("today", None), ("7d", 7), ("30d", 30))


@dataclass(frozen=True)
class Stats:
    """The figures of one `/admin stats`."""

    started: int
    active_7d: int
    volume: dict[str, dict[str, int]] = field(default_factory=dict)  # window -> currency -> minor units
    pending_cards: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # result code -> count
    locked: int = 0
    frozen: int = 0
    dead_letters: int = 0


def volume(ledger: Ledger, since: datetime) -> dict[str, int]:
    """Minor units moved since `since`, per currency: posted single-phase transfers and posted holds
    (shares are not money: their assets are left out)."""
    t = transfers_t
    skip = int(TransferFlag.PENDING | TransferFlag.VOID_PENDING_TRANSFER)
    q = (sa.select(t.c.asset, sa.func.sum(t.c.amount)).where(t.c.created_us >= to_us(since), t.c.flags.op("&")(skip) == 0,
                                                             t.c.reverses_id.is_(None))
         .group_by(t.c.asset))
    with ledger.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        return {str(a): int(n) for a, n in conn.execute(q) if ":" not in str(a)}


def gather(s: Session, ledger: Ledger, now: datetime) -> Stats:
    """Read every figure (the session's reads and the ledger's)."""
    started = int(s.exec(select(sa.func.count()).select_from(User).where(col(User.started).is_(True))).one())
    active = int(s.exec(select(sa.func.count(sa.distinct(col(Action.initiator_id)))).where(
        col(Action.created_at) >= now - timedelta(days=7))).one())
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    vol = {name: volume(ledger, day if days is None else now - timedelta(days=days)) for name, days in WINDOWS}
    pending = int(s.exec(select(sa.func.count()).select_from(Action).where(
        col(Action.status).in_(("awaiting_confirm", "awaiting_stepup")))).one())
    failed: dict[str, int] = defaultdict(int)
    for code, n in s.exec(select(Action.result, sa.func.count()).where(Action.status == "failed").group_by(Action.result)).all():
        failed[str(code)] += int(n)
    frozen = int(s.exec(select(sa.func.count()).select_from(AccountStanding).where(col(AccountStanding.frozen).is_(True))).one())
    dead = deadletters.count(s.connection())
    return Stats(started, active, vol, pending, dict(failed), locked_count(s, now), frozen, dead)


def render(st: Stats, lang: str) -> str:
    """The figures as the operator reads them."""
    from bot.actions import money_text

    lines = [t(lang, "People: {started} started, {active} active in 7 days", started=st.started, active=st.active_7d)]
    names = {"today": t(lang, "today"), "7d": t(lang, "7 days"), "30d": t(lang, "30 days")}
    for window, per in st.volume.items():
        moved = ", ".join(money_text(n, cur, lang) for cur, n in sorted(per.items())) or "0"
        lines.append(t(lang, "Volume {window}: {moved}", window=names[window], moved=moved))
    lines.append(t(lang, "Pending cards: {n}", n=st.pending_cards))
    fails = ", ".join(f"{code} {n}" for code, n in sorted(st.failed.items())) or "0"
    lines.append(t(lang, "Failed executions: {fails}", fails=fails))
    lines.append(t(lang, "Locked: {locked}, frozen: {frozen}", locked=st.locked, frozen=st.frozen))
    lines.append(t(lang, "Dead letters: {n}", n=st.dead_letters))
    return "\n".join(lines)

