"""Typed errors the ledger raises: every failure in code has its own class, never a bare string."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every error the ledger raises."""


class UnknownAsset(LedgerError, ValueError):
    """An asset code that is neither an ISO 4217 currency nor a share asset `SHR:<SYMBOL>`."""


class TooPrecise(LedgerError, ValueError):
    """An amount with more decimals than its asset's exponent allows."""


class InvalidAmount(LedgerError, ValueError):
    """Text that is not a plain number in the given locale."""


class InvalidSplit(LedgerError, ValueError):
    """Weights or keys that cannot split a total (negative, empty, mismatched)."""


class AccountNotFound(LedgerError, LookupError):
    """No account has that id."""


class AccountConflict(LedgerError):
    """An account with that owner, asset and kind exists with other flags."""


class UnknownAccountKind(LedgerError, ValueError):
    """A system account kind the ledger does not know."""


class LedgerBusy(LedgerError):
    """The database kept refusing the transaction (deadlock, serialization, lock) after every retry."""
