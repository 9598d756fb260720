"""Orders, the room: placed with the broker once (cash or shares held first), fills posted once, cards kept up."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from bot.actions import money_text
from bot.app import App
from bot.broker import BrokerError, Order, OrderRequest, OrderSide, OrderType, TimeInForce
from bot.bus import Bus
from bot.commands import labels
from bot.context import Ctx
from bot.events import Button, Reply, ReplyKind
from bot.execution import Outcome
from bot.handlers import cards, outcomes, replies
from bot.handlers.trading import (
    CENT,
    cash_minor,
    fee_of,
    position_account,
    share_asset,
    shares_minor,
)
from bot.i18n import fmt_money, fmt_number, t
from bot.models import Action, FillRow, OrderRow, PressToken, User
from bot.payloads import Order as OrderPayload
from bot.payloads import Payload, load
from ledger import TransferFlag, TransferSpec, from_minor

log = logging.getLogger("finbot.trading")


def register(bus: Bus) -> None:
    bus.executors["buy"] = execute_order
    bus.executors["sell"] = execute_order
    bus.after_record["buy"] = after_order
    bus.after_record["sell"] = after_order
    bus.presses["cancel_order"] = press_cancel_order
    bus.ticks.append(poll)


def execute_order(app: App, action_id: str, payload: Payload) -> Outcome:
    """Hold cash (buys) or shares (sells) with a pending transfer, then submit; the hold goes if the broker says no.
    An order has one attempt, so its run id is its action's id (from which the client order id derives)."""
    assert isinstance(payload, OrderPayload)
    broker = app.broker
    if broker is None:
        return Outcome(False, "trading_unavailable")
    uid = payload.from_user
    symbol, cur, side = payload.symbol, payload.currency, OrderSide(payload.kind)
    coid = order_id(action_id)
    ledger = app.ledger
    omnibus_cash = ledger.system_account("broker_omnibus", cur).id
    omnibus_shares = ledger.system_account("broker_omnibus", share_asset(symbol)).id
    wallet = app.executor.wallet(uid, cur)
    position = position_account(app, uid, symbol)
    if side == OrderSide.BUY:
        assert payload.reserve is not None
        reserve = payload.reserve
        res = ledger.create_transfer(TransferSpec(id=f"{coid}:hold:0", debit_account_id=wallet, credit_account_id=omnibus_cash,
                                                  amount=reserve, flags=TransferFlag.PENDING, memo=f"hold for buy {symbol}"))
    else:
        assert payload.qty is not None
        reserve = shares_minor(payload.qty, symbol)
        res = ledger.create_transfer(TransferSpec(id=f"{coid}:hold:0", debit_account_id=position, credit_account_id=omnibus_shares,
                                                  amount=reserve, flags=TransferFlag.PENDING, memo=f"hold for sell {symbol}"))
    if not res.ok:
        code = "exceeds_credits" if side == OrderSide.BUY else "no_position"
        return Outcome(False, code if str(res.result.value) == "exceeds_credits" else str(res.result.value))
    remember_order(app, action_id, coid, uid, symbol, side, cur, reserve)
    req = OrderRequest(
        client_order_id=coid, symbol=symbol, side=side,
        qty=payload.qty, notional=payload.notional, type=OrderType(payload.type), limit_price=payload.limit_price,
        time_in_force=TimeInForce(payload.tif), price_bound=payload.price_bound if payload.type == "market" else None,
    )
    try:
        if side == OrderSide.BUY:
            order = broker.submit(req, buying_power=from_minor(reserve - fee_of(app, reserve), cur) + Decimal("0.01"))
        else:
            order = broker.submit(req)
    except BrokerError as exc:
        ledger.create_transfer(TransferSpec(id=f"{coid}:hold:0:void", debit_account_id=wallet if side == OrderSide.BUY else position,
                                            credit_account_id=omnibus_cash if side == OrderSide.BUY else omnibus_shares,
                                            amount=0, pending_id=f"{coid}:hold:0", flags=TransferFlag.VOID_PENDING_TRANSFER))
        close_order(app, coid, "rejected")
        return Outcome(False, exc.code, str(exc))
    apply_order(app, order)
    return Outcome(True, order.status.value)


def order_id(action_id: str) -> str:
    """The client order id of an action's order (the broker's idempotency key)."""
    return "fb-" + hashlib.sha256(action_id.encode()).hexdigest()[:32]


