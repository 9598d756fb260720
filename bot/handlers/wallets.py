"""Wallets: opening one (labelled with the owner's handle), and the balance lines of a person's wallets."""

from __future__ import annotations

from bot import uow
from bot.actions import money_text
from bot.app import App
from bot.context import Ctx
from bot.directory import display, owner_of
from bot.i18n import t
from bot.models import User
from ledger import Ledger


def balance_lines(ledger: Ledger, user: User, lang: str, only: str | None = None) -> str:
    """The balance of each of the user's wallets (or only the one in `only`), with what is on hold."""
    assert user.id is not None
    accounts = [a for a in ledger.accounts(owner_of(user.id)) if a.kind == "wallet" and (only is None or a.asset == only.upper())]
    if not accounts:
        return t(lang, "You have no {cur} wallet yet.", cur=only or user.currency)
    bals = ledger.balances([a.id for a in accounts])
    lines = [t(lang, "Your balance:")]
    for a in accounts:
        b = bals[a.id]
        line = f"  {money_text(b.posted, a.asset, lang)}"
        if b.debits_pending:
            line += " " + t(lang, "({amount} on hold)", amount=money_text(b.debits_pending, a.asset, lang))
        lines.append(line)
    return "\n".join(lines)


def open_wallet(app: App, c: Ctx, user: User, currency: str) -> None:
    """Open the user's wallet in `currency` (once) and keep their accounts labelled with their handle."""
    assert user.id is not None
    ledger = uow.ledger(app, c)
    owner, label = owner_of(user.id), display(user)
    ledger.open_account(owner, currency, "wallet", label=label)
    app.executor.forget(user.id)
    # set_label writes (a durable commit) even when every label is already right: read first
    if user.handle and any(a.label != label for a in ledger.accounts(owner)):
        ledger.set_label(owner, label)


