"""The step-up policy weighs amount, group origin, velocity and new payees, for users with a second factor."""

from __future__ import annotations

from decimal import Decimal

from bot.policy import Policy, PolicyInput

POLICY = Policy(totp_above=Decimal("500"), group_totp_above=Decimal("100"), velocity_max=3, new_payee_totp=True)


def ask(amount: str = "20", *, group: bool = False, recent: int = 0, new_payee: bool = False, totp: bool = True) -> str:
    return POLICY.method(PolicyInput(kind="send", amount_major=Decimal(amount), new_payee=new_payee,
                                     from_group=group, recent_count=recent, totp_enrolled=totp))


def test_small_private_payment_to_a_known_payee_needs_the_pin_only() -> None:
    assert ask("20") == "pin"


def test_each_risk_asks_for_the_code_too() -> None:
    assert ask("500.01") == "pin+totp"
    assert ask("100.01", group=True) == "pin+totp"
    assert ask("100.01", group=False) == "pin"
    assert ask("20", recent=3) == "pin+totp"
    assert ask("20", new_payee=True) == "pin+totp"


def test_without_a_second_factor_the_pin_is_the_step_up() -> None:
    assert ask("5000", group=True, recent=99, new_payee=True, totp=False) == "pin"
