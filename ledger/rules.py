"""TigerBeetle's transfer rules, applied in memory to the working set of one batch (no I/O here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.chain import row_hash
from ledger.codes import TRANSIENT, ResultCode
from ledger.flags import ALL_TRANSFER_FLAGS, AccountFlag, TransferFlag, TransferStatus
from ledger.transfers import TransferSpec

MAX_AMOUNT = 2**63 - 1  # the columns are signed 64-bit
RESERVED_PREFIX = "~"  # ids the ledger writes itself (expiries); callers may not use it
EXPIRY_PREFIX = "~expired:"

_LINKED = int(TransferFlag.LINKED)
_PENDING = int(TransferFlag.PENDING)
_POST = int(TransferFlag.POST_PENDING_TRANSFER)
_VOID = int(TransferFlag.VOID_PENDING_TRANSFER)
_BAL_DEBIT = int(TransferFlag.BALANCING_DEBIT)
_BAL_CREDIT = int(TransferFlag.BALANCING_CREDIT)
_DMNEC = int(AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS)

R = ResultCode
PENDING_S = TransferStatus.PENDING.value
POSTED_S = TransferStatus.POSTED.value
VOIDED_S = TransferStatus.VOIDED.value
EXPIRED_S = TransferStatus.EXPIRED.value


@dataclass(slots=True)
class AccountState:
    """An account's counters as the batch sees them, and as they were read."""

    id: int
    asset: str
    flags: int
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int
    version: int = 0
    loaded: tuple[int, int, int, int] = (0, 0, 0, 0)

    def counters(self) -> tuple[int, int, int, int]:
        return (self.debits_posted, self.credits_posted, self.debits_pending, self.credits_pending)

    def changed(self) -> bool:
        return self.counters() != self.loaded


@dataclass(slots=True)
class Row:
    """A transfer row, in column order (`ledger.tables.TRANSFER_COLUMNS`)."""

    seq: int
    id: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    flags: int
    pending_id: str | None
    timeout_seconds: int
    code: int
    memo: str | None
    reverses_id: str | None
    asset: str
    created_us: int
    expires_us: int | None
    status: str
    hash: str
    loaded_status: str = ""

    def is_posting(self) -> bool:
        """True when the row moved posted money (single-phase or a post of a hold)."""
        return not (self.flags & (_PENDING | _VOID))

    def values(self) -> tuple[object, ...]:
        return (
            self.seq, self.id, self.debit_account_id, self.credit_account_id, self.amount,
            self.flags, self.pending_id, self.timeout_seconds, self.code, self.memo,
            self.reverses_id, self.asset, self.created_us, self.expires_us, self.status, self.hash,
        )  # fmt: skip

    def compute_hash(self, prev_hash: str) -> str:
        return row_hash(
            prev_hash, self.seq, self.id, self.debit_account_id, self.credit_account_id,
            self.amount, self.flags, self.pending_id, self.timeout_seconds, self.code, self.memo,
            self.reverses_id, self.asset, self.created_us, self.expires_us,
        )  # fmt: skip


@dataclass(slots=True)
class Outcome:
    """The result of one spec: its code, the row it names (new or existing) and a first failure."""

    code: ResultCode
    row: Row | None = None
    first_failure: ResultCode | None = None


def row_from_db(r: Sequence[Any]) -> Row:
    """A Row from the columns of `ledger_transfers` in table order."""
    return Row(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
        r[14], r[15], r[14],
    )  # fmt: skip


def account_from_db(a: Sequence[Any]) -> AccountState:
    """An AccountState from (id, asset, flags, debits_posted, credits_posted, debits_pending,
    credits_pending, version)."""
    return AccountState(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], (a[3], a[4], a[5], a[6]))


def accounts_needed(specs: Sequence[TransferSpec]) -> set[int]:
    """Account ids a batch names directly."""
    ids: set[int] = set()
    for s in specs:
        if s.debit_account_id > 0:
            ids.add(s.debit_account_id)
        if s.credit_account_id > 0:
            ids.add(s.credit_account_id)
    return ids


