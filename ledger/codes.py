"""Result codes of create_transfers, named as TigerBeetle names them, in order of precedence."""

from __future__ import annotations

import enum


class ResultCode(enum.StrEnum):
    """The outcome of one transfer; `ok` and `exists` mean it is in the book."""

    ok = "ok"
    linked_event_failed = "linked_event_failed"
    linked_event_chain_open = "linked_event_chain_open"
    reserved_flag = "reserved_flag"
    id_must_not_be_zero = "id_must_not_be_zero"
    id_must_not_be_reserved = "id_must_not_be_reserved"
    exists_with_different_flags = "exists_with_different_flags"
    exists_with_different_pending_id = "exists_with_different_pending_id"
    exists_with_different_timeout = "exists_with_different_timeout"
    exists_with_different_debit_account_id = "exists_with_different_debit_account_id"
    exists_with_different_credit_account_id = "exists_with_different_credit_account_id"
    exists_with_different_amount = "exists_with_different_amount"
    exists_with_different_memo = "exists_with_different_memo"
    exists_with_different_reverses_id = "exists_with_different_reverses_id"
    exists_with_different_code = "exists_with_different_code"
    exists = "exists"
    id_already_failed = "id_already_failed"
    flags_are_mutually_exclusive = "flags_are_mutually_exclusive"
    debit_account_id_must_not_be_zero = "debit_account_id_must_not_be_zero"
    credit_account_id_must_not_be_zero = "credit_account_id_must_not_be_zero"
    accounts_must_be_different = "accounts_must_be_different"
    pending_id_must_be_zero = "pending_id_must_be_zero"
    pending_id_must_not_be_zero = "pending_id_must_not_be_zero"
    pending_id_must_be_different = "pending_id_must_be_different"
    timeout_must_not_be_negative = "timeout_must_not_be_negative"
    timeout_reserved_for_pending_transfer = "timeout_reserved_for_pending_transfer"
    amount_must_not_be_negative = "amount_must_not_be_negative"
    amount_must_not_be_zero = "amount_must_not_be_zero"
    reverses_id_must_be_different = "reverses_id_must_be_different"
    reversal_must_be_single_phase = "reversal_must_be_single_phase"
    debit_account_not_found = "debit_account_not_found"
    credit_account_not_found = "credit_account_not_found"
    accounts_must_have_the_same_asset = "accounts_must_have_the_same_asset"
    pending_transfer_not_found = "pending_transfer_not_found"
    pending_transfer_not_pending = "pending_transfer_not_pending"
    pending_transfer_has_different_debit_account_id = "pending_transfer_has_different_debit_account_id"
    pending_transfer_has_different_credit_account_id = "pending_transfer_has_different_credit_account_id"
    pending_transfer_has_different_code = "pending_transfer_has_different_code"
    exceeds_pending_transfer_amount = "exceeds_pending_transfer_amount"
    pending_transfer_has_different_amount = "pending_transfer_has_different_amount"
    pending_transfer_already_posted = "pending_transfer_already_posted"
    pending_transfer_already_voided = "pending_transfer_already_voided"
    pending_transfer_expired = "pending_transfer_expired"
    reversed_transfer_not_found = "reversed_transfer_not_found"
    reversed_transfer_must_be_posted = "reversed_transfer_must_be_posted"
    reversal_must_swap_accounts = "reversal_must_swap_accounts"
    exceeds_reversible_amount = "exceeds_reversible_amount"
    overflows_debits_pending = "overflows_debits_pending"
    overflows_credits_pending = "overflows_credits_pending"
    overflows_debits_posted = "overflows_debits_posted"
    overflows_credits_posted = "overflows_credits_posted"
    overflows_debits = "overflows_debits"
    overflows_credits = "overflows_credits"
    overflows_timeout = "overflows_timeout"
    exceeds_credits = "exceeds_credits"
    exceeds_debits = "exceeds_debits"


SUCCESS = frozenset({ResultCode.ok, ResultCode.exists})

# Failures that depend on the state of the book, not on the request alone. As in TigerBeetle they are
# recorded against the id, so a retry with that id answers `id_already_failed` (with the first failure
# attached) for ever, even after the state changed.
TRANSIENT = frozenset(
    {
        ResultCode.debit_account_not_found,
        ResultCode.credit_account_not_found,
        ResultCode.pending_transfer_not_found,
        ResultCode.reversed_transfer_not_found,
        ResultCode.exceeds_reversible_amount,
        ResultCode.overflows_debits_pending,
        ResultCode.overflows_credits_pending,
        ResultCode.overflows_debits_posted,
        ResultCode.overflows_credits_posted,
        ResultCode.overflows_debits,
        ResultCode.overflows_credits,
        ResultCode.overflows_timeout,
        ResultCode.exceeds_credits,
        ResultCode.exceeds_debits,
    }
)
