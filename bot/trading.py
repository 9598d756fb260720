"""Orders through the broker port: quote on the card, cash held by a pending transfer, fills posted once."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.actions import money_text
from bot.broker import (
    BPS,
    PRICE_TICK,
    BrokerError,
    Order,
    OrderRequest,
    OrderSide,
    OrderType,
    TimeInForce,
)
from bot.clock import aware
from bot.directory import owner_of
from bot.events import Attachment, Reply, ReplyKind
from bot.i18n import fmt_money, fmt_number, t
from bot.models import FillRow, OrderRow, User
from bot.statements import file_tag
from ledger import AccountFlag, TransferFlag, TransferSpec, from_minor, to_minor

if TYPE_CHECKING:
    from bot.engine import Ctx, Engine
    from bot.execution import Outcome
    from bot.models import Action

log = logging.getLogger("finbot.trading")
CENT = Decimal("0.01")


def share_asset(symbol: str) -> str:
    """The ledger asset of a symbol's shares (9 decimals)."""
    return f"SHR:{symbol}"


def _cash_minor(value: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> int:
    from ledger import exponent

    q = Decimal(1).scaleb(-exponent(currency))
    return to_minor(value.quantize(q, rounding=rounding), currency)


def _shares_minor(qty: Decimal, symbol: str) -> int:
    return to_minor(qty.quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP), share_asset(symbol))


def _fee(engine: Engine, cash: int) -> int:
    bps = engine.settings.broker_fee_bps
    if bps <= 0:
        return 0
    return int((Decimal(cash) * bps / BPS).to_integral_value(rounding=ROUND_CEILING))


def _no_broker(c: Ctx) -> None:
    c.say(t(c.lang, "Trading is not set up on this finbot (no broker configured)."))


def _tradable(engine: Engine, c: Ctx, intent: Any) -> Any:
    """The instrument an intent names, when a broker is configured and knows it; else says why and gives None."""
    if engine.broker is None:
        _no_broker(c)
        return None
    inst = engine.instruments.get(intent.symbol) if intent.symbol else None
    if inst is None:
        c.say(t(c.lang, "I don't know that stock. Try a ticker like AAPL, EQNR or MC."))
    return inst


def _position_account(engine: Engine, user_id: int, symbol: str) -> int:
    return engine.ledger.open_account(owner_of(user_id), share_asset(symbol), "position",
                                      flags=AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS).id


def _held_qty(engine: Engine, user_id: int, symbol: str) -> Decimal:
    acc = engine.ledger.find_account(owner_of(user_id), share_asset(symbol), "position")
    if acc is None:
        return Decimal(0)
    return from_minor(engine.ledger.balance(acc.id).available, share_asset(symbol))


# ---------------------------------------------------------------- proposing


