"""An approved reversal killed (SIGKILL, a real process) between the ledger's write and the approval's record
is finished by the tick's resume: reversed once, recorded once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from sqlmodel import Session, select

from bot.operators import checker, service
from bot.operators.models import Approval, AuditRow
from bot.operators.verbs import parse
from tests.bot.operators.conftest import NOW, Env


def test_reversal_killed_after_the_ledger_is_finished_once(env: Env) -> None:
    op1, op2, alice, bob = env.user("ops1", operator=True), env.user("ops2", operator=True), env.user("alice"), env.user("bob")
    env.fund(alice, 10000, "dep1")
    env.pay(alice, bob, 4000, "pay1")
    cmd = parse("reverse pay1 15 wrong payee")
    assert not isinstance(cmd, type(None))
    told = service.perform(env.db, env.ledger, env.settings, op1.id, cmd, "r1", NOW)  # type: ignore[arg-type]
    ap_id = next(n.approval_id for n in told.notices if n.approval_id)
    url = env.db.url.render_as_string(hide_password=False)
    proc = subprocess.run([sys.executable, "-m", "tests.bot.operators.crash_worker", url, str(op2.id), str(ap_id)],
                          env={**os.environ, "FINBOT_CRASH_AT": "approval_after_ledger"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (env.posted(alice), env.posted(bob)) == (7500, 2500)  # the ledger wrote before the kill
    with Session(env.db) as s:
        assert s.get(Approval, ap_id).status == "executing"  # type: ignore[union-attr]
    resumed = checker.resume(env.db, env.ledger, env.settings, NOW)
    assert any("Approved and done" in n.text for n in resumed.notices)
    assert checker.resume(env.db, env.ledger, env.settings, NOW).notices == []  # nothing left to finish
    assert (env.posted(alice), env.posted(bob)) == (7500, 2500)  # reversed once
    with Session(env.db) as s:
        assert s.get(Approval, ap_id).status == "approved"  # type: ignore[union-attr]
        done = s.exec(select(AuditRow).where(AuditRow.verb == "reverse")).all()
        assert [(r.actor_id, r.approver_id) for r in done] == [(op1.id, op2.id)]
