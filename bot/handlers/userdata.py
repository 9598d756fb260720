"""People's own data: /export (a ZIP of everything finbot holds on them, in their private chat) and /close
(after Confirm and their PIN, when every wallet is empty: personal data erased, the ledger's rows kept)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlmodel import Session

from bot.app import App
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import owner_of
from bot.events import Reply, ReplyKind
from bot.execution import Outcome
from bot.handlers import cards, private, replies
from bot.i18n import t
from bot.models import Action, User
from bot.operators import userdata
from bot.payloads import Payload, register_payload


@register_payload
@dataclass(frozen=True)
class ClosePayload(Payload):
    """Closing one's own account: confirmed with Confirm and the PIN."""

    kind: ClassVar[str] = "close"
    from_user: int = 0
    from_label: str | None = None
    currency: str = ""

    def body(self) -> dict[str, Any]:
        return {"from_user": self.from_user, "from_label": self.from_label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClosePayload:
        return cls(from_user=int(data.get("from_user", 0)), from_label=data.get("from_label"))

    def describe(self, lang: str) -> str:
        return t(lang, "Close your finbot account: your handle, name, chats, PIN and codes are erased. This cannot be undone.")


def register(bus: Bus) -> None:
    bus.commands["export"] = cmd_export
    bus.commands["close"] = cmd_close
    bus.executors["close"] = execute_close
    bus.after_record["close"] = after_close


def cmd_export(app: App, c: Ctx, arg: str) -> None:
    """/export: the ZIP, built in memory and sent as a document in the private chat only."""
    p = private.in_private(app, c, "export")
    if p is None:
        return
    c = p
    c.s.commit()  # the ledger reads on its own connections
    att = userdata.export_zip(c.s, app.ledger, c.user, c.now)
    c.say(t(c.lang, "Your data: your profile, wallets, transfers, requests, standing orders, orders and fills (JSON), "
                    "and each wallet's statement (CSV)."), document=att)


def _not_empty_text(lang: str, held: dict[str, int]) -> str:
    from bot.actions import money_text

    amounts = ", ".join(money_text(v, k, lang) if ":" not in k else f"{v} {k.split(':', 1)[1]}" for k, v in sorted(held.items()))
    return t(lang, "Your account still holds {amounts}. Withdraw it first (e.g. \"withdraw $20\"), sell what you hold, "
                   "and wait for pending payments; then /close again.", amounts=amounts)


def cmd_close(app: App, c: Ctx, arg: str) -> None:
    """/close: refused while money is there (says how to withdraw first), else a card to confirm with the PIN."""
    if not c.private:
        c.say(t(c.lang, "Close your account in our private chat, never in a group."))
        return
    c.s.commit()
    held = userdata.holdings(app.ledger, c.uid)
    if held:
        c.say(_not_empty_text(c.lang, held))
        return
    cards.propose(app, c, ClosePayload(from_user=c.uid))


def execute_close(app: App, run_id: str, payload: Payload) -> Outcome:
    """Erase the person's data (again refused if money arrived meanwhile), then unlabel their accounts."""
    assert isinstance(payload, ClosePayload)
    now = app.clock()
    with Session(app.db, expire_on_commit=False) as s:
        user = s.get(User, payload.from_user)
        if user is None:
            return Outcome(False, "unknown_user")
        chat, lang = user.private_chat_id, user.lang
        got = userdata.close(s, app.ledger, user, now)
        if got is not None:
            return Outcome(True, "not_empty", _not_empty_text(lang, got.balances))
        s.commit()
    app.ledger.set_label(owner_of(payload.from_user), userdata.closed_label(payload.from_user))
    app.executor.forget(payload.from_user)
    return Outcome(True, "closed", f"{chat or ''}\n{lang}")


def after_close(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome, now: datetime) -> list[Reply]:
    """Say goodbye in the chat the person had (it is erased from the database now), or why not yet."""
    if outcome.code == "not_empty":
        return replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id, outcome.detail)
    chat, _, lang = outcome.detail.partition("\n")
    out = replies.edit_or_send(s, f"card:{a.id}", a.card_chat_id or chat, t(lang, "Closed."))
    if chat:
        out.append(Reply(ReplyKind.message, chat, t(lang, "Your account is closed and your personal data erased. "
                                                         "The books keep the amounts under a number, without your name. "
                                                         "Goodbye, and thank you.")))
    return out
