"""`/metrics`: this worker's figures in Prometheus' text format (bot/metrics.py), mounted on the bot's web app."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.web.app import WebContext
from bot import metrics


def routes(ctx: WebContext) -> Sequence[BaseRoute]:
    """GET /metrics; the outbox depth and dead letters come from the bot's database when it has one."""
    if ctx.db is not None:
        metrics.watch_database(ctx.db)

    async def page(request: Request) -> Response:
        body, ctype = metrics.render()
        return Response(body, media_type=ctype)

    return [Route("/metrics", page, methods=["GET"])]
