"""Red packets: the sender's amount held as one hold a part; members claim a part each; the rest goes back at expiry.

A claim first takes a part's row (a conditional update: one claimer a part; a unique key: one part a person),
commits, and only then pays that part's hold on to the claimer, with ledger ids derived from the packet and the
part. So claims racing from many people and processes never pay more parts than there are nor one person twice,
and a claim interrupted after its row was taken is paid by `resume`. Eligibility is checked at payout: a member
of the group now, has started the bot, not the sender, before the packet expires.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.clock import aware
from bot.groups import holds, membership
from bot.groups.models import PacketPart, RedPacket
from bot.models import User
from ledger import Ledger, TransferSpec

EQUAL, LUCKY = "equal", "lucky"
Wallet = Callable[[int, str], int]  # (user id, currency) -> wallet account id


class PacketProblem(Exception):
    """A red packet that cannot be made: `code` says why (too_small, no_parts)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def split_parts(amount: int, count: int, mode: str = EQUAL, randbelow: Callable[[int], int] = secrets.randbelow) -> list[int]:
    """`count` parts of `amount` minor units, each at least one unit, summing exactly. Equal: largest remainder
    (the first parts take the leftover units). Lucky: each part uniform in [1, twice the mean of what is left]
    (WeChat's rule), bounded so every later part still gets a unit; randomness from `secrets`."""
    if count < 1:
        raise PacketProblem("no_parts")
    if amount < count:
        raise PacketProblem("too_small")
    if mode != LUCKY:
        base, extra = divmod(amount, count)
        return [base + (1 if i < extra else 0) for i in range(count)]
    out: list[int] = []
    left = amount
    for i in range(count - 1):
        people = count - i
        most = min(left - (people - 1), 2 * left // people)
        part = 1 + randbelow(max(most, 1))
        out.append(part)
        left -= part
    out.append(left)
    return out


def part_transfer_id(packet_id: str, idx: int) -> str:
    """The hold of one part: derived from the packet and the part, so no part is held or paid twice."""
    return f"{packet_id}:part{idx}"


def fund_specs(packet_id: str, wallet: int, held: int, parts: list[int], memo: str | None) -> list[TransferSpec]:
    """The holds of every part, one linked batch: all held or none."""
    last = len(parts) - 1
    return [holds.hold(part_transfer_id(packet_id, i), wallet, held, amount, linked=i != last, memo=memo or "red packet")
            for i, amount in enumerate(parts)]


def record(s: Session, packet_id: str, *, chat_row_id: int, chat_id: str, sender_id: int, currency: str,
           parts: list[int], mode: str, note: str | None, expires_at: datetime, now: datetime) -> RedPacket:
    """The packet's rows once its holds are on the ledger (again after a crash: nothing written twice)."""
    found = s.get(RedPacket, packet_id)
    if found is not None:
        return found
    p = RedPacket(id=packet_id, chat_row_id=chat_row_id, chat_id=chat_id, sender_id=sender_id, amount=sum(parts),
                  currency=currency, count=len(parts), mode=mode, note=note, expires_at=expires_at, created_at=now)
    s.add(p)
    s.flush()
    for i, amount in enumerate(parts):
        s.add(PacketPart(packet_id=packet_id, idx=i, amount=amount, transfer_id=part_transfer_id(packet_id, i)))
    s.flush()
    return p


@dataclass(frozen=True)
class Claim:
    """What a claim came to: `code` ok, or why not (not_member, not_started, own_packet, already_claimed,
    all_claimed, expired, no_packet, pending); `amount` and `idx` of the part paid."""

    code: str
    amount: int = 0
    idx: int = -1
    currency: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "ok"


def _refusal(s: Session, p: RedPacket | None, user_id: int, now: datetime) -> str | None:
    if p is None:
        return "no_packet"
    mine = s.exec(select(PacketPart).where(PacketPart.packet_id == p.id, PacketPart.claimer_id == user_id)).first()
    if mine is not None:
        return "already_claimed"
    if p.sender_id == user_id:
        return "own_packet"
    if p.status == "expired" or now >= (aware(p.expires_at) or now):
        return "expired"
    if not membership.is_member(s, p.chat_row_id, user_id):
        return "not_member"
    user = s.get(User, user_id)
    if user is None or not user.started:
        return "not_started"
    if p.status != "open":
        return "all_claimed"
    return None


def take(db: sa.Engine, packet_id: str, user_id: int, now: datetime) -> Claim | PacketPart:
    """Take a free part for `user_id` (committed), or say why not."""
    with Session(db, expire_on_commit=False) as s:
        p = s.get(RedPacket, packet_id)
        why = _refusal(s, p, user_id, now)
        if why is not None:
            return Claim(why)
        assert p is not None
        while True:
            q = (select(PacketPart).where(PacketPart.packet_id == packet_id, col(PacketPart.claimer_id).is_(None),
                                          PacketPart.status == "held").order_by(col(PacketPart.idx)).limit(1))
            if db.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            part = s.exec(q).first()
            if part is None:
                s.rollback()
                return Claim("all_claimed")
            try:
                moved = s.execute(sa.update(PacketPart).where(
                    col(PacketPart.id) == part.id, col(PacketPart.claimer_id).is_(None), col(PacketPart.status) == "held",
                ).values(claimer_id=user_id, status="claiming", claimed_at=now)).rowcount  # type: ignore[attr-defined]
                s.commit()
            except IntegrityError:  # the same person claiming from elsewhere at this very moment
                s.rollback()
                return Claim("already_claimed")
            if moved == 1:
                part.claimer_id, part.status = user_id, "claiming"
                return part
            s.rollback()


def pay(db: sa.Engine, ledger: Ledger, part: PacketPart, currency: str, wallet: Wallet, now: datetime) -> str | None:
    """Pay a taken part's hold on to its claimer; the ledger's fate written on the row (None: try again later)."""
    assert part.claimer_id is not None
    fate = holds.pay_out(ledger, part.transfer_id, holds.account(ledger, currency), wallet(part.claimer_id, currency),
                         part.amount, "red packet")
    status = {holds.POSTED: "claimed", holds.VOIDED: "returned"}.get(fate or "")
    if status is None:
        return None
    with Session(db) as s:
        s.execute(sa.update(PacketPart).where(col(PacketPart.id) == part.id, col(PacketPart.status) == "claiming")
                  .values(status=status))
        left = s.exec(select(sa.func.count()).select_from(PacketPart).where(
            PacketPart.packet_id == part.packet_id, col(PacketPart.status).in_(("held", "claiming")))).one()
        if int(left) == 0:
            s.execute(sa.update(RedPacket).where(col(RedPacket.id) == part.packet_id, col(RedPacket.status) == "open")
                      .values(status="done", done_at=now))
        s.commit()
    return status


def claim(db: sa.Engine, ledger: Ledger, packet_id: str, user_id: int, wallet: Wallet, now: datetime) -> Claim:
    """Claim one part of a packet for `user_id`: eligibility at payout, one part a person, never more than there are."""
    got = take(db, packet_id, user_id, now)
    if isinstance(got, Claim):
        return got
    with Session(db) as s:
        p = s.get(RedPacket, packet_id)
        currency = p.currency if p is not None else ""
    status = pay(db, ledger, got, currency, wallet, now)
    if status == "claimed":
        return Claim("ok", got.amount, got.idx, currency)
    if status == "returned":
        return Claim("expired")
    return Claim("pending", got.amount, got.idx, currency)


@dataclass(frozen=True)
class Expired:
    """A packet whose time ran out: what went back to its sender."""

    packet_id: str
    chat_id: str
    sender_id: int
    returned: int
    currency: str
    claimed: int


def expire_due(db: sa.Engine, ledger: Ledger, now: datetime, wallet: Wallet) -> list[Expired]:
    """Packets past their expiry: parts not taken go back to the sender (voided); parts taken before are paid."""
    out: list[Expired] = []
    with Session(db, expire_on_commit=False) as s:
        due = list(s.exec(select(RedPacket).where(RedPacket.status == "open", col(RedPacket.expires_at) <= now)).all())
    for p in due:
        with Session(db, expire_on_commit=False) as s:
            moved = s.execute(sa.update(RedPacket).where(col(RedPacket.id) == p.id, col(RedPacket.status) == "open")
                              .values(status="expired", done_at=now)).rowcount  # type: ignore[attr-defined]
            if moved != 1:
                s.rollback()
                continue
            s.execute(sa.update(PacketPart).where(col(PacketPart.packet_id) == p.id, col(PacketPart.claimer_id).is_(None),
                                                  col(PacketPart.status) == "held").values(status="returning"))
            s.commit()
        returned = _return_parts(db, ledger, p.id)
        resume(db, ledger, wallet, now, packet_id=p.id)
        with Session(db) as s:
            claimed = int(s.exec(select(sa.func.count()).select_from(PacketPart).where(
                PacketPart.packet_id == p.id, PacketPart.status == "claimed")).one())
        out.append(Expired(p.id, p.chat_id, p.sender_id, returned, p.currency, claimed))
    return out


def _return_parts(db: sa.Engine, ledger: Ledger, packet_id: str | None = None) -> int:
    """Void every part marked for return (again after a crash); the minor units given back."""
    total = 0
    with Session(db, expire_on_commit=False) as s:
        q = select(PacketPart).where(PacketPart.status == "returning")
        if packet_id is not None:
            q = q.where(PacketPart.packet_id == packet_id)
        parts = list(s.exec(q).all())
    for part in parts:
        fate = holds.give_back(ledger, part.transfer_id, "red packet returned")
        if fate == holds.VOIDED:
            total += part.amount
            status = "returned"
        elif fate == holds.POSTED:  # cannot happen (a returning part has no claimer), said rather than hidden
            status = "claimed"
        else:
            continue
        with Session(db) as s:
            s.execute(sa.update(PacketPart).where(col(PacketPart.id) == part.id, col(PacketPart.status) == "returning")
                      .values(status=status))
            s.commit()
    return total


def resume(db: sa.Engine, ledger: Ledger, wallet: Wallet, now: datetime, packet_id: str | None = None) -> int:
    """Finish claims whose row was taken but whose payout did not happen (a crash), and returns begun; how many."""
    done = _return_parts(db, ledger, packet_id)
    with Session(db, expire_on_commit=False) as s:
        q = select(PacketPart, RedPacket).join(RedPacket, col(RedPacket.id) == col(PacketPart.packet_id)).where(
            PacketPart.status == "claiming")
        if packet_id is not None:
            q = q.where(PacketPart.packet_id == packet_id)
        rows = list(s.exec(q).all())
    for part, p in rows:
        if pay(db, ledger, part, p.currency, wallet, now) is not None:
            done += 1
    return done


def progress(s: Session, packet_id: str) -> tuple[int, int, int]:
    """(parts claimed, parts in all, minor units claimed) of a packet."""
    parts = list(s.exec(select(PacketPart).where(PacketPart.packet_id == packet_id)).all())
    taken = [p for p in parts if p.status in ("claimed", "claiming")]
    return len(taken), len(parts), sum(p.amount for p in taken)


def claimers(s: Session, packet_id: str) -> list[tuple[User, int]]:
    """Who claimed what, in the order of the parts."""
    rows = s.exec(select(PacketPart, User).join(User, col(User.id) == col(PacketPart.claimer_id))
                  .where(PacketPart.packet_id == packet_id, col(PacketPart.status).in_(("claimed", "claiming")))
                  .order_by(col(PacketPart.idx))).all()
    return [(u, part.amount) for part, u in rows]
