"""Every result code of create_transfers, each provoked on purpose, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger import (
    SUCCESS,
    Account,
    AccountFlag,
    Ledger,
    ResultCode,
    TransferFlag,
    TransferResult,
    TransferSpec,
)
from tests.ledger.conftest import FakeClock

R = ResultCode
F = TransferFlag
MAX = 2**63 - 1


@dataclass
class Ctx:
    ledger: Ledger
    clock: FakeClock
    p: str  # a prefix unique to the case: owners and ids never collide between cases

    def wallet(self, name: str, funds: int = 0, asset: str = "USD", **kw: object) -> Account:
        acct = self.ledger.open_account(f"{self.p}-{name}", asset, **kw)  # type: ignore[arg-type]
        if funds:
            src = self.ledger.system_account("sandbox_funding", asset)
            assert self.ledger.create_transfer(TransferSpec(f"{self.p}-fund-{name}", src.id, acct.id, funds)).ok
        return acct

    def free(self, name: str) -> Account:
        """An account without limits."""
        return self.ledger.open_account(f"{self.p}-{name}", "USD", kind="omnibus", flags=AccountFlag.NONE)

    def t(self, suffix: str, debit: Account | int, credit: Account | int, amount: int, flags: F = F.NONE, **kw: object) -> TransferSpec:
        d = debit if isinstance(debit, int) else debit.id
        c = credit if isinstance(credit, int) else credit.id
        return TransferSpec(f"{self.p}-{suffix}", d, c, amount, flags, **kw)  # type: ignore[arg-type]

    def do(self, spec: TransferSpec) -> TransferResult:
        return self.ledger.create_transfer(spec)

    def ok(self, spec: TransferSpec) -> TransferResult:
        r = self.do(spec)
        assert r.result == R.ok, r
        return r


Case = Callable[[Ctx], TransferResult]
CASES: dict[ResultCode, Case] = {}


def case(code: ResultCode) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[code] = fn
        return fn

    return register


def pair(c: Ctx, funds: int = 100) -> tuple[Account, Account]:
    return c.wallet("a", funds), c.wallet("b")


@case(R.ok)
def _ok(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 40))


@case(R.linked_event_failed)
def _linked_failed(c: Ctx) -> TransferResult:
    a, b = pair(c)
    rs = c.ledger.create_transfers([c.t("x1", a, b, 40, F.LINKED), c.t("x2", a, b, 400)])
    assert rs[1].result == R.exceeds_credits
    assert c.ledger.balance(a.id).posted == 100  # the first one was rolled back
    return rs[0]


@case(R.linked_event_chain_open)
def _chain_open(c: Ctx) -> TransferResult:
    a, b = pair(c)
    rs = c.ledger.create_transfers([c.t("x1", a, b, 1, F.LINKED), c.t("x2", a, b, 1, F.LINKED)])
    assert rs[0].result == R.linked_event_failed
    return rs[1]


@case(R.reserved_flag)
def _reserved_flag(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 1, F(64)))


@case(R.id_must_not_be_zero)
def _id_zero(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(TransferSpec("", a.id, b.id, 1))


@case(R.id_must_not_be_reserved)
def _id_reserved(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(TransferSpec("~mine", a.id, b.id, 1))


@case(R.exists_with_different_flags)
def _ewd_flags(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("x", a, b, 10))
    return c.do(c.t("x", a, b, 10, F.BALANCING_DEBIT))


@case(R.exists_with_different_pending_id)
def _ewd_pending_id(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("h1", a, b, 10, F.PENDING))
    c.ok(c.t("h2", a, b, 10, F.PENDING))
    c.ok(c.t("post", 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id=f"{c.p}-h1"))
    return c.do(c.t("post", 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id=f"{c.p}-h2"))


@case(R.exists_with_different_timeout)
def _ewd_timeout(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("h", a, b, 10, F.PENDING, timeout_seconds=3600))
    return c.do(c.t("h", a, b, 10, F.PENDING, timeout_seconds=60))


@case(R.exists_with_different_debit_account_id)
def _ewd_debit(c: Ctx) -> TransferResult:
    a, b = pair(c)
    a2 = c.wallet("a2", 100)
    c.ok(c.t("x", a, b, 10))
    return c.do(c.t("x", a2, b, 10))


@case(R.exists_with_different_credit_account_id)
def _ewd_credit(c: Ctx) -> TransferResult:
    a, b = pair(c)
    b2 = c.wallet("b2")
    c.ok(c.t("x", a, b, 10))
    return c.do(c.t("x", a, b2, 10))


@case(R.exists_with_different_amount)
def _ewd_amount(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("x", a, b, 10))
    return c.do(c.t("x", a, b, 11))


@case(R.exists_with_different_memo)
def _ewd_memo(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("x", a, b, 10, memo="lunch"))
    return c.do(c.t("x", a, b, 10, memo="dinner"))


@case(R.exists_with_different_reverses_id)
def _ewd_reverses(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("x", a, b, 10))
    c.ok(c.t("back", b, a, 10, reverses_id=f"{c.p}-x"))
    return c.do(c.t("back", b, a, 10))


@case(R.exists_with_different_code)
def _ewd_code(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("x", a, b, 10, code=1))
    return c.do(c.t("x", a, b, 10, code=2))


@case(R.exists)
def _exists(c: Ctx) -> TransferResult:
    a, b = pair(c)
    first = c.ok(c.t("x", a, b, 10, code=3, memo="m"))
    again = c.do(c.t("x", a, b, 10, code=3, memo="m"))
    assert again.transfer == first.transfer and again.ok
    assert c.ledger.balance(a.id).posted == 90  # moved once
    return again


@case(R.id_already_failed)
def _already_failed(c: Ctx) -> TransferResult:
    a, b = pair(c, funds=5)
    assert c.do(c.t("x", a, b, 10)).result == R.exceeds_credits
    c.ledger.create_transfer(TransferSpec(f"{c.p}-topup", c.ledger.system_account("sandbox_funding", "USD").id, a.id, 100))
    again = c.do(c.t("x", a, b, 10))  # enough money now, but the id failed for ever
    assert again.first_failure == R.exceeds_credits
    return again


@case(R.flags_are_mutually_exclusive)
def _exclusive(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 10, F.PENDING | F.POST_PENDING_TRANSFER, pending_id="p"))


@case(R.debit_account_id_must_not_be_zero)
def _debit_zero(c: Ctx) -> TransferResult:
    _, b = pair(c)
    return c.do(c.t("x", 0, b, 10))


@case(R.credit_account_id_must_not_be_zero)
def _credit_zero(c: Ctx) -> TransferResult:
    a, _ = pair(c)
    return c.do(c.t("x", a, 0, 10))


@case(R.accounts_must_be_different)
def _same(c: Ctx) -> TransferResult:
    a, _ = pair(c)
    return c.do(c.t("x", a, a, 10))


@case(R.pending_id_must_be_zero)
def _pending_id_zero(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 10, pending_id="h"))


@case(R.pending_id_must_not_be_zero)
def _pending_id_not_zero(c: Ctx) -> TransferResult:
    return c.do(c.t("x", 0, 0, 0, F.POST_PENDING_TRANSFER))


@case(R.pending_id_must_be_different)
def _pending_id_different(c: Ctx) -> TransferResult:
    return c.do(c.t("x", 0, 0, 0, F.VOID_PENDING_TRANSFER, pending_id=f"{c.p}-x"))


@case(R.timeout_must_not_be_negative)
def _timeout_negative(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 10, F.PENDING, timeout_seconds=-1))


@case(R.timeout_reserved_for_pending_transfer)
def _timeout_reserved(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 10, timeout_seconds=30))


@case(R.amount_must_not_be_negative)
def _amount_negative(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", b, a, -10))


@case(R.amount_must_not_be_zero)
def _amount_zero(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 0))


@case(R.reverses_id_must_be_different)
def _reverses_self(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 10, reverses_id=f"{c.p}-x"))


@case(R.reversal_must_be_single_phase)
def _reversal_phase(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("x", a, b, 10))
    return c.do(c.t("back", b, a, 10, F.PENDING, reverses_id=f"{c.p}-x"))


@case(R.debit_account_not_found)
def _debit_missing(c: Ctx) -> TransferResult:
    _, b = pair(c)
    return c.do(c.t("x", 10**9, b, 10))


@case(R.credit_account_not_found)
def _credit_missing(c: Ctx) -> TransferResult:
    a, _ = pair(c)
    return c.do(c.t("x", a, 10**9, 10))


@case(R.accounts_must_have_the_same_asset)
def _asset(c: Ctx) -> TransferResult:
    a, _ = pair(c)
    e = c.wallet("eur", asset="EUR")
    return c.do(c.t("x", a, e, 10))


def _hold(c: Ctx, amount: int = 50, **kw: object) -> tuple[Account, Account, str]:
    a, b = pair(c)
    c.ok(c.t("h", a, b, amount, F.PENDING, code=1, **kw))
    return a, b, f"{c.p}-h"


@case(R.pending_transfer_not_found)
def _pending_missing(c: Ctx) -> TransferResult:
    return c.do(c.t("x", 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id="nope"))


@case(R.pending_transfer_not_pending)
def _not_pending(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("plain", a, b, 10))
    return c.do(c.t("x", 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id=f"{c.p}-plain"))


@case(R.pending_transfer_has_different_debit_account_id)
def _pending_debit(c: Ctx) -> TransferResult:
    a, b, h = _hold(c)
    return c.do(c.t("x", b, 0, 0, F.POST_PENDING_TRANSFER, pending_id=h))


@case(R.pending_transfer_has_different_credit_account_id)
def _pending_credit(c: Ctx) -> TransferResult:
    a, b, h = _hold(c)
    return c.do(c.t("x", a, a, 0, F.POST_PENDING_TRANSFER, pending_id=h))


@case(R.pending_transfer_has_different_code)
def _pending_code(c: Ctx) -> TransferResult:
    a, b, h = _hold(c)
    return c.do(c.t("x", a, b, 0, F.POST_PENDING_TRANSFER, pending_id=h, code=9))


@case(R.exceeds_pending_transfer_amount)
def _exceeds_pending(c: Ctx) -> TransferResult:
    a, b, h = _hold(c)
    return c.do(c.t("x", a, b, 51, F.POST_PENDING_TRANSFER, pending_id=h))


@case(R.pending_transfer_has_different_amount)
def _void_amount(c: Ctx) -> TransferResult:
    a, b, h = _hold(c)
    return c.do(c.t("x", a, b, 20, F.VOID_PENDING_TRANSFER, pending_id=h))


@case(R.pending_transfer_already_posted)
def _already_posted(c: Ctx) -> TransferResult:
    _, _, h = _hold(c)
    c.ok(c.t("p1", 0, 0, 10, F.POST_PENDING_TRANSFER, pending_id=h))
    return c.do(c.t("p2", 0, 0, 10, F.POST_PENDING_TRANSFER, pending_id=h))


@case(R.pending_transfer_already_voided)
def _already_voided(c: Ctx) -> TransferResult:
    _, _, h = _hold(c)
    c.ok(c.t("v1", 0, 0, 0, F.VOID_PENDING_TRANSFER, pending_id=h))
    return c.do(c.t("p2", 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id=h))


@case(R.pending_transfer_expired)
def _expired(c: Ctx) -> TransferResult:
    a, _, h = _hold(c, timeout_seconds=10)
    assert c.ledger.balance(a.id).available == 50
    c.clock.advance(11)
    r = c.do(c.t("late", 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id=h))
    assert c.ledger.balance(a.id).available == 100  # the hold was released
    return r


@case(R.reversed_transfer_not_found)
def _reversed_missing(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("back", b, a, 10, reverses_id="nope"))


@case(R.reversed_transfer_must_be_posted)
def _reversed_hold(c: Ctx) -> TransferResult:
    a, b, h = _hold(c)
    return c.do(c.t("back", b, a, 10, reverses_id=h))


@case(R.reversal_must_swap_accounts)
def _reversal_swap(c: Ctx) -> TransferResult:
    a, b = pair(c, 200)
    c.ok(c.t("x", a, b, 10))
    return c.do(c.t("back", a, b, 10, reverses_id=f"{c.p}-x"))


@case(R.exceeds_reversible_amount)
def _reversal_too_much(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("x", a, b, 100))
    assert c.ledger.reverse(f"{c.p}-x", f"{c.p}-back1", 60).result == R.ok
    return c.ledger.reverse(f"{c.p}-x", f"{c.p}-back2", 50)


@case(R.overflows_debits_pending)
def _of_debits_pending(c: Ctx) -> TransferResult:
    s1, s2, s3 = c.free("s1"), c.free("s2"), c.free("s3")
    c.ok(c.t("h", s1, s2, MAX, F.PENDING))
    return c.do(c.t("x", s1, s3, 1, F.PENDING))


@case(R.overflows_credits_pending)
def _of_credits_pending(c: Ctx) -> TransferResult:
    s1, s2, s3 = c.free("s1"), c.free("s2"), c.free("s3")
    c.ok(c.t("h", s1, s2, MAX, F.PENDING))
    return c.do(c.t("x", s3, s2, 1, F.PENDING))


@case(R.overflows_debits_posted)
def _of_debits_posted(c: Ctx) -> TransferResult:
    s1, s2, s3 = c.free("s1"), c.free("s2"), c.free("s3")
    c.ok(c.t("h", s1, s2, MAX))
    return c.do(c.t("x", s1, s3, 1))


@case(R.overflows_credits_posted)
def _of_credits_posted(c: Ctx) -> TransferResult:
    s1, s2, s3 = c.free("s1"), c.free("s2"), c.free("s3")
    c.ok(c.t("h", s1, s2, MAX))
    return c.do(c.t("x", s3, s2, 1))


@case(R.overflows_debits)
def _of_debits(c: Ctx) -> TransferResult:
    s1, s2, s3 = c.free("s1"), c.free("s2"), c.free("s3")
    c.ok(c.t("h", s1, s2, MAX - 5))
    return c.do(c.t("x", s1, s3, 10, F.PENDING))


@case(R.overflows_credits)
def _of_credits(c: Ctx) -> TransferResult:
    s1, s2, s3 = c.free("s1"), c.free("s2"), c.free("s3")
    c.ok(c.t("h", s1, s2, MAX - 5))
    return c.do(c.t("x", s3, s2, 10, F.PENDING))


@case(R.overflows_timeout)
def _of_timeout(c: Ctx) -> TransferResult:
    a, b = pair(c)
    return c.do(c.t("x", a, b, 10, F.PENDING, timeout_seconds=2**62))


@case(R.exceeds_credits)
def _exceeds_credits(c: Ctx) -> TransferResult:
    a, b = pair(c)
    c.ok(c.t("h", a, b, 60, F.PENDING))  # pending debits count against the limit
    return c.do(c.t("x", a, b, 41))


@case(R.exceeds_debits)
def _exceeds_debits(c: Ctx) -> TransferResult:
    src = c.free("src")
    cap = c.ledger.open_account(f"{c.p}-cap", "USD", kind="capped", flags=AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS)
    c.ok(c.t("out", cap, src, 30))  # 30 debited, so up to 30 may be credited back
    c.ok(c.t("in", src, cap, 20))
    return c.do(c.t("x", src, cap, 11))


def test_every_result_code_has_a_case() -> None:
    assert set(CASES) == set(ResultCode)


def test_every_result_code(ledger: Ledger, clock: FakeClock) -> None:
    for code, make in CASES.items():
        before = ledger.lookup_transfer(f"{code.value}-x")
        r = make(Ctx(ledger, clock, code.value))
        assert r.result == code, f"{code}: got {r}"
        assert r.ok == (code in SUCCESS)
        if code not in SUCCESS and not code.value.startswith("exists_with_different"):
            assert r.transfer is None
            if r.id:
                assert ledger.lookup_transfer(r.id) is None, f"{code}: a failed transfer was written"
        if code.value.startswith("exists_with_different"):
            assert r.transfer is not None and r.transfer.id == r.id  # the one in the book
        assert before is None
    report = ledger.check()
    assert report.ok, report.problems

