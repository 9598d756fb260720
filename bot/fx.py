"""Conversion between currencies: quotes with finbot's spread, stated rounding, and the linked ledger batch.

Rounding, as the card states it: every amount on a card is exact in minor units. The side the
person named is exact; the other side rounds against them by less than one minor unit: a payee's
amount rounds down, a payer's cost rounds up. The fee (the spread) is a separate amount in the
payer's currency, rounded up. The ledger then moves exactly those amounts, so within each
currency nothing is created or lost (TigerBeetle's currency-exchange recipe: payer -> liquidity
in the source currency, liquidity -> payee in the target currency, payer -> fees, one linked chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any

from bot.rates import FxError, Rate, RatesPort, cross, fresh
from ledger import Ledger, TransferFlag, TransferSpec, exponent

# a transfer code that marks conversion legs in the book (statements show their rate)
FX_CODE = 13
BPS = Decimal(10000)


class SameCurrency(FxError):
    """A conversion into the currency one pays with."""

    code = "same_currency"


class RoundsToZero(FxError):
    """The amount is worth less than one minor unit of the target currency."""

    code = "rounds_to_zero"


@dataclass(frozen=True)
class Quote:
    """What one conversion moves: `cost` + `fee` of `sell` from the payer, `receive` of `buy` to the payee."""

    sell: str
    buy: str
    cost: int  # minor units of `sell` that buy `receive` at `rate`
    fee: int  # minor units of `sell`: finbot's spread
    receive: int  # minor units of `buy`
    rate: Decimal  # 1 sell = rate buy (mid, rounded as bot.rates.round_rate)
    rate_date: date
    source: str
    spread_bps: int
    expires_at: datetime | None = None

    @property
    def total(self) -> int:
        """What leaves the payer's wallet: cost and fee."""
        return self.cost + self.fee

    def to_payload(self) -> dict[str, Any]:
        """The quote as card payload: integers for money, strings for the rate and dates (the digest covers it)."""
        out: dict[str, Any] = {
            "sell": self.sell, "buy": self.buy, "cost": self.cost, "fee": self.fee, "receive": self.receive,
            "rate": format(self.rate, "f"), "rate_date": self.rate_date.isoformat(), "source": self.source,
            "spread_bps": self.spread_bps,
        }  # fmt: skip
        if self.expires_at is not None:
            out["expires_at"] = self.expires_at.isoformat()
        return out

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> Quote:
        """The quote a card holds."""
        exp = data.get("expires_at")
        return cls(str(data["sell"]), str(data["buy"]), int(data["cost"]), int(data["fee"]), int(data["receive"]),
                   Decimal(str(data["rate"])), date.fromisoformat(str(data["rate_date"])), str(data["source"]),
                   int(data["spread_bps"]), datetime.fromisoformat(exp) if exp else None)


def _scale(sell: str, buy: str) -> Decimal:
    """How many minor units of `buy` one minor unit of `sell` is worth at a rate of 1."""
    return Decimal(1).scaleb(exponent(buy) - exponent(sell))


def receive_for(cost: int, sell: str, buy: str, rate: Decimal) -> int:
    """Minor units of `buy` that `cost` minor units of `sell` buy at `rate`, rounded down."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int((Decimal(cost) * rate * _scale(sell, buy)).to_integral_value(rounding=ROUND_FLOOR))


def cost_for(receive: int, sell: str, buy: str, rate: Decimal) -> int:
    """Minor units of `sell` needed to buy `receive` minor units of `buy` at `rate`, rounded up."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int((Decimal(receive) / (rate * _scale(sell, buy))).to_integral_value(rounding=ROUND_CEILING))


def fee_for(cost: int, spread_bps: int) -> int:
    """finbot's spread on `cost`, rounded up to the minor unit (0 when the spread is 0)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return int((Decimal(cost) * Decimal(spread_bps) / BPS).to_integral_value(rounding=ROUND_CEILING))


def live_rate(rates: RatesPort, sell: str, buy: str, on: date, max_age_days: int) -> Rate:
    """The rate to quote with: SameCurrency, UnknownCurrency, NoRate or StaleRate when there is none."""
    if sell.upper() == buy.upper():
        raise SameCurrency(f"{sell} into {buy}")
    return fresh(cross(rates, sell, buy, on), on, max_age_days)


def quote_receive(rates: RatesPort, sell: str, buy: str, receive: int, *, on: date, max_age_days: int,
                  spread_bps: int, expires_at: datetime | None = None) -> Quote:
    """A quote for the payee to get exactly `receive` minor units of `buy`; the payer's cost rounds up."""
    if receive <= 0:
        raise RoundsToZero(f"{receive} {buy}")
    r = live_rate(rates, sell, buy, on, max_age_days)
    cost = cost_for(receive, sell, buy, r.value)
    return Quote(sell.upper(), buy.upper(), cost, fee_for(cost, spread_bps), receive, r.value, r.as_of, r.source,
                 spread_bps, expires_at)


