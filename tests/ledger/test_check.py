"""`ledger check` and `finbot ledger check/balances`: pass on a sound book, fail naming the row
after a hand edit with SQL."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from adapters.cli.ledger_cmd import app
from ledger import Ledger, TransferFlag, TransferSpec, create_engine
from tests.ledger.conftest import Book

F = TransferFlag


def _populate(book: Book, ledger: Ledger) -> dict[str, int]:
    a = book.wallet("alice", funds=10_000, label="@alice")
    b = book.wallet("bob", funds=500)
    n = book.wallet("alice", asset="NOK", funds=12_345)
    book.pay("pay-1", a, b, 2_000, memo="dinner")
    book.pay("hold-1", a, b, 300, F.PENDING)
    book.pay("hold-2", a, b, 200, F.PENDING)
    ledger.create_transfer(TransferSpec("post-1", 0, 0, 100, F.POST_PENDING_TRANSFER, pending_id="hold-1"))
    ledger.reverse("pay-1", "pay-1-back", 500)
    book.pay("pay-2", a, b, 50)
    return {"alice": a.id, "bob": b.id, "nok": n.id}


def _sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement))
    engine.dispose()


def _seq(url: str, tid: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        seq = conn.execute(sa.text("SELECT seq FROM ledger_transfers WHERE id = :i"), {"i": tid}).scalar_one()
    engine.dispose()
    return int(seq)


def test_cli_check_passes_then_fails_naming_the_edited_row(db_url: str, book: Book, ledger: Ledger) -> None:
    _populate(book, ledger)
    runner = CliRunner()
    good = runner.invoke(app, ["check", "--db", db_url])
    assert good.exit_code == 0, good.output
    last = good.output.strip().splitlines()[-1]
    assert last == (
        "ok: checked 9 transfers (hash chain to seq 9), 5 accounts, 2 assets, 2 holds (1 open), "
        "0 failed ids: every invariant holds; audit chain: 0 rows, every hash verified"
    )
    seq = _seq(db_url, "pay-2")
    _sql(db_url, "UPDATE ledger_transfers SET amount = 5000 WHERE id = 'pay-2'")
    bad = runner.invoke(app, ["check", "--db", db_url])
    assert bad.exit_code == 1
    assert f"ledger_transfers seq={seq} id='pay-2': hash does not match" in bad.output
    assert bad.output.strip().splitlines()[-1].startswith("FAILED: checked 9 transfers")


def test_cli_balances_json(db_url: str, book: Book, ledger: Ledger) -> None:
    _populate(book, ledger)
    out = CliRunner().invoke(app, ["balances", "--db", db_url, "--json"])
    assert out.exit_code == 0, out.output
    # alice: 100.00 - 20.00 - 1.00 (post) + 5.00 (refund) - 0.50 ; holds do not count in posted
    assert json.loads(out.output) == {"@alice": {"NOK": "123.45", "USD": "83.50"}, "bob": {"USD": "21.50"}}
    human = CliRunner().invoke(app, ["balances", "--db", db_url])
    assert "@alice" in human.output and "83.50 USD" in human.output


def _edit_counter(ids: dict[str, int]) -> str:
    return f"UPDATE ledger_accounts SET credits_posted = credits_posted + 100 WHERE id = {ids['bob']}"


TAMPERING: list[tuple[str, Callable[[dict[str, int]], str], str]] = [
    ("amount", lambda ids: "UPDATE ledger_transfers SET amount = amount + 1 WHERE id = 'pay-1'", "id='pay-1': hash does not match"),
    ("memo", lambda ids: "UPDATE ledger_transfers SET memo = 'nothing to see' WHERE id = 'pay-1'", "id='pay-1': hash does not match"),
    ("counter", _edit_counter, "credits_posted is"),
    ("delete last", lambda ids: "DELETE FROM ledger_transfers WHERE id = 'pay-2'", "ledger_head id=1"),
    ("delete middle", lambda ids: "DELETE FROM ledger_transfers WHERE id = 'pay-1-back'", "id='pay-2': seq"),
    ("hold status", lambda ids: "UPDATE ledger_transfers SET status = 'voided' WHERE id = 'hold-2'", "id='hold-2': status 'voided' but no row closed it"),
    ("limit", lambda ids: f"UPDATE ledger_accounts SET debits_posted = debits_posted + 100000 WHERE id = {ids['alice']}", "exceed credits"),
]


@pytest.mark.parametrize("what,edit,named", TAMPERING, ids=[t[0] for t in TAMPERING])
def test_check_names_the_tampered_row(sqlite_url: str, what: str, edit: Callable[[dict[str, int]], str], named: str) -> None:
    from ledger import migrate
    from tests.ledger.conftest import FakeClock

    migrate(sqlite_url)
    led = Ledger(sqlite_url, clock=FakeClock())
    ids = _populate(Book(led), led)
    assert led.check().ok
    _sql(sqlite_url, edit(ids))
    report = led.check()
    led.close()
    assert not report.ok
    assert any(named in p for p in report.problems), report.problems
    assert report.summary.endswith("problems")