def propose_order(engine: Engine, c: Ctx, intent: Any) -> None:
    """A buy or sell card with the quote, the estimate and what is held until it fills."""
    inst = _tradable(engine, c, intent)
    if inst is None:
        return
    side = OrderSide.BUY if intent.intent == "buy" else OrderSide.SELL
    engine._ledger(c)  # commit before reading the ledger
    uid = c.user.id
    assert uid is not None
    try:
        quote = engine.broker.quote(inst.symbol)
    except BrokerError as exc:
        c.say(t(c.lang, "The broker could not quote {symbol}: {reason}", symbol=inst.symbol, reason=str(exc)))
        return
    cur = inst.currency
    qty: Decimal | None = intent.quantity
    notional: Decimal | None = intent.notional
    if side == OrderSide.SELL and intent.fraction is not None:
        held = _held_qty(engine, uid, inst.symbol)
        if held <= 0:
            c.say(t(c.lang, "You don't hold any {symbol}.", symbol=inst.symbol))
            return
        qty = held if intent.fraction >= 1 else (held * intent.fraction)
        if not inst.fractionable:
            qty = qty.to_integral_value(rounding="ROUND_FLOOR")
            if qty <= 0:
                c.say(t(c.lang, "That is less than one share of {symbol}, which trades in whole shares only.", symbol=inst.symbol))
                return
        qty = qty.quantize(Decimal("1e-9"))
    if notional is not None and intent.currency and intent.currency.upper() != cur:
        c.say(t(c.lang, "{symbol} trades in {cur}; write the amount in {cur}.", symbol=inst.symbol, cur=cur))
        return
    if qty is None and notional is None:
        c.say(t(c.lang, "How many shares, or how much money? For example \"buy 2 {symbol}\" or \"buy $100 of {symbol}\".", symbol=inst.symbol))
        return
    if qty is not None and qty != qty.to_integral_value() and not inst.fractionable:
        c.say(t(c.lang, "{symbol} trades in whole shares only.", symbol=inst.symbol))
        return
    if notional is not None and not inst.fractionable:
        c.say(t(c.lang, "{symbol} trades in whole shares only: say how many shares.", symbol=inst.symbol))
        return
    limit = intent.limit_price
    band_bps = engine.settings.broker_price_band_bps
    price = quote.ask if side == OrderSide.BUY else quote.bid
    if limit is not None:
        bound = limit.quantize(PRICE_TICK)
    elif side == OrderSide.BUY:
        bound = (quote.ask * (BPS + band_bps) / BPS).quantize(PRICE_TICK, rounding=ROUND_CEILING)
    else:
        bound = (quote.bid * (BPS - band_bps) / BPS).quantize(PRICE_TICK, rounding="ROUND_FLOOR")
    if qty is not None:
        estimate = _cash_minor(qty * (min(price, limit) if (limit is not None and side == OrderSide.BUY) else price), cur)
        reserve_cash = _cash_minor(qty * bound, cur, ROUND_CEILING) if side == OrderSide.BUY else None
    else:
        assert notional is not None
        estimate = _cash_minor(notional, cur)
        reserve_cash = estimate if side == OrderSide.BUY else None
    fee = _fee(engine, estimate)
    payload: dict[str, Any] = {
        "kind": side.value, "symbol": inst.symbol, "currency": cur, "from_user": uid,
        "qty": str(qty) if qty is not None else None, "notional": str(notional) if notional is not None else None,
        "limit_price": str(limit) if limit is not None else None, "price_bound": str(bound),
        "type": OrderType.LIMIT.value if limit is not None else OrderType.MARKET.value,
        "tif": TimeInForce.GTC.value if limit is not None else TimeInForce.DAY.value,
        "quote": {"bid": str(quote.bid), "ask": str(quote.ask), "at": quote.at.isoformat(), "market_open": quote.market_open},
        "estimate": estimate, "fee": fee, "band_bps": band_bps if limit is None else 0,
        "reserve": (reserve_cash + _fee(engine, reserve_cash)) if reserve_cash is not None else None,
    }
    if side == OrderSide.SELL:
        held = _held_qty(engine, uid, inst.symbol)
        if qty is not None and qty > held:
            c.say(t(c.lang, "You hold {held} {symbol}; you can't sell {qty}.", held=fmt_number(held, c.lang),
                    symbol=inst.symbol, qty=fmt_number(qty, c.lang)))
            return
    engine._propose(c, side.value, payload)


# ---------------------------------------------------------------- executing


def execute_order(engine: Engine, action_id: str, payload: dict[str, Any]) -> Outcome:
    """Hold cash (buys) or shares (sells) with a pending transfer, then submit; the hold goes if the broker says no."""
    from bot.execution import Outcome

    broker = engine.broker
    if broker is None:
        return Outcome(False, "trading_unavailable")
    uid = int(payload["from_user"])
    symbol, cur, side = payload["symbol"], payload["currency"], OrderSide(payload["kind"])
    coid = _coid(action_id)
    ledger = engine.ledger
    omnibus_cash = ledger.system_account("broker_omnibus", cur).id
    omnibus_shares = ledger.system_account("broker_omnibus", share_asset(symbol)).id
    wallet = engine.executor.wallet(uid, cur)
    position = _position_account(engine, uid, symbol)
    if side == OrderSide.BUY:
        reserve = int(payload["reserve"])
        res = ledger.create_transfer(TransferSpec(id=f"{coid}:hold:0", debit_account_id=wallet, credit_account_id=omnibus_cash,
                                                  amount=reserve, flags=TransferFlag.PENDING, memo=f"hold for buy {symbol}"))
    else:
        reserve = _shares_minor(Decimal(payload["qty"]), symbol)
        res = ledger.create_transfer(TransferSpec(id=f"{coid}:hold:0", debit_account_id=position, credit_account_id=omnibus_shares,
                                                  amount=reserve, flags=TransferFlag.PENDING, memo=f"hold for sell {symbol}"))
    if not res.ok:
        code = "exceeds_credits" if side == OrderSide.BUY else "no_position"
        return Outcome(False, code if str(res.result.value) == "exceeds_credits" else str(res.result.value))
    _remember_order(engine, action_id, coid, uid, symbol, side, cur, reserve)
    req = OrderRequest(
        client_order_id=coid, symbol=symbol, side=side,
        qty=Decimal(payload["qty"]) if payload.get("qty") else None,
        notional=Decimal(payload["notional"]) if payload.get("notional") else None,
        type=OrderType(payload["type"]), limit_price=Decimal(payload["limit_price"]) if payload.get("limit_price") else None,
        time_in_force=TimeInForce(payload["tif"]), price_bound=Decimal(payload["price_bound"]) if payload.get("type") == "market" else None,
    )
    try:
        if side == OrderSide.BUY:
            order = broker.submit(req, buying_power=from_minor(reserve - _fee(engine, reserve), cur) + Decimal("0.01"))
        else:
            order = broker.submit(req)
    except BrokerError as exc:
        ledger.create_transfer(TransferSpec(id=f"{coid}:hold:0:void", debit_account_id=wallet if side == OrderSide.BUY else position,
                                            credit_account_id=omnibus_cash if side == OrderSide.BUY else omnibus_shares,
                                            amount=0, pending_id=f"{coid}:hold:0", flags=TransferFlag.VOID_PENDING_TRANSFER))
        _close_order(engine, coid, "rejected")
        return Outcome(False, exc.code, str(exc))
    apply_order(engine, order)
    return Outcome(True, order.status.value)


