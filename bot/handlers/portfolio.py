"""Portfolio, the room: holdings, value and P&L from the fills, with a picture of the last 30 days."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, select

from bot import uow
from bot.app import App
from bot.bus import Bus
from bot.clock import aware
from bot.context import Ctx
from bot.directory import owner_of
from bot.events import Attachment
from bot.handlers import private
from bot.handlers.trading import CENT, cash_minor, no_broker
from bot.i18n import fmt_money, fmt_number, t
from bot.models import FillRow, OrderRow
from bot.statements import file_tag
from intents.model import Intent
from ledger import from_minor


def register(bus: Bus) -> None:
    bus.intents["portfolio"] = intent_portfolio


def intent_portfolio(app: App, c: Ctx, intent: Intent) -> None:
    """My portfolio: answered in the private chat."""
    p = private.in_private(app, c, "portfolio")
    if p is not None:
        show_portfolio(app, p)


def holdings(app: App, user_id: int) -> list[dict[str, Any]]:
    """Each position: qty, cost basis, value at the bid, unrealised and realised P&L (Decimal, in its currency)."""
    ledger = app.ledger
    out: list[dict[str, Any]] = []
    with Session(app.db) as s:
        fills = list(s.exec(select(FillRow).where(FillRow.user_id == user_id).order_by(col(FillRow.at))).all())
    by_symbol: dict[str, list[FillRow]] = {}
    for f in fills:
        by_symbol.setdefault(f.symbol, []).append(f)
    for acc in ledger.accounts(owner_of(user_id)):
        if acc.kind != "position":
            continue
        symbol = acc.asset.split(":", 1)[1]
        qty = from_minor(ledger.balance(acc.id).posted, acc.asset)
        held_qty, basis, realised = Decimal(0), Decimal(0), Decimal(0)
        inst = app.instruments.get(symbol) if app.instruments is not None else None
        cur = inst.currency if inst else "USD"
        for f in by_symbol.get(symbol, []):
            fq, cash, fee = Decimal(f.qty), from_minor(f.cash, f.currency), from_minor(f.fee, f.currency)
            if f.side == "buy":
                held_qty += fq
                basis += cash + fee
            else:
                avg = basis / held_qty if held_qty else Decimal(0)
                realised += cash - fee - avg * fq
                basis -= avg * fq
                held_qty -= fq
        if qty <= 0 and realised == 0:
            continue
        price = app.broker.quote(symbol).bid if app.broker is not None else Decimal(0)
        value = qty * price
        out.append({"symbol": symbol, "qty": qty, "currency": cur, "basis": basis, "value": value,
                    "unrealised": value - basis, "realised": realised, "price": price})
    return out


def show_portfolio(app: App, c: Ctx) -> None:
    """Holdings, value, P&L, and a chart of value over the last 30 days."""
    if app.broker is None:
        no_broker(c)
        return
    uow.ledger(app, c)
    uid = c.user.id
    assert uid is not None
    rows = holdings(app, uid)
    live = [r for r in rows if r["qty"] > 0]
    if not live:
        c.say(t(c.lang, "You hold no shares yet. Try \"buy 2 shares of AAPL\"."))
        return
    lines = [t(c.lang, "Your portfolio:")]
    totals: dict[str, Decimal] = {}
    for r in live:
        cur = r["currency"]
        totals[cur] = totals.get(cur, Decimal(0)) + r["value"]
        sign = "+" if r["unrealised"] >= 0 else "−"
        lines.append(f"  {r['symbol']}: {fmt_number(r['qty'].normalize(), c.lang)} × {fmt_money(r['price'], cur, c.lang)} = "
                     f"{fmt_money(r['value'].quantize(CENT), cur, c.lang)} ({sign}{fmt_money(abs(r['unrealised']).quantize(CENT), cur, c.lang)})")
    for cur, total in totals.items():
        lines.append(t(c.lang, "Total {cur}: {amount}", cur=cur, amount=fmt_money(total.quantize(CENT), cur, c.lang)))
    realised = [r for r in rows if r["realised"]]
    for r in realised:
        lines.append(t(c.lang, "Realised on {symbol}: {amount}", symbol=r["symbol"],
                       amount=fmt_money(r["realised"].quantize(CENT), r["currency"], c.lang)))
    png = portfolio_chart(app, uid, live, c.now, c.lang, c.user.name or f"@{c.user.handle}")
    c.say("\n".join(lines), photo=Attachment(f"portfolio-{file_tag(c.user.handle, uid)}-{c.now.strftime('%Y-%m-%d')}.png", png, "image/png"))


def portfolio_chart(app: App, user_id: int, live: list[dict[str, Any]], now: datetime, lang: str, owner: str) -> bytes:
    """A PNG of the portfolio (bot/charts/portfolio.py) from the fills, the broker's prices and the open orders."""
    from bot.charts import portfolio as chart  # matplotlib loads on the first picture, not at start

    return chart.png(portfolio_data(app, user_id, live, now, lang, owner))


