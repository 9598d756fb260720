"""/metrics (issue 17): this worker's figures in Prometheus' format, from the engine's own counters and the database."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import sqlalchemy as sa

from bot import metrics, outbox
from bot.events import Reply, ReplyKind


def _get(app: Any, path: str) -> tuple[int, str, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(app({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send))
    headers = dict(sent[0]["headers"])
    return int(sent[0]["status"]), headers[b"content-type"].decode(), sent[1]["body"]


def _value(page: str, name: str) -> float:
    for line in page.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the page")


def test_metrics_page_counts_what_the_worker_did_and_reads_the_outbox(sqlite_url: str) -> None:
    db = sa.create_engine(sqlite_url)
    outbox.ensure(db)
    metrics.watch_database(db)
    app = metrics.asgi_app()
    page = _get(app, "/metrics")[2].decode()
    handled, sent = _value(page, "finbot_updates_handled_total"), 0.0
    with db.begin() as conn:
        outbox.enqueue(conn, "telegram", [Reply(ReplyKind.message, "1", "a"), Reply(ReplyKind.message, "2", "b")], "t")
    metrics.updates_handled(0.03)
    metrics.updates_handled(0.2)
    metrics.reply_sent("message")
    metrics.stepup_failed(locked=False)
    metrics.stepup_failed(locked=True)
    metrics.executed("exceeds_credits")
    status, ctype, body = _get(app, "/metrics")
    page = body.decode()
    assert status == 200 and ctype.startswith("text/plain")
    assert _value(page, "finbot_updates_handled_total") == handled + 2
    assert _value(page, 'finbot_replies_sent_total{kind="message"}') >= sent + 1
    assert _value(page, "finbot_outbox_depth") == 2
    assert _value(page, "finbot_dead_letters") == 0
    assert _value(page, 'finbot_executions_total{code="exceeds_credits"}') >= 1
    assert _value(page, "finbot_stepup_lockouts_total") >= 1
    assert _value(page, "finbot_stepup_failures_total") >= 2
    assert _value(page, 'finbot_event_latency_seconds_bucket{le="0.05"}') >= 1
    assert _get(app, "/elsewhere")[0] == 404
    db.dispose()


def test_json_logs_are_one_object_a_line(capsys: Any) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        metrics.log_as_json("vm:2")
        logging.getLogger("finbot.test").warning("reply %s not sent", 7)
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("finbot.test").exception("failed")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    lines = capsys.readouterr().err.strip().splitlines()
    first, second = json.loads(lines[0]), json.loads(lines[1])
    assert (first["level"], first["logger"], first["msg"], first["worker"]) == ("WARNING", "finbot.test",
                                                                               "reply 7 not sent", "vm:2")
    assert "ValueError: boom" in second["exc"] and len(lines) == 2