def _coid(action_id: str) -> str:
    import hashlib

    return "fb-" + hashlib.sha256(action_id.encode()).hexdigest()[:32]


def _remember_order(engine: Engine, action_id: str, coid: str, uid: int, symbol: str, side: OrderSide, cur: str, reserve: int) -> None:
    now = engine.clock()
    with Session(engine.db) as s:
        if s.get(OrderRow, coid) is None:
            s.add(OrderRow(client_order_id=coid, action_id=action_id, user_id=uid, symbol=symbol, side=side.value,
                           currency=cur, reserved=reserve, created_at=now, updated_at=now))
            s.commit()


def _close_order(engine: Engine, coid: str, status: str) -> None:
    with Session(engine.db) as s:
        row = s.get(OrderRow, coid)
        if row is not None:
            row.status, row.released = status, True
            s.commit()


def apply_order(engine: Engine, order: Order) -> list[tuple[str, Decimal, Decimal]]:
    """Post every fill not yet posted (ids derive from the fill, so twice is once); release what is left when done."""
    with Session(engine.db, expire_on_commit=False) as s:
        row = s.get(OrderRow, order.client_order_id)
        if row is None:
            return []
        uid, symbol, cur, side = row.user_id, row.symbol, row.currency, OrderSide(row.side)
        applied, reserve, settled = row.fills_applied, row.reserved, row.cash_settled
        released = row.released
    ledger = engine.ledger
    wallet = engine.executor.wallet(uid, cur)
    position = _position_account(engine, uid, symbol)
    omnibus_cash = ledger.system_account("broker_omnibus", cur).id
    omnibus_shares = ledger.system_account("broker_omnibus", share_asset(symbol)).id
    fees_acc = ledger.system_account("fees", cur).id
    coid = order.client_order_id
    new_fills: list[tuple[str, Decimal, Decimal]] = []
    used = settled if side == OrderSide.BUY else _used_shares(engine, coid)
    for k, fill in enumerate(order.fills):
        if k < applied:
            continue
        cash = _cash_minor(fill.qty * fill.price, cur)
        fee = _fee(engine, cash)
        shares = _shares_minor(fill.qty, symbol)
        hold, nxt = f"{coid}:hold:{k}", f"{coid}:hold:{k + 1}"
        if side == OrderSide.BUY:
            spend = min(cash + fee, reserve - used)
            remaining = reserve - used - spend
            specs = [
                TransferSpec(id=f"{coid}:fill:{k}:cash", debit_account_id=wallet, credit_account_id=omnibus_cash, amount=spend,
                             pending_id=hold, flags=TransferFlag.POST_PENDING_TRANSFER | TransferFlag.LINKED),
                TransferSpec(id=f"{coid}:fill:{k}:shares", debit_account_id=omnibus_shares, credit_account_id=position,
                             amount=shares, flags=TransferFlag.LINKED, memo=f"buy {fill.qty} {symbol} @ {fill.price}"),
            ]
            if fee:
                specs.append(TransferSpec(id=f"{coid}:fill:{k}:fee", debit_account_id=omnibus_cash, credit_account_id=fees_acc,
                                          amount=fee, flags=TransferFlag.LINKED, memo="trading fee"))
            specs.append(TransferSpec(id=nxt, debit_account_id=wallet, credit_account_id=omnibus_cash, amount=max(remaining, 0),
                                      flags=TransferFlag.PENDING, memo=f"hold for buy {symbol}"))
            used += spend
        else:
            remaining = reserve - used - shares
            specs = [
                TransferSpec(id=f"{coid}:fill:{k}:shares", debit_account_id=position, credit_account_id=omnibus_shares,
                             amount=shares, pending_id=hold, flags=TransferFlag.POST_PENDING_TRANSFER | TransferFlag.LINKED,
                             memo=f"sell {fill.qty} {symbol} @ {fill.price}"),
                TransferSpec(id=f"{coid}:fill:{k}:cash", debit_account_id=omnibus_cash, credit_account_id=wallet, amount=cash - fee,
                             flags=TransferFlag.LINKED, memo=f"sell {fill.qty} {symbol} @ {fill.price}"),
            ]
            if fee:
                specs.append(TransferSpec(id=f"{coid}:fill:{k}:fee", debit_account_id=omnibus_cash, credit_account_id=fees_acc,
                                          amount=fee, flags=TransferFlag.LINKED, memo="trading fee"))
            specs.append(TransferSpec(id=nxt, debit_account_id=position, credit_account_id=omnibus_shares, amount=max(remaining, 0),
                                      flags=TransferFlag.PENDING, memo=f"hold for sell {symbol}"))
            used += shares
        # a zero-amount hold is refused by the ledger: drop it when nothing is left to hold
        if specs[-1].amount <= 0:
            specs = specs[:-1]
            specs[-1] = TransferSpec(**{**specs[-1].__dict__, "flags": specs[-1].flags & ~TransferFlag.LINKED})
        results = ledger.create_transfers(specs)
        if not all(r.ok for r in results):
            log.error("posting fill %s of %s failed: %s", k, coid, [r.result for r in results])
            break
        new_fills.append((fill.fill_id, fill.qty, fill.price))
        with Session(engine.db) as s:
            r = s.get(OrderRow, coid)
            assert r is not None
            if r.fills_applied == k:
                r.fills_applied = k + 1
                r.filled_qty = str(Decimal(r.filled_qty) + fill.qty)
                r.cash_settled += (cash + fee) if side == OrderSide.BUY else (cash - fee)
                r.fees += fee
                r.updated_at = engine.clock()
                if s.get(FillRow, fill.fill_id) is None:
                    s.add(FillRow(fill_id=fill.fill_id, client_order_id=coid, user_id=uid, symbol=symbol, side=side.value,
                                  qty=str(fill.qty), price=str(fill.price), cash=cash, fee=fee, currency=cur, at=fill.at))
                s.commit()
        applied = k + 1
        if remaining <= 0:
            break
    if not order.is_open and not released:
        _release(engine, coid, applied, wallet if side == OrderSide.BUY else position,
                 omnibus_cash if side == OrderSide.BUY else omnibus_shares)
        with Session(engine.db) as s:
            r = s.get(OrderRow, coid)
            if r is not None:
                r.status, r.released = order.status.value, True
                s.commit()
    elif order.is_open:
        with Session(engine.db) as s:
            r = s.get(OrderRow, coid)
            if r is not None and r.status != order.status.value:
                r.status = order.status.value
                s.commit()
    return new_fills


