"""The provider's settlement webhook: a Starlette route, mounted on the bot's one web app (adapters/web/app.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.funding.bank import SIGNATURE_HEADER, verify

log = logging.getLogger("finbot.funding.webhook")

PATH = "/funding/webhook"
EVENTS = {"payment.succeeded": "succeeded", "payment.failed": "failed"}


def routes(ctx: Any) -> Sequence[BaseRoute]:
    """The webhook route, when FUNDING=bank (none otherwise). `ctx` is the run's `adapters.web.app.WebContext`:
    its `run` does the settlement on the engine's thread and delivers the replies (who is told what)."""
    settings = ctx.settings
    if settings.funding.strip().lower() != "bank":
        return []
    from bot.settlement import settle
    from ledger import Ledger

    ledger = ctx.extra.get("ledger") or Ledger(ctx.db)  # the run's ledger when it hands one over
    secret = settings.funding_webhook_secret

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.body()
        if not verify(secret, body, request.headers.get(SIGNATURE_HEADER)):
            return JSONResponse({"ok": False, "error": "bad signature"}, status_code=403)
        try:
            event = json.loads(body)
            status = EVENTS[event["type"]]
            payment = event["payment"]
            key, direction = str(payment["idempotency_key"]), str(payment["direction"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"ok": False, "error": "not an event"}, status_code=400)
        if direction not in ("collect", "payout"):
            return JSONResponse({"ok": False, "error": "unknown direction"}, status_code=400)

        def work() -> tuple[str, list[Any]]:
            done = settle(ctx.db, ledger, key, direction, status)
            return done.outcome, done.replies

        outcome = await ctx.run(work)
        log.info("funding webhook %s %s %s: %s", event["type"], direction, key, outcome)
        # 200 for every event read, even unknown or already settled ones: the provider stops redelivering
        return JSONResponse({"ok": True, "outcome": outcome})

    return [Route(PATH, endpoint, methods=["POST"])]
