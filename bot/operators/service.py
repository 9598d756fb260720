"""Operators' acts after their step-up: immediate ones done, sensitive ones waiting for a second operator.

Every function here opens its own sessions on `db` (they run after the event's transaction committed, as
executions do), writes an audit row in the same transaction as the change it records, and returns what to
tell whom as `Notice`s; the caller turns them into replies and approval cards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.actions import money_text
from bot.clock import aware
from bot.config import Settings
from bot.crash import crash_point
from bot.directory import Directory, display
from bot.events import Attachment
from bot.i18n import fmt_datetime, t
from bot.models import User
from bot.operators import audit, reversal, standing
from bot.operators.models import AccountStanding, Approval
from bot.operators.verbs import CHECKED, ON_SOMEONE, OpCommand, help_text
from ledger import Ledger, to_minor

PENDING, EXECUTING, APPROVED, REJECTED, EXPIRED, FAILED = "pending", "executing", "approved", "rejected", "expired", "failed"


@dataclass(frozen=True)
class Notice:
    """Something to tell one person in their private chat; with `approval_id`, a card with Approve / Reject."""

    user_id: int
    chat_id: str | None
    text: str
    approval_id: str | None = None
    document: Attachment | None = None


@dataclass
class Told:
    """The notices of one act, and whether it was done (or asked for)."""

    ok: bool
    notices: list[Notice] = field(default_factory=list)
    asked: str | None = None  # the approval it asked for, when it waits for a second operator

    def to(self, user: User, text: str, approval_id: str | None = None) -> None:
        """Tell `user`, in the private chat they have with the bot."""
        assert user.id is not None
        self.notices.append(Notice(user.id, user.private_chat_id, text, approval_id))


# ------------------------------------------------------------------ who is an operator


def operator_users(s: Session, settings: Settings) -> list[User]:
    """Everyone who is an operator: made one, or listed in FINBOT_OPERATORS (and known to the bot)."""
    handles = settings.operators()
    q = select(User).where(sa.or_(col(User.is_operator).is_(True), col(User.handle).in_(handles) if handles else sa.false()))
    return list(s.exec(q.order_by(col(User.id))).all())


def configured_count(s: Session, settings: Settings) -> int:
    """How many operators there are: the known ones and the listed handles not seen yet."""
    known = operator_users(s, settings)
    seen = {u.handle for u in known if u.handle}
    return len(known) + len(settings.operators() - seen)


def is_operator(s: Session, settings: Settings, user: User) -> bool:
    """Whether this person may use /admin."""
    return bool(user.is_operator or (user.handle and user.handle in settings.operators()))


# ------------------------------------------------------------------ before the step-up


def precheck(s: Session, settings: Settings, op: User, cmd: OpCommand, ledger: Ledger | None = None) -> str | None:
    """Why the command cannot be done (a sentence in the operator's language), else None. Run when the command
    is given (so no step-up is asked in vain) and again after the step-up (things may have changed)."""
    lang = op.lang
    target: User | None = None
    if cmd.handle is not None:
        target = Directory.by_handle(s, cmd.handle)
        if target is None:
            return t(lang, "I don't know {who}.", who="@" + cmd.handle)
        if cmd.verb in ON_SOMEONE and target.id == op.id:
            return t(lang, "Nobody acts on themselves: ask another operator.")
    if cmd.verb == "tier" and cmd.tier not in settings.kyc_tiers():
        assert target is not None
        return _no_such_tier(settings, target, cmd.tier, lang)
    if cmd.verb == "unfreeze" and target is not None and not standing.is_frozen(s, target.id):
        return t(lang, "{who} is not frozen.", who=display(target))
    if cmd.verb == "pin-reset" and target is not None:
        if not target.pin_hash:
            return t(lang, "{who} has no PIN to reset.", who=display(target))
        if target.totp_secret:
            return t(lang, "{who} has one-time codes: they can choose a new PIN themselves with /pin and a code.", who=display(target))
    if needs_checker(s, settings, cmd, target) and configured_count(s, settings) < 2:
        return t(lang, "A second operator is needed to approve this, and you are the only one. Add another operator to FINBOT_OPERATORS.")
    if cmd.verb == "reverse" and ledger is not None:
        return _reverse_refusal(ledger, cmd, lang)
    return None


def _no_such_tier(settings: Settings, target: User, n: int | None, lang: str) -> str:
    no_limit = t(lang, "no limit")
    listed = ", ".join(f"{k} ({money_text(to_minor(v, target.currency), target.currency, lang) if v is not None else no_limit})"
                       for k, v in sorted(settings.kyc_tiers().items()))
    return t(lang, "There is no tier {n}. The tiers are: {tiers}.", n=n, tiers=listed)


def _new_limits(settings: Settings, target: User, row: AccountStanding | None, cmd: OpCommand) -> standing.Limits:
    old = standing.effective(settings, target, row)
    values = old.as_dict()
    for name, major in cmd.limits.items():
        values[name] = None if major is None else to_minor(major, old.currency)
    return standing.Limits(old.currency, values["per_payment"], values["per_day"], values["per_month"])


def needs_checker(s: Session, settings: Settings, cmd: OpCommand, target: User | None) -> bool:
    """Whether this act waits for a second operator: reverse, unfreeze, unlock and PIN reset always; a tier or
    limits only when they raise what the person may move."""
    if cmd.verb in CHECKED:
        return True
    if target is None or target.id is None:
        return False
    if cmd.verb == "tier":
        return cmd.tier is not None and cmd.tier > target.kyc_tier
    if cmd.verb == "limits":
        row = standing.standing(s, target.id)
        old = standing.effective(settings, target, row)
        return bool(standing.raises(old, _new_limits(settings, target, row, cmd)))
    return False


# ------------------------------------------------------------------ after the maker's step-up


def perform(db: sa.Engine, ledger: Ledger, settings: Settings, operator_id: int, cmd: OpCommand, action_id: str,
            now: datetime) -> Told:
    """Do the command the operator confirmed with their step-up: at once, or as an approval for the others."""
    with Session(db, expire_on_commit=False) as s:
        op = s.get(User, operator_id)
        assert op is not None
        told = Told(False)
        if not is_operator(s, settings, op):
            told.to(op, t(op.lang, "Only operators can use /admin."))
            return told
        refused = precheck(s, settings, op, cmd, ledger)
        target = Directory.by_handle(s, cmd.handle) if cmd.handle else None
        if target is None and cmd.verb == "reverse":
            target = _reversed_from(s, ledger, cmd)
        if refused is not None:
            audit.append(s, at=now, actor_id=op.id, verb=f"{cmd.verb}.refused", target_id=target.id if target else None,
                         reason=cmd.reason, detail={"command": cmd.text, "why": refused})
            told.to(op, refused)
            s.commit()
            return told
        if needs_checker(s, settings, cmd, target):
            _ask_approval(s, settings, op, target, cmd, action_id, now, told)
        else:
            _do_now(s, ledger, settings, op, target, cmd, now, told)
        s.commit()
        return told


def _reversed_from(s: Session, ledger: Ledger, cmd: OpCommand) -> User | None:
    """On whom a reversal acts: the person the original paid (their money goes back)."""
    r = reversal.check(ledger, cmd.transfer_id or "", None)
    if r.credit_owner.startswith("user:"):
        return s.get(User, int(r.credit_owner.split(":", 1)[1]))
    return None


def _reverse_refusal(ledger: Ledger, cmd: OpCommand, lang: str) -> str | None:
    assert cmd.transfer_id is not None
    original = ledger.lookup_transfer(cmd.transfer_id)
    minor = None
    if original is not None and cmd.amount is not None:
        try:
            minor = to_minor(cmd.amount, original.asset)
        except Exception:
            return t(lang, "That amount has too many decimals for {cur}.", cur=original.asset)
    r = reversal.check(ledger, cmd.transfer_id, minor)
    return None if r.ok else reverse_why(r, cmd.transfer_id, lang)


def reverse_why(r: reversal.Reversible, transfer_id: str, lang: str) -> str:
    """Why a transfer cannot be reversed, in the operator's language."""
    why = {
        "not_found": t(lang, "There is no transfer {id}.", id=transfer_id),
        "hold": t(lang, "{id} is a hold or closes one, not posted money: nothing to reverse.", id=transfer_id),
        "escrow": t(lang, "{id} is an escrow transfer: escrow has its own undo (the claim or the return), so it is not reversed.", id=transfer_id),
        "conversion": t(lang, "{id} is a currency conversion: convert back instead of reversing one side of it.", id=transfer_id),
        "trade": t(lang, "{id} is part of a trade fill: a trade is undone by an opposite order, not a reversal.", id=transfer_id),
        "fee": t(lang, "{id} is a fee: it goes with its trade and is not reversed alone.", id=transfer_id),
        "reversal": t(lang, "{id} is itself a reversal: it is not reversed again.", id=transfer_id),
    }
    if r.why in why:
        return why[r.why]
    if r.why == "nothing_left":
        return t(lang, "{id} is already reversed in full.", id=transfer_id)
    return t(lang, "Only {left} of {id} is left to reverse.", left=money_text(r.remaining, r.asset, lang), id=transfer_id)


def _params(cmd: OpCommand) -> dict[str, Any]:
    return {"verb": cmd.verb, "handle": cmd.handle, "transfer_id": cmd.transfer_id,
            "amount": None if cmd.amount is None else str(cmd.amount), "tier": cmd.tier,
            "limits": {k: None if v is None else str(v) for k, v in cmd.limits.items()}, "text": cmd.text}


def command_of(params: dict[str, Any], reason: str | None) -> OpCommand:
    """The command an approval holds."""
    return OpCommand(params["verb"], handle=params.get("handle"), transfer_id=params.get("transfer_id"),
                     amount=None if params.get("amount") is None else Decimal(params["amount"]), reason=reason,
                     tier=params.get("tier"), limits={k: None if v is None else Decimal(v) for k, v in (params.get("limits") or {}).items()},
                     text=params.get("text", ""))


def describe(cmd: OpCommand, lang: str, target: User | None) -> str:
    """One line naming the act, for cards and the audit list."""
    who = display(target) if target is not None else ("@" + cmd.handle if cmd.handle else "")
    if cmd.verb == "reverse":
        what = t(lang, "reverse {id}", id=cmd.transfer_id) + (f" ({cmd.amount})" if cmd.amount is not None else "")
    elif cmd.verb == "tier":
        what = t(lang, "KYC tier {n} for {who}", n=cmd.tier, who=who)
    elif cmd.verb == "limits":
        what = t(lang, "limits for {who}: {limits}", who=who,
                 limits=" ".join(f"{k}={'none' if v is None else v}" for k, v in sorted(cmd.limits.items())))
    else:
        what = f"{cmd.verb} {who}".strip()
    return what + (f" — {cmd.reason}" if cmd.reason else "")


def _ask_approval(s: Session, settings: Settings, op: User, target: User | None, cmd: OpCommand, action_id: str,
                  now: datetime, told: Told) -> None:
    approval_id = f"ap:{action_id}"
    told.asked = approval_id
    if s.get(Approval, approval_id) is not None:
        told.ok = True
        return  # this confirmed command already asked (a replay)
    ttl = timedelta(seconds=settings.approval_ttl_seconds)
    ap = Approval(id=approval_id, verb=cmd.verb, maker_id=op.id or 0, target_id=target.id if target else None,
                  params=audit.canonical(_params(cmd)), reason=cmd.reason, created_at=now, expires_at=now + ttl)
    s.add(ap)
    s.flush()
    audit.append(s, at=now, actor_id=op.id, verb=f"{cmd.verb}.requested", target_id=ap.target_id, reason=cmd.reason,
                 detail=_params(cmd), approval_id=approval_id)
    told.ok = True
    others = [u for u in operator_users(s, settings) if u.id != op.id]
    reachable = [u for u in others if u.private_chat_id]
    # the maker's copy carries the same buttons (as a shared operators' channel would): Approve is refused to
    # them and recorded, Reject withdraws their own request
    told.to(op, t(op.lang, "Asked for a second operator's approval: {what}. It expires {when}.",
                  what=describe(cmd, op.lang, target), when=fmt_datetime(now + ttl, op.lang))
            + ("" if reachable else "\n" + t(op.lang, "No other operator has a private chat with me yet: they see it when they write /admin help.")),
            approval_id)
    for other in reachable:
        told.to(other, approval_card_text(ap, op, target, cmd, other.lang), approval_id)


def approval_card_text(ap: Approval, maker: User, target: User | None, cmd: OpCommand, lang: str) -> str:
    """The card a checker sees."""
    return t(lang, "{maker} asks for your approval: {what}", maker=display(maker), what=describe(cmd, lang, target)) \
        + "\n" + t(lang, "Approve with your own PIN, or reject. Expires {when}.", when=fmt_datetime(aware(ap.expires_at), lang))


def _do_now(s: Session, ledger: Ledger, settings: Settings, op: User, target: User | None, cmd: OpCommand,
            now: datetime, told: Told) -> None:
    lang = op.lang
    told.ok = True
    detail: dict[str, Any] = {"command": cmd.text}
    if cmd.verb == "help":
        told.to(op, help_text(lang))
        return
    if cmd.verb == "freeze":
        assert target is not None and target.id is not None
        row = standing.standing_row(s, target.id)
        if row.frozen:
            told.to(op, t(lang, "{who} is already frozen.", who=display(target)))
        else:
            row.frozen, row.frozen_reason, row.frozen_at, row.frozen_by = True, cmd.reason, now, op.id
            told.to(op, t(lang, "{who} is frozen: no money leaves the account until a second operator approves /admin unfreeze.",
                          who=display(target)))
            told.to(target, under_review(target.lang))
    elif cmd.verb == "tier":
        assert target is not None and cmd.tier is not None
        detail["before"] = target.kyc_tier
        target.kyc_tier = cmd.tier
        told.to(op, t(lang, "{who} is now KYC tier {n}.", who=display(target), n=cmd.tier))
    elif cmd.verb == "limits":
        assert target is not None and target.id is not None
        row = standing.standing_row(s, target.id)
        new = _new_limits(settings, target, row, cmd)
        detail["before"] = standing.effective(settings, target, row).as_dict()
        _set_limits(row, new, cmd)
        told.to(op, t(lang, "Limits of {who}: {limits}", who=display(target), limits=limits_text(new, lang)))
    elif cmd.verb == "user":
        assert target is not None
        told.to(op, user_status(s, ledger, settings, target, now, lang))
    elif cmd.verb == "stats":
        from bot.operators import stats

        told.to(op, stats.render(stats.gather(s, ledger, now), lang))
    elif cmd.verb == "audit":
        told.to(op, audit_text(s, cmd, target, lang))
    elif cmd.verb == "check":
        from bot.escrow import reconcile

        s.commit()  # nothing written yet: let the checks read on their own connections (one writer on SQLite)
        report = ledger.check()
        problems = report.problems + reconcile(s.get_bind(), ledger)  # type: ignore[arg-type]
        with ledger.engine.connect().execution_options(ledger_read_only=True) as conn:
            chain = audit.verify(conn)
        told.to(op, ("OK: " if not problems and chain.ok else "PROBLEMS: ") + report.summary + "\n" + chain.summary
                + ("\n" + "\n".join((problems + chain.problems)[:20]) if problems or not chain.ok else ""))
    elif cmd.verb == "deadletters":
        from bot.deadletters import report as dead_letters

        told.to(op, dead_letters(s.connection(), lang))
    audit.append(s, at=now, actor_id=op.id, verb=cmd.verb, target_id=target.id if target else None, reason=cmd.reason,
                 detail=detail)


def _set_limits(row: AccountStanding, new: standing.Limits, cmd: OpCommand) -> None:
    row.limits_currency = new.currency
    for name in cmd.limits:
        setattr(row, name, new.as_dict()[name])


def limits_text(lim: standing.Limits, lang: str) -> str:
    """per payment / per day / per month, each an amount or 'no limit'."""
    def one(v: int | None) -> str:
        return t(lang, "no limit") if v is None else money_text(v, lim.currency, lang)
    return t(lang, "per payment {a}, per day {b}, per month {c}", a=one(lim.per_payment), b=one(lim.per_day), c=one(lim.per_month))


def under_review(lang: str) -> str:
    """What a frozen person is told (when frozen, and when they try to move money)."""
    return t(lang, "Your account is under review: for now you cannot send, request, confirm, trade or withdraw. "
                   "You can still receive money and see your balance. Your pending cards and standing orders wait.")


def user_status(s: Session, ledger: Ledger, settings: Settings, target: User, now: datetime, lang: str) -> str:
    """`/admin user @x`: status, limits, tier, step-up methods, last activity, balances."""
    from bot.directory import owner_of
    from bot.models import Action

    assert target.id is not None
    row = standing.standing(s, target.id)
    status = t(lang, "frozen") if row is not None and row.frozen else (t(lang, "closed") if row is not None and row.closed_at else t(lang, "active"))
    if row is not None and row.frozen and row.frozen_reason:
        status += f" ({row.frozen_reason})"
    locked = aware(target.stepup_locked_until)
    methods = [m for m, on in (("PIN", bool(target.pin_hash)), ("TOTP", bool(target.totp_secret))) if on] or [t(lang, "none")]
    if locked is not None and locked > now:
        methods.append(t(lang, "locked until {time}", time=fmt_datetime(locked, lang)))
    last = s.exec(select(sa.func.max(Action.created_at)).where(Action.initiator_id == target.id)).one()
    bal = []
    latest: list[tuple[datetime, str]] = []
    for acc in ledger.accounts(owner_of(target.id)):
        if acc.kind == "wallet":
            bal.append(money_text(ledger.balance(acc.id).posted, acc.asset, lang))
            for ln in ledger.statement(acc.id)[-5:]:
                latest.append((ln.at, f"  {ln.transfer_id} · {ln.at:%Y-%m-%d %H:%M} · "
                                      f"{money_text(ln.amount, acc.asset, lang)}" + (f" · {ln.memo}" if ln.memo else "")))
    lines = [
        f"{display(target)} · id {target.id} · {status}",
        t(lang, "Tier {n}; limits: {limits}", n=target.kyc_tier, limits=limits_text(standing.effective(settings, target, row), lang)),
        t(lang, "Step-up: {methods}", methods=", ".join(methods)),
        t(lang, "Last activity: {when}", when=fmt_datetime(aware(last), lang) if last else t(lang, "none")),
        t(lang, "Balances: {balances}", balances=", ".join(bal) or "0"),
    ]
    if latest:
        lines.append(t(lang, "Latest transfers (the id is what /admin reverse takes):"))
        lines += [text for _, text in sorted(latest)[-5:]]
    return "\n".join(lines)


def audit_text(s: Session, cmd: OpCommand, target: User | None, lang: str, limit: int = 20) -> str:
    """`/admin audit`: the newest rows first, one line each."""
    rows = audit.recent(s, target_id=target.id if target else None, since=cmd.since, limit=limit)
    if not rows:
        return t(lang, "No operator acts recorded yet.")
    names: dict[int, str] = {}

    def name(uid: int | None) -> str:
        if uid is None:
            return "system"
        if uid not in names:
            u = s.get(User, uid)
            names[uid] = display(u) if u is not None else f"user {uid}"
        return names[uid]

    lines = [t(lang, "Operators' acts, newest first:")]
    for r in rows:
        at = audit.from_us(r.at_us)
        line = f"#{r.seq} {at:%Y-%m-%d %H:%M} {name(r.actor_id)} {r.verb}"
        if r.target_id is not None:
            line += f" {name(r.target_id)}"
        if r.approver_id is not None:
            line += " · " + t(lang, "approved by {who}", who=name(r.approver_id))
        if r.reason:
            line += f" — {r.reason}"
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------ the checker


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


def status_text(status: str, lang: str) -> str:
    """An approval's status in words."""
    return {PENDING: t(lang, "waiting"), EXECUTING: t(lang, "being done"), APPROVED: t(lang, "approved"),
            REJECTED: t(lang, "rejected"), EXPIRED: t(lang, "expired"), FAILED: t(lang, "failed")}.get(status, status)


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
            _apply(s, settings, cmd, target, detail, told, approval_id)
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


def _apply(s: Session, settings: Settings, cmd: OpCommand, target: User | None, detail: dict[str, Any], told: Told,
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
        _set_limits(row, _new_limits(settings, target, row, cmd), cmd)
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