def _used_shares(engine: Engine, coid: str) -> int:
    with Session(engine.db) as s:
        rows = s.exec(select(FillRow).where(FillRow.client_order_id == coid)).all()
        return sum(_shares_minor(Decimal(r.qty), r.symbol) for r in rows)


def _release(engine: Engine, coid: str, k: int, debit: int, credit: int) -> None:
    hold = f"{coid}:hold:{k}"
    if engine.ledger.lookup_transfer(hold) is None:
        return
    engine.ledger.create_transfer(TransferSpec(id=f"{hold}:void", debit_account_id=debit, credit_account_id=credit, amount=0,
                                               pending_id=hold, flags=TransferFlag.VOID_PENDING_TRANSFER))


def after_order(engine: Engine, s: Session, a: Action, user: User, payload: dict[str, Any], outcome: Outcome,
                now: datetime) -> list[Reply]:
    """Edit the card once the order is in: filled, partly filled, or waiting for the market."""
    return _order_card(engine, s, a.id, user, payload)


def _order_card(engine: Engine, s: Session, action_id: str, user: User, payload: dict[str, Any]) -> list[Reply]:
    from bot.actions import describe

    lang = user.lang
    row = s.get(OrderRow, _coid(action_id))
    if row is None:
        return []
    status_word = {
        "filled": t(lang, "Filled ✅"), "partially_filled": t(lang, "Partly filled"), "new": t(lang, "Order placed"),
        "accepted": t(lang, "Order placed: waiting for the market to open"), "canceled": t(lang, "Cancelled"),
        "expired": t(lang, "Expired"), "rejected": t(lang, "Rejected"),
    }.get(row.status, row.status)
    lines = [status_word, describe(payload, lang)]
    qty = Decimal(row.filled_qty)
    if qty > 0:
        cash = row.cash_settled
        avg = (from_minor(cash - row.fees if row.side == "buy" else cash + row.fees, row.currency) / qty).quantize(CENT)
        lines.append(t(lang, "Filled {qty} at {price} on average; {what} {amount}.", qty=fmt_number(qty.normalize(), lang),
                       price=fmt_money(avg, row.currency, lang),
                       what=t(lang, "paid") if row.side == "buy" else t(lang, "received"),
                       amount=money_text(cash, row.currency, lang)))
    buttons: tuple[tuple[Any, ...], ...] = ()
    if row.status in ("new", "accepted", "partially_filled"):
        from bot.commands import labels
        from bot.events import Button
        from bot.models import PressToken

        token = f"co-{row.client_order_id[3:19]}"
        if s.get(PressToken, token) is None:
            s.add(PressToken(token=token, action_id=action_id, choice="cancel_order", allowed_user_id=user.id,
                             single_use=True, expires_at=engine.clock() + timedelta(days=365)))
        buttons = ((Button(labels(lang)["cancel_order"], data=token),),)
    a_chat = engine._sent(s, f"card:{action_id}")
    return engine._edit_or_send(s, f"card:{action_id}", a_chat.chat_id if a_chat else user.private_chat_id,
                                "\n".join(lines), buttons)


