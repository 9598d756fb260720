"""Step-up checks: PINs hashed with argon2id and locked after repeated failures, TOTP with QR enrolment."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
import qrcode
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.clock import aware
from bot.models import User

PIN_RE = re.compile(r"^\d{4,8}$")


class PinCheck(StrEnum):
    """The outcome of a PIN answer."""

    ok = "ok"
    wrong = "wrong"
    locked = "locked"
    no_pin = "no_pin"


@dataclass(frozen=True)
class PinResult:
    """A PIN check's outcome, the tries left and, when locked, until when."""

    status: PinCheck
    tries_left: int = 0
    locked_until: datetime | None = None


class StepUp:
    """PIN and TOTP checks with the lockout policy of the settings."""

    def __init__(
        self,
        *,
        max_attempts: int = 5,
        lockout: timedelta = timedelta(minutes=15),
        time_cost: int = 2,
        memory_kib: int = 19456,
    ) -> None:
        self.max_attempts = max_attempts
        self.lockout = lockout
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)

    @staticmethod
    def valid_pin(pin: str) -> bool:
        """A PIN is 4 to 8 digits."""
        return bool(PIN_RE.match(pin))

    def hash_pin(self, pin: str) -> str:
        """The argon2id hash stored for a PIN."""
        return self.hasher.hash(pin)

    def locked(self, user: User, now: datetime) -> datetime | None:
        """When step-up is locked for this user, until when."""
        until = user.stepup_locked_until
        if until is not None and aware(until) > now:
            return aware(until)
        return None

    def check_pin(self, user: User, pin: str, now: datetime) -> PinResult:
        """Verify a PIN answer, counting failures and locking after too many (mutates `user`)."""
        until = self.locked(user, now)
        if until is not None:
            return PinResult(PinCheck.locked, 0, until)
        if not user.pin_hash:
            return PinResult(PinCheck.no_pin)
        try:
            self.hasher.verify(user.pin_hash, pin)
        except (VerificationError, InvalidHashError):
            user.pin_failures += 1
            if user.pin_failures >= self.max_attempts:
                user.pin_failures = 0
                user.stepup_locked_until = now + self.lockout
                return PinResult(PinCheck.locked, 0, user.stepup_locked_until)
            return PinResult(PinCheck.wrong, self.max_attempts - user.pin_failures)
        user.pin_failures = 0
        return PinResult(PinCheck.ok, self.max_attempts)

    # --- TOTP -----------------------------------------------------------------------------

    @staticmethod
    def new_totp_secret() -> str:
        """A fresh base32 TOTP secret."""
        return pyotp.random_base32()

    @staticmethod
    def totp_uri(secret: str, account: str, issuer: str = "finbot") -> str:
        """The otpauth:// URI an authenticator app reads from the QR code."""
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    @staticmethod
    def qr_png(data: str) -> bytes:
        """A QR code of `data` as PNG bytes."""
        image = qrcode.make(data)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()

    @staticmethod
    def check_totp(secret: str, code: str, now: datetime, last_counter: int | None) -> int | None:
        """The time-step counter of a valid, unused code (one step of drift allowed); None otherwise."""
        code = code.strip().replace(" ", "")
        if not re.fullmatch(r"\d{6}", code):
            return None
        totp = pyotp.TOTP(secret)
        current = int(now.timestamp()) // totp.interval
        for counter in (current, current - 1, current + 1):
            if last_counter is not None and counter <= last_counter:
                continue
            if pyotp.utils.strings_equal(totp.generate_otp(counter), code):
                return counter
        return None
