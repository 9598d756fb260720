"""Updates per second through the Telegram transport over HTTP, beside the engine alone, in one process.

The loopback Bot API server (tests/tools/botapi_server.py) queues messages from many people; the
real transport (adapters.telegram.app.run, python-telegram-bot over HTTP) polls them (or takes them
by webhook), hands each to the engine, records it and sends the replies. The baseline is the same
events handed to the engine directly, on a fresh database, in the same run. A run with an engine
that answers instantly shows the transport's own ceiling.

    .venv/bin/python bench/telegram.py [--updates 300] [--users 20] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
# this file is named like python-telegram-bot's package: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from adapters.telegram.app import EnginePort  # noqa: E402
from adapters.telegram.flood import FloodLimits  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.events import Chat, ChatKind, Event, Person, Reply, ReplyKind  # noqa: E402
from tests.adapters.telegram.harness import bot_settings, start_bot  # noqa: E402
from tests.tools.botapi_server import BotApiServer  # noqa: E402

TEXTS = ("show balance", "history", "/help")


class EchoEngine:
    """An engine that answers every message at once: what the transport alone can carry."""

    def handle(self, event: Event) -> list[Reply]:
        return [Reply(ReplyKind.message, event.chat.chat_id, f"ok {event.text}")]

    def tick(self) -> list[Reply]:
        return []

    def message_sent(self, ref: str, chat_id: str, message_id: str) -> None:
        return None

    def bot_commands(self, lang: str) -> list[tuple[str, str]]:
        return [("start", "start")]


def real_engine(settings: Settings) -> EnginePort:
    """The engine as `finbot run` builds it: sandbox funding, the paper broker, the run's database."""
    from adapters.cli.wiring import build_broker
    from adapters.funding.sandbox import SandboxFunding
    from bot.bootstrap import build_engine
    from ledger import create_engine

    db = create_engine(settings.database_url)
    return build_engine(settings, messenger="telegram", funding=SandboxFunding(),
                        broker=build_broker(settings, db, None), db=db)


def over_http(engine_kind: str, n: int, users: int, workdir: Path, *, webhook: bool) -> tuple[float, int]:
    """Updates/s for `n` messages from `users` people, end to end; and how many replies were seen."""
    with BotApiServer() as server:
        url = f"sqlite:///{workdir / f'{engine_kind}-{webhook}.db'}"
        settings = bot_settings(server, url, webhook=webhook)
        engine: Any = EchoEngine() if engine_kind == "echo" else real_engine(settings)
        bot = start_bot(settings, engine, limits=FloodLimits.off())
        try:
            people = [server.create_user(f"U{i}", f"user_{i:03d}") for i in range(users)]
            for p in people:
                server.send(p, "/start")
            server.settle(120)
            before = sum(len(server.inbox(p)) for p in people)
            t0 = time.perf_counter()
            for i in range(n):
                server.send(people[i % users], TEXTS[i % len(TEXTS)])
            server.settle(600)
            elapsed = time.perf_counter() - t0
            replies = sum(len(server.inbox(p)) for p in people) - before
        finally:
            bot.close()
    return n / elapsed, replies


def engine_only(n: int, users: int, workdir: Path) -> float:
    """Events/s for the same workload handed to the engine directly (no HTTP, no transport)."""
    settings = Settings(_env_file=None, database_url=f"sqlite:///{workdir / 'direct.db'}")  # type: ignore[call-arg]
    engine = real_engine(settings)
    seq = iter(range(1, 10**9))

    def event(i: int, text: str) -> Event:
        uid = str(20_000 + i)
        mid = next(seq)
        return Event(event_id=f"m:{uid}:{mid}", chat=Chat("telegram", uid, ChatKind.private),
                     sender=Person("telegram", uid, handle=f"user_{i:03d}", name=f"U{i}", lang="en"),
                     at=datetime.now(UTC), text=text, message_id=str(mid))

    for i in range(users):
        engine.handle(event(i, "/start"))
    t0 = time.perf_counter()
    for i in range(n):
        engine.handle(event(i % users, TEXTS[i % len(TEXTS)]))
    return n / (time.perf_counter() - t0)


def main() -> None:
    """Measure and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--updates", type=int, default=300)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="150 updates, 10 people")
    args = ap.parse_args()
    n, users = (150, 10) if args.quick else (args.updates, args.users)
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        direct = engine_only(n, users, work)
        polled, got = over_http("real", n, users, work, webhook=False)
        hooked, got_hook = over_http("real", n, users, work, webhook=True)
        echo, _ = over_http("echo", n, users, work, webhook=False)
    print(f"telegram transport, {n} updates from {users} people, SQLite, one process")
    print(f"  engine only (handle() directly)          {direct:8.1f} events/s")
    print(f"  end to end over HTTP, long polling       {polled:8.1f} updates/s  ({got} replies)")
    print(f"  end to end over HTTP, webhook            {hooked:8.1f} updates/s  ({got_hook} replies)")
    print(f"  transport alone (instant engine), polling {echo:7.1f} updates/s")
    print(f"  ratio end-to-end/engine-only: polling {polled / direct:.2f}, webhook {hooked / direct:.2f}")


if __name__ == "__main__":
    main()