def poll(engine: Engine) -> list[Reply]:
    """Ask the broker what changed, post the fills, release what is no longer held, edit the cards."""
    assert engine.broker is not None
    try:
        changed = engine.broker.poll()
        if not getattr(engine, "_orders_reconciled", False):
            # a broker may not report what changed while no process ran (Alpaca): ask for every order still open here
            seen = {o.client_order_id for o in changed}
            with Session(engine.db) as s:
                still_open = [r.client_order_id for r in s.exec(select(OrderRow).where(OrderRow.released == False))  # noqa: E712
                              if r.client_order_id not in seen]
            changed = list(changed) + [engine.broker.get_order(coid) for coid in still_open]
            engine._orders_reconciled = True  # type: ignore[attr-defined]
    except BrokerError:
        log.exception("broker poll failed")
        return []
    replies: list[Reply] = []
    for order in changed:
        with Session(engine.db) as s:
            before = s.get(OrderRow, order.client_order_id)
            status_before = before.status if before is not None else None
        fresh = apply_order(engine, order)
        with Session(engine.db, expire_on_commit=False) as s:
            row = s.get(OrderRow, order.client_order_id)
            if row is None or (not fresh and row.status == status_before):
                continue
            user = s.get(User, row.user_id)
            from bot.models import Action

            a = s.get(Action, row.action_id)
            if user is None or a is None:
                continue
            replies += _order_card(engine, s, a.id, user, json.loads(a.payload))
            if fresh and user.private_chat_id and not order.is_open:
                replies.append(Reply(ReplyKind.message, user.private_chat_id,
                                     t(user.lang, "Your order for {symbol} is {status}.", symbol=row.symbol,
                                       status=t(user.lang, order.status.value.replace("_", " ")))))
            s.commit()
    return replies


# ---------------------------------------------------------------- quotes and portfolio


def show_quote(engine: Engine, c: Ctx, intent: Any) -> None:
    """The current bid and ask of an instrument."""
    inst = _tradable(engine, c, intent)
    if inst is None:
        return
    engine._ledger(c)  # commit first: the broker may keep its state in the same database
    q = engine.broker.quote(inst.symbol)
    text = t(c.lang, "{name} ({symbol}): bid {bid}, ask {ask}", name=inst.name, symbol=inst.symbol,
             bid=fmt_money(q.bid, q.currency, c.lang), ask=fmt_money(q.ask, q.currency, c.lang))
    if not q.market_open:
        text += "\n" + t(c.lang, "The market is closed; these are the last prices.")
    c.say(text)