def remember_order(app: App, action_id: str, coid: str, uid: int, symbol: str, side: OrderSide, cur: str, reserve: int) -> None:
    now = app.clock()
    with Session(app.db) as s:
        if s.get(OrderRow, coid) is None:
            s.add(OrderRow(client_order_id=coid, action_id=action_id, user_id=uid, symbol=symbol, side=side.value,
                           currency=cur, reserved=reserve, created_at=now, updated_at=now))
            s.commit()


def close_order(app: App, coid: str, status: str) -> None:
    with Session(app.db) as s:
        row = s.get(OrderRow, coid)
        if row is not None:
            row.status, row.released = status, True
            s.commit()


def apply_order(app: App, order: Order) -> list[tuple[str, Decimal, Decimal]]:
    """Post every fill not yet posted (ids derive from the fill, so twice is once); release what is left when done."""
    with Session(app.db, expire_on_commit=False) as s:
        row = s.get(OrderRow, order.client_order_id)
        if row is None:
            return []
        uid, symbol, cur, side = row.user_id, row.symbol, row.currency, OrderSide(row.side)
        applied, reserve, settled = row.fills_applied, row.reserved, row.cash_settled
        released = row.released
    ledger = app.ledger
    wallet = app.executor.wallet(uid, cur)
    position = position_account(app, uid, symbol)
    omnibus_cash = ledger.system_account("broker_omnibus", cur).id
    omnibus_shares = ledger.system_account("broker_omnibus", share_asset(symbol)).id
    fees_acc = ledger.system_account("fees", cur).id
    coid = order.client_order_id
    new_fills: list[tuple[str, Decimal, Decimal]] = []
    used = settled if side == OrderSide.BUY else used_shares(app, coid)
    for k, fill in enumerate(order.fills):
        if k < applied:
            continue
        cash = cash_minor(fill.qty * fill.price, cur)
        fee = fee_of(app, cash)
        shares = shares_minor(fill.qty, symbol)
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
        with Session(app.db) as s:
            r = s.get(OrderRow, coid)
            assert r is not None
            if r.fills_applied == k:
                r.fills_applied = k + 1
                r.filled_qty = str(Decimal(r.filled_qty) + fill.qty)
                r.cash_settled += (cash + fee) if side == OrderSide.BUY else (cash - fee)
                r.fees += fee
                r.updated_at = app.clock()
                if s.get(FillRow, fill.fill_id) is None:
                    s.add(FillRow(fill_id=fill.fill_id, client_order_id=coid, user_id=uid, symbol=symbol, side=side.value,
                                  qty=str(fill.qty), price=str(fill.price), cash=cash, fee=fee, currency=cur, at=fill.at))
                s.commit()
        applied = k + 1
        if remaining <= 0:
            break
    if not order.is_open and not released:
        release(app, coid, applied, wallet if side == OrderSide.BUY else position,
                 omnibus_cash if side == OrderSide.BUY else omnibus_shares)
        with Session(app.db) as s:
            r = s.get(OrderRow, coid)
            if r is not None:
                r.status, r.released = order.status.value, True
                s.commit()
    elif order.is_open:
        with Session(app.db) as s:
            r = s.get(OrderRow, coid)
            if r is not None and r.status != order.status.value:
                r.status = order.status.value
                s.commit()
    return new_fills


def used_shares(app: App, coid: str) -> int:
    with Session(app.db) as s:
        rows = s.exec(select(FillRow).where(FillRow.client_order_id == coid)).all()
        return sum(shares_minor(Decimal(r.qty), r.symbol) for r in rows)


def release(app: App, coid: str, k: int, debit: int, credit: int) -> None:
    hold = f"{coid}:hold:{k}"
    if app.ledger.lookup_transfer(hold) is None:
        return
    app.ledger.create_transfer(TransferSpec(id=f"{hold}:void", debit_account_id=debit, credit_account_id=credit, amount=0,
                                               pending_id=hold, flags=TransferFlag.VOID_PENDING_TRANSFER))


def after_order(app: App, s: Session, a: Action, user: User, payload: Payload, outcome: Outcome,
                now: datetime) -> list[Reply]:
    """Edit the card once the order is in (filled, partly filled, or waiting for the market), and say so in
    the private chat too."""
    out = order_card(app, s, a.id, user, payload)
    shown = next((r.text for r in out if r.kind in (ReplyKind.edit, ReplyKind.message)), None)
    return out + (outcomes.outcome_message(s, a, user, shown) if shown else [])