class Batch:
    """Applies specs in order to the loaded state; linked chains succeed or fail as a whole."""

    def __init__(
        self,
        now_us: int,
        head_seq: int,
        head_hash: str,
        next_expiry_us: int | None,
        rows: dict[str, Row],
        failed: dict[str, str],
        accounts: dict[int, AccountState],
        reversed_sums: dict[str, int],
    ) -> None:
        self.now_us = now_us
        self.head_seq = head_seq
        self.head_hash = head_hash
        self.next_expiry_us = next_expiry_us
        self.loaded_next_expiry_us = next_expiry_us
        self.rows = rows
        self.failed = failed
        self.accounts = accounts
        self.reversed = reversed_sums
        self.new_rows: list[Row] = []
        self.new_failures: list[tuple[str, str]] = []
        self.expired_ids: list[str] = []
        self._journal: list[tuple[object, ...]] | None = None

    # -- expiry ---------------------------------------------------------------------------------

    def expire(self, p: Row) -> None:
        """Close a hold whose timeout passed: release its pending amounts, write an expiry row."""
        dr = self.accounts[p.debit_account_id]
        cr = self.accounts[p.credit_account_id]
        self._add(dr, 0, 0, -p.amount, 0)
        self._add(cr, 0, 0, 0, -p.amount)
        self._set_status(p, EXPIRED_S)
        row = Row(
            0, EXPIRY_PREFIX + p.id, p.debit_account_id, p.credit_account_id, p.amount, _VOID,
            p.id, 0, p.code, None, None, p.asset, self.now_us, None, EXPIRED_S, "",
        )  # fmt: skip
        self._new_row(row)
        self.expired_ids.append(p.id)

    def is_due(self, p: Row) -> bool:
        return p.status == PENDING_S and p.expires_us is not None and p.expires_us <= self.now_us

    # -- journal (undo of a failed linked chain) ---------------------------------------------

    def _add(self, a: AccountState, dp: int, cp: int, dpe: int, cpe: int) -> None:
        a.debits_posted += dp
        a.credits_posted += cp
        a.debits_pending += dpe
        a.credits_pending += cpe
        if self._journal is not None:
            self._journal.append(("acct", a, dp, cp, dpe, cpe))

    def _set_status(self, r: Row, status: str) -> None:
        if self._journal is not None:
            self._journal.append(("status", r, r.status))
        r.status = status

    def _new_row(self, r: Row) -> None:
        self.rows[r.id] = r
        self.new_rows.append(r)
        if self._journal is not None:
            self._journal.append(("row", r))

    def _add_reversed(self, original_id: str, amount: int) -> None:
        self.reversed[original_id] = self.reversed.get(original_id, 0) + amount
        if self._journal is not None:
            self._journal.append(("rev", original_id, amount))

    def _set_next_expiry(self, expires_us: int) -> None:
        if self._journal is not None:
            self._journal.append(("nexp", self.next_expiry_us))
        if self.next_expiry_us is None or expires_us < self.next_expiry_us:
            self.next_expiry_us = expires_us

    def _rollback(self, journal: list[tuple[object, ...]]) -> None:
        for entry in reversed(journal):
            kind = entry[0]
            if kind == "acct":
                _, a, dp, cp, dpe, cpe = entry
                assert isinstance(a, AccountState)
                assert isinstance(dp, int) and isinstance(cp, int)
                assert isinstance(dpe, int) and isinstance(cpe, int)
                a.debits_posted -= dp
                a.credits_posted -= cp
                a.debits_pending -= dpe
                a.credits_pending -= cpe
            elif kind == "status":
                _, r, old = entry
                assert isinstance(r, Row) and isinstance(old, str)
                r.status = old
            elif kind == "row":
                r = entry[1]
                assert isinstance(r, Row)
                del self.rows[r.id]
                self.new_rows.remove(r)
            elif kind == "rev":
                _, oid, amount = entry
                assert isinstance(oid, str) and isinstance(amount, int)
                self.reversed[oid] -= amount
            elif kind == "nexp":
                old_next = entry[1]
                assert old_next is None or isinstance(old_next, int)
                self.next_expiry_us = old_next

    # -- the batch ------------------------------------------------------------------------------

    def execute(self, specs: Sequence[TransferSpec]) -> list[Outcome]:
        """Every spec's outcome, in order."""
        for s in specs:  # holds the batch touches whose time is up are expired first
            if s.pending_id is not None:
                p = self.rows.get(s.pending_id)
                if p is not None and self.is_due(p):
                    self.expire(p)
        out: list[Outcome] = []
        n = len(specs)
        chain_start: int | None = None
        chain_broken = False
        for i, s in enumerate(specs):
            linked = bool(int(s.flags) & _LINKED)
            if chain_start is None and linked:
                chain_start = i
                chain_broken = False
                self._journal = []
            if chain_broken:
                outcome = Outcome(R.linked_event_failed)
            elif linked and i == n - 1:
                outcome = Outcome(R.linked_event_chain_open)
            else:
                outcome = self._create(s)
            failed = outcome.code not in (R.ok, R.exists)
            if failed and chain_start is not None and not chain_broken:
                chain_broken = True
                assert self._journal is not None
                self._rollback(self._journal)
                self._journal = None
                for j in range(chain_start, i):
                    out[j] = Outcome(R.linked_event_failed)
            out.append(outcome)
            if not linked:
                chain_start = None
                chain_broken = False
                self._journal = None
        return out

    def finalize(self) -> None:
        """Give the new rows their place in the chain: gapless seq and hash after the head."""
        seq, prev = self.head_seq, self.head_hash
        for r in self.new_rows:
            seq += 1
            r.seq = seq
            r.hash = prev = r.compute_hash(prev)
        self.head_seq, self.head_hash = seq, prev

    def _fail(self, s: TransferSpec, code: ResultCode) -> Outcome:
        if code in TRANSIENT:
            self.failed[s.id] = code.value
            self.new_failures.append((s.id, code.value))
        return Outcome(code)

    def _create(self, s: TransferSpec) -> Outcome:
        flags = int(s.flags)
        if flags & ~ALL_TRANSFER_FLAGS:
            return Outcome(R.reserved_flag)
        if not s.id:
            return Outcome(R.id_must_not_be_zero)
        if s.id.startswith(RESERVED_PREFIX):
            return Outcome(R.id_must_not_be_reserved)
        e = self.rows.get(s.id)
        if e is not None:
            return Outcome(_exists(s, flags, e), e)
        first = self.failed.get(s.id)
        if first is not None:
            return Outcome(R.id_already_failed, None, R(first))
        post, void = flags & _POST, flags & _VOID
        if (flags & _PENDING and (post or void)) or (post and void):
            return Outcome(R.flags_are_mutually_exclusive)
        if (post or void) and flags & (_BAL_DEBIT | _BAL_CREDIT):
            return Outcome(R.flags_are_mutually_exclusive)
        if post or void:
            return self._post_or_void(s, flags)
        return self._single(s, flags)

    def _single(self, s: TransferSpec, flags: int) -> Outcome:
        if s.debit_account_id <= 0:
            return Outcome(R.debit_account_id_must_not_be_zero)
        if s.credit_account_id <= 0:
            return Outcome(R.credit_account_id_must_not_be_zero)
        if s.debit_account_id == s.credit_account_id:
            return Outcome(R.accounts_must_be_different)
        if s.pending_id is not None:
            return Outcome(R.pending_id_must_be_zero)
        pending = bool(flags & _PENDING)
        if s.timeout_seconds < 0:
            return Outcome(R.timeout_must_not_be_negative)
        if s.timeout_seconds and not pending:
            return Outcome(R.timeout_reserved_for_pending_transfer)
        if s.amount < 0:
            return Outcome(R.amount_must_not_be_negative)
        balancing = flags & (_BAL_DEBIT | _BAL_CREDIT)
        if s.amount == 0 and not balancing:
            return Outcome(R.amount_must_not_be_zero)
        if s.reverses_id is not None:
            if s.reverses_id == s.id:
                return Outcome(R.reverses_id_must_be_different)
            if pending:
                return Outcome(R.reversal_must_be_single_phase)
        dr = self.accounts.get(s.debit_account_id)
        if dr is None:
            return self._fail(s, R.debit_account_not_found)
        cr = self.accounts.get(s.credit_account_id)
        if cr is None:
            return self._fail(s, R.credit_account_not_found)
        if dr.asset != cr.asset:
            return Outcome(R.accounts_must_have_the_same_asset)
        original: Row | None = None
        if s.reverses_id is not None:
            original = self.rows.get(s.reverses_id)
            if original is None:
                return self._fail(s, R.reversed_transfer_not_found)
            if not original.is_posting():
                return Outcome(R.reversed_transfer_must_be_posted)
            if (original.debit_account_id, original.credit_account_id) != (
                s.credit_account_id,
                s.debit_account_id,
            ):
                return Outcome(R.reversal_must_swap_accounts)
        amount = s.amount
        if flags & _BAL_DEBIT:
            room = max(0, dr.credits_posted - dr.debits_posted - dr.debits_pending)
            amount = min(amount or MAX_AMOUNT, room)
            if amount == 0:
                return self._fail(s, R.exceeds_credits)
        if flags & _BAL_CREDIT:
            room = max(0, cr.debits_posted - cr.credits_posted - cr.credits_pending)
            amount = min(amount or MAX_AMOUNT, room)
            if amount == 0:
                return self._fail(s, R.exceeds_debits)
        if original is not None and self.reversed.get(original.id, 0) + amount > original.amount:
            return self._fail(s, R.exceeds_reversible_amount)
        expires_us: int | None = None
        if pending and s.timeout_seconds:
            expires_us = self.now_us + s.timeout_seconds * 1_000_000
            if expires_us > MAX_AMOUNT:
                return self._fail(s, R.overflows_timeout)
        if pending:
            if dr.debits_pending + amount > MAX_AMOUNT:
                return self._fail(s, R.overflows_debits_pending)
            if cr.credits_pending + amount > MAX_AMOUNT:
                return self._fail(s, R.overflows_credits_pending)
        else:
            if dr.debits_posted + amount > MAX_AMOUNT:
                return self._fail(s, R.overflows_debits_posted)
            if cr.credits_posted + amount > MAX_AMOUNT:
                return self._fail(s, R.overflows_credits_posted)
        if dr.debits_pending + dr.debits_posted + amount > MAX_AMOUNT:
            return self._fail(s, R.overflows_debits)
        if cr.credits_pending + cr.credits_posted + amount > MAX_AMOUNT:
            return self._fail(s, R.overflows_credits)
        if dr.flags & _DMNEC and dr.debits_pending + dr.debits_posted + amount > dr.credits_posted:
            return self._fail(s, R.exceeds_credits)
        if cr.flags & _CMNED and cr.credits_pending + cr.credits_posted + amount > cr.debits_posted:
            return self._fail(s, R.exceeds_debits)
        if pending:
            self._add(dr, 0, 0, amount, 0)
            self._add(cr, 0, 0, 0, amount)
            if expires_us is not None:
                self._set_next_expiry(expires_us)
        else:
            self._add(dr, amount, 0, 0, 0)
            self._add(cr, 0, amount, 0, 0)
        if original is not None:
            self._add_reversed(original.id, amount)
        row = Row(
            0, s.id, dr.id, cr.id, amount, flags, None, s.timeout_seconds, s.code, s.memo,
            s.reverses_id, dr.asset, self.now_us, expires_us,
            PENDING_S if pending else POSTED_S, "",
        )  # fmt: skip
        self._new_row(row)
        return Outcome(R.ok, row)

    def _post_or_void(self, s: TransferSpec, flags: int) -> Outcome:
        post = bool(flags & _POST)
        if not s.pending_id:
            return Outcome(R.pending_id_must_not_be_zero)
        if s.pending_id == s.id:
            return Outcome(R.pending_id_must_be_different)
        if s.timeout_seconds:
            return Outcome(R.timeout_reserved_for_pending_transfer)
        if s.amount < 0:
            return Outcome(R.amount_must_not_be_negative)
        if s.reverses_id is not None:
            return Outcome(R.reversal_must_be_single_phase)
        p = self.rows.get(s.pending_id)
        if p is None:
            return self._fail(s, R.pending_transfer_not_found)
        if not p.flags & _PENDING:
            return Outcome(R.pending_transfer_not_pending)
        if s.debit_account_id and s.debit_account_id != p.debit_account_id:
            return Outcome(R.pending_transfer_has_different_debit_account_id)
        if s.credit_account_id and s.credit_account_id != p.credit_account_id:
            return Outcome(R.pending_transfer_has_different_credit_account_id)
        if s.code and s.code != p.code:
            return Outcome(R.pending_transfer_has_different_code)
        if post:
            amount = s.amount or p.amount
            if amount > p.amount:
                return Outcome(R.exceeds_pending_transfer_amount)
        else:
            if s.amount and s.amount != p.amount:
                return Outcome(R.pending_transfer_has_different_amount)
            amount = p.amount
        if p.status == POSTED_S:
            return Outcome(R.pending_transfer_already_posted)
        if p.status == VOIDED_S:
            return Outcome(R.pending_transfer_already_voided)
        if p.status == EXPIRED_S:
            return Outcome(R.pending_transfer_expired)
        if self.is_due(p):
            self.expire(p)
            return Outcome(R.pending_transfer_expired)
        dr = self.accounts[p.debit_account_id]
        cr = self.accounts[p.credit_account_id]
        if post:
            if dr.debits_posted + amount > MAX_AMOUNT:
                return self._fail(s, R.overflows_debits_posted)
            if cr.credits_posted + amount > MAX_AMOUNT:
                return self._fail(s, R.overflows_credits_posted)
            self._add(dr, amount, 0, -p.amount, 0)
            self._add(cr, 0, amount, 0, -p.amount)
            self._set_status(p, POSTED_S)
        else:
            self._add(dr, 0, 0, -p.amount, 0)
            self._add(cr, 0, 0, 0, -p.amount)
            self._set_status(p, VOIDED_S)
        row = Row(
            0, s.id, p.debit_account_id, p.credit_account_id, amount, flags, p.id, 0,
            s.code or p.code, s.memo, None, p.asset, self.now_us, None,
            POSTED_S if post else VOIDED_S, "",
        )  # fmt: skip
        self._new_row(row)
        return Outcome(R.ok, row)


def _exists(s: TransferSpec, flags: int, e: Row) -> ResultCode:
    """`exists`, or the first field in which the retry differs from the transfer in the book."""
    if flags != e.flags:
        return R.exists_with_different_flags
    if s.pending_id != e.pending_id:
        return R.exists_with_different_pending_id
    if s.timeout_seconds != e.timeout_seconds:
        return R.exists_with_different_timeout
    closing = bool(flags & (_POST | _VOID))
    if (s.debit_account_id or not closing) and s.debit_account_id != e.debit_account_id:
        return R.exists_with_different_debit_account_id
    if (s.credit_account_id or not closing) and s.credit_account_id != e.credit_account_id:
        return R.exists_with_different_credit_account_id
    if flags & (_BAL_DEBIT | _BAL_CREDIT):
        if s.amount and s.amount < e.amount:
            return R.exists_with_different_amount
    elif (s.amount or not closing) and s.amount != e.amount:
        return R.exists_with_different_amount
    if s.memo != e.memo:
        return R.exists_with_different_memo
    if s.reverses_id != e.reverses_id:
        return R.exists_with_different_reverses_id
    if (s.code or not closing) and s.code != e.code:
        return R.exists_with_different_code
    return R.exists
