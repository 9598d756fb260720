"""Runs the real transport (`adapters.telegram.app.run`) against the loopback Bot API server, in a thread or a process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.telegram.app import EnginePort, Transport, run
from adapters.telegram.flood import FloodLimits
from adapters.telegram.outbox import OutboxPolicy
from adapters.telegram.store import TelegramStore
from bot.config import Settings
from tests.tools.botapi_server import BotApiServer

ROOT = Path(__file__).resolve().parents[3]
SECRET = "test-webhook-secret_1"
#: Retries in tests: 4 tries, 50 ms apart and doubling (the background task sleeps until the next
#: retry is due, and looks around every 250 ms); an update waits for its replies (so a test sees
#: them once the server has settled).
FAST_OUTBOX = OutboxPolicy(max_attempts=4, backoff_base=0.05, backoff_cap=1.0, idle_seconds=0.25,
                           wait_seconds=30.0)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_settings(server: BotApiServer, db_url: str, *, webhook: bool = False, port: int | None = None,
                 **extra: Any) -> Settings:
    """Settings aiming the bot at `server`, polling or (webhook=True) on a loopback webhook."""
    values: dict[str, Any] = {
        "telegram_bot_token": server.token, "telegram_api_base": server.base_url,
        "database_url": db_url, "webhook_url": "", "webhook_secret": SECRET,
        "webhook_listen": "127.0.0.1", "webhook_port": 8443,
    }
    if webhook:
        p = port or free_port()
        values.update(webhook_url=f"http://127.0.0.1:{p}/tg/hook", webhook_port=p)
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class BotThread:
    """The transport running in a thread of the test process."""

    settings: Settings
    engine: EnginePort
    stop: threading.Event = field(default_factory=threading.Event)
    transport: Transport | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def close(self, timeout: float = 15) -> None:
        """Ask the transport to stop and wait for it."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout)
            assert not self.thread.is_alive(), "transport did not stop"


def start_bot(settings: Settings, engine: EnginePort, *, limits: FloodLimits | None = None,
              tick_seconds: float = 30.0, poll_timeout: float = 5, outbox: OutboxPolicy = FAST_OUTBOX,
              min_poll_gap: float = 1.0, store: TelegramStore | None = None) -> BotThread:
    """Start `run(settings, engine)` in a thread; return once it is receiving updates."""
    handle = BotThread(settings, engine)
    ready = threading.Event()

    def on_ready(t: Transport) -> None:
        handle.transport = t
        ready.set()

    def target() -> None:
        try:
            run(settings, engine, stop=handle.stop, limits=limits or FloodLimits(chat_burst=50),
                poll_timeout=poll_timeout, tick_seconds=tick_seconds, on_ready=on_ready,
                outbox=outbox, min_poll_gap=min_poll_gap, store=store)
        except BaseException as exc:  # surfaced to the test below
            handle.error = exc
            ready.set()

    handle.thread = threading.Thread(target=target, daemon=True, name="finbot-telegram")
    handle.thread.start()
    if not ready.wait(20) or handle.error is not None:
        handle.close()
        raise RuntimeError(f"transport did not start: {handle.error!r}")
    return handle


@dataclass
class BotProcess:
    """The bot in its own process: `finbot run`, or the test runner with the engine double."""

    proc: subprocess.Popen[bytes]
    log: Path
    polls_before: int

    def wait_ready(self, server: BotApiServer, timeout: float = 60) -> None:
        """Wait until the process has started polling (it deletes any webhook first)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            if len(server.calls_of("deleteWebhook")) > self.polls_before:
                return
            time.sleep(0.05)
        raise TimeoutError(f"bot not ready: {self.log.read_text()[-3000:]}")

    def terminate(self, timeout: float = 15) -> int:
        """Stop it politely (SIGTERM) and return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """Stop it abruptly (SIGKILL), as a crash would."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def spawn_bot(server: BotApiServer, db_url: str, log: Path, *, finbot_run: bool = False,
              env: dict[str, str] | None = None) -> BotProcess:
    """Start a bot process against `server`: `finbot run` itself, or the runner with the engine double."""
    full = {**os.environ, "TELEGRAM_BOT_TOKEN": server.token, "TELEGRAM_API_BASE": server.base_url,
            "DATABASE_URL": db_url, "WEBHOOK_URL": "", "PYTHONPATH": str(ROOT), **(env or {})}
    cmd = ([str(Path(sys.executable).with_name("finbot")), "run"] if finbot_run
           else [sys.executable, "-m", "tests.adapters.telegram.run_bot"])
    fh = log.open("ab")
    proc = subprocess.Popen(cmd, cwd=log.parent, env=full, stdout=fh, stderr=subprocess.STDOUT)
    return BotProcess(proc, log, len(server.calls_of("deleteWebhook")))