def order_card(app: App, s: Session, action_id: str, user: User, payload: Payload) -> list[Reply]:
    """The order's card as it stands: status, what was asked, what filled at what price, Cancel order while open."""
    lang = user.lang
    row = s.get(OrderRow, order_id(action_id))
    if row is None:
        return []
    status_word = {
        "filled": t(lang, "Filled ✅"), "partially_filled": t(lang, "Partly filled"), "new": t(lang, "Order placed"),
        "accepted": t(lang, "Order placed: waiting for the market to open"), "canceled": t(lang, "Cancelled"),
        "expired": t(lang, "Expired"), "rejected": t(lang, "Rejected"),
    }.get(row.status, row.status)
    lines = [status_word, payload.describe(lang)]
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
        token = f"co-{row.client_order_id[3:19]}"
        if s.get(PressToken, token) is None:
            s.add(PressToken(token=token, action_id=action_id, choice="cancel_order", allowed_user_id=user.id,
                             single_use=True, expires_at=app.clock() + timedelta(days=365)))
        buttons = ((Button(labels(lang)["cancel_order"], data=token),),)
    a_chat = replies.sent(s, f"card:{action_id}")
    return replies.edit_or_send(s, f"card:{action_id}", a_chat.chat_id if a_chat else user.private_chat_id,
                                "\n".join(lines), buttons)


def poll(app: App, now: datetime) -> list[Reply]:
    """Ask the broker what changed, post the fills, release what is no longer held, edit the cards (the tick)."""
    if app.broker is None:
        return []
    try:
        changed = app.broker.poll()
        if "orders_reconciled" not in app.flags:
            # a broker may not report what changed while no process ran (Alpaca): ask for every order still open here
            seen = {o.client_order_id for o in changed}
            with Session(app.db) as s:
                still_open = [r.client_order_id for r in s.exec(select(OrderRow).where(OrderRow.released == False))  # noqa: E712
                              if r.client_order_id not in seen]
            changed = list(changed) + [app.broker.get_order(coid) for coid in still_open]
            app.flags.add("orders_reconciled")
    except BrokerError:
        log.exception("broker poll failed")
        return []
    out: list[Reply] = []
    for order in changed:
        with Session(app.db) as s:
            before = s.get(OrderRow, order.client_order_id)
            status_before = before.status if before is not None else None
        fresh = apply_order(app, order)
        with Session(app.db, expire_on_commit=False) as s:
            row = s.get(OrderRow, order.client_order_id)
            if row is None or (not fresh and row.status == status_before):
                continue
            user = s.get(User, row.user_id)
            a = s.get(Action, row.action_id)
            if user is None or a is None:
                continue
            out += order_card(app, s, a.id, user, load(a.payload))
            if fresh and user.private_chat_id and not order.is_open:
                out.append(Reply(ReplyKind.message, user.private_chat_id,
                                     t(user.lang, "Your order for {symbol} is {status}.", symbol=row.symbol,
                                       status=t(user.lang, order.status.value.replace("_", " ")))))
            s.commit()
    return out


def cancel_order(app: App, action_id: str) -> list[Reply]:
    """Cancel at the broker, post what filled before, release what is held, and edit the card."""
    if app.broker is None:
        return []
    coid = order_id(action_id)
    try:
        order = app.broker.cancel(coid)
    except BrokerError as exc:
        log.warning("cancel of %s refused: %s", coid, exc)
        order = app.broker.get_order(coid)
    apply_order(app, order)
    with Session(app.db, expire_on_commit=False) as s:
        a = s.get(Action, action_id)
        row = s.get(OrderRow, coid)
        user = s.get(User, row.user_id) if row is not None else None
        if a is None or user is None:
            return []
        out = order_card(app, s, action_id, user, load(a.payload))
        s.commit()
    return out


def press_cancel_order(app: App, c: Ctx, tok: PressToken, via_link: bool) -> None:
    """Cancel order pressed on an open order's card: cancelled at the broker after the commit."""
    a = cards.action_of(c, tok)
    if a is None:
        return
    c.answer(t(c.lang, "Cancelling the order…"), alert=False)
    action_id = a.id
    c.after.append(lambda: cancel_order(app, action_id))

