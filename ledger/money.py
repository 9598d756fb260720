"""Money: integer minor units per ISO 4217 exponent, share quantities, locale formatting, fair splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
    parse_decimal,
)

from ledger.errors import InvalidAmount, InvalidSplit, TooPrecise, UnknownAsset

SHARE_PREFIX = "SHR:"
SHARE_EXPONENT = 9


def is_share(asset: str) -> bool:
    """True for a share asset such as `SHR:AAPL`."""
    return asset.startswith(SHARE_PREFIX) and len(asset) > len(SHARE_PREFIX)


@lru_cache(maxsize=1024)
def exponent(asset: str) -> int:
    """Decimals of one unit of `asset`: ISO 4217 for currencies (babel), 9 for shares `SHR:<SYMBOL>`."""
    if is_share(asset):
        return SHARE_EXPONENT
    if asset not in _currencies():
        raise UnknownAsset(f"unknown asset {asset!r}: not an ISO 4217 code nor SHR:<SYMBOL>")
    return int(get_currency_precision(asset))


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def to_minor(value: Decimal, asset: str) -> int:
    """`value` in whole units as an integer count of minor units; raises TooPrecise on extra decimals."""
    if not isinstance(value, Decimal):
        raise TypeError(f"to_minor takes a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise InvalidAmount(f"{value} is not a finite amount")
    scaled = value.scaleb(exponent(asset))
    if scaled != scaled.to_integral_value():
        raise TooPrecise(f"{value} has more than {exponent(asset)} decimals for {asset}")
    return int(scaled)


def from_minor(minor: int, asset: str) -> Decimal:
    """Minor units back to a Decimal with exactly the asset's exponent of decimals."""
    exp = exponent(asset)
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def decimal_text(minor: int, asset: str) -> str:
    """Minor units as a plain decimal string with the asset's exponent: `80.00`, `0.000000001`."""
    return format(from_minor(minor, asset), "f")


@dataclass(frozen=True)
class Money:
    """An amount of one asset in integer minor units."""

    minor: int
    currency: str

    @property
    def decimal(self) -> Decimal:
        """The amount in whole units, with the asset's exponent of decimals."""
        return from_minor(self.minor, self.currency)

    def format(self, locale: str = "en_US") -> str:
        """As people read it in `locale` (babel): `$20.00`, `20,00 €`, `200,00 kr`; shares as `2.5 AAPL`."""
        if is_share(self.currency):
            qty = format_decimal(self.decimal.normalize(), locale=locale, decimal_quantization=False)
            return f"{qty} {self.currency[len(SHARE_PREFIX):]}"
        return str(format_currency(self.decimal, self.currency, locale=locale))

    @classmethod
    def parse(cls, text: str, currency: str, locale: str = "en_US") -> Money:
        """A plain number as written in `locale` (`20`, `20.50`, `1 000,50` in nb); TooPrecise or InvalidAmount."""
        cleaned = text.strip()
        group = str(get_group_symbol(locale))
        if group.isspace() or group in ("\u00a0", "\u202f"):
            for space in (" ", "\u00a0", "\u202f", "\u2009"):
                cleaned = cleaned.replace(space, group)
        if not cleaned:
            raise InvalidAmount("empty amount")
        try:
            value = parse_decimal(cleaned, locale=locale, strict=True)
        except (NumberFormatError, InvalidOperation, ValueError) as exc:
            decimal_sym = get_decimal_symbol(locale)
            raise InvalidAmount(f"{text!r} is not a number in {locale} (decimal mark {decimal_sym!r})") from exc
        return cls(to_minor(Decimal(value), currency), currency)

    def __str__(self) -> str:
        return f"{self.decimal} {self.currency}"


def split_largest_remainder(total: int, weights: Sequence[int], keys: Sequence[str]) -> list[int]:
    """Split `total` minor units by integer weights: floor each share, leftover units to the largest
    remainders, ties to the smallest key; the parts always sum to `total`."""
    if len(weights) != len(keys):
        raise InvalidSplit("weights and keys differ in length")
    if not weights:
        raise InvalidSplit("nothing to split between")
    if total < 0:
        raise InvalidSplit("cannot split a negative total")
    if any(w < 0 for w in weights):
        raise InvalidSplit("weights must not be negative")
    if len(set(keys)) != len(keys):
        raise InvalidSplit("keys must be distinct")
    wsum = sum(weights)
    if wsum == 0:
        raise InvalidSplit("weights sum to zero")
    shares = [total * w // wsum for w in weights]
    remainders = [total * w % wsum for w in weights]
    leftover = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], keys[i]))
    for i in order[:leftover]:
        shares[i] += 1
    return shares
