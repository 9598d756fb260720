"""Pictures end to end on Telegram: the monthly statement arrives as a CSV document and a PNG photo,
and a done payment's Receipt button brings its receipt as a photo, over HTTP from the loopback Bot API
server, with the numbers the ledger holds."""

from __future__ import annotations

import io

from PIL import Image

from tests.adapters.telegram.harness import bot_settings
from tests.adapters.telegram.test_with_engine import FAST_PIN, World, balances
from tests.tools.botapi_server import BotApiServer


def test_receipt_and_statement_arrive_as_photos_and_a_csv(server: BotApiServer, sqlite_url: str) -> None:
    w = World(server, sqlite_url, bot_settings(server, sqlite_url, **FAST_PIN))
    w.start()
    try:
        alice, bob = server.create_user("Alice", "alice"), server.create_user("Bob", "bob")
        w.onboard(alice, "4826")
        w.onboard(bob, "5182")
        w.top_up(alice, 100, "4826")
        w.say(alice, "send $15 to @bob")
        w.press(alice, w.last_with(alice.id, "Confirm"), "Confirm")
        w.say(alice, "4826")
        w.press(alice, w.last_with(alice.id, "Receipt"), "Receipt")
        receipt = w.last(alice.id)
        w.say(alice, "/statement")
        doc, photo = server.messages(alice.id, from_bot=True)[-2:]
    finally:
        w.stop()
    assert receipt.photo is not None and receipt.photo.content.startswith(b"\x89PNG"), receipt
    assert receipt.photo.filename.startswith("receipt-alice-"), receipt.photo.filename
    assert doc.document is not None and doc.document.filename.endswith(".csv"), doc
    rows = doc.document.content.decode("utf-8").splitlines()
    assert len(rows) == 3, rows  # the header, the top-up and the payment to Bob
    assert any("15.00" in r and "@bob" in r for r in rows), rows
    assert photo.photo is not None and photo.photo.content.startswith(b"\x89PNG"), photo
    with Image.open(io.BytesIO(photo.photo.content)) as img:
        width, height = img.size
    assert width >= 600 and height >= 400, (width, height)  # readable on a phone, not a thumbnail
    assert balances(sqlite_url) == {"@alice": {"USD": "85.00"}, "@bob": {"USD": "15.00"}}
