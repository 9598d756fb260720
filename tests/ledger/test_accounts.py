"""Accounts: idempotent opening, flags, system accounts, labels, lookups."""

from __future__ import annotations

import pytest

from ledger import (
    SYSTEM_FLAGS,
    SYSTEM_KINDS,
    AccountConflict,
    AccountFlag,
    AccountNotFound,
    Ledger,
    UnknownAccountKind,
    UnknownAsset,
)


def test_open_account_is_idempotent_and_wallets_are_limited(ledger: Ledger) -> None:
    a = ledger.open_account("alice", "USD")
    assert a.flags == AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS
    assert a.kind == "wallet" and a.owner == "alice" and a.asset == "USD" and a.label is None
    assert ledger.open_account("alice", "USD") == a
    eur = ledger.open_account("alice", "EUR")
    assert eur.id != a.id
    other = ledger.open_account("alice", "USD", kind="savings")
    assert other.flags == AccountFlag.NONE and other.id not in (a.id, eur.id)
    with pytest.raises(AccountConflict):
        ledger.open_account("alice", "USD", flags=AccountFlag.NONE)
    with pytest.raises(UnknownAsset):
        ledger.open_account("alice", "ABC")
    relabelled = ledger.open_account("alice", "USD", label="@alice")
    assert relabelled.id == a.id and relabelled.label == "@alice"
    assert ledger.get_account(a.id) == relabelled


def test_system_accounts(ledger: Ledger) -> None:
    for kind in sorted(SYSTEM_KINDS):
        acct = ledger.system_account(kind, "NOK")
        assert acct.owner == "system" and acct.kind == kind
        assert acct.flags == SYSTEM_FLAGS.get(kind, AccountFlag.NONE)
        assert ledger.system_account(kind, "NOK") == acct
    with pytest.raises(UnknownAccountKind):
        ledger.system_account("slush_fund", "NOK")


def test_labels_lookups_and_listing(ledger: Ledger) -> None:
    a1 = ledger.open_account("u1", "USD")
    a2 = ledger.open_account("u1", "SHR:AAPL")
    b = ledger.open_account("u2", "USD")
    ledger.set_label("u1", "@anna")
    assert {a.label for a in ledger.accounts("u1")} == {"@anna"}
    assert ledger.get_account(b.id) is not None and ledger.get_account(b.id).label is None  # type: ignore[union-attr]
    assert [a.id for a in ledger.accounts("u1")] == [a1.id, a2.id]
    assert [a.id for a in ledger.accounts()] == [a1.id, a2.id, b.id]
    nok = ledger.open_account("u1", "NOK")
    assert nok.label == "@anna"  # a new account takes its owner's label
    ledger.open_account("u1", "USD", label="@anna2")  # a label given when opening is the owner's
    assert {a.label for a in ledger.accounts("u1")} == {"@anna2"}
    found = ledger.find_account("u1", "SHR:AAPL")
    assert found is not None and found.id == a2.id
    assert ledger.find_account("u1", "EUR") is None
    assert ledger.get_account(10**9) is None
    with pytest.raises(AccountNotFound):
        ledger.balance(10**9)
    with pytest.raises(AccountNotFound):
        ledger.statement(10**9)
    bal = ledger.balances([a1.id, b.id])
    assert set(bal) == {a1.id, b.id} and bal[a1.id].posted == 0 and bal[a1.id].asset == "USD"
