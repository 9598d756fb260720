"""Labels follow the current holder of a handle, and `ledger balances --json` hides no wallet."""

from __future__ import annotations

import json

from sqlmodel import Session, select
from typer.testing import CliRunner

from adapters.cli.ledger_cmd import app
from adapters.local.world import LocalWorld
from bot.directory import owner_of
from bot.events import Chat, ChatKind, Event, Person
from bot.models import User
from tests.bot.test_engine import onboard


def _balances(db_url: str) -> dict[str, dict[str, str]]:
    got = CliRunner().invoke(app, ["balances", "--db", db_url, "--json"])
    assert got.exit_code == 0, got.output
    return json.loads(got.output)


def test_a_moved_handle_relabels_the_old_holder_and_hides_no_wallet(world: LocalWorld, db_url: str) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $20 to @bob"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    with Session(world.db) as s:
        old_bob = s.exec(select(User).where(User.handle == "bob")).one().id
    # someone else now holds the handle bob (the old holder's new handle is not known yet)
    world.engine.handle(Event("newbob", Chat("local", "dm:mallory", ChatKind.private),
                              Person("local", "mallory", handle="bob", name="Mallory"), world.now(), text="/start"))
    world.render(world.say("alice", "dm", "send $5 to @bob"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    ledger = world.engine.ledger
    old_accounts = ledger.accounts(owner_of(old_bob or 0))
    assert old_accounts and all(a.label != "@bob" for a in old_accounts), old_accounts
    shown = _balances(db_url)
    assert shown["@bob"] == {"USD": "5.00"}, shown  # the current holder
    assert shown[owner_of(old_bob or 0)] == {"USD": "20.00"}, shown  # the former holder, by a stable id
    assert shown["@alice"] == {"USD": "25.00"}
    wallets = [a for a in ledger.accounts() if a.kind == "wallet"]
    assert sum(len(v) for v in shown.values()) == len(wallets), "every wallet has its own line"


def test_balances_never_merge_two_owners_that_share_a_label(world: LocalWorld, db_url: str) -> None:
    ledger = world.engine.ledger
    ledger.open_account("user:901", "USD", label="@same")
    ledger.open_account("user:902", "USD", label="@same")
    shown = _balances(db_url)
    assert "user:901" in shown and "user:902" in shown and "@same" not in shown
