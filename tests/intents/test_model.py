"""The Intent object: every key of the contract, decimals normalised, immutable."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

import pytest

from intents import Intent
from intents.model import KEYS, decimal_str


def test_to_json_dict_has_every_key_in_order() -> None:
    d = Intent("none", "en").to_json_dict()
    assert list(d) == list(KEYS)
    assert d["recipients"] == [] and all(d[k] is None for k in KEYS if k not in ("intent", "lang", "recipients"))


def test_values_are_written_as_the_contract_says() -> None:
    i = Intent(
        "send", "en", amount=Decimal("20.50"), currency="USD", recipients=("@anna", "bob"),
        fraction=Decimal("0.50"), when=datetime.date(2026, 11, 19), recurrence="FREQ=WEEKLY",
    )
    d = i.to_json_dict()
    assert d["amount"] == "20.5" and d["fraction"] == "0.5"
    assert d["recipients"] == ["@anna", "bob"] and d["when"] == "2026-11-19"


@pytest.mark.parametrize(
    ("value", "text"),
    [("20", "20"), ("20.50", "20.5"), ("1E+3", "1000"), ("0.10", "0.1"), ("0", "0"), ("0.00", "0"), ("1234567.891", "1234567.891")],
)
def test_decimal_strings(value: str, text: str) -> None:
    assert decimal_str(Decimal(value)) == text


def test_intent_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Intent("none", "en").intent = "send"  # type: ignore[misc]
