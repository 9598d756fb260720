"""Receipts (issue 18): a done payment's outcome in the payer's private chat has a Receipt button; its
press sends a PNG drawn from the executed action, with the amount the ledger moved; nobody else can use it."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlmodel import Session, select

from adapters.local.world import LocalWorld
from bot.charts import receipt
from bot.handlers import receipts
from bot.models import Action, User
from tests.bot.test_engine import balance, onboard


def flat_buttons(item: dict[str, Any]) -> list[str]:
    return [b for row in item.get("buttons") or [] for b in row]


def test_a_done_send_has_a_receipt_with_the_amount_the_ledger_moved(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$100")
    onboard(world, "bob", pin="5182")
    world.render(world.say("alice", "dm", "send $15.25 to @bob for lunch"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    done = world.render(world.say("alice", "dm", "4826"))
    outcome = next(r for r in done if r["chat"] == "dm:alice" and "Done" in r["text"] and not r.get("edit"))
    assert "🧾 Receipt" in flat_buttons(outcome)
    assert balance(world, "bob") == 1525
    # bob cannot press alice's receipt: the token is hers
    assert world.find_button(world.chat("alice", "dm").chat_id, "Receipt") is not None
    shown = world.render(world.press("alice", "dm", "Receipt") or [])
    photo = next(r for r in shown if r.get("photo"))
    assert photo["chat"] == "dm:alice" and photo["photo"].startswith("receipt-alice-")
    png = (world.output_dir / photo["photo"]).read_bytes()
    with Image.open(io.BytesIO(png)) as img:
        assert img.size[0] >= 600
    with Session(world.db) as s:
        alice = s.exec(select(User).where(User.handle == "alice")).one()
        a = s.exec(select(Action).where(Action.initiator_id == alice.id, Action.kind == "send")).one()
        got = receipts.of(a, alice)
    assert got is not None
    moved = world.engine.ledger.lookup_transfer(got.transfer_id)
    assert moved is not None and moved.amount == got.amount == 1525
    fig = receipt.figure(got)
    texts = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    assert texts["amount"] == "$15.25" and "@bob" in texts["parties"] and "lunch" in texts["note"]


def test_a_topup_and_a_standing_order_have_no_receipt(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$100")
    onboard(world, "bob", pin="5182")
    assert world.find_button(world.chat("alice", "dm").chat_id, "Receipt") is None
    world.render(world.say("alice", "dm", "every monday send @bob 5"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert world.find_button(world.chat("alice", "dm").chat_id, "Receipt") is None


def test_a_group_card_is_edited_without_the_receipt_and_the_private_outcome_has_it(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$100")
    onboard(world, "bob", pin="5182")
    world.render(world.say("alice", "g:trip", "send $5 to @bob"))
    world.render(world.press("alice", "g:trip", "Confirm") or [])
    done = world.render(world.say("alice", "dm", "4826"))
    group_edit = [r for r in done if r["chat"] == "g:trip"]
    assert group_edit and all("🧾 Receipt" not in flat_buttons(r) for r in group_edit)
    assert any("🧾 Receipt" in flat_buttons(r) for r in done if r["chat"] == "dm:alice")
    # bob presses alice's Receipt token: refused, nothing sent to him
    found = world.find_button(world.chat("alice", "dm").chat_id, "Receipt")
    assert found is not None
    from bot.events import Event, Press

    ch = world.chat("bob", "dm")
    ev = Event(world.event_id(), ch, world.person("bob"), world.now(), press=Press("p-x", found[1]["data"], found[0]))
    refused = world.engine.handle(ev)
    assert all(r.photo is None for r in refused) and any("Only" in r.text for r in refused)
