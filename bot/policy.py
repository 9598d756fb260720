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


@dataclass(frozen=True)
class Policy:
    """Thresholds from the settings, in LIMITS_CURRENCY."""

    totp_above: Decimal = Decimal("500")
    group_totp_above: Decimal = Decimal("100")
    velocity_max: int = 10
    new_payee_totp: bool = False

    def method(self, p: PolicyInput) -> str:
        """'pin', or 'pin+totp' when the user has a second factor and the action is risky."""
        if not p.totp_enrolled:
            return "pin"
        if p.amount_major > self.totp_above:
            return "pin+totp"
        if p.from_group and p.amount_major > self.group_totp_above:
            return "pin+totp"
        if p.recent_count >= self.velocity_max:
            return "pin+totp"
        if self.new_payee_totp and p.new_payee:
            return "pin+totp"
        return "pin"
