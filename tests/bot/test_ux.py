"""What people see (issue 10): funds before step-up, private answers in private, own statement files, /cancel
that names what it cancelled, outcomes where the person looks, words, and /admin tier."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from adapters.local.chat import run_chat
from adapters.local.world import LocalWorld
from bot.i18n import t, tn
from bot.models import Action, Challenge, Schedule, User
from tests.bot.conftest import make_world
from tests.bot.test_engine import balance, onboard, texts


def user_row(w: LocalWorld, name: str) -> User:
    with Session(w.db) as s:
        return s.exec(select(User).where(User.handle == name)).one()


def challenges(w: LocalWorld) -> int:
    with Session(w.db) as s:
        return len(s.exec(select(Challenge)).all())


def flat_buttons(item: dict[str, Any]) -> list[str]:
    return [b for row in item.get("buttons") or [] for b in row]


# ---------------------------------------------------------------- 1. funds before step-up


def test_card_for_more_than_the_wallet_holds_says_so_and_offers_the_top_up(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$10")
    onboard(world, "bob")
    card = world.render(world.say("alice", "dm", "send $25 to @bob"))[-1]
    assert "not enough money" in card["text"].lower() and "$10.00" in card["text"] and "$25.00" in card["text"]
    assert "Top up $15.00" in flat_buttons(card) and "Confirm" in flat_buttons(card)
    # Confirm asks for no PIN while the wallet cannot pay: it says so again, with the top-up and a fresh Confirm
    before = challenges(world)
    pressed = world.render(world.press("alice", "dm", "Confirm") or [])
    assert challenges(world) == before
    assert "PIN" not in texts(pressed) and "not enough money" in texts(pressed).lower()
    assert {"Top up $15.00", "Confirm"} <= set(flat_buttons(pressed[-1]))
    # the top-up button makes a top-up card of what is missing; then Confirm on the first card asks for the PIN
    topup = world.render(world.press("alice", "dm", "Top up $15.00") or [])
    assert "Top up $15.00 from the sandbox funding source" in texts(topup)
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 2500
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 0 and balance(world, "bob") == 2500


def test_a_card_the_wallet_can_pay_has_no_warning(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$30")
    onboard(world, "bob")
    card = world.render(world.say("alice", "dm", "send $30 to @bob"))[-1]
    assert card["buttons"] == [["Confirm", "Cancel"]] and "not enough" not in card["text"].lower()
    # a standing order draws on the wallet when it runs: no warning now either
    card = world.render(world.say("alice", "dm", "every monday send @bob 500"))[-1]
    assert "not enough" not in card["text"].lower()


def test_money_spent_after_the_card_was_shown_is_checked_at_confirm(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$30")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $20 to @bob"))
    world.render(world.say("alice", "dm", "withdraw 20"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    assert balance(world, "alice") == 1000
    # the send card is the newest message with a Confirm left
    before = challenges(world)
    pressed = world.render(world.press("alice", "dm", "Confirm") or [])
    assert challenges(world) == before and "not enough money" in texts(pressed).lower()
    assert balance(world, "bob") == 0


def test_a_buy_above_buying_power_says_so_on_the_card(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$100")
    card = world.render(world.say("alice", "dm", "buy 2 shares of AAPL"))[-1]
    assert "not enough money" in card["text"].lower()
    assert any(b.startswith("Top up") for b in flat_buttons(card))
    before = challenges(world)
    pressed = world.render(world.press("alice", "dm", "Confirm") or [])
    assert challenges(world) == before and "Type your PIN" not in texts(pressed)


def test_a_group_card_the_wallet_cannot_pay_links_the_top_up_into_the_private_chat(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$5")
    onboard(world, "bob")
    world.render(world.members("g:trip", ["alice", "bob"]))
    world.render(world.say("alice", "g:trip", "send $10 to @bob"))
    _, rows = world.newest_with_buttons("g:trip") or ("", [])
    top = [b for row in rows for b in row if b["label"].startswith("Top up")]
    assert top and top[0]["start"] and not top[0]["data"]
    shown = world.render(world.press("alice", "g:trip", top[0]["label"]) or [])
    assert any(i["chat"] == "dm:alice" and "sandbox funding" in i["text"] for i in shown)


# ---------------------------------------------------------------- 2. private answers stay private


@pytest.mark.parametrize("ask", ["show balance", "history", "/statement", "my portfolio"])
def test_private_answers_asked_in_a_group_go_to_the_private_chat(world: LocalWorld, ask: str) -> None:
    onboard(world, "alice", topup="$42")
    onboard(world, "bob")
    world.render(world.members("g:trip", ["alice", "bob"]))
    shown = world.render(world.say("alice", "g:trip", ask))
    in_group = [i for i in shown if i["chat"] == "g:trip"]
    in_private = [i for i in shown if i["chat"] == "dm:alice"]
    assert in_private, shown
    assert len(in_group) == 1 and "private chat" in in_group[0]["text"] and "@alice" in in_group[0]["text"]
    assert "42" not in in_group[0]["text"] and not in_group[0].get("photo") and not in_group[0].get("document")


def test_no_private_chat_yet_the_pointer_is_a_link_that_answers_there(world: LocalWorld) -> None:
    onboard(world, "bob")
    world.render(world.members("g:trip", ["alice", "bob"]))
    shown = world.render(world.say("alice", "g:trip", "show balance"))
    assert [i["chat"] for i in shown] == ["g:trip"]
    _, rows = world.newest_with_buttons("g:trip") or ("", [])
    link = rows[0][0]
    assert link["start"] and not link["data"]
    # bob cannot use alice's link; alice lands in her private chat with her balance
    assert "balance" not in texts(world.render(world.say("bob", "dm", f"/start {link['start']}"))).lower()
    opened = world.render(world.press("alice", "g:trip", link["label"]) or [])
    assert any(i["chat"] == "dm:alice" and "Your balance" in i["text"] for i in opened)


# ---------------------------------------------------------------- 3. each person's statement files


def test_statement_files_carry_the_user_and_do_not_collide(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$10")
    onboard(world, "bob", topup="$20")
    a = world.render(world.say("alice", "dm", "/statement"))
    b = world.render(world.say("bob", "dm", "/statement"))
    files_a = {i.get("document") or i.get("photo") for i in a} - {None}
    files_b = {i.get("document") or i.get("photo") for i in b} - {None}
    assert len(files_a) == 2 and len(files_b) == 2 and not files_a & files_b
    assert all("alice" in f for f in files_a) and all("bob" in f for f in files_b)
    csv_a = next(f for f in files_a if f.endswith(".csv"))
    assert "10.00" in (world.output_dir / csv_a).read_text()  # bob's statement did not overwrite it


# ---------------------------------------------------------------- 4. /cancel and /advance


def test_cancel_says_which_card_and_which_question(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $20 to @bob"))
    world.render(world.say("alice", "dm", "withdraw"))  # the bot asks how much
    shown = texts(world.render(world.say("alice", "dm", "/cancel")))
    assert "Send $20.00 to @bob" in shown and "How much" in shown
    assert "1 pending" not in shown and "(s)" not in shown
    assert texts(world.render(world.say("alice", "dm", "/cancel"))) == "Nothing to cancel."


def chat_session(w: LocalWorld, lines: list[str], user: str = "alice") -> str:
    out = io.StringIO()
    run_chat(w, user, io.StringIO("\n".join(lines) + "\n"), out)
    return out.getvalue()


def test_advance_in_the_terminal_chat_moves_the_bot_clock_and_runs_due_work(db_url: str, tmp_path: Path) -> None:
    from adapters.funding.sandbox import SandboxFunding
    from bot.bootstrap import build_engine
    from bot.config import load_settings
    from ledger import create_engine

    settings = load_settings(database_url=db_url, output_dir=tmp_path / "out", telegram_bot_token="")
    db = create_engine(db_url)
    w = LocalWorld(None, db, tmp_path / "out", live=True)  # as `finbot chat` builds it: real time, moved by /advance
    w.engine = build_engine(settings, messenger="local", clock=w.now, funding=SandboxFunding(), db=db)
    text = chat_session(w, ["/start", "/pin", "4826", "4826", "top up $50", "/press Confirm", "4826",
                            "/as bob", "/start", "/as alice", "every day send @bob 5", "/press Confirm", "4826",
                            "/advance P1D", "/advance"])
    assert "Standing order #1 done" in text, text
    assert "usage: /advance" in text
    assert balance(w, "bob") == 500
    with Session(db) as s:
        assert s.exec(select(Schedule)).one().active
    db.dispose()


# ---------------------------------------------------------------- 5. the outcome arrives where the person looks


def test_in_a_private_chat_the_outcome_is_a_new_message(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    world.render(world.say("alice", "dm", "withdraw 10"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    shown = world.render(world.say("alice", "dm", "4826"))
    new = [i for i in shown if i["chat"] == "dm:alice" and not i.get("edit") and "Done" in i["text"]]
    assert new, shown
    assert any(i.get("edit") and not i.get("buttons") for i in shown), "the card above stops offering Confirm"
    assert sum("Done" in i["text"] for i in shown) == 1, "the outcome is told once, not as an edit and again below"


def test_a_failed_execution_is_told_in_the_private_chat_too(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    world.render(world.say("alice", "dm", "withdraw 10"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    with Session(world.db) as s:  # money leaves between the PIN prompt and the PIN (another device)
        a = s.exec(select(Action).where(Action.kind == "withdraw")).one()
        uid = a.initiator_id
    from bot.directory import owner_of
    from ledger import TransferSpec

    led = world.engine.ledger
    wallet = led.find_account(owner_of(uid), "USD")
    assert wallet is not None
    assert led.create_transfer(TransferSpec(id="drain", debit_account_id=wallet.id,
                                            credit_account_id=led.system_account("payouts", "USD").id, amount=4500)).ok
    shown = world.render(world.say("alice", "dm", "4826"))
    assert any(not i.get("edit") and i["chat"] == "dm:alice" and "Not done" in i["text"] for i in shown), shown


def test_in_a_group_the_card_is_edited_and_the_sender_told_in_private(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    onboard(world, "bob")
    world.render(world.members("g:trip", ["alice", "bob"]))
    world.render(world.say("alice", "g:trip", "send $10 to @bob"))
    world.render(world.press("alice", "g:trip", "Confirm") or [])
    shown = world.render(world.say("alice", "dm", "4826"))
    assert any(i["chat"] == "g:trip" and i.get("edit") and "Done" in i["text"] for i in shown)
    assert any(i["chat"] == "dm:alice" and not i.get("edit") and "Done" in i["text"] for i in shown)


# ---------------------------------------------------------------- 6. words


def test_plurals_follow_each_language() -> None:
    assert tn("en", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 1) == "Wrong PIN. 1 try left."
    assert tn("en", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 2) == "Wrong PIN. 2 tries left."
    one_nb = tn("nb", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 1)
    two_nb = tn("nb", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 2)
    assert one_nb != two_nb and "2" in two_nb and "(s)" not in one_nb + two_nb
    # French: 0 and 1 are singular, 2 and up plural
    zero_fr = tn("fr", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 0)
    one_fr = tn("fr", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 1)
    two_fr = tn("fr", "Wrong PIN. {n} try left.", "Wrong PIN. {n} tries left.", 2)
    assert zero_fr.replace("0", "") == one_fr.replace("1", "") != two_fr.replace("2", "")
    assert "(s)" not in one_fr + two_fr


def test_a_wrong_pin_counts_down_in_good_english(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    world.render(world.say("alice", "dm", "withdraw 20"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    said = [texts(world.render(world.say("alice", "dm", wrong))) for wrong in ("0000", "0001", "0002", "0003")]
    assert "1 try left" in said[-1] and "1 tries" not in " ".join(said)


def test_times_say_their_time_zone(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$50")
    shown = texts(world.render(world.say("alice", "dm", "history")))
    assert "UTC" in shown


def test_history_labels_are_said_once_translated_and_trades_name_their_instrument(world: LocalWorld) -> None:
    onboard(world, "alice", topup="$1000")
    world.render(world.say("alice", "dm", "buy 1 share of AAPL"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    filled = world.render(world.say("alice", "dm", "4826"))
    assert any(not i.get("edit") and i["chat"] == "dm:alice" and "AAPL" in i["text"] for i in filled), \
        "the order's outcome is a new message in the private chat, not only an edit of the card"
    en = texts(world.render(world.say("alice", "dm", "history")))
    assert "top-up · top-up" not in en and "top-up" in en
    assert "AAPL" in en
    world.render(world.say("alice", "dm", "/lang nb"))
    nb = texts(world.render(world.say("alice", "dm", "historikk")))
    assert t("nb", "top-up") in nb and "top-up" not in nb and "AAPL" in nb


def test_currency_without_an_argument_says_the_current_one(world: LocalWorld) -> None:
    onboard(world, "alice")
    shown = texts(world.render(world.say("alice", "dm", "/currency")))
    assert "USD" in shown and "EUR" in shown
    world.render(world.say("alice", "dm", "/currency EUR"))
    assert "is EUR" in texts(world.render(world.say("alice", "dm", "/currency")))


def test_the_terminal_chat_says_where_you_are_in_your_language(world: LocalWorld) -> None:
    onboard(world, "alice")
    world.render(world.say("alice", "dm", "/lang nb"))
    text = chat_session(world, ["/group trip", "/where", "/dm", "/statement"])
    assert text.count(t("nb", "You are @{user}, in the group {group}: everyone in it sees what you write. /dm goes back to your private chat.",
                          user="alice", group="trip")) == 2
    assert t("nb", "You are @{user}, in your private chat with the bot.", user="alice") in text
    assert "📎 saved" not in text and t("nb", "📎 saved {path}", path="").strip() in text


# ---------------------------------------------------------------- 7. /admin tier


def admin_world(db_url: str, tmp_path: Path) -> LocalWorld:
    w = make_world(db_url, tmp_path / "out", finbot_operators="ops,ops2")
    onboard(w, "ops")
    onboard(w, "ops2")
    onboard(w, "alice")
    return w


def test_admin_tier_refuses_unknown_tiers_and_acting_on_oneself(db_url: str, tmp_path: Path) -> None:
    """Every /admin act is a row of the audit chain (bot/operators/audit.py); a tier raised waits for ops2."""
    from bot.operators.models import AuditRow

    w = admin_world(db_url, tmp_path)

    def act(op: str, text: str) -> str:
        shown = w.render(w.say(op, "dm", text))
        shown += w.render(w.press(op, "dm", "Confirm") or [])
        return texts(shown + w.render(w.say(op, "dm", "4826")))

    nine = texts(w.render(w.say("ops", "dm", "/admin tier @alice 9")))
    assert "0" in nine and "1" in nine and "2" in nine and user_row(w, "alice").kyc_tier == 0
    own = texts(w.render(w.say("ops", "dm", "/admin tier @ops 2")))
    assert user_row(w, "ops").kyc_tier == 0 and "themselves" in own
    act("ops", "/admin tier @alice 1")
    assert user_row(w, "alice").kyc_tier == 0  # raising waits for a second operator
    w.render(w.press("ops2", "dm", "Approve") or [])
    w.render(w.say("ops2", "dm", "4826"))
    assert user_row(w, "alice").kyc_tier == 1
    w.render(w.say("alice", "dm", "/admin tier @alice 2"))
    assert user_row(w, "alice").kyc_tier == 1
    assert "themselves" in texts(w.render(w.say("ops2", "dm", "/admin unlock @ops2")))
    with Session(w.db) as s:
        rows = s.exec(select(AuditRow).order_by(AuditRow.seq)).all()  # type: ignore[arg-type]
    ops, ops2, alice = user_row(w, "ops").id, user_row(w, "ops2").id, user_row(w, "alice").id
    assert [(r.actor_id, r.verb, r.target_id, r.approver_id) for r in rows] == [
        (ops, "tier.refused", alice, None), (ops, "tier.refused", ops, None), (ops, "tier.requested", alice, None),
        (ops, "tier", alice, ops2), (alice, "admin.refused", None, None), (ops2, "unlock.refused", ops2, None)]
    assert '"before":0' in rows[3].detail
    w.engine.ledger.engine.dispose()
    w.db.dispose()


def test_the_admin_log_table_comes_from_a_migration(db_url: str) -> None:
    import sqlalchemy as sa

    from bot.db import migrate_all
    from ledger import create_engine

    db = create_engine(db_url)
    migrate_all(db)
    cols = {c["name"] for c in sa.inspect(db).get_columns("bot_admin_log")}
    assert {"at", "operator_id", "verb", "target_id", "command", "result"} <= cols
    db.dispose()



def test_pressing_a_link_in_the_terminal_chat_takes_you_to_the_private_chat(world: LocalWorld) -> None:
    onboard(world, "bob")
    world.render(world.members("g:trip", ["alice", "bob"]))
    text = chat_session(world, ["/group trip", "show balance", "/press Open our private chat", "history"])
    # prompts: dm (before /group), g:trip twice, then dm after the press (before "history") and at the end
    assert text.count("alice@g:trip> ") == 2 and text.count("alice@dm> ") == 3, text


def test_revisions_written_side_by_side_all_apply(tmp_path: Path) -> None:
    """Helpers working at once each add a revision on the same parent: every one of them applies."""
    import shutil

    import sqlalchemy as sa

    from bot.db import migrate
    from ledger import create_engine
    from ledger import migrate as migrate_ledger

    scripts = tmp_path / "migrations"
    shutil.copytree(Path(__file__).resolve().parents[2] / "bot" / "migrations", scripts,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0003_sibling.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\n"
        "revision = '0003_sibling'\ndown_revision = '0002'\nbranch_labels = None\ndepends_on = None\n"
        "def upgrade():\n    op.create_table('bot_sibling', sa.Column('id', sa.Integer(), primary_key=True))\n"
        "def downgrade():\n    op.drop_table('bot_sibling')\n")
    db = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate_ledger(db)
    migrate(db, scripts)
    migrate(db, scripts)
    assert {"bot_sibling", "bot_admin_log"} <= set(sa.inspect(db).get_table_names())
    db.dispose()
