"""The invariant check: counters recomputed from the entries, conservation, limits, chain, holds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ledger.chain import row_hash
from ledger.errors import UnknownAsset
from ledger.flags import ALL_ACCOUNT_FLAGS, ALL_TRANSFER_FLAGS, AccountFlag, TransferFlag
from ledger.money import exponent
from ledger.tables import GENESIS_HASH, accounts, failed_transfers, head, transfers

EXPIRY_PREFIX = "~expired:"
_PENDING = int(TransferFlag.PENDING)
_POST = int(TransferFlag.POST_PENDING_TRANSFER)
_VOID = int(TransferFlag.VOID_PENDING_TRANSFER)
_MAX_PROBLEMS = 200


@dataclass(frozen=True)
class CheckReport:
    """Whether every invariant holds; each problem names its table and row."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def run_check(engine: sa.Engine) -> CheckReport:
    """Read the whole book in one snapshot and verify it."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            conn = conn.execution_options(ledger_read_only=True)
        with conn.begin():
            accts = conn.execute(sa.select(accounts).order_by(accounts.c.id)).all()
            rows = conn.execute(sa.select(transfers).order_by(transfers.c.seq)).all()
            heads = conn.execute(sa.select(head)).all()
            failed = conn.execute(sa.select(failed_transfers.c.id)).scalars().all()
    return _verify(accts, rows, heads, list(failed))


def _tname(r: Any) -> str:
    return f"ledger_transfers seq={r.seq} id={r.id!r}"


def _verify(
    accts: Sequence[Any],
    rows: Sequence[Any],
    heads: Sequence[Any],
    failed: Sequence[str],
) -> CheckReport:
    problems: list[str] = []
    add = problems.append
    by_acct = {a.id: a for a in accts}
    by_id = {r.id: r for r in rows}

    # accounts themselves
    for a in accts:
        try:
            exponent(str(a.asset))
        except UnknownAsset:
            add(f"ledger_accounts id={a.id}: unknown asset {a.asset!r}")
        if int(a.flags) & ~ALL_ACCOUNT_FLAGS or (int(a.flags) & ALL_ACCOUNT_FLAGS) == ALL_ACCOUNT_FLAGS:
            add(f"ledger_accounts id={a.id}: invalid flags {a.flags}")

    # the hash chain and the head
    prev = GENESIS_HASH
    for expected, r in enumerate(rows, start=1):
        if r.seq != expected:
            add(f"{_tname(r)}: seq {r.seq} where {expected} was expected (a row is missing or moved)")
        want = row_hash(
            prev, int(r.seq), str(r.id), int(r.debit_account_id), int(r.credit_account_id),
            int(r.amount), int(r.flags), r.pending_id, int(r.timeout_seconds), int(r.code), r.memo,
            r.reverses_id, str(r.asset), int(r.created_us), r.expires_us,
        )  # fmt: skip
        if r.hash != want:
            add(f"{_tname(r)}: hash does not match the row's fields and the previous hash (edited?)")
        prev = str(r.hash)
    if len(heads) != 1 or heads[0].id != 1:
        add(f"ledger_head: {len(heads)} rows, expected exactly the row id=1")
    else:
        h = heads[0]
        last_seq = rows[-1].seq if rows else 0
        if h.seq != last_seq or h.hash != prev:
            add(f"ledger_head id=1: seq={h.seq} hash={str(h.hash)[:12]}… but the chain ends at seq={last_seq} hash={prev[:12]}…")
        open_expiries = [int(r.expires_us) for r in rows if r.status == "pending" and r.expires_us is not None]
        if open_expiries and (h.next_expiry_us is None or h.next_expiry_us > min(open_expiries)):
            add(f"ledger_head id=1: next_expiry_us={h.next_expiry_us} is later than the first open hold's expiry {min(open_expiries)}")

    # each row on its own, and the counters it implies
    dp: dict[int, int] = defaultdict(int)
    cp: dict[int, int] = defaultdict(int)
    dpe: dict[int, int] = defaultdict(int)
    cpe: dict[int, int] = defaultdict(int)
    closers: dict[str, list[Any]] = defaultdict(list)
    reversed_sum: dict[str, int] = defaultdict(int)
    holds = open_holds = 0
    for r in rows:
        f = int(r.flags)
        amount = int(r.amount)
        d, c = int(r.debit_account_id), int(r.credit_account_id)
        if f & ~ALL_TRANSFER_FLAGS:
            add(f"{_tname(r)}: unknown flag bits {f}")
        if amount <= 0:
            add(f"{_tname(r)}: amount {amount} is not positive")
        if d == c:
            add(f"{_tname(r)}: debits and credits the same account {d}")
        for side, acc_id in (("debit", d), ("credit", c)):
            acc = by_acct.get(acc_id)
            if acc is None:
                add(f"{_tname(r)}: {side} account {acc_id} does not exist")
            elif acc.asset != r.asset:
                add(f"{_tname(r)}: asset {r.asset} but {side} account {acc_id} holds {acc.asset}")
        if f & _PENDING:
            holds += 1
            if r.status == "pending":
                open_holds += 1
                dpe[d] += amount
                cpe[c] += amount
            elif r.status not in ("posted", "voided", "expired"):
                add(f"{_tname(r)}: hold has unknown status {r.status!r}")
        elif f & (_POST | _VOID):
            if r.pending_id is None:
                add(f"{_tname(r)}: closes a hold but names none")
            else:
                closers[str(r.pending_id)].append(r)
            if f & _POST:
                dp[d] += amount
                cp[c] += amount
                if r.status != "posted":
                    add(f"{_tname(r)}: a post has status {r.status!r}")
            elif r.status != ("expired" if str(r.id).startswith(EXPIRY_PREFIX) else "voided"):
                add(f"{_tname(r)}: a void has status {r.status!r}")
        else:
            dp[d] += amount
            cp[c] += amount
            if r.status != "posted":
                add(f"{_tname(r)}: a single-phase transfer has status {r.status!r}")
        if r.reverses_id is not None:
            o = by_id.get(r.reverses_id)
            if o is None:
                add(f"{_tname(r)}: reverses {r.reverses_id!r}, which is not in the book")
            else:
                if int(o.flags) & (_PENDING | _VOID):
                    add(f"{_tname(r)}: reverses {o.id!r}, which moved no posted money")
                if (o.debit_account_id, o.credit_account_id) != (c, d):
                    add(f"{_tname(r)}: reverses {o.id!r} but does not swap its accounts")
                reversed_sum[str(o.id)] += amount
    for oid, total in reversed_sum.items():
        o = by_id.get(oid)
        if o is not None and total > int(o.amount):
            add(f"{_tname(o)}: reversed {total} in all, more than its amount {o.amount}")

    # holds against the rows that closed them
    for pid, cl in closers.items():
        p = by_id.get(pid)
        if p is None or not int(p.flags) & _PENDING:
            for r in cl:
                add(f"{_tname(r)}: closes {pid!r}, which is not a hold in the book")
            continue
        if len(cl) > 1:
            add(f"{_tname(p)}: closed {len(cl)} times ({', '.join(repr(r.id) for r in cl)})")
        r = cl[0]
        if (r.debit_account_id, r.credit_account_id) != (p.debit_account_id, p.credit_account_id):
            add(f"{_tname(r)}: closes {pid!r} but names other accounts")
        if int(r.flags) & _POST:
            want_status = "posted"
            if int(r.amount) > int(p.amount):
                add(f"{_tname(r)}: posts {r.amount}, more than the hold's {p.amount}")
        else:
            expiry = str(r.id).startswith(EXPIRY_PREFIX)
            want_status = "expired" if expiry else "voided"
            if int(r.amount) != int(p.amount):
                add(f"{_tname(r)}: voids {r.amount} of a hold of {p.amount}")
            if expiry and (p.expires_us is None or int(r.created_us) < int(p.expires_us)):
                add(f"{_tname(r)}: expires {pid!r} before its time")
        if p.status != want_status:
            add(f"{_tname(p)}: status {p.status!r} but {r.id!r} made it {want_status!r}")
    for r in rows:
        if int(r.flags) & _PENDING and r.status != "pending" and str(r.id) not in closers:
            add(f"{_tname(r)}: status {r.status!r} but no row closed it")

    # counters against the entries, limits, conservation per asset
    posted_sum: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    pending_sum: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a in accts:
        i = int(a.id)
        stored = (int(a.debits_posted), int(a.credits_posted), int(a.debits_pending), int(a.credits_pending))
        derived = (dp[i], cp[i], dpe[i], cpe[i])
        names = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")
        for name, s, e in zip(names, stored, derived, strict=True):
            if s != e:
                add(f"ledger_accounts id={i} ({a.owner}/{a.asset}/{a.kind}): {name} is {s}, the entries say {e}")
        flags = int(a.flags)
        if flags & AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS and stored[0] + stored[2] > stored[1]:
            add(f"ledger_accounts id={i} ({a.owner}/{a.asset}/{a.kind}): debits {stored[0]}+{stored[2]} pending exceed credits {stored[1]}")
        if flags & AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS and stored[1] + stored[3] > stored[0]:
            add(f"ledger_accounts id={i} ({a.owner}/{a.asset}/{a.kind}): credits {stored[1]}+{stored[3]} pending exceed debits {stored[0]}")
        posted_sum[str(a.asset)][0] += stored[0]
        posted_sum[str(a.asset)][1] += stored[1]
        pending_sum[str(a.asset)][0] += stored[2]
        pending_sum[str(a.asset)][1] += stored[3]
    for asset, (d, c) in sorted(posted_sum.items()):
        if d != c:
            add(f"ledger_accounts asset={asset}: posted debits {d} != posted credits {c} (money not conserved)")
    for asset, (d, c) in sorted(pending_sum.items()):
        if d != c:
            add(f"ledger_accounts asset={asset}: pending debits {d} != pending credits {c} (money not conserved)")

    for fid in failed:
        if fid in by_id:
            add(f"ledger_failed_transfers id={fid!r}: recorded as failed but also in ledger_transfers")

    what = (
        f"checked {len(rows)} transfers (hash chain to seq {rows[-1].seq if rows else 0}), "
        f"{len(accts)} accounts, {len(posted_sum)} assets, {holds} holds ({open_holds} open), "
        f"{len(failed)} failed ids"
    )
    if problems:
        shown = problems[:_MAX_PROBLEMS]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - _MAX_PROBLEMS} more")
        return CheckReport(False, shown, f"{what}: {len(problems)} problems")
    return CheckReport(True, [], f"{what}: every invariant holds")
