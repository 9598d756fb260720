"""A person's own data: /export as a ZIP built in memory, /close when every wallet is empty (personal data erased)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot import statements
from bot.directory import owner_of
from bot.events import Attachment
from bot.models import (
    Action,
    ChatMember,
    Conversation,
    FillRow,
    HandleHistory,
    Identity,
    OrderRow,
    PaymentRequest,
    PressToken,
    Schedule,
    User,
)
from bot.operators.standing import standing_row
from ledger import Ledger, from_minor

EXPORT_VERSION = 1


def _row(obj: Any, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    data: dict[str, Any] = obj.model_dump()
    for key in drop:
        data.pop(key, None)
    for k, v in list(data.items()):
        if isinstance(v, datetime):
            data[k] = v.isoformat()
        elif k == "payload" and isinstance(v, str):
            data[k] = json.loads(v)
    return data


def _labels(ledger: Ledger, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in set(ids):
        acc = ledger.get_account(i)
        if acc is not None:
            out[i] = acc.label or (acc.kind if acc.owner == "system" else acc.owner)
    return out


def export_zip(s: Session, ledger: Ledger, user: User, now: datetime) -> Attachment:
    """Profile, wallets, transfers, requests, standing orders, orders and fills as JSON, and each wallet's
    statement as CSV, zipped in memory; an ephemeral attachment (never written to disk by a transport)."""
    uid = user.id
    assert uid is not None
    profile = _row(user, drop=("pin_hash", "totp_secret", "totp_pending_secret", "totp_last_counter"))
    profile["pin_set"] = bool(user.pin_hash)
    profile["totp_enrolled"] = bool(user.totp_secret)
    wallets: list[dict[str, Any]] = []
    transfers: list[dict[str, Any]] = []
    csvs: dict[str, bytes] = {}
    for acc in ledger.accounts(owner_of(uid)):
        bal = ledger.balance(acc.id)
        wallets.append({"account_id": acc.id, "asset": acc.asset, "kind": acc.kind,
                        "posted": str(from_minor(bal.posted, acc.asset)) if ":" not in acc.asset else str(bal.posted),
                        "available": str(from_minor(bal.available, acc.asset)) if ":" not in acc.asset else str(bal.available)})
        lines = ledger.statement(acc.id)
        labels = _labels(ledger, [ln.counterparty_account_id for ln in lines])
        for ln in lines:
            transfers.append({"transfer_id": ln.transfer_id, "at": ln.at.isoformat(), "asset": acc.asset,
                              "amount_minor": ln.amount, "balance_minor": ln.balance,
                              "counterparty": labels.get(ln.counterparty_account_id, ""), "memo": ln.memo})
        if acc.kind == "wallet":
            csvs[f"statement-{acc.asset}.csv"] = statements.csv_bytes(lines, acc.asset, labels)
    requests = s.exec(select(PaymentRequest).where(
        (col(PaymentRequest.requester_id) == uid) | (col(PaymentRequest.payer_id) == uid))).all()
    data = {
        "version": EXPORT_VERSION,
        "exported_at": now.isoformat(),
        "profile": profile,
        "wallets": wallets,
        "transfers": transfers,
        "requests": [_row(r) for r in requests],
        "standing_orders": [_row(r) for r in s.exec(select(Schedule).where(Schedule.user_id == uid)).all()],
        "actions": [_row(r) for r in s.exec(select(Action).where(Action.initiator_id == uid)).all()],
        "orders": [_row(r) for r in s.exec(select(OrderRow).where(OrderRow.user_id == uid)).all()],
        "fills": [_row(r) for r in s.exec(select(FillRow).where(FillRow.user_id == uid)).all()],
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("finbot-data.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
        for name, body in sorted(csvs.items()):
            z.writestr(name, body)
    tag = statements.file_tag(user.handle, uid)
    return Attachment(f"finbot-export-{tag}-{now:%Y-%m-%d}.zip", buf.getvalue(), "application/zip", ephemeral=True)


@dataclass(frozen=True)
class NotEmpty:
    """The wallets that still hold money (or have some on hold): the account cannot close yet."""

    balances: dict[str, int]  # asset -> minor units (posted, plus pending either way)


def holdings(ledger: Ledger, user_id: int) -> dict[str, int]:
    """Every account of the person that is not empty: asset -> posted balance (or pending amount if none)."""
    out: dict[str, int] = {}
    for acc in ledger.accounts(owner_of(user_id)):
        b = ledger.balance(acc.id)
        if b.posted or b.debits_pending or b.credits_pending:
            out[acc.asset] = b.posted or b.pending or b.debits_pending
    return out


def close(s: Session, ledger: Ledger, user: User, now: datetime) -> NotEmpty | None:
    """Close the account when it holds nothing: erase the handle, name, chat ids, PIN and TOTP secrets, the
    handle history and the messenger identities; cancel what waits. The ledger keeps every row under the
    user's id (its owner string stays `user:<id>`), so the books still balance. NotEmpty when it holds money."""
    uid = user.id
    assert uid is not None
    held = holdings(ledger, uid)
    if held:
        return NotEmpty(held)
    for a in s.exec(select(Action).where(Action.initiator_id == uid, col(Action.status).in_(("awaiting_confirm", "awaiting_stepup")))).all():
        a.status, a.result = "cancelled", "account_closed"
    for r in s.exec(select(PaymentRequest).where(
            ((col(PaymentRequest.requester_id) == uid) | (col(PaymentRequest.payer_id) == uid)), PaymentRequest.status == "open")).all():
        r.status, r.done_at = "cancelled", now
    for sch in s.exec(select(Schedule).where(Schedule.user_id == uid, col(Schedule.active).is_(True))).all():
        sch.active, sch.status, sch.next_run = False, "stopped", None
    for tok in s.exec(select(PressToken).where(PressToken.allowed_user_id == uid, col(PressToken.used_at).is_(None))).all():
        tok.used_at = now
    for model in (Identity, HandleHistory, ChatMember):
        for row in s.exec(select(model).where(model.user_id == uid)).all():
            s.delete(row)
    conv = s.get(Conversation, uid)
    if conv is not None:
        s.delete(conv)
    user.handle = user.name = user.private_chat_id = None
    user.pin_hash = user.totp_secret = user.totp_pending_secret = None
    user.totp_last_counter = None
    user.pin_failures, user.stepup_locked_until, user.pin_exposed = 0, None, False
    user.started, user.is_operator = False, False
    for p in s.exec(select(PaymentRequest).where(PaymentRequest.payer_id == uid)).all():
        p.payer_handle = None
    row = standing_row(s, uid)
    row.closed_at = now
    s.flush()
    return None


def closed_label(user_id: int) -> str:
    """The label a closed account's ledger accounts keep instead of the person's handle."""
    return f"closed:{user_id}"
