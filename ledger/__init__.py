"""The ledger: a double-entry book with TigerBeetle's transfer semantics, the only writer of money."""

from ledger.accounts import SYSTEM_FLAGS, SYSTEM_KINDS, SYSTEM_OWNER, WALLET, Account, Balance
from ledger.book import Ledger
from ledger.check import CheckReport
from ledger.codes import SUCCESS, TRANSIENT, ResultCode
from ledger.db import create_engine, migrate
from ledger.errors import (
    AccountConflict,
    AccountNotFound,
    InvalidAmount,
    InvalidSplit,
    LedgerBusy,
    LedgerError,
    TooPrecise,
    UnknownAccountKind,
    UnknownAsset,
)
from ledger.flags import AccountFlag, TransferFlag, TransferStatus
from ledger.money import (
    Money,
    decimal_text,
    exponent,
    from_minor,
    split_largest_remainder,
    to_minor,
)
from ledger.rules import EXPIRY_PREFIX
from ledger.transfers import StatementLine, Transfer, TransferResult, TransferSpec

__all__ = [
    "EXPIRY_PREFIX",
    "SUCCESS",
    "SYSTEM_FLAGS",
    "SYSTEM_KINDS",
    "SYSTEM_OWNER",
    "TRANSIENT",
    "WALLET",
    "Account",
    "AccountConflict",
    "AccountFlag",
    "AccountNotFound",
    "Balance",
    "CheckReport",
    "InvalidAmount",
    "InvalidSplit",
    "Ledger",
    "LedgerBusy",
    "LedgerError",
    "Money",
    "ResultCode",
    "StatementLine",
    "TooPrecise",
    "Transfer",
    "TransferFlag",
    "TransferResult",
    "TransferSpec",
    "TransferStatus",
    "UnknownAccountKind",
    "UnknownAsset",
    "create_engine",
    "decimal_text",
    "exponent",
    "from_minor",
    "migrate",
    "split_largest_remainder",
    "to_minor",
]
