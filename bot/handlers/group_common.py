"""What the group-money rooms share: group-only intents, wallets for the domain, answers made after the commit,
private notes that skip who left the group, and one-transfer executions."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.app import App
from bot.context import Ctx
from bot.directory import display
from bot.events import Reply, ReplyKind
from bot.execution import Outcome
from bot.groups import membership
from bot.groups.payloads import (
    SettlePay,
    Tip,
)
from bot.i18n import t
from bot.models import User
from bot.payloads import Payload
from ledger import TransferSpec


def in_group(c: Ctx) -> bool:
    if c.private:
        c.say(t(c.lang, "That works in a group chat: write it there, where everyone can see it."))
        return False
    return True


def wallet(app: App) -> Callable[[int, str], int]:
    return lambda user_id, currency: app.executor.wallet(user_id, currency)


def press_reply(c: Ctx) -> Callable[[str], Reply]:
    """An answer to this event's press, made after the commit (a claim's outcome)."""
    press_id = c.ev.press.press_id if c.ev.press else None
    chat_id = c.ev.chat.chat_id

    def answer(text: str) -> Reply:
        if press_id is None:
            return Reply(ReplyKind.message, chat_id, text)
        return Reply(ReplyKind.answer_press, chat_id, text, press_id=press_id, alert=True)

    return answer


def notify(s: Session, user: User | None, chat_id: str, messenger: str, text: str) -> list[Reply]:
    """A private note to someone about a group, unless they left that group or have no private chat."""
    if user is None or user.id is None or not user.private_chat_id:
        return []
    if membership.has_left(s, chat_id, messenger, user.id):
        return []
    return [Reply(ReplyKind.message, user.private_chat_id, text)]


def commit(app: App, specs: list[TransferSpec]) -> Outcome:
    results = app.ledger.create_transfers(specs)
    if all(r.ok for r in results):
        return Outcome(True, "ok")
    first = next((r for r in results if not r.ok and r.result.value != "linked_event_failed"), results[0])
    return Outcome(False, str(first.result.value))


def labels(s: Session, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in ids:
        u = s.get(User, i)
        out[i] = display(u) if u is not None else f"user {i}"
    return out


def transfer(app: App, run_id: str, payload: Payload) -> Outcome:
    """A settle-up payment or a tip: one transfer, payer to payee, its id from the action's run."""
    assert isinstance(payload, SettlePay | Tip)
    src = app.executor.wallet(payload.from_user, payload.currency, payload.from_label)
    dst = app.executor.wallet(payload.to_user, payload.currency, payload.to_label)
    memo = "settle up" if isinstance(payload, SettlePay) else "tip"
    return commit(app, [TransferSpec(id=f"{run_id}:0", debit_account_id=src, credit_account_id=dst, amount=payload.amount,
                                      memo=memo)])