def holdings(engine: Engine, user_id: int) -> list[dict[str, Any]]:
    """Each position: qty, cost basis, value at the bid, unrealised and realised P&L (Decimal, in its currency)."""
    ledger = engine.ledger
    out: list[dict[str, Any]] = []
    with Session(engine.db) as s:
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
        cur = engine.instruments.get(symbol).currency if engine.instruments.get(symbol) else "USD"
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
        price = engine.broker.quote(symbol).bid if engine.broker is not None else Decimal(0)
        value = qty * price
        out.append({"symbol": symbol, "qty": qty, "currency": cur, "basis": basis, "value": value,
                    "unrealised": value - basis, "realised": realised, "price": price})
    return out


def show_portfolio(engine: Engine, c: Ctx) -> None:
    """Holdings, value, P&L, and a chart of value over the last 30 days."""
    if engine.broker is None:
        _no_broker(c)
        return
    engine._ledger(c)
    uid = c.user.id
    assert uid is not None
    rows = holdings(engine, uid)
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
    png = portfolio_chart(engine, uid, live, c.now, c.lang, c.user.name or f"@{c.user.handle}")
    c.say("\n".join(lines), photo=Attachment(f"portfolio-{file_tag(c.user.handle, uid)}-{c.now.strftime('%Y-%m-%d')}.png", png, "image/png"))


def portfolio_chart(engine: Engine, user_id: int, live: list[dict[str, Any]], now: datetime, lang: str, owner: str) -> bytes:
    """A PNG of the portfolio (bot/charts/portfolio.py) from the fills, the broker's prices and the open orders."""
    from bot.charts import portfolio as chart

    return chart.png(portfolio_data(engine, user_id, live, now, lang, owner))


def portfolio_data(engine: Engine, user_id: int, live: list[dict[str, Any]], now: datetime, lang: str, owner: str) -> Any:
    """What the portfolio picture shows, in integer minor units: value (qty held then x price then) and
    average-cost basis per currency since the first trade (30 days at most), holdings now, open orders."""
    from bot.charts import portfolio as chart

    with Session(engine.db) as s:
        fills = list(s.exec(select(FillRow).where(FillRow.user_id == user_id).order_by(col(FillRow.at))).all())
        open_rows = list(s.exec(select(OrderRow).where(OrderRow.user_id == user_id, OrderRow.released == False)).all())  # noqa: E712
    orders = tuple(chart.OpenOrder(aware(r.created_at) or r.created_at, r.symbol, r.side, r.currency) for r in open_rows
                   if r.status in ("new", "accepted", "partially_filled"))
    holdings_now = tuple(chart.Holding(r["symbol"], r["currency"], _cash_minor(r["value"], r["currency"]),
                                       _cash_minor(r["basis"], r["currency"])) for r in live)
    series: dict[str, tuple[Any, ...]] = {}
    for cur in sorted({r["currency"] for r in live}):
        symbols = [r["symbol"] for r in live if r["currency"] == cur]
        mine = [f for f in fills if f.symbol in symbols]
        if not mine:
            continue
        start, step = chart.window(aware(mine[0].at) or mine[0].at, now)
        prices = {sym: engine.broker.price_history(sym, start, now, step) for sym in symbols}
        times = sorted({at for hist in prices.values() for at, _ in hist} | {now})
        points = []
        for at in times:
            value = basis = 0
            for sym in symbols:
                qty, cost = held_at(mine, sym, at)
                price = next((p for t_, p in reversed(prices[sym]) if t_ <= at), None)
                if price is None:
                    continue
                value += _cash_minor(qty * price, cur)
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


def cancel_order(engine: Engine, action_id: str) -> list[Reply]:
    """Cancel at the broker, post what filled before, release what is held, and edit the card."""
    if engine.broker is None:
        return []
    coid = _coid(action_id)
    try:
        order = engine.broker.cancel(coid)
    except BrokerError as exc:
        log.warning("cancel of %s refused: %s", coid, exc)
        order = engine.broker.get_order(coid)
    apply_order(engine, order)
    with Session(engine.db, expire_on_commit=False) as s:
        from bot.models import Action

        a = s.get(Action, action_id)
        row = s.get(OrderRow, coid)
        user = s.get(User, row.user_id) if row is not None else None
        if a is None or user is None:
            return []
        replies = _order_card(engine, s, action_id, user, json.loads(a.payload))
        s.commit()
    return replies


__all__ = ["apply_order", "execute_order", "holdings", "poll", "propose_order", "show_portfolio", "show_quote", "sa"]