def portfolio_data(app: App, user_id: int, live: list[dict[str, Any]], now: datetime, lang: str, owner: str) -> Any:
    """What the portfolio picture shows, in integer minor units: value (qty held then x price then) and
    average-cost basis per currency since the first trade (30 days at most), holdings now, open orders."""
    from bot.charts import portfolio as chart  # matplotlib loads on the first picture, not at start

    with Session(app.db) as s:
        fills = list(s.exec(select(FillRow).where(FillRow.user_id == user_id).order_by(col(FillRow.at))).all())
        open_rows = list(s.exec(select(OrderRow).where(OrderRow.user_id == user_id, OrderRow.released == False)).all())  # noqa: E712
    orders = tuple(chart.OpenOrder(aware(r.created_at) or r.created_at, r.symbol, r.side, r.currency) for r in open_rows
                   if r.status in ("new", "accepted", "partially_filled"))
    holdings_now = tuple(chart.Holding(r["symbol"], r["currency"], cash_minor(r["value"], r["currency"]),
                                       cash_minor(r["basis"], r["currency"])) for r in live)
    series: dict[str, tuple[Any, ...]] = {}
    for cur in sorted({r["currency"] for r in live}):
        symbols = [r["symbol"] for r in live if r["currency"] == cur]
        mine = [f for f in fills if f.symbol in symbols]
        if not mine:
            continue
        start, step = chart.window(aware(mine[0].at) or mine[0].at, now)
        assert app.broker is not None  # show_portfolio() said so
        prices = {sym: app.broker.price_history(sym, start, now, step) for sym in symbols}
        times = sorted({at for hist in prices.values() for at, _ in hist} | {now})
        points = []
        for at in times:
            value = basis = 0
            for sym in symbols:
                qty, cost = held_at(mine, sym, at)
                price = next((p for t_, p in reversed(prices[sym]) if t_ <= at), None)
                if price is None:
                    continue
                value += cash_minor(qty * price, cur)
                basis += cost
            if at == now:  # the last point is what the text and the breakdown say: value at the bid now
                value = sum(h.value for h in holdings_now if h.currency == cur)
            points.append(chart.Point(at, value, basis))
        series[cur] = tuple(points)
    return chart.Portfolio(owner, lang, now, series, holdings_now, orders)


def held_at(fills: list[FillRow], symbol: str, at: datetime) -> tuple[Decimal, int]:
    """Shares of `symbol` held at `at` and their average-cost basis in minor units (fees included)."""
    qty, basis = Decimal(0), 0
    for f in fills:
        if f.symbol != symbol or (aware(f.at) or f.at) > at:
            continue
        fq = Decimal(f.qty)
        if f.side == "buy":
            qty += fq
            basis += f.cash + f.fee
        elif qty > 0:
            basis -= int((Decimal(basis) * fq / qty).to_integral_value(rounding=ROUND_HALF_UP))
            qty -= fq
    return qty, basis

