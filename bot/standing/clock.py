"""The scheduler clock: wakes the tick at the next due instant (and on a safety-net interval).

In a running bot (`finbot run`, the Telegram runner) APScheduler 3.x is the clock: one `date` job at
the next wake, moved after every tick, and one `interval` job as a safety net. The clock only wakes
the process; which process runs an occurrence is decided by the database (bot/standing/runner.py).
The simulator and the terminal chat's /advance step the same wake computation through simulated
time (`SchedulerClock.advance`), so a scenario sees each run at its own instant, as a live bot would.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("finbot.standing.clock")

WakeFn = Callable[[datetime], "datetime | None"]  # now -> the next instant a tick has work (None: nothing planned)
TickFn = Callable[[datetime], Any]  # runs the due work at an instant


class SchedulerClock:
    """Wakes `tick` at `next_wake(now)`; `advance` steps simulated time, `start` runs on APScheduler."""

    def __init__(self, next_wake: WakeFn, tick: TickFn, *, interval: timedelta = timedelta(seconds=30),
                 now: Callable[[], datetime] | None = None) -> None:
        self.next_wake = next_wake
        self.tick = tick
        self.interval = interval
        self.now = now or (lambda: datetime.now(UTC))
        self._scheduler: Any = None
        self._lock = threading.Lock()

    # -------------------------------------------------------------- simulated time

    def advance(self, start: datetime, end: datetime, set_now: Callable[[datetime], None]) -> list[Any]:
        """Step from `start` to `end`: at every wake instant in between set the clock there and tick;
        then tick once at `end`. What each tick returned, in order."""
        out: list[Any] = []
        now, last_tick = start, None
        for _ in range(100_000):
            wake = self.next_wake(now)
            if wake is None:
                break
            wake = max(wake, now)
            if wake > end or wake == last_tick:
                break  # nothing before the end, or the last tick at this instant left it as it was
            now = wake
            set_now(now)
            out.append(self.tick(now))
            last_tick = now
        set_now(end)
        out.append(self.tick(end))
        return out

    # -------------------------------------------------------------- real time (APScheduler)

    def start(self, scheduler: Any | None = None) -> Any:
        """Start on an APScheduler 3 scheduler (a BackgroundScheduler unless one is given); returns it."""
        if scheduler is None:
            from apscheduler.schedulers.background import BackgroundScheduler

            scheduler = BackgroundScheduler(timezone=UTC)
        self._scheduler = scheduler
        scheduler.add_job(self._fire, "interval", seconds=max(0.05, self.interval.total_seconds()),
                          id="standing-safety-net", coalesce=True, max_instances=1, replace_existing=True)
        if not scheduler.running:
            scheduler.start()
        self._plan()
        return scheduler

    def stop(self) -> None:
        """Shut the APScheduler down (waits for a tick in progress)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._scheduler = None

    def _fire(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a tick is running in this process already
        try:
            self.tick(self.now())
        except Exception:
            log.exception("scheduled tick failed; the safety net tries again")
        finally:
            self._lock.release()
        self._plan()

    def _plan(self) -> None:
        """Put the one-shot job at the next wake (replacing the last one)."""
        if self._scheduler is None:
            return
        try:
            wake = self.next_wake(self.now())
        except Exception:
            log.exception("could not read the next wake; the safety net will")
            return
        if wake is None:
            return
        # APScheduler runs on real time; a clock moved on (the terminal chat's /advance) is an offset from it
        real = datetime.now(UTC) + (wake - self.now())
        self._scheduler.add_job(self._fire, "date", run_date=max(real, datetime.now(UTC)), id="standing-next-wake",
                                replace_existing=True, misfire_grace_time=None, coalesce=True)

    def poke(self) -> None:
        """Plan again (after a new schedule or a resume moved the next wake earlier)."""
        self._plan()
