"""The transport's tables: offsets only move forward, an update and its replies are recorded together."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from adapters.telegram.store import FAILED, SENT, TelegramStore, decode_reply, encode_reply
from bot.events import Attachment, Button, Reply, ReplyKind


def test_replies_survive_the_round_trip() -> None:
    reply = Reply(ReplyKind.message, "-100", "Split 60 € ✓", buttons=(
        (Button("Confirm", data="t1"), Button("Private", start_payload="p")), (Button("u", url="https://x"), Button("Confirm with passkey", web_app="https://x/passkey/t"))),
        photo=Attachment("q.png", b"\x89PNG\x00\xff", "image/png"), ref="card:1", meta={"k": "v"})
    assert decode_reply(encode_reply(reply)) == reply
    answer = Reply(ReplyKind.answer_press, "1", "no", press_id="77", alert=True)
    assert decode_reply(encode_reply(answer)) == answer


def test_offset_handled_ids_and_outbox(sqlite_url: str) -> None:
    store = TelegramStore(sqlite_url)
    assert store.offset() == 0 and not store.is_handled(10)
    r1 = Reply(ReplyKind.message, "1", "a")
    r2 = Reply(ReplyKind.edit, "1", "b", target_message_id="5")
    store.record(10, [r1, r2], advance=True)
    assert store.offset() == 11 and store.is_handled(10)
    store.advance(5)
    assert store.offset() == 11
    rows = store.pending()
    assert [r for _, r in rows] == [r1, r2]
    store.mark(rows[0][0], SENT, "99")
    store.mark(rows[1][0], FAILED)
    assert store.pending() == [] and store.counts() == {"sent": 1, "failed": 1}
    with pytest.raises(IntegrityError):
        store.record(10, [r1])
    assert store.pending() == []  # the failed transaction queued nothing
    reopened = TelegramStore(sqlite_url)
    assert reopened.offset() == 11 and reopened.is_handled(10)
    store.prune(keep_seconds=-1)
    assert not store.is_handled(10) and store.counts() == {}


def test_dead_letters_are_kept_and_reported(db_url: str) -> None:
    import sqlalchemy as sa

    from bot.deadletters import report

    store = TelegramStore(db_url)
    with store.db.connect() as conn:
        assert report(conn, "en") == "No dead letters: every reply was delivered or is still being tried."
        assert report(conn, "nb").startswith("Ingen svar står fast")
    store.record(7, [Reply(ReplyKind.message, "42", "You got $5.\nNote: lunch"),
                     Reply(ReplyKind.message, "43", "fine")])
    bad, good = store.queue()
    store.dead_letter(bad, "KeyError: 'result'", 1)
    assert [r.reply for r in store.queue()] == [good.reply] and store.counts() == {"failed": 1, "pending": 1}
    [letter] = store.dead_letters()
    assert (letter.chat_id, letter.kind, letter.summary, letter.error, letter.attempts) == (
        "42", "message", "You got $5. Note: lunch", "KeyError: 'result'", 1)
    with store.db.connect() as conn:
        shown = report(conn, "fr")
    assert shown.startswith("Réponses non remises (1 en tout)")
    assert "telegram chat 42 · message «You got $5. Note: lunch» · 1× · KeyError: 'result'" in shown
    store.retry_later(good.id, 2, 1e12, "NetworkError: Bad Gateway")
    [later] = store.queue("43")
    assert later.attempts == 2 and later.next_at == 1e12 and store.next_due(1e9) == 1e12
    assert store.next_due(1e12) is None
    with store.db.connect() as conn:
        assert conn.execute(sa.text("SELECT last_error FROM outbox_messages WHERE id = :i"),
                            {"i": good.id}).scalar() == "NetworkError: Bad Gateway"
    store.close()
