"""Hypothesis stateful test: random accounts, transfers, linked batches, holds, posts, voids,
expiries on a fake clock, reversals and retries, each step checked against the shadow model and
every invariant of `ledger.check()`. More examples with --soak."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger import (
    AccountFlag,
    Ledger,
    TransferFlag,
    TransferSpec,
    TransferStatus,
    create_engine,
    migrate,
)
from ledger.tables import GENESIS_HASH
from tests.ledger.conftest import FakeClock
from tests.ledger.model import MAccount, Model

F = TransferFlag
ASSETS = ["USD", "EUR"]
OWNERS = ["ann", "bob", "cat", "dan"]


def _reset(url: str) -> None:
    """Empty the ledger's tables so each example starts from a blank book."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("ledger_failed_transfers", "ledger_transfers", "ledger_accounts"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(
            sa.text("UPDATE ledger_head SET seq = 0, hash = :h, next_expiry_us = NULL WHERE id = 1"),
            {"h": GENESIS_HASH},
        )
    engine.dispose()


def machine_for(url: str) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            _reset(url)
            self.clock = FakeClock()
            self.start = self.clock.now
            self.ledger = Ledger(url, clock=self.clock)
            self.model = Model()
            self.n = 0
            self.sent: list[TransferSpec] = []
            self.funding: dict[str, int] = {}
            for asset in ASSETS:
                acct = self.ledger.system_account("sandbox_funding", asset)
                self.funding[asset] = acct.id
                self.model.accounts[acct.id] = MAccount(asset, 0)

        def teardown(self) -> None:
            self.ledger.close()

        def _id(self, kind: str) -> str:
            self.n += 1
            return f"{kind}{self.n}"

        def _submit(self, specs: list[TransferSpec]) -> None:
            expected = self.model.batch(specs)
            got = [r.result for r in self.ledger.create_transfers(specs)]
            assert got == expected, f"{specs}: ledger {got}, model {expected}"
            self.sent.extend(specs)

        def _wallets(self) -> list[int]:
            return [i for i in self.model.accounts if i not in self.funding.values()]

        def _holds(self) -> list[str]:
            return [t for t, m in self.model.transfers.items() if m.spec.flags & F.PENDING]

        def _posted(self) -> list[str]:
            return [t for t, m in self.model.transfers.items() if not m.spec.flags & (F.PENDING | F.VOID_PENDING_TRANSFER)]

        @initialize(data=st.data())
        def some_funded_wallets(self, data: st.DataObject) -> None:
            for owner in OWNERS[:3]:
                for asset in ASSETS:
                    acct = self.ledger.open_account(owner, asset)
                    self.model.accounts[acct.id] = MAccount(asset, int(acct.flags))
                    amount = data.draw(st.integers(0, 400), label="funds")
                    if amount:
                        self._submit([TransferSpec(self._id("fund"), self.funding[asset], acct.id, amount)])

        @rule(owner=st.sampled_from(OWNERS), asset=st.sampled_from(ASSETS), kind=st.sampled_from(["wallet"] * 4 + ["capped"]))
        def open_account(self, owner: str, asset: str, kind: str) -> None:
            flags = AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS if kind == "capped" else None
            acct = self.ledger.open_account(owner, asset, kind, flags)
            self.model.accounts.setdefault(acct.id, MAccount(asset, int(acct.flags)))
            assert self.model.accounts[acct.id].flags == int(acct.flags)

        @rule(data=st.data(), amount=st.integers(1, 500))
        def fund(self, data: st.DataObject, amount: int) -> None:
            target = data.draw(st.sampled_from(self._wallets()))
            asset = self.model.accounts[target].asset
            self._submit([TransferSpec(self._id("fund"), self.funding[asset], target, amount)])

        def _spec(self, data: st.DataObject, linked: bool = False) -> TransferSpec:
            asset = data.draw(st.sampled_from(ASSETS), label="asset")
            pool = [i for i, a in self.model.accounts.items() if a.asset == asset]
            odd = data.draw(st.integers(0, 19), label="odd")  # now and then: a missing account or another asset
            others = list(self.model.accounts) if odd == 1 else pool
            debit = 10**8 if odd == 0 else data.draw(st.sampled_from(pool), label="debit")
            credit = data.draw(st.sampled_from([i for i in others if i != debit] or [10**8]), label="credit")
            amount = data.draw(st.integers(0, 150), label="amount")
            acct = self.model.accounts.get(debit)
            if acct is not None and data.draw(st.booleans(), label="near a limit"):
                posted, available = acct.cp - acct.dp, acct.cp - acct.dp - acct.dpe
                edges = [available - 1, available, available + 1, posted, posted + 1]
                amount = max(0, data.draw(st.sampled_from(edges), label="edge"))
            flags = data.draw(st.sampled_from([F.NONE] * 3 + [F.PENDING] * 3 + [F.BALANCING_DEBIT, F.PENDING | F.BALANCING_DEBIT]))
            timeout = data.draw(st.sampled_from([0, 0, 10, 100])) if flags & F.PENDING else 0
            if linked:
                flags |= F.LINKED
            return TransferSpec(self._id("t"), debit, credit, amount, flags, timeout_seconds=timeout,
                                code=data.draw(st.integers(0, 2)), memo=data.draw(st.sampled_from([None, "m"])))  # fmt: skip

        @rule(data=st.data())
        def hold(self, data: st.DataObject) -> None:
            """A hold that fits the wallet's available balance (so that holds are common)."""
            funded = [i for i in self._wallets() if self.model.accounts[i].cp - self.model.accounts[i].dp - self.model.accounts[i].dpe > 0]
            if not funded:
                return
            debit = data.draw(st.sampled_from(funded))
            acct = self.model.accounts[debit]
            credit = data.draw(st.sampled_from([i for i, a in self.model.accounts.items() if a.asset == acct.asset and i != debit]))
            amount = data.draw(st.integers(1, acct.cp - acct.dp - acct.dpe))
            timeout = data.draw(st.sampled_from([0, 0, 10, 100]))
            self._submit([TransferSpec(self._id("h"), debit, credit, amount, F.PENDING, timeout_seconds=timeout)])

        @rule(data=st.data())
        def transfer(self, data: st.DataObject) -> None:
            self._submit([self._spec(data)])

        def _close_spec(self, data: st.DataObject, linked: bool = False) -> TransferSpec:
            holds = self._holds() + ["missing-hold"]
            pid = data.draw(st.sampled_from(holds), label="hold")
            hold = self.model.transfers.get(pid)
            top = hold.amount + 5 if hold else 10
            post = data.draw(st.booleans(), label="post")
            amount = data.draw(st.integers(0, top), label="amount") if post else data.draw(st.sampled_from([0, top - 5, top]))
            flags = F.POST_PENDING_TRANSFER if post else F.VOID_PENDING_TRANSFER
            if linked:
                flags |= F.LINKED
            return TransferSpec(self._id("c"), 0, 0, amount, flags, pending_id=pid)

        @precondition(lambda self: bool(self._holds()))
        @rule(data=st.data())
        def post_or_void(self, data: st.DataObject) -> None:
            self._submit([self._close_spec(data)])

        @rule(data=st.data(), size=st.integers(2, 4), open_end=st.sampled_from([False] * 5 + [True]))
        def linked_batch(self, data: st.DataObject, size: int, open_end: bool) -> None:
            specs = []
            for i in range(size):
                linked = i < size - 1 or open_end
                if self._holds() and data.draw(st.booleans(), label="close a hold"):
                    specs.append(self._close_spec(data, linked))
                else:
                    specs.append(self._spec(data, linked))
            if data.draw(st.booleans(), label="tail"):
                specs.append(self._spec(data))  # an unlinked transfer after the chain
            self._submit(specs)

        @precondition(lambda self: bool(self._posted()))
        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            orig = self.model.transfers[data.draw(st.sampled_from(self._posted()))]
            amount = data.draw(st.integers(1, orig.amount + 10))
            spec = TransferSpec(self._id("r"), orig.credit, orig.debit, amount, reverses_id=orig.spec.id, code=orig.code)
            self._submit([spec])

        @precondition(lambda self: bool(self.sent))
        @rule(data=st.data(), change=st.sampled_from([None, "amount", "memo", "code"]))
        def retry(self, data: st.DataObject, change: str | None) -> None:
            spec = data.draw(st.sampled_from(self.sent))
            if change == "amount":
                spec = TransferSpec(**{**spec.__dict__, "amount": spec.amount + 1})
            elif change == "memo":
                spec = TransferSpec(**{**spec.__dict__, "memo": "other"})
            elif change == "code":
                spec = TransferSpec(**{**spec.__dict__, "code": spec.code + 7})
            linked = bool(spec.flags & F.LINKED)
            if linked:  # alone, a linked transfer would leave its chain open: retry it with a tail
                self._submit([spec, TransferSpec(self._id("tail"), 0, 0, 0, F.NONE)])
            else:
                self._submit([spec])

        @rule(seconds=st.sampled_from([1, 9, 10, 50, 101]))
        def advance_clock(self, seconds: int) -> None:
            self.clock.advance(seconds)
            self.model.now += seconds

        @rule(seconds=st.sampled_from([0, 10, 100]))
        def advance_and_expire(self, seconds: int) -> None:
            self.clock.advance(seconds)
            self.model.now += seconds
            assert sorted(self.ledger.expire_pending()) == sorted(self.model.expire_due())

        @invariant()
        def matches_the_model(self) -> None:
            self.model.expire_due()  # reading balances expires what is due, as the ledger does
            ids = sorted(self.model.accounts)
            bals = self.ledger.balances(ids)
            for i in ids:
                m, b = self.model.accounts[i], bals[i]
                assert (b.debits_posted, b.credits_posted, b.debits_pending, b.credits_pending) == (m.dp, m.cp, m.dpe, m.cpe), i
                if m.flags & AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS:
                    assert b.available >= 0
            for tid in self._holds():
                t = self.ledger.lookup_transfer(tid)
                assert t is not None and t.status == TransferStatus(self.model.transfers[tid].status), tid
                timeout = self.model.transfers[tid].spec.timeout_seconds
                want = t.created_at + timedelta(seconds=timeout) if timeout else None
                assert t.expires_at == want, tid
                assert t.created_at == self.start + timedelta(seconds=self.model.transfers[tid].created), tid

        @invariant()
        def every_invariant_holds(self) -> None:
            report = self.ledger.check()
            assert report.ok, report.problems

    return LedgerMachine


def test_ledger_matches_its_shadow_model(db_url: str, request: pytest.FixtureRequest) -> None:
    migrate(db_url)
    soak = bool(request.config.getoption("--soak"))
    run_state_machine_as_test(
        machine_for(db_url),
        settings=settings(
            max_examples=500 if soak else 50,
            stateful_step_count=60 if soak else 30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
