"""The operators' texts: acts described, refusals explained, a person's status, the audit list (in their language)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.actions import money_text
from bot.clock import aware
from bot.config import Settings
from bot.directory import display
from bot.i18n import fmt_datetime, t
from bot.models import User
from bot.operators import audit, reversal, standing
from bot.operators.models import Approval
from bot.operators.verbs import OpCommand
from ledger import Ledger, to_minor

PENDING, EXECUTING, APPROVED, REJECTED, EXPIRED, FAILED = "pending", "executing", "approved", "rejected", "expired", "failed"


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


def approval_card_text(ap: Approval, maker: User, target: User | None, cmd: OpCommand, lang: str) -> str:
    """The card a checker sees."""
    return t(lang, "{maker} asks for your approval: {what}", maker=display(maker), what=describe(cmd, lang, target)) \
        + "\n" + t(lang, "Approve with your own PIN, or reject. Expires {when}.", when=fmt_datetime(aware(ap.expires_at), lang))


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


def status_text(status: str, lang: str) -> str:
    """An approval's status in words."""
    return {PENDING: t(lang, "waiting"), EXECUTING: t(lang, "being done"), APPROVED: t(lang, "approved"),
            REJECTED: t(lang, "rejected"), EXPIRED: t(lang, "expired"), FAILED: t(lang, "failed")}.get(status, status)


def no_such_tier(settings: Settings, target: User, n: int | None, lang: str) -> str:
    """The closed set of tiers, when an operator named another."""
    no_limit = t(lang, "no limit")
    listed = ", ".join(f"{k} ({money_text(to_minor(v, target.currency), target.currency, lang) if v is not None else no_limit})"
                       for k, v in sorted(settings.kyc_tiers().items()))
    return t(lang, "There is no tier {n}. The tiers are: {tiers}.", n=n, tiers=listed)
