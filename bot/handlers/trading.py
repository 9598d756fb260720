"""Trading, the room: a buy or sell card with the quote, the estimate and what a buy holds; quotes."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from bot import uow
from bot.app import App
from bot.broker import BPS, PRICE_TICK, BrokerError, OrderSide, OrderType, TimeInForce
from bot.bus import Bus
from bot.context import Ctx
from bot.directory import owner_of
from bot.handlers import cards
from bot.i18n import fmt_money, fmt_number, t
from bot.payloads import Buy, Order, Quote, Sell
from intents.directory import Instrument
from intents.model import Intent
from ledger import AccountFlag, exponent, from_minor, to_minor

CENT = Decimal("0.01")


def register(bus: Bus) -> None:
    bus.intents["buy"] = propose_order
    bus.intents["sell"] = propose_order
    bus.intents["quote"] = show_quote


def share_asset(symbol: str) -> str:
    """The ledger asset of a symbol's shares (9 decimals)."""
    return f"SHR:{symbol}"


def cash_minor(value: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> int:
    """A cash amount in minor units of its currency, rounded to its exponent."""
    q = Decimal(1).scaleb(-exponent(currency))
    return to_minor(value.quantize(q, rounding=rounding), currency)


def shares_minor(qty: Decimal, symbol: str) -> int:
    """A number of shares in the ledger's units (9 decimals)."""
    return to_minor(qty.quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP), share_asset(symbol))


def fee_of(app: App, cash: int) -> int:
    """The broker fee on a cash amount (basis points, rounded up)."""
    bps = app.settings.broker_fee_bps
    if bps <= 0:
        return 0
    return int((Decimal(cash) * bps / BPS).to_integral_value(rounding=ROUND_CEILING))


def no_broker(c: Ctx) -> None:
    """Say that trading is not set up."""
    c.say(t(c.lang, "Trading is not set up on this finbot (no broker configured)."))


def tradable(app: App, c: Ctx, intent: Intent) -> Instrument | None:
    """The instrument an intent names, when a broker is configured and knows it; else says why and gives None."""
    if app.broker is None:
        no_broker(c)
        return None
    inst = app.instruments.get(intent.symbol) if intent.symbol and app.instruments is not None else None
    if inst is None:
        c.say(t(c.lang, "I don't know that stock. Try a ticker like AAPL, EQNR or MC."))
    return inst


def position_account(app: App, user_id: int, symbol: str) -> int:
    """The id of a user's position account in a symbol (opened on first use)."""
    return app.ledger.open_account(owner_of(user_id), share_asset(symbol), "position",
                                      flags=AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS).id


def held_qty(app: App, user_id: int, symbol: str) -> Decimal:
    """The shares of a symbol a user holds and has not put on hold."""
    acc = app.ledger.find_account(owner_of(user_id), share_asset(symbol), "position")
    if acc is None:
        return Decimal(0)
    return from_minor(app.ledger.balance(acc.id).available, share_asset(symbol))


def propose_order(app: App, c: Ctx, intent: Intent) -> None:
    """A buy or sell card with the quote, the estimate and what is held until it fills."""
    inst = tradable(app, c, intent)
    if inst is None:
        return
    side = OrderSide.BUY if intent.intent == "buy" else OrderSide.SELL
    uow.ledger(app, c)  # commit before reading the ledger
    uid = c.user.id
    assert uid is not None
    assert app.broker is not None  # tradable() said so
    try:
        quote = app.broker.quote(inst.symbol)
    except BrokerError as exc:
        c.say(t(c.lang, "The broker could not quote {symbol}: {reason}", symbol=inst.symbol, reason=str(exc)))
        return
    cur = inst.currency
    qty: Decimal | None = intent.quantity
    notional: Decimal | None = intent.notional
    if side == OrderSide.SELL and intent.fraction is not None:
        held = held_qty(app, uid, inst.symbol)
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
    band_bps = app.settings.broker_price_band_bps
    price = quote.ask if side == OrderSide.BUY else quote.bid
    if limit is not None:
        bound = limit.quantize(PRICE_TICK)
    elif side == OrderSide.BUY:
        bound = (quote.ask * (BPS + band_bps) / BPS).quantize(PRICE_TICK, rounding=ROUND_CEILING)
    else:
        bound = (quote.bid * (BPS - band_bps) / BPS).quantize(PRICE_TICK, rounding="ROUND_FLOOR")
    if qty is not None:
        estimate = cash_minor(qty * (min(price, limit) if (limit is not None and side == OrderSide.BUY) else price), cur)
        reserve_cash = cash_minor(qty * bound, cur, ROUND_CEILING) if side == OrderSide.BUY else None
    else:
        assert notional is not None
        estimate = cash_minor(notional, cur)
        reserve_cash = estimate if side == OrderSide.BUY else None
    kind: type[Order] = Buy if side == OrderSide.BUY else Sell
    payload = kind(
        symbol=inst.symbol, currency=cur, from_user=uid, qty=qty, notional=notional, limit_price=limit, price_bound=bound,
        type=OrderType.LIMIT.value if limit is not None else OrderType.MARKET.value,
        tif=TimeInForce.GTC.value if limit is not None else TimeInForce.DAY.value,
        quote=Quote(bid=quote.bid, ask=quote.ask, at=quote.at, market_open=quote.market_open),
        estimate=estimate, fee=fee_of(app, estimate), band_bps=band_bps if limit is None else 0,
        reserve=(reserve_cash + fee_of(app, reserve_cash)) if reserve_cash is not None else None,
    )
    if side == OrderSide.SELL:
        held = held_qty(app, uid, inst.symbol)
        if qty is not None and qty > held:
            c.say(t(c.lang, "You hold {held} {symbol}; you can't sell {qty}.", held=fmt_number(held, c.lang),
                    symbol=inst.symbol, qty=fmt_number(qty, c.lang)))
            return
    cards.propose(app, c, payload)


def show_quote(app: App, c: Ctx, intent: Intent) -> None:
    """The current bid and ask of an instrument."""
    inst = tradable(app, c, intent)
    if inst is None:
        return
    uow.ledger(app, c)  # commit first: the broker may keep its state in the same database
    assert app.broker is not None  # tradable() said so
    q = app.broker.quote(inst.symbol)
    text = t(c.lang, "{name} ({symbol}): bid {bid}, ask {ask}", name=inst.name, symbol=inst.symbol,
             bid=fmt_money(q.bid, q.currency, c.lang), ask=fmt_money(q.ask, q.currency, c.lang))
    if not q.market_open:
        text += "\n" + t(c.lang, "The market is closed; these are the last prices.")
    c.say(text)

