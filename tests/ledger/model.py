"""A shadow model of the ledger (TigerBeetle's auditor idea): plain Python dicts that follow the
documented transfer rules, written independently of `ledger.rules`, to compare against."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ledger import AccountFlag, ResultCode, TransferFlag, TransferSpec

R = ResultCode
F = TransferFlag
TRANSIENT = {
    R.debit_account_not_found, R.credit_account_not_found, R.pending_transfer_not_found,
    R.reversed_transfer_not_found, R.exceeds_reversible_amount, R.exceeds_credits, R.exceeds_debits,
}  # fmt: skip


@dataclass
class MAccount:
    asset: str
    flags: int
    dp: int = 0
    cp: int = 0
    dpe: int = 0
    cpe: int = 0


@dataclass
class MTransfer:
    spec: TransferSpec
    debit: int
    credit: int
    amount: int
    status: str
    expires: float | None
    code: int
    created: float = 0.0


@dataclass
class Model:
    now: float = 0.0
    accounts: dict[int, MAccount] = field(default_factory=dict)
    transfers: dict[str, MTransfer] = field(default_factory=dict)
    failed: dict[str, ResultCode] = field(default_factory=dict)
    reversed: dict[str, int] = field(default_factory=dict)

    def expire_due(self) -> list[str]:
        gone = []
        for tid, t in self.transfers.items():
            if t.status == "pending" and t.expires is not None and t.expires <= self.now:
                t.status = "expired"
                self.accounts[t.debit].dpe -= t.amount
                self.accounts[t.credit].cpe -= t.amount
                gone.append(tid)
        return gone

    def batch(self, specs: list[TransferSpec]) -> list[ResultCode]:
        """Results of one create_transfers call, applying what succeeds."""
        self.expire_due()
        out: list[ResultCode] = []
        chain_start: int | None = None
        saved: tuple[object, ...] | None = None
        broken = False
        for i, s in enumerate(specs):
            linked = bool(s.flags & F.LINKED)
            if chain_start is None and linked:
                chain_start, broken = i, False
                saved = (copy.deepcopy(self.accounts), copy.deepcopy(self.transfers), dict(self.reversed))
            if broken:
                code = R.linked_event_failed
            elif linked and i == len(specs) - 1:
                code = R.linked_event_chain_open
            else:
                code = self.one(s)
            if code not in (R.ok, R.exists) and chain_start is not None and not broken:
                broken = True
                assert saved is not None
                self.accounts, self.transfers, self.reversed = saved  # type: ignore[assignment]
                for j in range(chain_start, i):
                    out[j] = R.linked_event_failed
            out.append(code)
            if not linked:
                chain_start, broken = None, False
        return out

    def _fail(self, s: TransferSpec, code: ResultCode) -> ResultCode:
        if code in TRANSIENT:
            self.failed[s.id] = code
        return code

    def one(self, s: TransferSpec) -> ResultCode:
        f = int(s.flags)
        if s.id in self.transfers:
            return self._exists(s, self.transfers[s.id])
        if s.id in self.failed:
            return R.id_already_failed
        if f & (F.POST_PENDING_TRANSFER | F.VOID_PENDING_TRANSFER):
            return self._close(s)
        if s.debit_account_id <= 0:
            return R.debit_account_id_must_not_be_zero
        if s.credit_account_id <= 0:
            return R.credit_account_id_must_not_be_zero
        if s.debit_account_id == s.credit_account_id:
            return R.accounts_must_be_different
        if s.amount == 0 and not f & (F.BALANCING_DEBIT | F.BALANCING_CREDIT):
            return R.amount_must_not_be_zero
        if s.reverses_id is not None and f & F.PENDING:
            return R.reversal_must_be_single_phase
        dr = self.accounts.get(s.debit_account_id)
        if dr is None:
            return self._fail(s, R.debit_account_not_found)
        cr = self.accounts.get(s.credit_account_id)
        if cr is None:
            return self._fail(s, R.credit_account_not_found)
        if dr.asset != cr.asset:
            return R.accounts_must_have_the_same_asset
        orig = None
        if s.reverses_id is not None:
            orig = self.transfers.get(s.reverses_id)
            if orig is None:
                return self._fail(s, R.reversed_transfer_not_found)
            if orig.spec.flags & (F.PENDING | F.VOID_PENDING_TRANSFER):
                return R.reversed_transfer_must_be_posted
            if (orig.debit, orig.credit) != (s.credit_account_id, s.debit_account_id):
                return R.reversal_must_swap_accounts
        amount = s.amount
        if f & F.BALANCING_DEBIT:
            room = max(0, dr.cp - dr.dp - dr.dpe)
            amount = min(amount, room) if amount else room
            if amount == 0:
                return self._fail(s, R.exceeds_credits)
        if orig is not None and self.reversed.get(orig.spec.id, 0) + amount > orig.amount:
            return self._fail(s, R.exceeds_reversible_amount)
        if dr.flags & AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS and dr.dp + dr.dpe + amount > dr.cp:
            return self._fail(s, R.exceeds_credits)
        if cr.flags & AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS and cr.cp + cr.cpe + amount > cr.dp:
            return self._fail(s, R.exceeds_debits)
        pending = bool(f & F.PENDING)
        if pending:
            dr.dpe += amount
            cr.cpe += amount
        else:
            dr.dp += amount
            cr.cp += amount
        if orig is not None:
            self.reversed[orig.spec.id] = self.reversed.get(orig.spec.id, 0) + amount
        expires = self.now + s.timeout_seconds if pending and s.timeout_seconds else None
        self.transfers[s.id] = MTransfer(s, s.debit_account_id, s.credit_account_id, amount,
                                         "pending" if pending else "posted", expires, s.code, self.now)  # fmt: skip
        return R.ok

    def _close(self, s: TransferSpec) -> ResultCode:
        post = bool(s.flags & F.POST_PENDING_TRANSFER)
        p = self.transfers.get(s.pending_id or "")
        if p is None:
            return self._fail(s, R.pending_transfer_not_found)
        if not p.spec.flags & F.PENDING:
            return R.pending_transfer_not_pending
        if s.debit_account_id and s.debit_account_id != p.debit:
            return R.pending_transfer_has_different_debit_account_id
        if s.credit_account_id and s.credit_account_id != p.credit:
            return R.pending_transfer_has_different_credit_account_id
        if s.code and s.code != p.code:
            return R.pending_transfer_has_different_code
        if post:
            amount = s.amount or p.amount
            if amount > p.amount:
                return R.exceeds_pending_transfer_amount
        else:
            if s.amount and s.amount != p.amount:
                return R.pending_transfer_has_different_amount
            amount = p.amount
        if p.status != "pending":
            return {"posted": R.pending_transfer_already_posted, "voided": R.pending_transfer_already_voided,
                    "expired": R.pending_transfer_expired}[p.status]  # fmt: skip
        dr, cr = self.accounts[p.debit], self.accounts[p.credit]
        dr.dpe -= p.amount
        cr.cpe -= p.amount
        if post:
            dr.dp += amount
            cr.cp += amount
        p.status = "posted" if post else "voided"
        self.transfers[s.id] = MTransfer(s, p.debit, p.credit, amount, p.status, None, p.code, self.now)
        return R.ok

    @staticmethod
    def _exists(s: TransferSpec, e: MTransfer) -> ResultCode:
        closing = bool(s.flags & (F.POST_PENDING_TRANSFER | F.VOID_PENDING_TRANSFER))
        if s.flags != e.spec.flags:
            return R.exists_with_different_flags
        if s.pending_id != e.spec.pending_id:
            return R.exists_with_different_pending_id
        if s.timeout_seconds != e.spec.timeout_seconds:
            return R.exists_with_different_timeout
        if (s.debit_account_id or not closing) and s.debit_account_id != e.debit:
            return R.exists_with_different_debit_account_id
        if (s.credit_account_id or not closing) and s.credit_account_id != e.credit:
            return R.exists_with_different_credit_account_id
        if s.flags & (F.BALANCING_DEBIT | F.BALANCING_CREDIT):
            if s.amount and s.amount < e.amount:
                return R.exists_with_different_amount
        elif (s.amount or not closing) and s.amount != e.amount:
            return R.exists_with_different_amount
        if s.memo != e.spec.memo:
            return R.exists_with_different_memo
        if s.reverses_id != e.spec.reverses_id:
            return R.exists_with_different_reverses_id
        if (s.code or not closing) and s.code != e.code:
            return R.exists_with_different_code
        return R.exists