def quote_spend(rates: RatesPort, sell: str, buy: str, cost: int, *, on: date, max_age_days: int,
                spread_bps: int, expires_at: datetime | None = None) -> Quote:
    """A quote for converting exactly `cost` minor units of `sell` (the fee on top); the payee's side rounds
    down. RoundsToZero when that buys less than one minor unit."""
    r = live_rate(rates, sell, buy, on, max_age_days)
    receive = receive_for(cost, sell, buy, r.value)
    if receive <= 0 or cost <= 0:
        raise RoundsToZero(f"{cost} {sell} in {buy}")
    return Quote(sell.upper(), buy.upper(), cost, fee_for(cost, spread_bps), receive, r.value, r.as_of, r.source,
                 spread_bps, expires_at)


def value_in(rates: RatesPort, minor: int, currency: str, target: str, on: date) -> int:
    """`minor` units of `currency` worth in `target` at the mid rate of `on` (or the latest before, however old),
    rounded down: for showing totals and weighing limits, never for moving money."""
    if currency.upper() == target.upper():
        return minor
    r = cross(rates, currency, target, on)
    if minor < 0:
        return -receive_for(-minor, currency, target, r.value)
    return receive_for(minor, currency, target, r.value)


def fx_memo(q: Quote) -> str:
    """The memo of a conversion's legs: pair and rate, read back by statements."""
    return f"fx {q.sell}->{q.buy} @{format(q.rate, 'f')}"


def parse_memo(memo: str | None) -> tuple[str, str, Decimal] | None:
    """(sell, buy, rate) from a conversion leg's memo, else None."""
    if not memo or not memo.startswith("fx ") or "@" not in memo:
        return None
    try:
        pair, rate = memo[3:].split(" @", 1)
        sell, buy = pair.split("->", 1)
        return sell, buy, Decimal(rate.split()[0])
    except (ValueError, ArithmeticError):
        return None


@dataclass(frozen=True)
class FxAccounts:
    """The accounts of one conversion: the payer's wallet in `sell`, the payees' wallets in `buy` with what each
    receives (one entry for a conversion into one's own wallet), liquidity in both, fees in `sell`."""

    payer: int
    payees: tuple[tuple[int, int], ...]  # (wallet id in `buy`, minor units), summing to the quote's `receive`
    liquidity_sell: int
    liquidity_buy: int
    fees: int


def fx_accounts(ledger: Ledger, q: Quote, payer_wallet: int, payees: list[tuple[int, int]]) -> FxAccounts:
    """The operator's liquidity accounts in both currencies and the fee account, opened if missing."""
    if sum(amount for _, amount in payees) != q.receive or any(amount <= 0 for _, amount in payees):
        raise ValueError(f"the payees' amounts {payees} do not add up to the quote's {q.receive}")
    return FxAccounts(payer_wallet, tuple(payees), ledger.system_account("fx_liquidity", q.sell).id,
                      ledger.system_account("fx_liquidity", q.buy).id, ledger.system_account("fees", q.sell).id)


def conversion_specs(prefix: str, q: Quote, acc: FxAccounts, *, memo: str | None = None) -> list[TransferSpec]:
    """The one linked chain of a conversion, ids `{prefix}:fx:<n>`: payer -> liquidity (sell, the cost),
    liquidity -> each payee (buy), payer -> fees (sell, when there is a fee). All happen or none."""
    text = fx_memo(q) + (f" {memo}" if memo else "")
    legs: list[tuple[int, int, int, str]] = [(acc.payer, acc.liquidity_sell, q.cost, text)]
    legs += [(acc.liquidity_buy, wallet, amount, text) for wallet, amount in acc.payees]
    if q.fee:
        legs.append((acc.payer, acc.fees, q.fee, f"fx fee {q.sell}->{q.buy}"))
    return [
        TransferSpec(id=f"{prefix}:fx:{i}", debit_account_id=dr, credit_account_id=cr, amount=amount, code=FX_CODE,
                     memo=m, flags=TransferFlag.NONE if i == len(legs) - 1 else TransferFlag.LINKED)
        for i, (dr, cr, amount, m) in enumerate(legs)
    ]


def expiry(now: datetime, ttl_seconds: int) -> datetime:
    """When a quote made `now` lapses: with its card."""
    return now + timedelta(seconds=ttl_seconds)
