"""`ledger check`'s view of group money: every red-packet part and pot payment against its hold, and every
group-hold account against the rows it holds for (nothing held that no row names, nothing left posted)."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.groups import holds
from bot.groups.models import PacketPart, PotPayment, RedPacket
from ledger import Ledger

# the row statuses each hold fate may stand beside (a row in flight may still see the hold as held)
_PART_OK: dict[str, set[str | None]] = {"held": {holds.HELD}, "returning": {holds.HELD, holds.VOIDED}, "claiming": {holds.HELD, holds.POSTED},
            "claimed": {holds.POSTED}, "returned": {holds.VOIDED}}
_PAY_OK: dict[str, set[str | None]] = {"paying": {None, holds.HELD, holds.VOIDED}, "held": {holds.HELD}, "paid": {holds.POSTED},
           "refunded": {holds.VOIDED}, "failed": {None}}


def reconcile(db: sa.Engine, ledger: Ledger) -> list[str]:
    """What does not match; empty when every group hold agrees with its row."""
    problems: list[str] = []
    if not sa.inspect(db).has_table("bot_packet_parts"):
        return problems
    held: dict[str, int] = defaultdict(int)
    named: set[str] = set()
    with Session(db) as s:
        parts = list(s.exec(select(PacketPart, RedPacket).join(RedPacket, col(RedPacket.id) == col(PacketPart.packet_id))
                            .order_by(col(PacketPart.id))).all())
        pays = list(s.exec(select(PotPayment).order_by(col(PotPayment.id))).all())
    for part, packet in parts:
        named.add(part.transfer_id)
        fate = holds.fate(ledger, part.transfer_id)
        if fate not in _PART_OK.get(part.status, set()):
            problems.append(f"bot_packet_parts id={part.id} ({part.status}): the ledger says its hold is {fate}")
        if fate == holds.HELD:
            held[packet.currency] += part.amount
    for pay in pays:
        named.add(pay.transfer_id)
        fate = holds.fate(ledger, pay.transfer_id)
        if fate not in _PAY_OK.get(pay.status, set()):
            problems.append(f"bot_pot_payments id={pay.id} ({pay.status}): the ledger says its hold is {fate}")
        if fate == holds.HELD:
            held[pay.currency] += pay.amount
    for acc in ledger.accounts("system"):
        if acc.kind != holds.KIND:
            continue
        for h in ledger.open_holds(acc.id):
            if h.id not in named:
                problems.append(f"ledger_transfers id={h.id!r}: a group hold that no packet part or pot payment names")
        bal = ledger.balance(acc.id)
        if bal.credits_pending != held.get(acc.asset, 0):
            problems.append(f"ledger_accounts id={acc.id} (group_hold {acc.asset}): {bal.credits_pending} on hold, "
                            f"the rows say {held.get(acc.asset, 0)}")
        if bal.posted != 0:
            problems.append(f"ledger_accounts id={acc.id} (group_hold {acc.asset}): posted balance {bal.posted}, "
                            "where every posted hold was paid on (0)")
    return problems


def report(db: sa.Engine, ledger: Ledger) -> tuple[list[str], str]:
    """The problems and what to add to `ledger check`'s last line ("" where there are no group tables)."""
    if not sa.inspect(db).has_table("bot_packet_parts"):
        return [], ""
    problems = reconcile(db, ledger)
    if problems:
        return problems, f"; group holds: {len(problems)} problems"
    return [], "; every group hold matches its packet part or pot payment"
