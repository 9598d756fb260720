"""Why an action was not done, as a sentence in the person's language: never an internal code."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import t
from ledger import ResultCode

R = ResultCode

# every sentence is written out as t(lang, "...") so the extractor finds it
_SENTENCES: dict[str, Callable[[str], str]] = {
    "no_money": lambda lang: t(lang, "not enough money in your wallet. Top up first, e.g. \"top up $50\"."),
    "no_room": lambda lang: t(lang, "the receiving account cannot take that much right now. Nothing was moved."),
    "funding": lambda lang: t(lang, "the funding source declined it."),
    "buying_power": lambda lang: t(lang, "not enough cash for this order."),
    "no_position": lambda lang: t(lang, "you don't hold enough of it."),
    "clash": lambda lang: t(lang, "it clashes with an earlier payment of the same card, so nothing was moved. Please start it again."),
    "failed_before": lambda lang: t(lang, "this attempt had already failed, so nothing was moved. Please start it again."),
    "no_account": lambda lang: t(lang, "a wallet it needs is not open yet, so nothing was moved. Please try again."),
    "hold_gone": lambda lang: t(lang, "the money held for it is no longer held, so nothing was moved."),
    "hold_expired": lambda lang: t(lang, "the hold ran out of time, so nothing was moved."),
    "already_done": lambda lang: t(lang, "it was already completed."),
    "already_void": lambda lang: t(lang, "it was already called off."),
    "too_large": lambda lang: t(lang, "the amount is too large. Try a smaller amount."),
    "not_positive": lambda lang: t(lang, "the amount must be more than zero."),
    "self": lambda lang: t(lang, "you can't pay yourself."),
    "currency": lambda lang: t(lang, "the two wallets are in different currencies, so nothing was moved."),
    "over_limit": lambda lang: t(lang, "it is above your limit per payment. An operator can raise your tier."),
    "trading": lambda lang: t(lang, "trading is not available right now. Nothing was done."),
    "broker": lambda lang: t(lang, "the broker could not take the order. Nothing was done; please try again later."),
    "order": lambda lang: t(lang, "the broker refused the order as asked. Nothing was done."),
    "internal": lambda lang: t(lang, "a safety check refused it, so nothing was moved. Please try again."),
    "quote": lambda lang: t(lang, "the price of this conversion expired with its card, so nothing was moved. Ask again for a new price."),
    "pot_ended": lambda lang: t(lang, "the collection was closed or cancelled before your PIN came, so nothing was moved."),
    "pot_gone": lambda lang: t(lang, "the collection ended while you were paying, so your payment was given back."),
    "pot_refused": lambda lang: t(lang, "this collection does not take a payment from you (you already paid, "
                                        "organise it, or are not in the group), so nothing was moved."),
}

# every ledger result code (and our own codes) to the sentence that says it
_BY_CODE: dict[str, str] = {
    R.exceeds_credits: "no_money", "insufficient_funds": "no_money",
    R.exceeds_debits: "no_room",
    R.id_already_failed: "failed_before",
    R.exists_with_different_flags: "clash", R.exists_with_different_pending_id: "clash",
    R.exists_with_different_timeout: "clash", R.exists_with_different_debit_account_id: "clash",
    R.exists_with_different_credit_account_id: "clash", R.exists_with_different_amount: "clash",
    R.exists_with_different_memo: "clash", R.exists_with_different_reverses_id: "clash",
    R.exists_with_different_code: "clash",
    R.debit_account_not_found: "no_account", R.credit_account_not_found: "no_account",
    R.pending_transfer_not_found: "hold_gone", R.pending_transfer_not_pending: "hold_gone",
    R.pending_transfer_has_different_debit_account_id: "hold_gone",
    R.pending_transfer_has_different_credit_account_id: "hold_gone",
    R.pending_transfer_has_different_code: "hold_gone", R.pending_transfer_has_different_amount: "hold_gone",
    R.exceeds_pending_transfer_amount: "hold_gone",
    R.pending_transfer_expired: "hold_expired",
    R.pending_transfer_already_posted: "already_done", R.exists: "already_done", R.ok: "already_done",
    R.pending_transfer_already_voided: "already_void",
    R.overflows_debits_pending: "too_large", R.overflows_credits_pending: "too_large",
    R.overflows_debits_posted: "too_large", R.overflows_credits_posted: "too_large",
    R.overflows_debits: "too_large", R.overflows_credits: "too_large", R.overflows_timeout: "too_large",
    R.amount_must_not_be_negative: "not_positive", R.amount_must_not_be_zero: "not_positive",
    R.accounts_must_be_different: "self",
    R.accounts_must_have_the_same_asset: "currency",
    "funding_declined": "funding", "insufficient_buying_power": "buying_power",
    "no_position": "no_position", "no_short_selling": "no_position",
    "over_limit": "over_limit", "trading_unavailable": "trading",
    "broker_error": "broker", "broker_unavailable": "broker", "order_not_found": "broker",
    "invalid_request": "order", "invalid_order": "order", "unknown_symbol": "order",
    "exists_with_different_order": "order",
    "quote_expired": "quote",
    # a payment into a group's collection (bot/groups/pots.py)
    "pot_closed": "pot_ended", "pot_cancelled": "pot_ended", "no_pot": "pot_ended", "pot_gone": "pot_gone",
    "already_paid": "pot_refused", "own_pot": "pot_refused", "not_member": "pot_refused", "not_invited": "pot_refused",
    # requests no card of ours makes: a bug or a tampered row, said as a refusal
    R.linked_event_failed: "internal", R.linked_event_chain_open: "internal", R.reserved_flag: "internal",
    R.id_must_not_be_zero: "internal", R.id_must_not_be_reserved: "internal",
    R.flags_are_mutually_exclusive: "internal", R.debit_account_id_must_not_be_zero: "internal",
    R.credit_account_id_must_not_be_zero: "internal", R.pending_id_must_be_zero: "internal",
    R.pending_id_must_not_be_zero: "internal", R.pending_id_must_be_different: "internal",
    R.timeout_must_not_be_negative: "internal", R.timeout_reserved_for_pending_transfer: "internal",
    R.reverses_id_must_be_different: "internal", R.reversal_must_be_single_phase: "internal",
    R.reversed_transfer_not_found: "internal", R.reversed_transfer_must_be_posted: "internal",
    R.reversal_must_swap_accounts: "internal", R.exceeds_reversible_amount: "internal",
}

# the failures a person can put right (top up, wait) and then try the same card again
RETRYABLE = frozenset({
    R.exceeds_credits, "insufficient_funds", "funding_declined", R.debit_account_not_found,
    R.credit_account_not_found, R.exceeds_debits, "busy",
})


def reason(code: str, lang: str) -> str:
    """The sentence for an outcome code; codes it does not know get the generic one, never the code."""
    return _SENTENCES[_BY_CODE.get(code, "internal")](lang)


def known(code: str) -> bool:
    """True when the code has a sentence of its own (not the generic one)."""
    return code in _BY_CODE
