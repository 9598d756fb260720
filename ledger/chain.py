"""Tamper evidence: each transfer row's hash covers its immutable fields and the hash before it."""

from __future__ import annotations

import hashlib
import json


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
    """SHA-256 of the canonical JSON of the row's fields and the previous row's hash.

    The status of a hold is left out on purpose: it changes when the hold is closed, and the
    closing row (post, void or expiry) is itself in the chain.
    """
    payload = json.dumps(
        [
            prev_hash,
            seq,
            transfer_id,
            debit_account_id,
            credit_account_id,
            amount,
            flags,
            pending_id,
            timeout_seconds,
            code,
            memo,
            reverses_id,
            asset,
            created_us,
            expires_us,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
