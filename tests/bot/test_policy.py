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


def test_a_passkey_replaces_the_pin_and_is_the_strong_factor_above_the_threshold() -> None:
    from bot.policy import allows_pin, needs_totp

    def pk(amount: str, *, totp: bool, fallback: bool = True, group: bool = False) -> str:
        policy = Policy(totp_above=Decimal("500"), group_totp_above=Decimal("100"), pin_fallback=fallback)
        return policy.method(PolicyInput(kind="send", amount_major=Decimal(amount), new_payee=False,
                                         from_group=group, recent_count=0, totp_enrolled=totp,
                                         passkey_enrolled=True))

    assert pk("20", totp=False) == "passkey/pin"  # the PIN stays as the fallback
    assert pk("20", totp=True) == "passkey/pin"
    assert pk("500.01", totp=True) == "passkey/pin+totp"  # a PIN then needs the code too; a passkey alone does
    assert pk("500.01", totp=False) == "passkey"  # no code to go with a PIN: the passkey only
    assert pk("100.01", totp=False, group=True) == "passkey"
    assert pk("20", totp=True, fallback=False) == "passkey"
    assert pk("5000", totp=True, fallback=False) == "passkey"
    assert [allows_pin(m) for m in ("pin", "pin+totp", "passkey/pin", "passkey")] == [True, True, True, False]
    assert [needs_totp(m) for m in ("pin", "pin+totp", "passkey/pin", "passkey/pin+totp")] == [False, True, False, True]
