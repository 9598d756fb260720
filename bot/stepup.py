"""Step-up checks: PINs stored as a keyed hash (a server secret outside the database plus a per-user
salt) and locked after repeated failures counted under a row lock, TOTP with QR enrolment."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import pyotp
import qrcode
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from bot.clock import aware
from bot.models import User

PIN_RE = re.compile(r"^\d{4,8}$")
KEYED = "hmac-sha256"  # prefix of a keyed PIN hash: hmac-sha256$<salt hex>$<mac hex>

# The ten most common 4-digit PINs (DataGenetics' analysis of 3.4 million leaked PINs).
COMMON_PINS = frozenset({"1234", "1111", "0000", "1212", "7777", "1004", "2000", "4444", "2222", "6969"})


class PinCheck(StrEnum):
    """The outcome of a PIN answer."""

    ok = "ok"
    wrong = "wrong"
    locked = "locked"
    no_pin = "no_pin"


class Weak(StrEnum):
    """Why a PIN is too easy to guess."""

    same = "same"  # all one digit
    run = "run"  # ascending or descending run
    common = "common"  # one of the ten most common


@dataclass(frozen=True)
class PinResult:
    """A PIN check's outcome, the tries left and, when locked, until when."""

    status: PinCheck
    tries_left: int = 0
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == PinCheck.ok


def load_pin_key(pepper: str, key_file: Path) -> bytes:
    """The server secret PINs are keyed with: the `pepper` setting when given, else the key file,
    created (32 random bytes, mode 0600) on first run. Never stored in the database."""
    if pepper:
        return hashlib.sha256(b"finbot-pin-pepper:" + pepper.encode()).digest()
    try:
        key = key_file.read_bytes()
    except FileNotFoundError:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = key_file.with_name(f"{key_file.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, key_file)  # fails when another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        key = key_file.read_bytes()
    if len(key) < 32:
        raise ValueError(f"PIN key file {key_file} is too short (needs 32 bytes)")
    return key


def weak_pin(pin: str) -> Weak | None:
    """Why a PIN is too easy to guess, or None: all one digit, a run (1234, 9876, 345678), a common one."""
    if len(set(pin)) == 1:
        return Weak.same
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {-1}):
        return Weak.run
    if pin in COMMON_PINS:
        return Weak.common
    return None


class StepUp:
    """PIN and TOTP checks with the lockout policy of the settings."""

    def __init__(
        self,
        *,
        key: bytes,
        max_attempts: int = 5,
        lockout: timedelta = timedelta(minutes=15),
        time_cost: int = 2,
        memory_kib: int = 19456,
    ) -> None:
        self.key = key
        self.max_attempts = max_attempts
        self.lockout = lockout
        # argon2id: only to verify hashes stored before keyed hashes (upgraded on the next correct PIN)
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)

    @staticmethod
    def valid_pin(pin: str) -> bool:
        """A PIN is 4 to 8 digits."""
        return bool(PIN_RE.match(pin))

    def _mac(self, salt: bytes, pin: str) -> bytes:
        return hmac.new(self.key, salt + b"\x00" + pin.encode(), hashlib.sha256).digest()

    def hash_pin(self, pin: str) -> str:
        """The keyed hash stored for a PIN: HMAC-SHA256 under the server key of a fresh salt and the PIN."""
        salt = secrets.token_bytes(16)
        return f"{KEYED}${salt.hex()}${self._mac(salt, pin).hex()}"

    def verify(self, stored: str | None, pin: str) -> bool:
        """Whether `pin` is the PIN behind `stored` (a keyed hash, or a legacy argon2id hash)."""
        if not stored:
            return False
        if stored.startswith(KEYED + "$"):
            try:
                _, salt_hex, mac_hex = stored.split("$")
                salt, mac = bytes.fromhex(salt_hex), bytes.fromhex(mac_hex)
            except ValueError:
                return False
            return hmac.compare_digest(self._mac(salt, pin), mac)
        try:
            return bool(self.hasher.verify(stored, pin))
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def needs_upgrade(stored: str | None) -> bool:
        """A hash stored before keyed hashes (argon2id alone: a database dump can test guesses against it)."""
        return bool(stored) and not str(stored).startswith(KEYED + "$")

    def locked(self, user: User, now: datetime) -> datetime | None:
        """When step-up is locked for this user, until when."""
        until = user.stepup_locked_until
        if until is not None and aware(until) > now:
            return aware(until)
        return None

    @staticmethod
    def lock_row(s: Session, user: User) -> None:
        """Take the user's row lock (SELECT ... FOR UPDATE; SQLite's BEGIN IMMEDIATE already holds the
        database) and reload the row, so a failure count read here is written back before anyone else reads it."""
        s.flush()
        s.exec(select(User).where(User.id == user.id).with_for_update()
               .execution_options(populate_existing=True)).one()

    def check(self, s: Session, user: User, now: datetime, *, pin: str | None = None, totp_code: str | None = None,
              known: dict[tuple[str, str], bool] | None = None) -> PinResult:
        """One step-up answer: the PIN (verified beforehand when `known` holds its verdict), or else a
        TOTP code when given and enrolled. Under the user's row lock: refused while locked, a wrong
        answer counted (locking after `max_attempts`), a right one resets the count. Mutates `user`."""
        self.lock_row(s, user)
        until = self.locked(user, now)
        if until is not None:
            return PinResult(PinCheck.locked, 0, until)
        if pin is not None and not user.pin_hash and totp_code is None:
            return PinResult(PinCheck.no_pin)
        ok = False
        if pin is not None and user.pin_hash:
            stored = user.pin_hash
            verdict = (known or {}).get((stored, pin))
            ok = self.verify(stored, pin) if verdict is None else verdict
            if ok and self.needs_upgrade(stored):
                user.pin_hash = self.hash_pin(pin)
        if not ok and totp_code is not None and user.totp_secret:
            counter = self.check_totp(user.totp_secret, totp_code, now, user.totp_last_counter)
            if counter is not None:
                user.totp_last_counter = counter
                ok = True
        if ok:
            user.pin_failures = 0
            return PinResult(PinCheck.ok, self.max_attempts)
        from bot import metrics

        user.pin_failures += 1
        if user.pin_failures >= self.max_attempts:
            user.pin_failures = 0
            user.stepup_locked_until = now + self.lockout
            metrics.stepup_failed(locked=True)
            return PinResult(PinCheck.locked, 0, user.stepup_locked_until)
        metrics.stepup_failed(locked=False)
        return PinResult(PinCheck.wrong, self.max_attempts - user.pin_failures)

    def answer(self, s: Session, user: User, now: datetime, ok: bool) -> PinResult:
        """A step-up answer checked some other way (a passkey assertion), counted like a PIN under
        the user's row lock: refused while locked, a failure counted toward the same lockout, a
        success resetting the count. Mutates `user`."""
        self.lock_row(s, user)
        until = self.locked(user, now)
        if until is not None:
            return PinResult(PinCheck.locked, 0, until)
        if ok:
            user.pin_failures = 0
            return PinResult(PinCheck.ok, self.max_attempts)
        user.pin_failures += 1
        if user.pin_failures >= self.max_attempts:
            user.pin_failures = 0
            user.stepup_locked_until = now + self.lockout
            return PinResult(PinCheck.locked, 0, user.stepup_locked_until)
        return PinResult(PinCheck.wrong, self.max_attempts - user.pin_failures)

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
