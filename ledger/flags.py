"""Account and transfer flags (TigerBeetle's bits) and the status of a transfer."""

from __future__ import annotations

import enum


class AccountFlag(enum.IntFlag):
    """Balance limits an account enforces, counting pending debits (or credits) against it."""

    NONE = 0
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2


class TransferFlag(enum.IntFlag):
    """How a transfer behaves: linked chain, two-phase (pending/post/void), balancing."""

    NONE = 0
    LINKED = 1
    PENDING = 2
    POST_PENDING_TRANSFER = 4
    VOID_PENDING_TRANSFER = 8
    BALANCING_DEBIT = 16
    BALANCING_CREDIT = 32


ALL_TRANSFER_FLAGS = int(
    TransferFlag.LINKED
    | TransferFlag.PENDING
    | TransferFlag.POST_PENDING_TRANSFER
    | TransferFlag.VOID_PENDING_TRANSFER
    | TransferFlag.BALANCING_DEBIT
    | TransferFlag.BALANCING_CREDIT
)
ALL_ACCOUNT_FLAGS = int(AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlag.CREDITS_MUST_NOT_EXCEED_DEBITS)


class TransferStatus(enum.StrEnum):
    """Where a transfer stands: a hold is `pending` until posted, voided or expired; others are final."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"
