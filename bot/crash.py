"""Crash points for the crash tests: FINBOT_CRASH_AT=<name> kills the process (SIGKILL) when it gets there."""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    """Die at once, as a power cut would, when FINBOT_CRASH_AT names this point (tests only)."""
    if os.environ.get("FINBOT_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
