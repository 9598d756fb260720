"""The audit chain: appended in order, verified, and a row edited by hand is named."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from bot.operators import audit
from tests.bot.operators.conftest import NOW, Env


def _rows(env: Env, n: int) -> None:
    with Session(env.db) as s:
        for i in range(n):
            audit.append(s, at=NOW, actor_id=1, verb="freeze", target_id=2, reason=f"r{i}", detail={"i": i})
        s.commit()


def test_chain_verifies_and_links(lite: Env) -> None:
    env = lite
    _rows(env, 4)
    with env.db.connect() as conn:
        report = audit.verify(conn)
        rows = conn.execute(sa.text("SELECT seq, prev_hash, hash FROM bot_audit ORDER BY seq")).all()
    assert report.ok and report.rows == 4, report.problems
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == audit.GENESIS
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 4))


def test_row_edited_by_hand_is_named(env: Env) -> None:
    _rows(env, 5)
    with env.db.begin() as conn:
        conn.execute(sa.text("UPDATE bot_audit SET reason = 'nothing happened' WHERE seq = 3"))
    with env.db.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok
    assert report.first_broken == 3
    assert "seq=3" in report.problems[0]
    assert "BROKEN at seq=3" in report.summary


def test_deleted_row_and_truncated_tail_are_named(lite: Env) -> None:
    env = lite
    _rows(env, 4)
    with env.db.begin() as conn:
        conn.execute(sa.text("DELETE FROM bot_audit WHERE seq = 2"))
    with env.db.connect() as conn:
        assert audit.verify(conn).first_broken == 3  # seq 3 where 2 was expected
    with env.db.begin() as conn:
        conn.execute(sa.text("DELETE FROM bot_audit WHERE seq >= 3"))
    with env.db.connect() as conn:
        report = audit.verify(conn)
    assert not report.ok and "bot_audit_head" in report.problems[-1]


def test_recent_newest_first_and_by_person(lite: Env) -> None:
    env = lite
    with Session(env.db) as s:
        audit.append(s, at=NOW, actor_id=1, verb="freeze", target_id=2)
        audit.append(s, at=NOW, actor_id=1, verb="tier", target_id=3)
        audit.append(s, at=NOW, actor_id=4, verb="stats")
        s.commit()
        assert [r.verb for r in audit.recent(s)] == ["stats", "tier", "freeze"]
        assert [r.verb for r in audit.recent(s, target_id=3)] == ["tier"]
