"""The checker's side of maker-checker: approve (with their own step-up) or reject, once; expiry; crash recovery.

The maker can never approve their own act. An approval is claimed by a guarded update (pending -> executing),
then done: a reversal's transfer id derives from the approval, so a crash between the ledger and the record
is finished once by `resume` (the tick). Every decision is a row of the audit chain.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.clock import aware
from bot.config import Settings
from bot.crash import crash_point
from bot.directory import display
from bot.i18n import t
from bot.models import User
from bot.operators import audit, reversal, standing
from bot.operators.models import Approval
from bot.operators.service import Told, command_of, is_operator, new_limits, set_limits
from bot.operators.texts import (
    APPROVED,
    EXECUTING,
    EXPIRED,
    FAILED,
    PENDING,
    REJECTED,
    describe,
    status_text,
)
from bot.operators.verbs import OpCommand
from ledger import Ledger, to_minor


def pending_for(s: Session, checker_id: int, now: datetime) -> list[Approval]:
    """Approvals another operator asked for that this one may still decide."""
    return list(s.exec(select(Approval).where(Approval.status == PENDING, col(Approval.maker_id) != checker_id,
                                              col(Approval.expires_at) > now).order_by(col(Approval.created_at))).all())


def may_decide(s: Session, settings: Settings, checker: User, approval_id: str, now: datetime, *,
               approving: bool = True) -> tuple[Approval | None, str | None]:
    """The approval when this person may decide it now (approve: never its maker; reject: the maker may
    withdraw their own), else why not (in their language)."""
    lang = checker.lang
    ap = s.get(Approval, approval_id)
    if ap is None:
        return None, t(lang, "This button is no longer valid.")
    if not is_operator(s, settings, checker):
        return None, t(lang, "Only operators can use /admin.")
    if approving and ap.maker_id == checker.id:
        return None, t(lang, "You asked for this yourself: another operator must approve it.")
    if ap.status != PENDING:
        return None, t(lang, "This approval is already {status}.", status=status_text(ap.status, lang))
    if now > (aware(ap.expires_at) or now):
        return None, t(lang, "This approval has expired. Nothing was done.")
    return ap, None


def refuse_own(db: sa.Engine, approval_id: str, maker_id: int, now: datetime) -> None:
    """Record that a maker tried to approve their own act (refused)."""
    with Session(db) as s:
        ap = s.get(Approval, approval_id)
        audit.append(s, at=now, actor_id=maker_id, verb="approval.refused_own", target_id=ap.target_id if ap else None,
                     detail={"approval": approval_id}, approval_id=approval_id)
        s.commit()


def reject(db: sa.Engine, settings: Settings, checker_id: int, approval_id: str, now: datetime) -> Told:
    """The checker rejects: nothing is done, the maker is told."""
    with Session(db, expire_on_commit=False) as s:
        checker = s.get(User, checker_id)
        assert checker is not None
        told = Told(False)
        ap, why = may_decide(s, settings, checker, approval_id, now, approving=False)
        if ap is None:
            told.to(checker, why or "")
            return told
        claimed = s.execute(sa.update(Approval).where(col(Approval.id) == ap.id, col(Approval.status) == PENDING)
                            .values(status=REJECTED, checker_id=checker_id, decided_at=now)).rowcount  # type: ignore[attr-defined]
        if claimed != 1:
            return told
        audit.append(s, at=now, actor_id=checker_id, verb=f"{ap.verb}.rejected", target_id=ap.target_id, reason=ap.reason,
                     detail=json.loads(ap.params), approval_id=ap.id)
        maker = s.get(User, ap.maker_id)
        cmd = command_of(json.loads(ap.params), ap.reason)
        target = s.get(User, ap.target_id) if ap.target_id else None
        told.ok = True
        told.to(checker, t(checker.lang, "Rejected: {what}. Nothing was done.", what=describe(cmd, checker.lang, target)))
        if maker is not None and maker.id != checker.id:
            told.to(maker, t(maker.lang, "{who} rejected: {what}. Nothing was done.", who=display(checker),
                             what=describe(cmd, maker.lang, target)))
        s.commit()
        return told


def approve(db: sa.Engine, ledger: Ledger, settings: Settings, checker_id: int, approval_id: str, now: datetime) -> Told:
    """The checker approved with their own step-up: claim the approval once, do the act, record it with both names."""
    with Session(db, expire_on_commit=False) as s:
        checker = s.get(User, checker_id)
        assert checker is not None
        ap, why = may_decide(s, settings, checker, approval_id, now)
        if ap is None:
            told = Told(False)
            told.to(checker, why or "")
            return told
        claimed = s.execute(sa.update(Approval).where(col(Approval.id) == ap.id, col(Approval.status) == PENDING)
                            .values(status=EXECUTING, checker_id=checker_id, decided_at=now)).rowcount  # type: ignore[attr-defined]
        s.commit()
        if claimed != 1:
            return Told(False)
    return finish(db, ledger, settings, approval_id, now)


def finish(db: sa.Engine, ledger: Ledger, settings: Settings, approval_id: str, now: datetime) -> Told:
    """Do an approved act (again after a crash: the reversal's id derives from the approval, the rest is guarded)."""
    with Session(db, expire_on_commit=False) as s:
        ap = s.get(Approval, approval_id)
        if ap is None or ap.status != EXECUTING:
            return Told(False)
        cmd = command_of(json.loads(ap.params), ap.reason)
        reason = ap.reason or ""
        s.rollback()
    code = "ok"
    if cmd.verb == "reverse":
        assert cmd.transfer_id is not None
        original = ledger.lookup_transfer(cmd.transfer_id)
        r = reversal.check(ledger, cmd.transfer_id, None if original is None or cmd.amount is None else to_minor(cmd.amount, original.asset))
        done = ledger.lookup_transfer(reversal.reversal_id(approval_id))
        if done is None:
            if not r.ok:
                code = r.why
            else:
                res = reversal.reverse(ledger, cmd.transfer_id, approval_id, r.amount, reason)
                code = "ok" if res.ok else str(res.result.value)
                crash_point("approval_after_ledger")
    with Session(db, expire_on_commit=False) as s:
        ap = s.get(Approval, approval_id)
        assert ap is not None
        moved = s.execute(sa.update(Approval).where(col(Approval.id) == approval_id, col(Approval.status) == EXECUTING)
                          .values(status=APPROVED if code == "ok" else FAILED, result=code)).rowcount  # type: ignore[attr-defined]
        if moved != 1:
            s.rollback()
            return Told(False)
        told = Told(code == "ok")
        maker = s.get(User, ap.maker_id)
        checker = s.get(User, ap.checker_id or 0)
        target = s.get(User, ap.target_id) if ap.target_id else None
        detail: dict[str, Any] = {**json.loads(ap.params), "result": code}
        if code == "ok":
            apply_approved(s, settings, cmd, target, detail, told, approval_id)
        audit.append(s, at=now, actor_id=ap.maker_id, verb=cmd.verb if code == "ok" else f"{cmd.verb}.failed",
                     target_id=ap.target_id, reason=ap.reason, detail=detail, approval_id=approval_id, approver_id=ap.checker_id)
        for who in (maker, checker):
            if who is None:
                continue
            what = describe(cmd, who.lang, target)
            told.to(who, t(who.lang, "Approved and done: {what}", what=what) if code == "ok" else
                    t(who.lang, "Approved but not done: {what} ({code})", what=what, code=code))
        s.commit()
        return told


def apply_approved(s: Session, settings: Settings, cmd: OpCommand, target: User | None, detail: dict[str, Any], told: Told,
           approval_id: str) -> None:
    if cmd.verb == "reverse":
        detail["reversal"] = reversal.reversal_id(approval_id)
        return
    assert target is not None and target.id is not None
    if cmd.verb == "unfreeze":
        row = standing.standing_row(s, target.id)
        row.frozen, row.frozen_reason = False, None
        told.to(target, t(target.lang, "The review of your account is over: you can use it as before."))
    elif cmd.verb == "tier":
        detail["before"] = target.kyc_tier
        target.kyc_tier = cmd.tier or 0
    elif cmd.verb == "limits":
        row = standing.standing_row(s, target.id)
        detail["before"] = standing.effective(settings, target, row).as_dict()
        set_limits(row, new_limits(settings, target, row, cmd), cmd)
    elif cmd.verb == "unlock":
        target.stepup_locked_until, target.pin_failures = None, 0
        told.to(target, t(target.lang, "An operator lifted the lock on your confirmations."))
    elif cmd.verb == "pin-reset":
        target.pin_hash, target.pin_failures, target.stepup_locked_until, target.pin_exposed = None, 0, None, False
        told.to(target, t(target.lang, "An operator reset your PIN. Choose a new one with /pin."))


def expire_due(db: sa.Engine, now: datetime) -> Told:
    """Pending approvals whose time is over expire (recorded); their makers are told."""
    told = Told(True)
    with Session(db, expire_on_commit=False) as s:
        rows = s.exec(select(Approval).where(Approval.status == PENDING, col(Approval.expires_at) <= now)).all()
        for ap in rows:
            if (aware(ap.expires_at) or now) > now:
                continue
            moved = s.execute(sa.update(Approval).where(col(Approval.id) == ap.id, col(Approval.status) == PENDING)
                              .values(status=EXPIRED, decided_at=now)).rowcount  # type: ignore[attr-defined]
            if moved != 1:
                continue
            audit.append(s, at=now, actor_id=None, verb=f"{ap.verb}.expired", target_id=ap.target_id, reason=ap.reason,
                         detail=json.loads(ap.params), approval_id=ap.id)
            maker = s.get(User, ap.maker_id)
            if maker is not None:
                cmd = command_of(json.loads(ap.params), ap.reason)
                target = s.get(User, ap.target_id) if ap.target_id else None
                told.to(maker, t(maker.lang, "No second operator approved it in time, so nothing was done: {what}",
                                 what=describe(cmd, maker.lang, target)))
        s.commit()
    return told


def resume(db: sa.Engine, ledger: Ledger, settings: Settings, now: datetime) -> Told:
    """Finish approvals a crash left between the claim and the record."""
    told = Told(True)
    with Session(db) as s:
        ids = list(s.exec(select(Approval.id).where(Approval.status == EXECUTING)).all())
    for approval_id in ids:
        told.notices += finish(db, ledger, settings, approval_id, now).notices
    return told
