"""A person's own data: the export ZIP (JSON and statement CSV, built in memory) and closing an empty account."""

from __future__ import annotations

import io
import json
import zipfile

from sqlmodel import Session, select

from bot.models import Identity, Schedule, User
from bot.operators import standing, userdata
from tests.bot.operators.conftest import NOW, Env


def test_export_zip_holds_profile_wallets_transfers_and_the_statement(lite: Env) -> None:
    env = lite
    alice, bob = env.user("alice"), env.user("bob")
    env.fund(alice, 10000, "dep1")
    env.pay(alice, bob, 2500, "pay1")
    with Session(env.db, expire_on_commit=False) as s:
        s.add(Schedule(action_id="sch1", user_id=alice.id or 0, rrule="FREQ=WEEKLY", payload='{"kind":"send"}', created_at=NOW))
        s.commit()
        att = userdata.export_zip(s, env.ledger, env.get(alice.id), NOW)
    assert att.ephemeral and att.mime == "application/zip" and att.filename.endswith(".zip")
    z = zipfile.ZipFile(io.BytesIO(att.content))
    assert sorted(z.namelist()) == ["finbot-data.json", "statement-USD.csv"]
    data = json.loads(z.read("finbot-data.json"))
    assert data["profile"]["handle"] == "alice" and "pin_hash" not in data["profile"] and data["profile"]["pin_set"]
    assert [w["posted"] for w in data["wallets"]] == ["75.00"]
    assert [(t["transfer_id"], t["amount_minor"]) for t in data["transfers"]] == [("dep1", 10000), ("pay1", -2500)]
    assert data["standing_orders"][0]["payload"] == {"kind": "send"}
    assert set(data) >= {"requests", "orders", "fills", "actions"}
    csv = z.read("statement-USD.csv").decode()
    assert "pay1" in csv and "-25.00" in csv and "@bob" in csv


def test_close_refused_while_money_is_there_then_erases_personal_data(env: Env) -> None:
    alice, bob = env.user("alice"), env.user("bob")
    env.fund(alice, 1000, "dep1")
    with Session(env.db, expire_on_commit=False) as s:
        s.add(Identity(user_id=alice.id or 0, messenger="local", external_id="alice"))
        s.commit()
        not_empty = userdata.close(s, env.ledger, env.get(alice.id), NOW)
        assert isinstance(not_empty, userdata.NotEmpty) and not_empty.balances == {"USD": 1000}
        s.rollback()
    env.pay(alice, bob, 1000, "pay1")  # emptied (as a withdrawal would)
    with Session(env.db, expire_on_commit=False) as s:
        u = s.get(User, alice.id)
        assert u is not None
        u.totp_secret = "JBSWY3DPEHPK3PXP"
        assert userdata.close(s, env.ledger, u, NOW) is None
        s.commit()
    with Session(env.db) as s:
        u = s.get(User, alice.id)
        assert u is not None
        assert (u.handle, u.name, u.private_chat_id, u.pin_hash, u.totp_secret) == (None, None, None, None, None)
        assert s.exec(select(Identity).where(Identity.user_id == alice.id)).first() is None
        assert standing.is_closed(s, alice.id)
    # the ledger keeps its rows under the user's id: the books still balance (the fixture checks them too)
    assert env.ledger.lookup_transfer("pay1") is not None
    assert env.ledger.check().ok
