"""Statements, the room: balance, history and the monthly statement, answered in the private chat."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot import statements as monthly
from bot import uow
from bot.actions import money_text
from bot.app import App
from bot.bus import Bus
from bot.clock import aware
from bot.context import Ctx
from bot.directory import owner_of
from bot.events import Attachment
from bot.handlers import private, wallets
from bot.i18n import fmt_datetime, t, tn
from bot.models import OrderRow, PressToken
from intents.model import Intent
from ledger import Ledger, StatementLine


def register(bus: Bus) -> None:
    bus.intents["balance"] = intent_balance
    bus.intents["history"] = intent_history
    bus.commands["statement"] = cmd_statement
    bus.presses["show:"] = on_show_press


def cmd_statement(app: App, c: Ctx, arg: str) -> None:
    """/statement [YYYY-MM] [CUR]: the month's entries as CSV and its balance as a picture."""
    p = private.in_private(app, c, "statement:" + arg[:40])
    if p is None:
        return
    c = p
    uid = c.user.id
    assert uid is not None
    words = arg.upper().split()
    cur = next((w for w in words if len(w) == 3 and w.isalpha()), None)
    month = next((w for w in arg.split() if "-" in w), c.now.strftime("%Y-%m"))
    try:
        start, end = monthly.month_bounds(month)
    except ValueError:
        c.say(t(c.lang, "Write the month as YYYY-MM, e.g. /statement {m}.", m=c.now.strftime("%Y-%m")))
        return
    month = start.strftime("%Y-%m")  # as written in file names: "2026-+1" was a valid month too
    ledger = uow.ledger(app, c)
    by_asset = {a.asset: a for a in ledger.accounts(owner_of(uid)) if a.kind == "wallet"}
    months: dict[str, Sequence[Any]] = {asset: ledger.statement(a.id, start, end) for asset, a in by_asset.items()
                                        if cur in (None, asset)}
    if cur is None:  # the default currency, else the wallet with the most entries that month
        best = max(months, key=lambda asset: (len(months[asset]), asset == c.user.currency), default=None)
        cur = best if best is not None and months[best] else c.user.currency
    lines = months.get(cur, [])
    labels = account_labels(ledger, [ln.counterparty_account_id for ln in lines], c.lang)
    csv_bytes = monthly.csv_bytes(lines, cur, labels)
    png = monthly.chart_png(ledger, {a: acc.id for a, acc in by_asset.items()}, months, cur, start, end, c.now,
                               c.user.name or f"@{c.user.handle}", c.lang,
                               account_labels(ledger, [ln.counterparty_account_id for m in months.values() for ln in m], c.lang))
    name = f"statement-{monthly.file_tag(c.user.handle, uid)}-{month}-{cur}"
    c.say(tn(c.lang, "Your statement for {month}: {n} entry.", "Your statement for {month}: {n} entries.", len(lines), month=month),
          document=Attachment(f"{name}.csv", csv_bytes, "text/csv"))
    c.say(t(c.lang, "Balance over {month}", month=month), photo=Attachment(f"{name}.png", png, "image/png"))


def on_show_press(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """The group pointer's link, opened in the private chat: the private answer it stands for."""
    if not c.private:
        c.answer(t(c.lang, "Open our private chat to see it."))
        return
    _, what, arg = (tok.choice.split(":", 2) + ["", ""])[:3]
    if what == "statement":
        cmd_statement(app, c, arg)
    elif what == "history":
        intent_history(app, c, Intent(intent="history", lang=c.lang))
    elif what == "portfolio":
        app.bus.intents["portfolio"](app, c, Intent(intent="portfolio", lang=c.lang))
    else:
        intent_balance(app, c, Intent(intent="balance", lang=c.lang, currency=arg or None))


def intent_balance(app: App, c: Ctx, intent: Intent) -> None:
    p = private.in_private(app, c, "balance:" + (intent.currency or ""))
    if p is None:
        return
    c = p
    ledger = uow.ledger(app, c)
    wallets.open_wallet(app, c, c.user, c.user.currency)
    c.say(wallets.balance_lines(ledger, c.user, c.lang, only=intent.currency))


def intent_history(app: App, c: Ctx, intent: Intent) -> None:
    p = private.in_private(app, c, "history")
    if p is None:
        return
    c = p
    uid = c.user.id
    assert uid is not None
    ledger = uow.ledger(app, c)
    entries = []
    for a in ledger.accounts(owner_of(uid)):
        if a.kind != "wallet":
            continue
        for line in ledger.statement(a.id):
            entries.append((line, a.asset))
    entries.sort(key=lambda e: e[0].at, reverse=True)
    if not entries:
        c.say(t(c.lang, "No transactions yet."))
        return
    labels = account_labels(ledger, [e[0].counterparty_account_id for e in entries[:10]], c.lang)
    out = [t(c.lang, "Your latest transactions:")]
    for line, asset in entries[:10]:
        sign = "+" if line.amount > 0 else "−"
        words = history_words(c, line, labels.get(line.counterparty_account_id, ""))
        out.append(f"{fmt_datetime(aware(line.at) or line.at, c.lang)}  {sign}{money_text(abs(line.amount), asset, c.lang)}  {words}")
    c.say("\n".join(out))


def history_words(c: Ctx, line: StatementLine, label: str) -> str:
    """Who or what a history line is with, and its memo in the person's language, each said once; a trade
    names its instrument ("bought AAPL"), not just "broker"."""
    coid = line.transfer_id.split(":", 1)[0]
    if coid.startswith("fb-"):
        order = c.s.get(OrderRow, coid)
        if order is not None:
            return (t(c.lang, "bought {symbol}", symbol=order.symbol) if order.side == "buy"
                    else t(c.lang, "sold {symbol}", symbol=order.symbol))
    system_memos = {
        "top-up": t(c.lang, "top-up"), "withdrawal": t(c.lang, "withdrawal"),
        "escrow claim": t(c.lang, "waiting money claimed"), "escrow return": t(c.lang, "waiting money returned"),
        "payout declined": t(c.lang, "payout declined"), "trading fee": t(c.lang, "fee"),
    }
    if line.memo in system_memos:  # the system's own memo says more than the system account's name
        return system_memos[line.memo]
    parts = [p for p in (label, line.memo) if p]
    if len(parts) == 2 and parts[0].lower() == parts[1].lower():
        parts = parts[:1]
    return " · ".join(parts)


def account_labels(ledger: Ledger, account_ids: list[int], lang: str) -> dict[int, str]:
    """What each counterparty account is called: its owner's label, or the system account's role."""
    names = {
        "sandbox_funding": t(lang, "top-up"), "payouts": t(lang, "withdrawal"), "escrow": t(lang, "waiting money"),
        "fees": t(lang, "fee"), "broker_omnibus": t(lang, "broker"), "fx_liquidity": t(lang, "exchange"),
    }
    out: dict[int, str] = {}
    for aid in set(account_ids):
        acc = ledger.get_account(aid)
        if acc is None:
            continue
        out[aid] = acc.label or names.get(acc.kind, acc.kind) if acc.owner != "system" else names.get(acc.kind, acc.kind)
    return out


