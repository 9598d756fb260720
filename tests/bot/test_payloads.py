"""Typed payloads write exactly the canonical JSON the engine wrote before them (so every digest stays the same)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.actions import canonical, describe
from bot.payloads import (
    Buy,
    Deposit,
    Leg,
    Payload,
    PayRequest,
    Raw,
    Request,
    Sell,
    Send,
    Split,
    Withdraw,
    kind_class,
    load,
    needs_stepup,
    register_payload,
    retryable,
)

# every distinct payload the scenarios in tests/scenarios stored, written by the engine before payloads were typed
SAMPLES = [line for line in (Path(__file__).parent / "payload_samples.jsonl").read_text().splitlines() if line.strip()]
KINDS = {"send": Send, "request": Request, "split": Split, "deposit": Deposit, "withdraw": Withdraw,
         "pay_request": PayRequest, "buy": Buy, "sell": Sell}


@pytest.mark.parametrize("text", SAMPLES, ids=[f"{json.loads(s)['kind']}-{i}" for i, s in enumerate(SAMPLES)])
def test_a_stored_payload_loads_as_its_kind_and_writes_the_same_bytes(text: str) -> None:
    p = load(text)
    assert type(p) is KINDS[json.loads(text)["kind"]]
    assert p.to_json() == text
    assert p.describe("nb") == describe(json.loads(text), "nb")


def test_the_samples_cover_every_kind() -> None:
    assert {json.loads(s)["kind"] for s in SAMPLES} == set(KINDS)


def test_a_send_on_a_date_writes_what_the_engine_wrote() -> None:
    legs = [{"to_user": 2, "handle": "bob", "label": "@bob", "escrow": False, "amount": 2000}]
    before = {"kind": "send", "currency": "USD", "legs": legs, "note": None, "fee": 0, "from_user": 1, "escrow_days": 7,
              "when": "2026-12-24", "from_label": "@alice"}
    p = Send(currency="USD", legs=(Leg(2, "bob", "@bob", False, 2000),), note=None, from_user=1, when=date(2026, 12, 24),
             from_label="@alice")
    assert p.to_json() == canonical(before)
    assert p.scheduled and p.funds_needed() is None
    assert load(p.to_json()) == p


def test_what_a_payload_says_about_money() -> None:
    send = Send(currency="NOK", legs=(Leg(2, "b", "@b", False, 150), Leg(None, "c", "@c", True, 50)), note=None, from_user=1)
    assert send.funds_needed() == ("NOK", 200) and send.amount_major() == Decimal("2")
    assert send.payees() == {2, None}
    assert Withdraw(currency="USD", amount=500, fee=25, from_user=1).funds_needed() == ("USD", 525)
    assert Deposit(currency="USD", amount=500, from_user=1).funds_needed() is None
    assert needs_stepup("send") and not needs_stepup("request") and not needs_stepup("split")
    assert retryable("deposit") and not retryable("buy") and not retryable("pay_request")
    assert send.labelled("@a").from_label == "@a" and send.labelled("@a").labelled("@z").from_label == "@a"


def test_a_feature_registers_its_own_kind() -> None:
    @register_payload
    @dataclass(frozen=True)
    class Convert(Payload):
        kind: ClassVar[str] = "test_convert"
        currency: str
        to_currency: str
        amount: int
        from_user: int
        from_label: str | None = None

        def body(self) -> dict[str, Any]:
            return {"currency": self.currency, "to_currency": self.to_currency, "amount": self.amount,
                    "from_user": self.from_user, "from_label": self.from_label}

        @classmethod
        def from_dict(cls, data: dict[str, Any]) -> Convert:
            return cls(data["currency"], data["to_currency"], int(data["amount"]), int(data["from_user"]),
                       data.get("from_label"))

    p = Convert("USD", "NOK", 1000, 1).labelled("@a")
    assert kind_class("test_convert") is Convert
    assert load(p.to_json()) == p and json.loads(p.to_json())["kind"] == "test_convert"
    assert needs_stepup("test_convert")


def test_a_kind_nobody_registered_is_kept_as_written() -> None:
    text = canonical({"kind": "nobody_knows", "currency": "EUR", "from_user": 3, "amount": 7})
    p = load(text)
    assert isinstance(p, Raw) and p.to_json() == text and p.currency == "EUR" and p.from_user == 3
