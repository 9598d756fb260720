"""Tamper evidence: each transfer row's hash covers its immutable fields and the hash before it."""

from __future__ import annotations

import hashlib


def _s(v: str | None) -> str:
    return "~" if v is None else f"{len(v)}:{v}"


def row_hash(
    prev_hash: str,
    seq: int,
    transfer_id: str,
    debit_account_id: int,
    credit_account_id: int,
    amount: int,
    flags: int,
    pending_id: str | None,
    timeout_seconds: int,
    code: int,
    memo: str | None,
    reverses_id: str | None,
    asset: str,
    created_us: int,
    expires_us: int | None,
) -> str:
    """SHA-256 (hex) of the previous row's hash and this row's fields, `|`-separated, every text
    length-prefixed and None written `~`, so no two different rows encode alike.

    The status of a hold is left out on purpose: it changes when the hold is closed, and the
    closing row (post, void or expiry) is itself in the chain.
    """
    payload = (
        f"{prev_hash}|{seq}|{_s(transfer_id)}|{debit_account_id}|{credit_account_id}|{amount}|"
        f"{flags}|{_s(pending_id)}|{timeout_seconds}|{code}|{_s(memo)}|{_s(reverses_id)}|"
        f"{_s(asset)}|{created_us}|{'~' if expires_us is None else expires_us}"
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
