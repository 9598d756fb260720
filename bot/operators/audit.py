"""The audit chain: every operator act and approval, append-only, each row's hash covering the row before it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.operators.models import AuditHead, AuditRow

GENESIS = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(dt: datetime) -> int:
    """Epoch microseconds of a datetime (naive ones are UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    """The aware UTC datetime of epoch microseconds."""
    return _EPOCH + timedelta(microseconds=us)


def _s(v: str | None) -> str:
    return "~" if v is None else f"{len(v)}:{v}"


def _i(v: int | None) -> str:
    return "~" if v is None else str(v)


def row_hash(prev_hash: str, seq: int, at_us: int, actor_id: int | None, verb: str, target_id: int | None,
             reason: str | None, detail: str, approval_id: str | None, approver_id: int | None) -> str:
    """SHA-256 (hex) of the previous hash and every field of the row, `|`-separated, texts length-prefixed and
    None written `~` (as the ledger's transfers are chained), so no two different rows encode alike."""
    payload = (f"{prev_hash}|{seq}|{at_us}|{_i(actor_id)}|{_s(verb)}|{_i(target_id)}|{_s(reason)}|{_s(detail)}|"
               f"{_s(approval_id)}|{_i(approver_id)}")
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def canonical(data: dict[str, Any]) -> str:
    """Sorted, compact JSON: the form `detail` is hashed in."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def append(s: Session, *, at: datetime, actor_id: int | None, verb: str, target_id: int | None = None,
           reason: str | None = None, detail: dict[str, Any] | None = None, approval_id: str | None = None,
           approver_id: int | None = None) -> AuditRow:
    """Append one row in the caller's transaction. The head row is locked first (FOR UPDATE on PostgreSQL; the
    write lock on SQLite), so concurrent appends queue and each names the one before it."""
    head = s.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        s.add(head)
        s.flush()
    seq = head.seq + 1
    at_us = to_us(at)
    body = canonical(detail or {})
    h = row_hash(head.hash, seq, at_us, actor_id, verb, target_id, reason, body, approval_id, approver_id)
    row = AuditRow(seq=seq, at_us=at_us, actor_id=actor_id, verb=verb, target_id=target_id, reason=reason,
                   detail=body, approval_id=approval_id, approver_id=approver_id, prev_hash=head.hash, hash=h)
    s.add(row)
    head.seq, head.hash = seq, h
    s.flush()
    return row


@dataclass(frozen=True)
class AuditReport:
    """Whether the chain holds; `first_broken` is the seq of the first row that does not."""

    ok: bool
    rows: int
    first_broken: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line: what was checked."""
        if self.ok:
            return f"audit chain: {self.rows} rows, every hash verified"
        return f"audit chain BROKEN at seq={self.first_broken}: {self.problems[0]}"


def verify(conn: sa.Connection) -> AuditReport:
    """Walk the whole chain in seq order; name the first row whose seq, link or hash does not hold."""
    insp = sa.inspect(conn)
    if not insp.has_table(AuditRow.__tablename__):
        return AuditReport(True, 0)
    t = AuditRow.__table__  # type: ignore[attr-defined]
    rows = conn.execute(sa.select(t).order_by(t.c.seq)).all()
    head = conn.execute(sa.select(AuditHead.__table__)).all()  # type: ignore[attr-defined]
    problems: list[str] = []
    first: int | None = None
    prev = GENESIS
    for expected, r in enumerate(rows, start=1):
        why = None
        if r.seq != expected:
            why = f"bot_audit seq={r.seq}: seq {r.seq} where {expected} was expected (a row is missing or moved)"
        elif r.prev_hash != prev:
            why = f"bot_audit seq={r.seq}: prev_hash does not name the row before it"
        elif r.hash != row_hash(prev, int(r.seq), int(r.at_us), r.actor_id, str(r.verb), r.target_id, r.reason,
                                str(r.detail), r.approval_id, r.approver_id):
            why = f"bot_audit seq={r.seq}: hash does not match the row's fields and the previous hash (edited?)"
        if why is not None:
            problems.append(why)
            if first is None:
                first = int(r.seq)
        prev = str(r.hash)
    last = int(rows[-1].seq) if rows else 0
    if rows or head:
        if len(head) != 1 or head[0].seq != last or head[0].hash != prev:
            problems.append(f"bot_audit_head: does not point at the chain's last row seq={last} (a row deleted at the end?)")
            if first is None:
                first = last + 1 if not head else min(last, int(head[0].seq)) + 1
    return AuditReport(not problems, len(rows), first, problems)


def recent(s: Session, *, target_id: int | None = None, since: datetime | None = None, limit: int = 20) -> list[AuditRow]:
    """The newest rows first, of one person when `target_id` is given, from `since` when given."""
    q = select(AuditRow)
    if target_id is not None:
        q = q.where(sa.or_(col(AuditRow.target_id) == target_id, col(AuditRow.actor_id) == target_id))
    if since is not None:
        q = q.where(col(AuditRow.at_us) >= to_us(since))
    return list(s.exec(q.order_by(col(AuditRow.seq).desc()).limit(limit)).all())
