"""The embedded paper broker: seeded prices, exchange hours, partial fills, all on the caller's clock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

from adapters.brokerage.paper_orders import AVG_PRICE, PaperOrder
from adapters.brokerage.prices import PricePath
from adapters.brokerage.rules import check_request, same_order
from adapters.brokerage.sessions import Sessions, from_minute, sessions_for, to_minute
from adapters.brokerage.state import StateStore
from bot.broker import (
    QTY_PLACES,
    Fill,
    InsufficientBuyingPower,
    InvalidRequest,
    NoShortSelling,
    Order,
    OrderConflict,
    OrderNotFound,
    OrderRequest,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    TimeInForce,
    UnknownSymbol,
    max_cost,
    price_bound,
)
from intents.directory import Instrument, InstrumentDirectory, load_directory

STATE_FORMAT = "finbot.paper/1"
QTY_STEP = Decimal(1).scaleb(-QTY_PLACES)
CENT = Decimal("0.01")
COST_STEP = Decimal("1e-12")
MAX_HISTORY_POINTS = 10_000
_NAMESPACE = uuid.UUID("6f1d9a52-2f7e-4c1b-9a43-0b3f5d0c7e11")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PaperBroker:
    """A Broker in memory whose universe is the instrument directory.

    Prices come from PricePath(seed): any instant can be priced, the same seed gives the same
    world. Orders match minute by minute inside the instrument's exchange sessions: buys at the
    ask, sells at the bid, limits when the path crosses them, market orders within their price
    bound, at most `max_qty_per_step` shares per order per minute (so big orders fill over
    several minutes). Orders placed while the market is closed are `accepted` and wait for the
    open; DAY orders expire at their session's close. Nothing moves between calls: every public
    call first matches up to `clock()`.

    State: orders and positions live here; `to_state()` / `from_state()` give and take a JSON-able
    dict, and with a `store` every call loads the newest saved state first and saves after any
    change, so processes run in sequence on one store share one world.
    """

    def __init__(
        self,
        *,
        seed: int = 42,
        clock: Callable[[], datetime] = _utc_now,
        directory: InstrumentDirectory | None = None,
        price_band_bps: int = 500,
        spread_bps: int = 4,
        max_qty_per_step: Decimal = Decimal(1000),
        store: StateStore | None = None,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.directory = directory if directory is not None else load_directory()
        self.price_band_bps = price_band_bps
        self.max_qty_per_step = max_qty_per_step
        self.path = PricePath(seed, spread_bps)
        self.store = store
        self._lock = threading.RLock()
        self._orders: dict[str, PaperOrder] = {}
        self._positions: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (qty, cost)
        self._unreported: set[str] = set()
        self._revision = 0
        self._changed = False
        if store is not None:
            saved = store.load()
            if saved is not None:
                self._load(saved)

    # ---- state ------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Everything the broker holds, as JSON-able data (prices are derived from the seed)."""
        with self._lock:
            return {
                "format": STATE_FORMAT,
                "seed": self.seed,
                "spread_bps": self.path.spread_bps,
                "revision": self._revision,
                "orders": [o.to_json() for o in self._orders.values()],
                "positions": {s: {"qty": str(q), "cost": str(c)} for s, (q, c) in self._positions.items()},
                "unreported": sorted(self._unreported),
            }

    @classmethod
    def from_state(cls, state: dict[str, Any], **kwargs: Any) -> PaperBroker:
        """A broker holding a saved state; kwargs as for the constructor (seed comes from the state)."""
        kwargs.setdefault("spread_bps", int(state["spread_bps"]))
        broker = cls(seed=int(state["seed"]), **kwargs)
        broker._load(state)
        return broker

    def _load(self, state: dict[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a paper broker state: {state.get('format')!r}")
        if int(state["seed"]) != self.seed or int(state["spread_bps"]) != self.path.spread_bps:
            raise ValueError(
                f"state was made with seed {state['seed']} and spread {state['spread_bps']} bps, "
                f"this broker has seed {self.seed} and spread {self.path.spread_bps} bps"
            )
        orders = [PaperOrder.from_json(o) for o in state["orders"]]
        self._orders = {o.client_order_id: o for o in orders}
        self._positions = {
            s: (Decimal(p["qty"]), Decimal(p["cost"])) for s, p in state["positions"].items()
        }
        self._unreported = set(state["unreported"])
        self._revision = int(state["revision"])

    def _begin(self) -> datetime:
        """Adopt a newer saved state, then match every open order up to now."""
        if self.store is not None:
            saved = self.store.load()
            if saved is not None and int(saved["revision"]) != self._revision:
                self._load(saved)
        self._changed = False
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must give timezone-aware times")
        self._advance(now)
        return now

    def _end(self) -> None:
        if self._changed:
            self._revision += 1
            self._changed = False
            if self.store is not None:
                self.store.save(self.to_state())

    # ---- the port ---------------------------------------------------------------------------

    def quote(self, symbol: str) -> Quote:
        """Bid, ask and last now; when the market is closed, those of its last trading minute."""
        with self._lock:
            now = self._begin()
            try:
                return self._quote(self._instrument(symbol), now)
            finally:
                self._end()

    def submit(self, req: OrderRequest, *, buying_power: Decimal | None = None) -> Order:
        """Place an order (idempotent on client_order_id); buys checked against `buying_power`."""
        with self._lock:
            now = self._begin()
            try:
                return self._submit(req, buying_power, now)
            finally:
                self._end()

    def get_order(self, client_order_id: str) -> Order:
        """The order as of now."""
        with self._lock:
            self._begin()
            try:
                return self._order(client_order_id).snapshot()
            finally:
                self._end()

    def cancel(self, client_order_id: str) -> Order:
        """Cancel the unfilled rest of an open order; fills so far stand."""
        with self._lock:
            now = self._begin()
            try:
                order = self._order(client_order_id)
                if order.status.is_open:
                    order.status = OrderStatus.CANCELED
                    order.updated_at = now
                    self._touch(order)
                return order.snapshot()
            finally:
                self._end()

    def open_orders(self) -> list[Order]:
        """Orders that may still fill, oldest first."""
        with self._lock:
            self._begin()
            try:
                return [o.snapshot() for o in self._orders.values() if o.status.is_open]
            finally:
                self._end()

    def positions(self) -> list[Position]:
        """Holdings valued at the last price, by symbol."""
        with self._lock:
            now = self._begin()
            try:
                result = []
                for symbol in sorted(self._positions):
                    qty, cost = self._positions[symbol]
                    inst = self._instrument(symbol)
                    last = self._quote(inst, now).last
                    result.append(
                        Position(
                            symbol=symbol,
                            qty=qty,
                            avg_entry_price=(cost / qty).quantize(AVG_PRICE),
                            market_value=(qty * last).quantize(CENT, ROUND_HALF_EVEN),
                            currency=inst.currency,
                            current_price=last,
                        )
                    )
                return result
            finally:
                self._end()

    def poll(self) -> list[Order]:
        """Match up to now; the orders that changed (submitted, filled, expired...) since the last poll."""
        with self._lock:
            self._begin()
            try:
                changed = [o.snapshot() for o in self._orders.values() if o.client_order_id in self._unreported]
                if self._unreported:
                    self._unreported.clear()
                    self._changed = True
                return changed
            finally:
                self._end()

    def price_history(
        self, symbol: str, start: datetime, end: datetime, step: timedelta
    ) -> list[tuple[datetime, Decimal]]:
        """The last price every step from start to end; flat while the market is closed."""
        inst = self._instrument(symbol)
        if step <= timedelta(0) or end < start:
            raise InvalidRequest("price history needs start <= end and a positive step")
        if (end - start) // step + 1 > MAX_HISTORY_POINTS:
            raise InvalidRequest(f"price history is limited to {MAX_HISTORY_POINTS} points")
        sessions = sessions_for(inst.calendar)
        points = []
        at = start
        with self._lock:
            while at <= end:
                minute = sessions.last_trading_minute(to_minute(at))
                points.append((at, self.path.mid(inst.symbol, inst.reference_price, minute)))
                at += step
        return points

    # ---- inside -----------------------------------------------------------------------------

    def _instrument(self, symbol: str) -> Instrument:
        inst = self.directory.get(symbol)
        if inst is None:
            raise UnknownSymbol(symbol)
        return inst

    def _order(self, client_order_id: str) -> PaperOrder:
        order = self._orders.get(client_order_id)
        if order is None:
            raise OrderNotFound(client_order_id)
        return order

    def _touch(self, order: PaperOrder) -> None:
        self._unreported.add(order.client_order_id)
        self._changed = True

    def _sessions(self, inst: Instrument) -> Sessions:
        return sessions_for(inst.calendar)

    def _bid_ask(self, inst: Instrument, minute: int) -> tuple[Decimal, Decimal, Decimal]:
        mid = self.path.mid(inst.symbol, inst.reference_price, minute)
        bid, ask = self.path.bid_ask(mid)
        return bid, ask, mid

    def _quote(self, inst: Instrument, now: datetime) -> Quote:
        sessions = self._sessions(inst)
        minute = to_minute(now)
        is_open = sessions.is_open(minute)
        bid, ask, mid = self._bid_ask(inst, sessions.last_trading_minute(minute))
        return Quote(
            symbol=inst.symbol,
            bid=bid,
            ask=ask,
            last=mid,
            currency=inst.currency,
            at=now,
            market_open=is_open,
            next_open=None if is_open else from_minute(sessions.next_open(minute)),
        )

    def _available_to_sell(self, inst: Instrument, bid: Decimal) -> Decimal:
        held = self._positions.get(inst.symbol, (Decimal(0), Decimal(0)))[0]
        for o in self._orders.values():
            if o.symbol == inst.symbol and o.side is OrderSide.SELL and o.status.is_open:
                rest_qty = o.remaining_qty()
                rest_notional = o.remaining_notional()
                held -= rest_qty if rest_qty is not None else (rest_notional or Decimal(0)) / bid
        return max(held, Decimal(0))

    def _submit(self, req: OrderRequest, buying_power: Decimal | None, now: datetime) -> Order:
        existing = self._orders.get(req.client_order_id)
        if existing is not None:
            if not same_order(req, existing.symbol, existing.side, existing.qty, existing.notional,
                              existing.limit_price):
                raise OrderConflict(f"client_order_id {req.client_order_id!r} is a different order")
            return existing.snapshot()
        inst = self._instrument(req.symbol)
        check_request(req, inst)
        quote = self._quote(inst, now)
        bound = req.price_bound
        if req.type == OrderType.MARKET and bound is None:
            bound = price_bound(req.side, quote, self.price_band_bps)
        if req.side == OrderSide.SELL:
            available = self._available_to_sell(inst, quote.bid)
            wanted = req.qty if req.qty is not None else (req.notional or Decimal(0)) / quote.bid
            if wanted > available:
                raise NoShortSelling(inst.symbol, wanted, available)
        elif buying_power is not None:
            required = max_cost(replace(req, price_bound=bound), quote, self.price_band_bps)
            if required > buying_power:
                raise InsufficientBuyingPower(required, buying_power)
        sessions = self._sessions(inst)
        minute = to_minute(now)
        open_now = sessions.is_open(minute)
        _, close = sessions.session_of(minute)
        order = PaperOrder(
            client_order_id=req.client_order_id,
            broker_order_id=str(uuid.uuid5(_NAMESPACE, f"{self.seed}:{req.client_order_id}")),
            symbol=inst.symbol,
            side=OrderSide(req.side),
            type=OrderType(req.type),
            time_in_force=TimeInForce(req.time_in_force),
            qty=req.qty,
            notional=req.notional,
            limit_price=req.limit_price,
            price_bound=bound,
            currency=inst.currency,
            status=OrderStatus.NEW if open_now else OrderStatus.ACCEPTED,
            submitted_at=now,
            updated_at=now,
            cursor=minute - 1 if open_now else minute,
            expires=close if req.time_in_force == TimeInForce.DAY else None,
        )
        self._orders[order.client_order_id] = order
        self._touch(order)
        self._match(order, inst, minute)
        return order.snapshot()

    def _advance(self, now: datetime) -> None:
        minute = to_minute(now)
        for order in list(self._orders.values()):
            if order.status.is_open and order.cursor < minute:
                self._match(order, self._instrument(order.symbol), minute)

    def _match(self, order: PaperOrder, inst: Instrument, through: int) -> None:
        """Match one open order minute by minute up to `through`, then expire it if its day is over."""
        last = through if order.expires is None else min(through, order.expires - 1)
        for minute in self._sessions(inst).minutes(order.cursor, last):
            if order.status is OrderStatus.ACCEPTED:
                order.status = OrderStatus.NEW
                order.updated_at = from_minute(minute)
                self._touch(order)
            self._fill_at(order, inst, minute)
            if not order.status.is_open:
                break
        order.cursor = max(order.cursor, through)
        if order.status.is_open and order.expires is not None and through >= order.expires:
            order.status = OrderStatus.EXPIRED
            order.updated_at = from_minute(order.expires)
            self._touch(order)

    def _fill_at(self, order: PaperOrder, inst: Instrument, minute: int) -> None:
        bid, ask, _ = self._bid_ask(inst, minute)
        buy = order.side == OrderSide.BUY
        price = ask if buy else bid
        limit = order.limit_price if order.type is OrderType.LIMIT else order.price_bound
        if limit is not None and (price > limit if buy else price < limit):
            return
        rest_qty = order.remaining_qty()
        rest_notional = order.remaining_notional()
        if rest_qty is None:
            assert rest_notional is not None
            rest_qty = (rest_notional / price).quantize(QTY_STEP, ROUND_DOWN)
        cap = self.max_qty_per_step if inst.fractionable else self.max_qty_per_step.to_integral_value(ROUND_DOWN)
        qty = min(rest_qty, cap)
        if not buy:
            qty = min(qty, self._positions.get(inst.symbol, (Decimal(0), Decimal(0)))[0])
        if qty <= 0:
            if order.notional is not None and order.fills and rest_qty <= 0:
                order.status = OrderStatus.FILLED  # what is left of the notional buys no 1e-9 share
                order.updated_at = order.fills[-1].at
                self._touch(order)
            return
        at = max(from_minute(minute), order.submitted_at)
        order.fills.append(
            Fill(
                fill_id=f"{order.client_order_id}/{len(order.fills) + 1}",
                client_order_id=order.client_order_id,
                qty=qty,
                price=price,
                at=at,
            )
        )
        self._book(inst.symbol, order.side, qty, price)
        done = (
            order.remaining_qty() == 0
            if order.qty is not None
            else ((order.remaining_notional() or Decimal(0)) / price).quantize(QTY_STEP, ROUND_DOWN) <= 0
        )
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        order.updated_at = at
        self._touch(order)

    def _book(self, symbol: str, side: OrderSide, qty: Decimal, price: Decimal) -> None:
        held, cost = self._positions.get(symbol, (Decimal(0), Decimal(0)))
        if side == OrderSide.BUY:
            held, cost = held + qty, cost + qty * price
        else:
            cost = cost - cost * qty / held if held else Decimal(0)
            held -= qty
        if held > 0:
            self._positions[symbol] = (held, cost if side == OrderSide.BUY else cost.quantize(COST_STEP))
        else:
            self._positions.pop(symbol, None)
