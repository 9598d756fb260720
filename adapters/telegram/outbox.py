"""What the outbox does with a reply that failed: try again later (bounded, with backoff) or give it up."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.error import BadRequest, NetworkError, RetryAfter

from adapters.telegram.flood import retry_seconds


@dataclass(frozen=True)
class OutboxPolicy:
    """How often and how patiently a failing reply is tried before it becomes a dead letter.

    The defaults try a reply 10 times over about 8.5 minutes (1 s, 2 s, 4 s ... capped at 5 min);
    tests pass shorter ones. `idle_seconds` is how often the background task looks for due retries;
    `wait_seconds` how long handling an update waits for its replies to be sent before it takes
    the next update (a slow chat's sending then goes on in the background). With several workers:
    `lease_seconds` is how long a claimed reply or update stays another worker's (a worker killed while
    holding one lets it go after that, or at once when it starts again under its name);
    `inbox_idle_seconds` how often a worker looks for updates others took in; `leader_retry_seconds` how
    often a worker that does not poll tries to take over polling; `max_inbox` how many received updates
    may wait before the poller stops fetching more.
    """

    max_attempts: int = 10
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    idle_seconds: float = 1.0
    wait_seconds: float = 1.0
    lease_seconds: float = 60.0
    inbox_idle_seconds: float = 0.2
    leader_retry_seconds: float = 2.0
    max_inbox: int = 0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try."""
        return float(min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, attempts - 1)))


def retry_in(exc: BaseException, attempts: int, policy: OutboxPolicy) -> float | None:
    """Seconds until the next try of a reply that raised `exc` on its `attempts`-th try, or None
    when it is not worth another: refused by Telegram (400, 403, 404), tried enough, or an error
    nobody expected (python-telegram-bot raises KeyError on a 200 answer carrying ok:false)."""
    if attempts >= policy.max_attempts:
        return None
    if isinstance(exc, RetryAfter):  # the flood limiter already waited and retried; still 429
        return max(retry_seconds(exc), policy.backoff(attempts))
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):  # 5xx, timeouts, drops
        return policy.backoff(attempts)
    return None


def describe(exc: BaseException) -> str:
    """An error in one line, with its type (`KeyError: 'result'`, `Forbidden: bot was blocked`)."""
    text = str(exc).replace("\n", " ").strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
