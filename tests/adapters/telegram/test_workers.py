"""Several workers (issue 17): replies committed with the change they report survive a SIGKILL; `finbot run --workers`."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from tests.adapters.telegram.harness import spawn_bot
from tests.adapters.telegram.test_with_engine import FAST_PIN, assert_book_holds, balances
from tests.tools.botapi_server import BotApiServer, User

PIN = "4826"


def _texts(server: BotApiServer, user: User) -> list[str]:
    return [m.text for m in server.inbox(user)]


def _say(server: BotApiServer, user: User, text: str, want: int) -> None:
    """`user` writes `text`; wait until the private chat holds `want` bot messages."""
    server.send(user, text)
    server.wait_until(lambda: len(server.inbox(user)) >= want, 30)


def test_sigkill_between_the_engines_commit_and_the_transport_loses_no_reply(
    server: BotApiServer, pg_url: str, tmp_path: Path
) -> None:
    """`finbot run` on PostgreSQL, killed (SIGKILL, FINBOT_CRASH_AT=before_update_recorded) after the engine
    committed the PIN answer that executes a top-up and before the transport recorded the update: on restart
    the update is redelivered (a no-op for the engine) and every reply of it, written to the outbox in the
    engine's own transactions, is sent exactly once."""
    env = {"PIN_KEY_FILE": str(tmp_path / "pin.key"), "PIN_ARGON2_TIME_COST": str(FAST_PIN["pin_argon2_time_cost"]),
           "PIN_ARGON2_MEMORY_KIB": str(FAST_PIN["pin_argon2_memory_kib"])}
    log = tmp_path / "bot.log"
    alice = server.create_user("Alice", "alice")
    # the 7th update handled (the PIN answer) dies after the engine's commit, before the transport records it
    bot = spawn_bot(server, pg_url, log, finbot_run=True,
                    env={**env, "FINBOT_CRASH_AT": "before_update_recorded", "FINBOT_CRASH_SKIP": "6"})
    bot.wait_ready(server)
    _say(server, alice, "/start", 1)
    _say(server, alice, "/pin", 2)
    _say(server, alice, PIN, 3)
    _say(server, alice, PIN, 4)
    assert "Your PIN is set." in _texts(server, alice)
    _say(server, alice, "top up $100", 5)
    card = server.inbox(alice)[-1]
    server.press(alice, card, "Confirm")
    server.wait_until(lambda: "PIN" in _texts(server, alice)[-1], 30)
    before = len(server.inbox(alice))
    server.send(alice, PIN)  # passes step-up, executes the top-up, records it; then the process dies
    assert bot.proc.wait(60) == -signal.SIGKILL
    db = sa.create_engine(pg_url)
    with db.connect() as conn:
        queued = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status = 'pending'")).scalar()
        recorded = conn.execute(sa.text("SELECT count(*) FROM tg_inbox")).scalar()
    assert queued and queued >= 2, "the PIN answer's replies were committed with the engine's transactions"
    assert recorded == 1, "the update itself was not recorded as handled"
    bot = spawn_bot(server, pg_url, log, finbot_run=True, env=env)
    try:
        bot.wait_ready(server)
        server.wait_until(lambda: any("Done" in t or "added" in t.lower() for t in _texts(server, alice)[before:])
                          or server.message(alice.id, card.message_id).history, 30)
        time.sleep(1.0)  # anything sent twice would arrive by now
        with db.connect() as conn:
            left = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status <> 'sent'")).scalar()
            rows = conn.execute(sa.text("SELECT id FROM outbox_messages")).all()
        assert left == 0, "every queued reply was sent"
        sends = [c for c in server.calls if c.ok and c.method.lower() in ("sendmessage", "editmessagetext")
                 and str(c.params.get("chat_id")) == str(alice.id)]
        seen = Counter((c.method, str(c.params.get("text"))) for c in sends)
        assert all(n == 1 for n in seen.values()), f"a reply went out twice: {seen}"
        assert server.message(alice.id, card.message_id).history, "the card was closed once, after execution"
        deletes = [c for c in server.calls if c.method.lower() == "deletemessage"]
        assert all(c.ok for c in deletes), "the typed PIN was deleted once"
        assert balances(pg_url) == {"@alice": {"USD": "100.00"}}
        assert_book_holds(pg_url)
        assert len(rows) >= before
    finally:
        assert bot.terminate() == 0
        db.dispose()
