"""`finbot run --workers N`: N bot processes on one machine sharing one PostgreSQL (and Redis), kept running.

Each child is `finbot run` itself with FINBOT_WORKER_SLOT=i (its name, host:i, lets a restarted child take back
the leases it held) and WORKERS=N. A child that dies is started again after a short pause; SIGTERM or SIGINT
stops them all (SIGTERM to each, then SIGKILL after a grace period).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

log = logging.getLogger("finbot.workers")


def child_command() -> list[str]:
    """The command of one worker: this same `finbot run`, as one process."""
    exe = Path(sys.executable).with_name("finbot")
    if exe.exists():
        return [str(exe), "run"]
    return [sys.executable, "-m", "adapters.cli.main", "run"]


def supervise(n: int, *, argv: Sequence[str] | None = None, env: dict[str, str] | None = None,
              restart_pause: float = 1.0, grace: float = 10.0) -> int:
    """Start `n` workers and keep them running until SIGTERM/SIGINT; 0 when stopped that way."""
    cmd = list(argv) if argv is not None else child_command()
    base = {**os.environ, **(env or {}), "WORKERS": str(n)}
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    procs: dict[int, subprocess.Popen[bytes]] = {}

    def start(slot: int) -> None:
        procs[slot] = subprocess.Popen(cmd, env={**base, "FINBOT_WORKER_SLOT": str(slot)})
        log.info("worker %d started (pid %d)", slot, procs[slot].pid)

    try:
        for slot in range(1, n + 1):
            start(slot)
        while not stopping:
            time.sleep(0.2)
            for slot, p in list(procs.items()):
                if p.poll() is not None and not stopping:
                    log.warning("worker %d (pid %d) ended with %s; starting it again", slot, p.pid, p.returncode)
                    time.sleep(restart_pause)
                    start(slot)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return 0
