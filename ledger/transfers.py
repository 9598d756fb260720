"""Transfers as callers ask for them (TransferSpec) and as the book holds them (Transfer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.codes import SUCCESS, ResultCode
from ledger.flags import TransferFlag, TransferStatus


@dataclass(frozen=True)
class TransferSpec:
    """A transfer to create. `id` is chosen by the caller and makes retries safe.

    For a post or void, `debit_account_id`, `credit_account_id`, `amount` and `code` may be 0 to
    take them from the pending transfer (amount 0 posts it in full). A balancing transfer with
    amount 0 moves all that the limit allows.
    """

    id: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    flags: TransferFlag = TransferFlag.NONE
    pending_id: str | None = None
    timeout_seconds: int = 0
    code: int = 0
    memo: str | None = None
    reverses_id: str | None = None


@dataclass(frozen=True)
class Transfer:
    """A transfer in the book: the effective accounts and amount, its place in the chain and status."""

    id: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    flags: TransferFlag
    pending_id: str | None
    timeout_seconds: int
    code: int
    memo: str | None
    reverses_id: str | None
    seq: int
    created_at: datetime
    status: TransferStatus
    hash: str
    asset: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class TransferResult:
    """What became of one requested transfer. `first_failure` is set with `id_already_failed`."""

    id: str
    result: ResultCode
    transfer: Transfer | None
    first_failure: ResultCode | None = None

    @property
    def ok(self) -> bool:
        """True when the transfer is in the book (`ok` or `exists`)."""
        return self.result in SUCCESS


@dataclass(frozen=True)
class StatementLine:
    """One posted movement of an account: signed amount (+ is a credit) and the running balance."""

    transfer_id: str
    at: datetime
    amount: int
    balance: int
    counterparty_account_id: int
    memo: str | None
    code: int
