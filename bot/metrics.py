"""What operators watch, per worker, in Prometheus' format: updates, replies, outbox, step-up, executions, latency.

Counters live in this process's registry (one worker); `/metrics` renders it (`render()`, or `asgi_app()` for a
web app). The outbox depth and the dead letters are read from the database when scraped (`watch_database`).
`log_as_json()` makes logging one JSON object a line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry()

UPDATES = Counter("finbot_updates_handled", "Updates (events) handled by this worker", registry=REGISTRY)
REPLIES = Counter("finbot_replies_sent", "Replies delivered by this worker, by kind", ["kind"], registry=REGISTRY)
DEAD = Counter("finbot_dead_letters_made", "Replies this worker gave up on (dead letters)", registry=REGISTRY)
STEPUP_FAILURES = Counter("finbot_stepup_failures", "Wrong PINs and codes", registry=REGISTRY)
LOCKOUTS = Counter("finbot_stepup_lockouts", "Step-up lockouts started", registry=REGISTRY)
EXECUTIONS = Counter("finbot_executions", "Executions of confirmed actions, by result code", ["code"],
                     registry=REGISTRY)
LATENCY = Histogram("finbot_event_latency_seconds", "Time to handle one event (engine and recording)",
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=REGISTRY)


def updates_handled(seconds: float) -> None:
    """One update handled, in `seconds`."""
    UPDATES.inc()
    LATENCY.observe(seconds)


def reply_sent(kind: str) -> None:
    """One reply delivered."""
    REPLIES.labels(kind=kind).inc()


def dead_letter() -> None:
    """One reply given up on."""
    DEAD.inc()


def stepup_failed(*, locked: bool) -> None:
    """A wrong PIN or code; `locked` when it started a lockout."""
    STEPUP_FAILURES.inc()
    if locked:
        LOCKOUTS.inc()


def executed(code: str) -> None:
    """An execution finished with result `code` (ok, exceeds_credits, ...)."""
    EXECUTIONS.labels(code=code).inc()


class _DatabaseGauges(Collector):
    """Outbox depth and dead letters, read from the shared database at scrape time."""

    def __init__(self, db: sa.Engine) -> None:
        self.db = db

    def collect(self) -> Any:
        from bot import deadletters, outbox

        depth = GaugeMetricFamily("finbot_outbox_depth", "Replies waiting to be sent (all workers)")
        dead = GaugeMetricFamily("finbot_dead_letters", "Replies given up on (all workers)")
        try:
            depth.add_metric([], outbox.depth(self.db) if sa.inspect(self.db).has_table("outbox_messages") else 0)
            with self.db.connect() as conn:
                dead.add_metric([], deadletters.count(conn))
        except sa.exc.SQLAlchemyError:
            return []
        return [depth, dead]


_watched: list[Collector] = []


def watch_database(db: sa.Engine) -> None:
    """Report the outbox depth and the dead letters of `db` (once per process)."""
    for c in _watched:
        REGISTRY.unregister(c)
    _watched.clear()
    collector = _DatabaseGauges(db)
    REGISTRY.register(collector)
    _watched.append(collector)


def render() -> tuple[bytes, str]:
    """The metrics page and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app answering GET /metrics (404 elsewhere), to mount in a web app or serve alone."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope.get("path", "").rstrip("/").endswith("/metrics") and scope.get("method") == "GET":
            body, ctype = render()
            status = 200
        else:
            body, ctype, status = b"not found\n", "text/plain", 404
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, worker, and the exception if any."""

    def __init__(self, worker: str = "") -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname, "logger": record.name, "msg": record.getMessage(),
        }
        if self.worker:
            out["worker"] = self.worker
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def log_as_json(worker: str = "", level: int = logging.INFO) -> None:
    """Make the root logger write one JSON object a line to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(worker))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
