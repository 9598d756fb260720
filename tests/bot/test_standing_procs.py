"""Three worker processes on one PostgreSQL database tick the same standing orders over 60 simulated days,
some SIGKILLed mid-run and restarted: every occurrence runs exactly once (transfers counted by id)."""

from __future__ import annotations

from datetime import timedelta

from tests.bot.standing_procs import count, play, setup

DAYS = 60


def test_three_processes_sixty_days_exactly_once(pg_url: str) -> None:
    ids = setup(pg_url, payers=3, daily=4, weekly=2)
    kills = play(pg_url, days=DAYS, workers=3, kill_every=5, step=timedelta(days=2))
    got = count(pg_url, ids, DAYS, kills)
    print(got.line())
    assert got.due >= 250  # 4 daily x 60 + 2 twice-weekly x ~17
    assert kills >= 5  # 30 clock steps, a SIGKILL every 5th
    assert got.duplicates == 0 and got.missed == 0
    assert got.run == got.due == got.rows
    assert got.transfers == got.due  # one leg each
    assert got.ledger_ok
