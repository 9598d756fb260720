"""Red packets: parts that sum exactly; one part a person; never more parts paid than there are; the rest back."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from bot.groups import holds, packets
from bot.groups.models import PacketPart, RedPacket
from tests.bot.groups.conftest import NOW, Group, make_group

ROOT = Path(__file__).resolve().parents[3]


@given(amount=st.integers(1, 10**7), count=st.integers(1, 200), lucky=st.booleans())
def test_parts_sum_exactly_and_each_is_at_least_one_unit(amount: int, count: int, lucky: bool) -> None:
    if amount < count:
        with pytest.raises(packets.PacketProblem):
            packets.split_parts(amount, count, packets.LUCKY if lucky else packets.EQUAL)
        return
    parts = packets.split_parts(amount, count, packets.LUCKY if lucky else packets.EQUAL)
    assert len(parts) == count and sum(parts) == amount and min(parts) >= 1
    if not lucky:
        assert max(parts) - min(parts) <= 1


def test_lucky_parts_vary() -> None:
    seen = {tuple(packets.split_parts(2000, 5, packets.LUCKY)) for _ in range(20)}
    assert len(seen) > 1


def fund(g: Group, packet_id: str, sender: str, amount: int, count: int, mode: str = packets.EQUAL,
         hours: int = 24) -> list[int]:
    parts = packets.split_parts(amount, count, mode)
    specs = packets.fund_specs(packet_id, g.wallet(g.ids[sender], "USD"), holds.account(g.ledger, "USD"), parts, None)
    assert all(r.ok for r in g.ledger.create_transfers(specs))
    with Session(g.db) as s:
        packets.record(s, packet_id, chat_row_id=g.chat_row_id, chat_id="g:trip", sender_id=g.ids[sender], currency="USD",
                       parts=parts, mode=mode, note=None, expires_at=NOW + timedelta(hours=hours), now=NOW)
        s.commit()
    return parts


def test_claims_attacks_and_the_rest_back_at_expiry(group: Group) -> None:
    g = group
    g.add("erin", started=False)
    g.add("frank")
    g.leave("frank")
    g.fund("alice", 5000)
    fund(g, "p1", "alice", 2000, 3)
    assert g.balance("alice") == 3000  # held, not spendable
    claim = lambda who, at=NOW: packets.claim(g.db, g.ledger, "p1", g.ids[who], g.wallet, at)  # noqa: E731
    assert claim("alice").code == "own_packet"
    assert claim("erin").code == "not_started"
    assert claim("frank").code == "not_member"
    first = claim("bob")
    assert first.ok and first.amount == 667
    assert claim("bob").code == "already_claimed"
    assert claim("carol").ok
    assert g.balance("bob") == 667 and g.balance("carol") == 667
    # a claim after expiry pays nothing; the sweep gives the last part back to alice
    late = NOW + timedelta(hours=25)
    assert claim("dave", late).code == "expired"
    gone = packets.expire_due(g.db, g.ledger, late, g.wallet)
    assert [(e.returned, e.claimed) for e in gone] == [(666, 2)]
    assert packets.expire_due(g.db, g.ledger, late, g.wallet) == []  # once
    assert g.balance("alice") == 3666 and g.balance("dave") == 0
    with Session(g.db) as s:
        assert s.get(RedPacket, "p1").status == "expired"  # type: ignore[union-attr]


def test_all_parts_claimed_then_none_left(group: Group) -> None:
    g = group
    g.fund("alice", 1000)
    fund(g, "p2", "alice", 1000, 2, packets.LUCKY)
    got = [packets.claim(g.db, g.ledger, "p2", g.ids[n], g.wallet, NOW) for n in ("bob", "carol", "dave")]
    assert [c.code for c in got] == ["ok", "ok", "all_claimed"]
    assert got[0].amount + got[1].amount == 1000 and g.balance("dave") == 0
    with Session(g.db) as s:
        assert s.get(RedPacket, "p2").status == "done"  # type: ignore[union-attr]


def test_a_claim_interrupted_after_taking_its_part_is_paid_by_resume(group: Group) -> None:
    g = group
    g.fund("alice", 1000)
    fund(g, "p3", "alice", 900, 3)
    part = packets.take(g.db, "p3", g.ids["bob"], NOW)  # the row is taken; the process dies before the ledger
    assert isinstance(part, PacketPart)
    assert packets.claim(g.db, g.ledger, "p3", g.ids["bob"], g.wallet, NOW).code == "already_claimed"
    assert packets.resume(g.db, g.ledger, g.wallet, NOW) == 1
    assert g.balance("bob") == 300
    assert packets.resume(g.db, g.ledger, g.wallet, NOW) == 0


def race_args(url: str, claimers: int, parts: int, procs: int, dup: bool) -> list[str]:
    return [sys.executable, "-m", "tests.bot.groups.claim_race", url, str(claimers), str(parts), str(procs),
            "dup" if dup else "one"]


@pytest.mark.parametrize("claimers,parts,procs,dup", [
    (20, 5, 4, True),  # the suite's short race: every process claims for every person at once
    pytest.param(50, 10, 4, False, marks=pytest.mark.soak),  # the race: 50 claimers, 10 parts, 4 processes
    pytest.param(50, 10, 4, True, marks=pytest.mark.soak),
], ids=["short-20x5x4-dup", "soak-50x10x4", "soak-50x10x4-dup"])
def test_claim_race_many_processes_on_postgres(pg_url: str, claimers: int, parts: int, procs: int, dup: bool) -> None:
    """Claimers racing for fewer parts from several real processes (their own connections), each person claiming
    once, or from every process at once: exactly `parts` paid, nobody twice, the sum exact, ledger and rows agree."""
    g = make_group(pg_url, ("alice",))
    for i in range(claimers):
        g.add(f"c{i:02d}")
    g.fund("alice", 10_000)
    amounts = fund(g, "race", "alice", 500 * parts, parts, packets.LUCKY)
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": ""}
    got = subprocess.run(race_args(pg_url, claimers, parts, procs, dup), cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=240)
    assert got.returncode == 0, got.stderr
    codes = [line.split()[1] for line in got.stdout.splitlines() if line.startswith("claim ")]
    assert len(codes) == claimers * (procs if dup else 1)
    assert codes.count("ok") == parts
    assert set(codes) <= {"ok", "all_claimed", "already_claimed"}
    oks = [line.split()[2] for line in got.stdout.splitlines() if line.startswith("claim ok ")]
    assert len(set(oks)) == parts  # nobody paid twice
    with Session(g.db) as s:
        rows = list(s.exec(select(PacketPart).where(PacketPart.packet_id == "race")).all())
    assert sorted(r.status for r in rows) == ["claimed"] * parts
    assert len({r.claimer_id for r in rows}) == parts
    paid = sum(g.balance(f"c{i:02d}") for i in range(claimers))
    assert paid == sum(amounts) == 500 * parts
    assert sum(1 for i in range(claimers) if g.balance(f"c{i:02d}") > 0) == parts
    assert g.ledger.check().ok
    from bot.groups.reconcile import reconcile

    assert reconcile(g.db, g.ledger) == []
    print(f"claim race ({'every process claims for everyone' if dup else 'each claims once'}): {claimers} claimers, "
          f"{parts} parts, {procs} processes, {len(codes)} claims: {codes.count('ok')} paid, "
          f"{codes.count('all_claimed')} all claimed, {codes.count('already_claimed')} already claimed, "
          f"{paid} of {sum(amounts)} minor units paid out")
    g.ledger.close()
    g.db.dispose()
