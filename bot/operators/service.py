"""Operators' acts after the maker's step-up: immediate ones done, sensitive ones asked of a second operator.

Every function here opens its own sessions on `db` (they run after the event's transaction committed, as
executions do), writes an audit row in the same transaction as the change it records, and returns what to
tell whom as `Notice`s; the caller turns them into replies and approval cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.directory import Directory, display
from bot.events import Attachment
from bot.i18n import fmt_datetime, t
from bot.models import User
from bot.operators import audit, reversal, standing, texts
from bot.operators.models import AccountStanding, Approval
from bot.operators.verbs import CHECKED, ON_SOMEONE, OpCommand, help_text
from ledger import Ledger, to_minor


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
        return texts.no_such_tier(settings, target, cmd.tier, lang)
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


def new_limits(settings: Settings, target: User, row: AccountStanding | None, cmd: OpCommand) -> standing.Limits:
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
        return bool(standing.raises(old, new_limits(settings, target, row, cmd)))
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
    return None if r.ok else texts.reverse_why(r, cmd.transfer_id, lang)


def params_of(cmd: OpCommand) -> dict[str, Any]:
    return {"verb": cmd.verb, "handle": cmd.handle, "transfer_id": cmd.transfer_id,
            "amount": None if cmd.amount is None else str(cmd.amount), "tier": cmd.tier,
            "limits": {k: None if v is None else str(v) for k, v in cmd.limits.items()}, "text": cmd.text}


def command_of(params: dict[str, Any], reason: str | None) -> OpCommand:
    """The command an approval holds."""
    return OpCommand(params["verb"], handle=params.get("handle"), transfer_id=params.get("transfer_id"),
                     amount=None if params.get("amount") is None else Decimal(params["amount"]), reason=reason,
                     tier=params.get("tier"), limits={k: None if v is None else Decimal(v) for k, v in (params.get("limits") or {}).items()},
                     text=params.get("text", ""))


def _ask_approval(s: Session, settings: Settings, op: User, target: User | None, cmd: OpCommand, action_id: str,
                  now: datetime, told: Told) -> None:
    approval_id = f"ap:{action_id}"
    told.asked = approval_id
    if s.get(Approval, approval_id) is not None:
        told.ok = True
        return  # this confirmed command already asked (a replay)
    ttl = timedelta(seconds=settings.approval_ttl_seconds)
    ap = Approval(id=approval_id, verb=cmd.verb, maker_id=op.id or 0, target_id=target.id if target else None,
                  params=audit.canonical(params_of(cmd)), reason=cmd.reason, created_at=now, expires_at=now + ttl)
    s.add(ap)
    s.flush()
    audit.append(s, at=now, actor_id=op.id, verb=f"{cmd.verb}.requested", target_id=ap.target_id, reason=cmd.reason,
                 detail=params_of(cmd), approval_id=approval_id)
    told.ok = True
    others = [u for u in operator_users(s, settings) if u.id != op.id]
    reachable = [u for u in others if u.private_chat_id]
    # the maker's copy carries the same buttons (as a shared operators' channel would): Approve is refused to
    # them and recorded, Reject withdraws their own request
    told.to(op, t(op.lang, "Asked for a second operator's approval: {what}. It expires {when}.",
                  what=texts.describe(cmd, op.lang, target), when=fmt_datetime(now + ttl, op.lang))
            + ("" if reachable else "\n" + t(op.lang, "No other operator has a private chat with me yet: they see it when they write /admin help.")),
            approval_id)
    for other in reachable:
        told.to(other, texts.approval_card_text(ap, op, target, cmd, other.lang), approval_id)


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
            told.to(target, texts.under_review(target.lang))
    elif cmd.verb == "tier":
        assert target is not None and cmd.tier is not None
        detail["before"] = target.kyc_tier
        target.kyc_tier = cmd.tier
        told.to(op, t(lang, "{who} is now KYC tier {n}.", who=display(target), n=cmd.tier))
    elif cmd.verb == "limits":
        assert target is not None and target.id is not None
        row = standing.standing_row(s, target.id)
        new = new_limits(settings, target, row, cmd)
        detail["before"] = standing.effective(settings, target, row).as_dict()
        set_limits(row, new, cmd)
        told.to(op, t(lang, "Limits of {who}: {limits}", who=display(target), limits=texts.limits_text(new, lang)))
    elif cmd.verb == "user":
        assert target is not None
        told.to(op, texts.user_status(s, ledger, settings, target, now, lang))
    elif cmd.verb == "stats":
        from bot.operators import stats

        told.to(op, stats.render(stats.gather(s, ledger, now), lang))
    elif cmd.verb == "audit":
        told.to(op, texts.audit_text(s, cmd, target, lang))
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


def set_limits(row: AccountStanding, new: standing.Limits, cmd: OpCommand) -> None:
    row.limits_currency = new.currency
    for name in cmd.limits:
        setattr(row, name, new.as_dict()[name])


