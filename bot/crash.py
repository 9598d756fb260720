"""Crash points for the crash tests: FINBOT_CRASH_AT=<name> kills the process (SIGKILL) when it gets there
(FINBOT_CRASH_SKIP=<n>: at its n+1-th visit, so a test can let earlier events pass)."""

from __future__ import annotations

import os
import signal

_visits: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die at once, as a power cut would, when FINBOT_CRASH_AT names this point (tests only)."""
    if os.environ.get("FINBOT_CRASH_AT") == name:
        seen = _visits.get(name, 0)
        _visits[name] = seen + 1
        if seen >= int(os.environ.get("FINBOT_CRASH_SKIP", "0") or 0):
            os.kill(os.getpid(), signal.SIGKILL)
