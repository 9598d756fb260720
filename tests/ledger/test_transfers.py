"""Transfer semantics beyond the result codes: holds, expiry, balancing, reversals, chains,
retries, statements and the hash chain, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from ledger import EXPIRY_PREFIX, Ledger, ResultCode, TransferFlag, TransferSpec, TransferStatus
from tests.ledger.conftest import START, Book, FakeClock

F = TransferFlag
R = ResultCode


def test_a_payment_moves_money_once(book: Book, ledger: Ledger) -> None:
    a, b = book.wallet("a", funds=10_000), book.wallet("b")
    r = book.pay("p1", a, b, 2_500, memo="rent", code=7)
    assert r.result == R.ok and r.transfer is not None
    t = r.transfer
    assert (t.debit_account_id, t.credit_account_id, t.amount, t.memo, t.code) == (a.id, b.id, 2_500, "rent", 7)
    assert t.status == TransferStatus.POSTED and t.asset == "USD" and t.created_at == START
    assert ledger.lookup_transfer("p1") == t
    assert book.pay("p1", a, b, 2_500, memo="rent", code=7).result == R.exists
    assert ledger.balance(a.id).posted == 7_500
    assert ledger.balance(b.id).posted == 2_500


def test_hold_then_partial_post_releases_the_rest(book: Book, ledger: Ledger) -> None:
    a, b = book.wallet("a", funds=100), book.wallet("b")
    assert book.pay("h", a, b, 60, F.PENDING).ok
    bal = ledger.balance(a.id)
    assert (bal.posted, bal.debits_pending, bal.available) == (100, 60, 40)
    assert ledger.balance(b.id).credits_pending == 60 and ledger.balance(b.id).posted == 0
    post = ledger.create_transfer(TransferSpec("h-post", 0, 0, 45, F.POST_PENDING_TRANSFER, pending_id="h"))
    assert post.ok and post.transfer is not None
    assert (post.transfer.debit_account_id, post.transfer.credit_account_id, post.transfer.amount) == (a.id, b.id, 45)
    bal = ledger.balance(a.id)
    assert (bal.posted, bal.debits_pending, bal.available) == (55, 0, 55)
    assert ledger.balance(b.id).posted == 45 and ledger.balance(b.id).credits_pending == 0
    hold = ledger.lookup_transfer("h")
    assert hold is not None and hold.status == TransferStatus.POSTED


def test_post_in_full_and_void(book: Book, ledger: Ledger) -> None:
    a, b = book.wallet("a", funds=100), book.wallet("b")
    book.pay("h1", a, b, 30, F.PENDING, code=4)
    book.pay("h2", a, b, 20, F.PENDING)
    full = ledger.create_transfer(TransferSpec("p", 0, 0, 0, F.POST_PENDING_TRANSFER, pending_id="h1"))
    assert full.transfer is not None and full.transfer.amount == 30 and full.transfer.code == 4
    # a retry naming the accounts and the amount explicitly is the same post
    assert ledger.create_transfer(TransferSpec("p", a.id, b.id, 30, F.POST_PENDING_TRANSFER, pending_id="h1", code=4)).result == R.exists
    void = ledger.create_transfer(TransferSpec("v", 0, 0, 0, F.VOID_PENDING_TRANSFER, pending_id="h2"))
    assert void.ok and void.transfer is not None and void.transfer.status == TransferStatus.VOIDED
    assert ledger.lookup_transfer("h2").status == TransferStatus.VOIDED  # type: ignore[union-attr]
    bal = ledger.balance(a.id)
    assert (bal.posted, bal.debits_pending) == (70, 0)
    assert ledger.check().ok


def test_holds_expire_by_the_clock(book: Book, ledger: Ledger, clock: FakeClock) -> None:
    a, b = book.wallet("a", funds=100), book.wallet("b")
    book.pay("short", a, b, 10, F.PENDING, timeout_seconds=60)
    book.pay("long", a, b, 20, F.PENDING, timeout_seconds=3600)
    book.pay("forever", a, b, 30, F.PENDING)
    hold = ledger.lookup_transfer("short")
    assert hold is not None and hold.expires_at == START + timedelta(seconds=60)
    clock.advance(59)
    assert ledger.expire_pending() == []
    assert ledger.balance(a.id).debits_pending == 60
    clock.advance(1)
    assert ledger.expire_pending() == ["short"]
    assert ledger.expire_pending() == []
    assert ledger.balance(a.id).debits_pending == 50
    expiry = ledger.lookup_transfer(EXPIRY_PREFIX + "short")
    assert expiry is not None and expiry.pending_id == "short" and expiry.status == TransferStatus.EXPIRED
    assert ledger.lookup_transfer("short").status == TransferStatus.EXPIRED  # type: ignore[union-attr]
    clock.advance(10 * 3600)
    # no explicit expiry: reading a balance expires what is due first
    assert ledger.balance(a.id).debits_pending == 30
    assert ledger.lookup_transfer("long").status == TransferStatus.EXPIRED  # type: ignore[union-attr]
    assert ledger.lookup_transfer("forever").status == TransferStatus.PENDING  # type: ignore[union-attr]
    late = ledger.create_transfer(TransferSpec("late", 0, 0, 0, F.VOID_PENDING_TRANSFER, pending_id="long"))
    assert late.result == R.pending_transfer_expired
    report = ledger.check()
    assert report.ok, report.problems


def test_a_transfer_expires_due_holds_of_its_accounts_first(book: Book, ledger: Ledger, clock: FakeClock) -> None:
    a, b = book.wallet("a", funds=100), book.wallet("b")
    book.pay("h", a, b, 100, F.PENDING, timeout_seconds=5)
    assert book.pay("x", a, b, 50).result == R.exceeds_credits
    clock.advance(5)
    assert book.pay("y", a, b, 50).result == R.ok  # the hold expired inside the same transaction
    assert ledger.lookup_transfer("h").status == TransferStatus.EXPIRED  # type: ignore[union-attr]


def test_balancing_transfers_move_what_is_available(book: Book, ledger: Ledger) -> None:
    a, b = book.wallet("a", funds=70), book.wallet("b")
    book.pay("h", a, b, 20, F.PENDING)
    r = book.pay("all", a, b, 100, F.BALANCING_DEBIT)
    assert r.ok and r.transfer is not None and r.transfer.amount == 50
    assert ledger.balance(a.id).available == 0
    assert book.pay("all", a, b, 100, F.BALANCING_DEBIT).result == R.exists  # 50 <= 100
    assert book.pay("all", a, b, 40, F.BALANCING_DEBIT).result == R.exists_with_different_amount
    assert book.pay("more", a, b, 0, F.BALANCING_DEBIT).result == R.exceeds_credits
    book.fund(a, 5)
    r0 = book.pay("rest", a, b, 0, F.BALANCING_DEBIT)  # amount 0: everything
    assert r0.transfer is not None and r0.transfer.amount == 5
    # balancing credit fills a capped account up to its debits
    cap = ledger.open_account("cap", "USD", kind="capped", flags=2)  # type: ignore[arg-type]
    src = ledger.open_account("src", "USD", kind="omnibus", flags=0)  # type: ignore[arg-type]
    assert ledger.create_transfer(TransferSpec("cap-out", cap.id, src.id, 30)).ok
    fill = ledger.create_transfer(TransferSpec("cap-in", src.id, cap.id, 1000, F.BALANCING_CREDIT))
    assert fill.transfer is not None and fill.transfer.amount == 30
    assert ledger.check().ok


def test_reversals(book: Book, ledger: Ledger) -> None:
    a, b = book.wallet("a", funds=100), book.wallet("b")
    book.pay("pay", a, b, 80, code=3)
    part = ledger.reverse("pay", "pay-r1", 30, memo="partial refund")
    assert part.ok and part.transfer is not None
    t = part.transfer
    assert (t.debit_account_id, t.credit_account_id, t.amount, t.reverses_id, t.code, t.memo) == (b.id, a.id, 30, "pay", 3, "partial refund")
    assert ledger.reverse("pay", "pay-r1", 30, memo="partial refund").result == R.exists
    assert ledger.reverse("pay", "pay-r2").result == R.exceeds_reversible_amount  # 30 + 80 > 80
    assert ledger.reverse("pay", "pay-r3", 50).ok
    assert ledger.balance(a.id).posted == 100 and ledger.balance(b.id).posted == 0
    assert ledger.reverse("pay-r3", "pay-r3-r").ok  # a reversal can itself be reversed
    assert ledger.reverse("nope", "nope-r").result == R.reversed_transfer_not_found
    report = ledger.check()
    assert report.ok, report.problems


def test_linked_chain_is_all_or_nothing(book: Book, ledger: Ledger) -> None:
    a, b, c = book.wallet("a", funds=100), book.wallet("b"), book.wallet("c")
    book.pay("h", a, b, 40, F.PENDING)
    chain = [
        TransferSpec("c1", 0, 0, 0, F.POST_PENDING_TRANSFER | F.LINKED, pending_id="h"),
        TransferSpec("c2", b.id, c.id, 40, F.LINKED),
        TransferSpec("c3", a.id, c.id, 61),  # too much: the whole chain fails
        TransferSpec("solo", a.id, c.id, 5),  # not part of the chain
    ]
    rs = ledger.create_transfers(chain)
    assert [r.result for r in rs] == [R.linked_event_failed, R.linked_event_failed, R.exceeds_credits, R.ok]
    assert ledger.lookup_transfer("h").status == TransferStatus.PENDING  # type: ignore[union-attr]
    assert ledger.lookup_transfer("c1") is None and ledger.lookup_transfer("c2") is None
    assert ledger.balance(a.id).debits_pending == 40 and ledger.balance(b.id).posted == 0
    good = [
        TransferSpec("d1", 0, 0, 0, F.POST_PENDING_TRANSFER | F.LINKED, pending_id="h"),
        TransferSpec("d2", b.id, c.id, 40, F.LINKED),
        TransferSpec("d3", a.id, c.id, 10),
    ]
    assert [r.result for r in ledger.create_transfers(good)] == [R.ok, R.ok, R.ok]
    # a retried chain answers `exists` for each member and moves nothing again
    assert [r.result for r in ledger.create_transfers(good)] == [R.exists, R.exists, R.exists]
    assert ledger.balance(c.id).posted == 55 and ledger.balance(a.id).posted == 45
    assert ledger.check().ok


def test_batch_sees_its_own_effects(book: Book, ledger: Ledger) -> None:
    a, b = book.wallet("a", funds=10), book.wallet("b")
    rs = ledger.create_transfers([
        TransferSpec("x", a.id, b.id, 10),
        TransferSpec("x", a.id, b.id, 10),
        TransferSpec("y", b.id, a.id, 4),
        TransferSpec("z", a.id, b.id, 5),
        TransferSpec("y", b.id, a.id, 5),
    ])  # fmt: skip
    assert [r.result for r in rs] == [R.ok, R.exists, R.ok, R.exceeds_credits, R.exists_with_different_amount]
    assert ledger.balance(a.id).posted == 4


def test_failures_are_remembered_across_instances(db_url: str, book: Book, ledger: Ledger, clock: FakeClock) -> None:
    a, b = book.wallet("a", funds=5), book.wallet("b")
    assert book.pay("big", a, b, 10).result == R.exceeds_credits
    again = Ledger(db_url, clock=clock)
    try:
        r = again.create_transfer(TransferSpec("big", a.id, b.id, 1))
        assert (r.result, r.first_failure) == (R.id_already_failed, R.exceeds_credits)
        assert again.balance(a.id).posted == 5
    finally:
        again.close()


def test_statement_with_running_balance(book: Book, ledger: Ledger, clock: FakeClock) -> None:
    a, b = book.wallet("a", funds=1_000), book.wallet("b")
    clock.advance(3600)
    book.pay("s1", a, b, 100, memo="one")
    book.pay("h", a, b, 50, F.PENDING)
    clock.advance(3600)
    book.pay("s2", b, a, 30, memo="back")
    ledger.create_transfer(TransferSpec("hp", 0, 0, 20, F.POST_PENDING_TRANSFER, pending_id="h"))
    clock.advance(3600)
    book.pay("s3", a, b, 10)
    lines = ledger.statement(a.id)
    assert [(x.transfer_id, x.amount, x.balance) for x in lines] == [
        ("fund-1", 1000, 1000), ("s1", -100, 900), ("s2", 30, 930), ("hp", -20, 910), ("s3", -10, 900),
    ]  # fmt: skip
    assert lines[1].counterparty_account_id == b.id and lines[1].memo == "one"
    assert lines[2].at == START + timedelta(hours=2)
    window = ledger.statement(a.id, START + timedelta(hours=2), START + timedelta(hours=3))
    assert [(x.transfer_id, x.balance) for x in window] == [("s2", 930), ("hp", 910)]
    assert ledger.balance(a.id).posted == lines[-1].balance


def test_balance_before_is_the_statements_running_balance(book: Book, ledger: Ledger, clock: FakeClock) -> None:
    """The opening balance read from the counters less the movements since (bounded by the period, not the
    past) equals the running balance a whole statement gives, across holds posted, voided and open."""
    a, b = book.wallet("a", funds=1_000), book.wallet("b")
    clock.advance(3600)
    book.pay("s1", a, b, 100)
    book.pay("h1", a, b, 50, F.PENDING)
    book.pay("h2", a, b, 40, F.PENDING)
    clock.advance(3600)
    book.pay("s2", b, a, 30)
    ledger.create_transfer(TransferSpec("h1p", 0, 0, 20, F.POST_PENDING_TRANSFER, pending_id="h1"))
    ledger.create_transfer(TransferSpec("h2v", 0, 0, 40, F.VOID_PENDING_TRANSFER, pending_id="h2"))
    clock.advance(3600)
    book.pay("h3", a, b, 5, F.PENDING)  # still open: not posted money
    book.pay("s3", a, b, 10)
    lines = ledger.statement(a.id)
    for hours in range(5):
        at = START + timedelta(hours=hours, minutes=30)
        want = ([x.balance for x in lines if x.at < at] or [0])[-1]
        assert ledger.balance_before(a.id, at) == want, hours
        opened = ledger.statement(a.id, at)
        if opened:
            assert opened[0].balance - opened[0].amount == want
    assert ledger.balance_before(a.id, START + timedelta(days=1)) == ledger.balance(a.id).posted == 900 - 20 + 30 - 10 + 0
    assert ledger.balance_before(b.id, START) == 0


def test_latest_lines_are_the_statements_tail(book: Book, ledger: Ledger, clock: FakeClock) -> None:
    """The newest lines, read through the indexes with a limit, are the whole statement's last lines
    (newest first, same running balances), holds left out until posted."""
    a, b = book.wallet("a", funds=1_000), book.wallet("b", funds=50)
    for i in range(6):
        clock.advance(60)
        book.pay(f"o{i}", a, b, 10 + i)
        book.pay(f"i{i}", b, a, 3)
    book.pay("h", a, b, 7, F.PENDING)
    ledger.create_transfer(TransferSpec("hp", 0, 0, 5, F.POST_PENDING_TRANSFER, pending_id="h"))
    whole = ledger.statement(a.id)
    for n in (1, 4, 20):
        got = ledger.latest(a.id, n)
        assert [(x.transfer_id, x.amount, x.balance, x.counterparty_account_id) for x in got] == [
            (x.transfer_id, x.amount, x.balance, x.counterparty_account_id) for x in whole[::-1][:n]]
    assert ledger.latest(a.id, 1)[0].balance == ledger.balance(a.id).posted
    assert ledger.latest(ledger.open_account("c", "USD").id) == []


def test_the_hash_chain_links_every_row(book: Book, ledger: Ledger) -> None:
    a, b = book.wallet("a", funds=100), book.wallet("b")
    ts = [book.pay(f"t{i}", a, b, 1).transfer for i in range(5)]
    seqs = [t.seq for t in ts if t is not None]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    hashes = {t.hash for t in ts if t is not None}
    assert len(hashes) == 5 and all(len(h) == 64 for h in hashes)
    report = ledger.check()
    assert report.ok and "every invariant holds" in report.summary
