"""Uneven splits read from the text, and shares that sum exactly, rounded by largest remainder."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.groups.shares import SplitProblem, is_uneven, read, shares


def test_named_amounts_leave_the_speaker_the_rest() -> None:
    u = read("split 90: @bob 30 @carol 60")
    assert u is not None and u.mode == "amounts" and u.parts == (("bob", Decimal(30)), ("carol", Decimal(60)))
    assert shares(u, 9000, "USD", ["alice", "bob", "carol"]) == [0, 3000, 6000]
    u = read("split $100: @bob 30 @carol 45.50")
    assert u is not None and u.currency == "USD"
    assert shares(u, 10000, "USD", ["alice", "bob", "carol"]) == [2450, 3000, 4550]


def test_named_amounts_over_the_total_are_refused() -> None:
    u = read("split 50: @bob 30 @carol 60")
    assert u is not None
    with pytest.raises(SplitProblem) as e:
        shares(u, 5000, "USD", ["alice", "bob", "carol"])
    assert e.value.code == "parts_exceed_total"


def test_shares_by_ratio_speaker_first() -> None:
    u = read("split 100 2:1:1 with @bob @carol")
    assert u is not None and u.mode == "shares" and u.ratio == (2, 1, 1) and u.others == ("bob", "carol")
    assert shares(u, 10000, "USD", ["alice", "bob", "carol"]) == [5000, 2500, 2500]
    # 100.00 in 1:1:1 -> 33.34 + 33.33 + 33.33: the leftover cent to the smallest key (largest remainders tie)
    u = read("split 100 1:1:1 with @bob @carol")
    assert u is not None
    assert shares(u, 10000, "USD", ["alice", "bob", "carol"]) == [3334, 3333, 3333]
    with pytest.raises(SplitProblem):
        shares(u, 10000, "USD", ["alice", "bob"])


def test_percent_the_speaker_has_what_is_not_named() -> None:
    u = read("split 100: @bob 50% @carol 30%")
    assert u is not None and u.mode == "percent"
    assert shares(u, 10000, "EUR", ["alice", "bob", "carol"]) == [2000, 5000, 3000]
    u = read("split 10: @bob 33.3% @carol 33.3%")
    assert u is not None
    got = shares(u, 1000, "EUR", ["alice", "bob", "carol"])
    assert sum(got) == 1000 and got == [334, 333, 333]
    over = read("split 10: @bob 70% @carol 40%")
    assert over is not None
    with pytest.raises(SplitProblem):
        shares(over, 1000, "EUR", ["alice", "bob", "carol"])


def test_everyone_and_expenses() -> None:
    u = read("split 60 with everyone")
    assert u is not None and u.everyone and is_uneven(u)
    e = read("I paid 90 for dinner, split with @bob @carol")
    assert e is not None and e.expense and e.total == Decimal(90) and e.others == ("bob", "carol") and e.note == "dinner"
    assert shares(e, 9000, "USD", ["alice", "bob", "carol"]) == [3000, 3000, 3000]
    assert read("I paid 90 for dinner") is None  # no split: talk about money, nothing for the bot
    assert read("split $60 dinner with @bob @carol") is not None
    plain = read("split $60 dinner with @bob @carol")
    assert plain is not None and not is_uneven(plain)  # the parser's equal split says it already
    assert read("send $20 to @anna") is None


@given(total=st.integers(min_value=0, max_value=10**9), ratio=st.lists(st.integers(0, 50), min_size=2, max_size=8))
def test_ratio_shares_always_sum_to_the_total(total: int, ratio: list[int]) -> None:
    if sum(ratio) == 0:
        ratio[0] = 1
    u = read("split 1 " + ":".join(str(r) for r in ratio) + " with " + " ".join(f"@p{i}" for i in range(1, len(ratio))))
    assert u is not None and u.ratio == tuple(ratio)
    got = shares(u, total, "USD", [f"p{i}" for i in range(len(ratio))])
    assert sum(got) == total
    for g, r in zip(got, ratio, strict=True):
        exact = Decimal(total) * r / sum(ratio)
        assert abs(Decimal(g) - exact) < 1
