"""Executing confirmed money actions on the ledger, with transfer ids derived from the action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.directory import owner_of
from bot.escrow import hold_spec
from bot.funding import FundingPort
from ledger import Ledger, ResultCode, TransferFlag, TransferSpec


@dataclass(frozen=True)
class Outcome:
    """What happened: ok, and a code (a ledger result code or our own)."""

    ok: bool
    code: str
    detail: str = ""


class Executor:
    """Runs the ledger side of an action; running it twice changes nothing (ids derive from the action)."""

    def __init__(self, *, ledger: Ledger, funding: FundingPort, broker: Any = None) -> None:
        self.ledger = ledger
        self.funding = funding
        self.broker = broker
        # Accounts are never deleted and never change owner, asset or kind, so their ids can be
        # remembered: (user, currency) -> (wallet id, its label when last read or written here).
        self._wallets: dict[tuple[int, str], tuple[int, str | None]] = {}
        self._system: dict[tuple[str, str], int] = {}

    def wallet(self, user_id: int, currency: str, label: str | None = None) -> int:
        """The id of a user's wallet in a currency, opened on first use (labelled with their handle when
        they have no account yet); an existing wallet is never relabelled here."""
        known = self._wallets.get((user_id, currency))
        if known is not None:
            return known[0]  # what open_account would find, without writing anything
        owner = owner_of(user_id)
        account = self.ledger.find_account(owner, currency, "wallet")
        if account is None:
            # a new wallet takes the owner's label when they have one: a label written into a card's
            # payload may be stale (the handle moved on since), and labels follow the directory
            # (Engine.handle relabels after every handle change), never a payload
            if label is not None and self.ledger.accounts(owner):
                label = None
            account = self.ledger.open_account(owner, currency, "wallet", label=label)
        self._wallets[(user_id, currency)] = (account.id, account.label)
        return account.id

    def forget(self, user_id: int) -> None:
        """Drop what is remembered of a user's wallets (after their accounts were relabelled)."""
        for key in [k for k in self._wallets if k[0] == user_id]:
            self._wallets.pop(key, None)

    def system(self, kind: str, currency: str) -> int:
        """The id of the system's account of `kind` for `currency`."""
        known = self._system.get((kind, currency))
        if known is None:
            known = self._system[(kind, currency)] = self.ledger.system_account(kind, currency).id
        return known

    def run(self, action_id: str, kind: str, payload: dict[str, Any]) -> Outcome:
        """Move the money of a confirmed action."""
        if kind == "send":
            return self._send(action_id, payload)
        if kind == "deposit":
            return self._deposit(action_id, payload)
        if kind == "withdraw":
            return self._withdraw(action_id, payload)
        if kind == "pay_request":
            return self._pay_request(action_id, payload)
        return Outcome(False, "unknown_action")

    def _commit(self, specs: list[TransferSpec]) -> Outcome:
        results = self.ledger.create_transfers(specs)
        if all(r.ok for r in results):
            return Outcome(True, "ok")
        first = next(r for r in results if not r.ok and r.result != ResultCode.linked_event_failed) if any(
            r.result != ResultCode.linked_event_failed for r in results if not r.ok) else results[0]
        return Outcome(False, str(first.result.value))

    def _send(self, action_id: str, payload: dict[str, Any]) -> Outcome:
        cur = payload["currency"]
        source = self.wallet(int(payload["from_user"]), cur, payload.get("from_label"))
        specs: list[TransferSpec] = []
        legs = payload["legs"]
        for i, leg in enumerate(legs):
            last = i == len(legs) - 1
            if leg.get("to_user") is None:  # a payee who never wrote to the bot: a hold in escrow (bot/escrow.py)
                specs.append(hold_spec(f"{action_id}:{i}", source, self.system("escrow", cur), int(leg["amount"]),
                                       linked=not last, memo=payload.get("note")))
                continue
            target = self.wallet(int(leg["to_user"]), cur, leg.get("label"))
            flags = TransferFlag.LINKED if not last else TransferFlag.NONE
            specs.append(TransferSpec(id=f"{action_id}:{i}", debit_account_id=source, credit_account_id=target,
                                      amount=int(leg["amount"]), flags=flags, memo=payload.get("note")))
        return self._commit(specs)

    def _deposit(self, action_id: str, payload: dict[str, Any]) -> Outcome:
        cur, amount, uid = payload["currency"], int(payload["amount"]), int(payload["from_user"])
        got = self.funding.collect(action_id, owner_of(uid), amount, cur)
        if not got.ok:
            return Outcome(False, "funding_declined", got.reason or "")
        source = self.system(getattr(self.funding, "account_kind", "sandbox_funding"), cur)
        wallet = self.wallet(uid, cur, payload.get("from_label"))
        if got.pending:  # the provider settles later: a hold until its webhook says (bot/settlement.py)
            from bot.settlement import pending_deposit

            held = self._commit([pending_deposit(action_id, source, wallet, amount,
                                                 int(getattr(self.funding, "settle_timeout_seconds", 0)))])
            return Outcome(True, "pending", got.reference) if held.ok else held
        return self._commit([TransferSpec(id=f"{action_id}:0", debit_account_id=source,
                                          credit_account_id=wallet, amount=amount, memo="top-up")])

    def _withdraw(self, action_id: str, payload: dict[str, Any]) -> Outcome:
        cur, amount, uid = payload["currency"], int(payload["amount"]), int(payload["from_user"])
        sink = self.system("payouts", cur)
        out = self._commit([TransferSpec(id=f"{action_id}:0", debit_account_id=self.wallet(uid, cur, payload.get("from_label")),
                                         credit_account_id=sink, amount=amount, memo="withdrawal")])
        if not out.ok:
            return out
        paid = self.funding.payout(action_id, owner_of(uid), amount, cur)
        if not paid.ok:
            back = self.ledger.reverse(f"{action_id}:0", f"{action_id}:0:reversal", memo="payout declined")
            return Outcome(False, "funding_declined", str(back.result.value))
        return out

    def _pay_request(self, action_id: str, payload: dict[str, Any]) -> Outcome:
        cur, amount = payload["currency"], int(payload["amount"])
        return self._commit([TransferSpec(id=f"{action_id}:0", debit_account_id=self.wallet(int(payload["from_user"]), cur, payload.get("from_label")),
                                          credit_account_id=self.wallet(int(payload["to_user"]), cur, payload.get("to_label")), amount=amount,
                                          memo=payload.get("note"))])
