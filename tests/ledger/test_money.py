"""Money: exponents, minor units, locale formatting and parsing, largest-remainder splits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import (
    InvalidAmount,
    InvalidSplit,
    Money,
    TooPrecise,
    UnknownAsset,
    decimal_text,
    exponent,
    from_minor,
    split_largest_remainder,
    to_minor,
)


def test_exponents_come_from_iso_4217_and_shares_have_nine() -> None:
    assert exponent("USD") == 2
    assert exponent("NOK") == 2
    assert exponent("JPY") == 0
    assert exponent("BHD") == 3
    assert exponent("SHR:AAPL") == 9
    with pytest.raises(UnknownAsset):
        exponent("XYZ")
    with pytest.raises(UnknownAsset):
        exponent("SHR:")


def test_to_minor_and_back() -> None:
    assert to_minor(Decimal("20"), "USD") == 2000
    assert to_minor(Decimal("20.05"), "USD") == 2005
    assert to_minor(Decimal("-1.5"), "EUR") == -150
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert to_minor(Decimal("0.000000001"), "SHR:AAPL") == 1
    assert to_minor(Decimal("2.500"), "USD") == 250  # trailing zeros are fine
    assert from_minor(2005, "USD") == Decimal("20.05")
    assert decimal_text(2000, "USD") == "20.00"
    assert decimal_text(-5, "USD") == "-0.05"
    assert decimal_text(7, "JPY") == "7"
    assert decimal_text(1, "SHR:AAPL") == "0.000000001"
    assert decimal_text(0, "SHR:AAPL") == "0.000000000"


def test_too_precise_is_a_typed_error() -> None:
    with pytest.raises(TooPrecise):
        to_minor(Decimal("0.001"), "USD")
    with pytest.raises(TooPrecise):
        to_minor(Decimal("1.5"), "JPY")
    with pytest.raises(TypeError):
        to_minor(1.5, "USD")  # type: ignore[arg-type]  # no float near money
    with pytest.raises(InvalidAmount):
        to_minor(Decimal("NaN"), "USD")


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["USD", "JPY", "BHD", "SHR:AAPL"]))
def test_minor_round_trips(minor: int, asset: str) -> None:
    assert to_minor(from_minor(minor, asset), asset) == minor


def test_format_per_locale() -> None:
    assert Money(2000, "USD").format("en_US") == "$20.00"
    assert Money(2000, "EUR").format("de_DE") == "20,00\xa0€"
    assert Money(20000, "NOK").format("nb_NO") == "200,00\xa0kr"
    assert Money(-500, "USD").format("en_US") == "-$5.00"
    assert Money(2_500_000_000, "SHR:AAPL").format("en_US") == "2.5 AAPL"
    assert Money(2005, "USD").decimal == Decimal("20.05")


def test_parse_plain_numbers_per_locale() -> None:
    assert Money.parse("20", "USD", "en_US") == Money(2000, "USD")
    assert Money.parse("20.50", "USD", "en_US") == Money(2050, "USD")
    assert Money.parse("20,50", "NOK", "nb_NO") == Money(2050, "NOK")
    assert Money.parse("1 000,50", "NOK", "nb_NO") == Money(100050, "NOK")
    assert Money.parse("1 000,50", "EUR", "fr_FR") == Money(100050, "EUR")
    with pytest.raises(TooPrecise):
        Money.parse("1.005", "USD", "en_US")
    with pytest.raises(InvalidAmount):
        Money.parse("twenty", "USD", "en_US")
    with pytest.raises(InvalidAmount):
        Money.parse("", "USD", "en_US")


def test_split_largest_remainder_examples() -> None:
    assert split_largest_remainder(6000, [1, 1, 1], ["a", "b", "c"]) == [2000, 2000, 2000]
    assert split_largest_remainder(100, [1, 1, 1], ["a", "b", "c"]) == [34, 33, 33]
    assert split_largest_remainder(100, [1, 1, 1], ["c", "b", "a"]) == [33, 33, 34]  # ties by key
    assert split_largest_remainder(10, [1, 2], ["x", "y"]) == [3, 7]
    assert split_largest_remainder(0, [1, 2], ["x", "y"]) == [0, 0]
    assert split_largest_remainder(5, [0, 1], ["x", "y"]) == [0, 5]


def test_split_refuses_nonsense() -> None:
    for total, weights, keys in [(1, [], []), (-1, [1], ["a"]), (1, [1, -1], ["a", "b"]), (1, [0, 0], ["a", "b"]), (1, [1], ["a", "b"]), (1, [1, 1], ["a", "a"])]:
        with pytest.raises(InvalidSplit):
            split_largest_remainder(total, weights, keys)


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_split_sums_to_total_and_is_fair(total: int, weights: list[int]) -> None:
    keys = [f"k{i:02d}" for i in range(len(weights))]
    parts = split_largest_remainder(total, weights, keys)
    assert sum(parts) == total
    wsum = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        exact_floor = total * w // wsum
        assert exact_floor <= part <= exact_floor + 1  # never more than one unit off the exact share
        if w == 0:
            assert part == 0
