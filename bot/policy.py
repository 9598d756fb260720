"""The step-up policy: which method an action needs, from its amount, payee, origin and velocity."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class PolicyInput:
    """What the policy looks at for one action."""

    kind: str
    amount_major: Decimal  # in LIMITS_CURRENCY (the engine converts at the day's rate)
    new_payee: bool
    from_group: bool
    recent_count: int  # money actions by this user inside the velocity window
    totp_enrolled: bool
    passkey_enrolled: bool = False


@dataclass(frozen=True)
class Policy:
    """Thresholds from the settings, in LIMITS_CURRENCY."""

    totp_above: Decimal = Decimal("500")
    group_totp_above: Decimal = Decimal("100")
    velocity_max: int = 10
    new_payee_totp: bool = False
    pin_fallback: bool = True  # with a passkey, a PIN may still answer (PASSKEY_PIN_FALLBACK)

    def risky(self, p: PolicyInput) -> bool:
        """Whether the action needs the strong second factor: above the TOTP threshold (lower from a
        group), at the velocity limit, or to a new payee when NEW_PAYEE_TOTP asks for it."""
        return (p.amount_major > self.totp_above
                or (p.from_group and p.amount_major > self.group_totp_above)
                or p.recent_count >= self.velocity_max
                or (self.new_payee_totp and p.new_payee))

    def method(self, p: PolicyInput) -> str:
        """'pin', or 'pin+totp' when the user has a second factor and the action is risky. With a
        passkey: 'passkey' (a passkey with user verification is itself two factors, so it is the
        strong factor above the threshold too), or with the PIN fallback 'passkey/pin' or
        'passkey/pin+totp' (where the action is risky, the PIN answers only together with a code;
        without TOTP enrolled, a risky action takes the passkey alone)."""
        pin_method = "pin+totp" if p.totp_enrolled and self.risky(p) else "pin"
        if not p.passkey_enrolled:
            return pin_method
        if not self.pin_fallback or (self.risky(p) and not p.totp_enrolled):
            return "passkey"
        return f"passkey/{pin_method}"


def allows_pin(method: str) -> bool:
    """Whether a challenge of this method takes a PIN answer ('passkey' alone does not)."""
    return method != "passkey"


def needs_totp(method: str) -> bool:
    """Whether a PIN answer to a challenge of this method must be followed by a one-time code."""
    return method.endswith("pin+totp")
