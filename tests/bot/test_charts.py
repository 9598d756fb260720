"""The pictures (bot/charts/): size, labels present and apart, the numbers printed are the data's and the
ledger's, settle-up payments exact and fewest. Key properties, not pixels."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from adapters.local.world import LocalWorld
from bot.actions import money_text
from bot.charts import debts, portfolio, receipt, statement, style
from bot.charts.debts import Debt
from tests.bot.test_engine import balance, onboard

NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)


def texts_of(fig: Any) -> dict[str, str]:
    """gid -> text of every labelled Text artist."""
    return {t.get_gid(): t.get_text() for t, _ in style.visible_texts(fig) if t.get_gid()}


def all_texts(fig: Any) -> list[str]:
    return [t.get_text() for t, _ in style.visible_texts(fig)]


def overlaps(fig: Any) -> list[tuple[str, str]]:
    """Pairs of visible texts whose bounding boxes overlap by more than a pixel."""
    boxes = style.visible_texts(fig)
    out = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        if ba.x0 + 1 < bb.x1 and bb.x0 + 1 < ba.x1 and ba.y0 + 1 < bb.y1 and bb.y0 + 1 < ba.y1:
            out.append((a.get_text(), b.get_text()))
    return out


def inside(fig: Any) -> list[str]:
    """Texts that stick out of the image."""
    w, h = fig.canvas.get_width_height()
    return [t.get_text() for t, b in style.visible_texts(fig) if b.x0 < -1 or b.y0 < -1 or b.x1 > w + 1 or b.y1 > h + 1]


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG"
        return im.size


def month(lang: str = "en", currency: str = "USD", opening: int = 115000) -> statement.Statement:
    moves, bal = [], opening
    for day, amount, who in [(2, -2000, "@bob"), (3, 5000, "Bjørn"), (5, -1500, "Café Élise"), (8, -11500, "Bjørn"),
                             (12, 2000, "top-up"), (15, -350, "@bob"), (17, 9000, "Café Élise")]:
        bal += amount
        moves.append(statement.Movement(NOV + timedelta(days=day, hours=10), amount, bal, who))
    return statement.Statement("Alice", lang, NOV, DEC, NOV + timedelta(days=18, hours=16),
                               (statement.Wallet(currency, opening, tuple(moves)),))


# ---------------------------------------------------------------- statement


def test_statement_prints_title_opening_closing_and_counterparties() -> None:
    data = month()
    fig = statement.figure(data)
    got = texts_of(fig)
    assert got["title"] == "Alice's wallet, November 2026"
    assert got["opening:USD"] == "Opening $1,150.00"
    closing = data.wallets[0].movements[-1].balance
    assert closing == 115000 - 2000 + 5000 - 1500 - 11500 + 2000 - 350 + 9000
    assert got["closing:USD"] == f"Closing {money_text(closing, 'USD', 'en')}" == "Closing $1,156.50"
    shown = all_texts(fig)
    assert {"Bjørn", "Café Élise", "@bob", "top-up"} <= set(shown)
    assert "+$50.00  −$115.00" in shown  # Bjørn: in and out, printed as given
    assert {"Nov 1", "Nov 17"} <= set(shown)  # localised day ticks, not "11-01 00"
    assert not overlaps(fig), overlaps(fig)
    assert not inside(fig)


def test_statement_in_norwegian_and_french() -> None:
    got = texts_of(statement.figure(month("nb", "NOK")))
    assert got["title"] == "Lommeboken til Alice, november 2026"
    assert got["closing:NOK"] == "Utgående saldo 1\xa0156,50\xa0kr"
    fr = statement.figure(month("fr", "EUR"))
    assert texts_of(fr)["closing:EUR"] == "Solde final 1\u202f156,50\xa0€"
    assert "1 nov." in all_texts(fr)
    assert not overlaps(fr)


def test_statement_line_starts_at_the_first_activity_or_the_opening() -> None:
    fresh = month(opening=0)
    w = fresh.wallets[0]
    left, line_start, until = statement.window(fresh, w)
    assert line_start == w.movements[0].at and left == datetime(2026, 11, 3, tzinfo=UTC)
    assert until == fresh.until  # the line stops now, not at the month's end
    held = month(opening=115000)
    assert statement.window(held, held.wallets[0])[1] == NOV


def test_statement_small_multiples_for_several_currencies() -> None:
    one = month()
    nok = statement.Wallet("NOK", 0, (statement.Movement(NOV + timedelta(days=4), 50000, 50000, "top-up"),))
    data = statement.Statement("Alice", "en", NOV, DEC, DEC, (one.wallets[0], nok))
    fig = statement.figure(data)
    got = texts_of(fig)
    assert got["closing:USD"] == "Closing $1,156.50" and got["closing:NOK"] == "Closing NOK500.00"
    assert "flow:NOK" not in got and "Nov 5" in all_texts(fig)  # the second currency: its balance line, days under it
    assert not overlaps(fig), overlaps(fig)


def test_statement_empty_month_says_so() -> None:
    data = statement.Statement("Bob", "en", NOV, DEC, NOV + timedelta(days=3), (statement.Wallet("USD", 0, ()),))
    got = texts_of(statement.figure(data))
    assert got["empty:USD"] == "No activity this month" and got["closing:USD"] == "Closing $0.00"


def test_statement_png_is_phone_sized_and_deterministic() -> None:
    a, b = statement.png(month()), statement.png(month())
    assert a == b
    width, height = png_size(a)
    assert width == 1080 and 700 < height < 1400
    assert b"tIME" not in a and b"Software" not in a and b"matplotlib" not in a


# ---------------------------------------------------------------- portfolio


def a_portfolio(lang: str = "en") -> portfolio.Portfolio:
    start = datetime(2026, 11, 10, 15, tzinfo=UTC)
    points = tuple(portfolio.Point(start + timedelta(days=d), 40000 + 900 * d - (d % 3) * 700, 39000 + (2000 if d > 4 else 0))
                   for d in range(9))
    holdings = (portfolio.Holding("AAPL", "USD", 31200, 30000), portfolio.Holding("MSFT", "USD", 15400, 16000),
                portfolio.Holding("NVDA", "USD", 1640, 1000))
    orders = (portfolio.OpenOrder(start + timedelta(days=6), "MSFT", "buy", "USD"),)
    return portfolio.Portfolio("Alice", lang, start + timedelta(days=8), {"USD": points}, holdings, orders)


def test_portfolio_prints_value_pnl_breakdown_and_open_orders() -> None:
    data = a_portfolio()
    fig = portfolio.figure(data)
    got = texts_of(fig)
    last = data.series["USD"][-1]
    assert got["title"] == "Alice's portfolio"
    assert got["value:USD"] == f"USD · value {money_text(last.value, 'USD', 'en')}"
    assert got["pnl:USD"] == f"P&L +{money_text(last.value - last.basis, 'USD', 'en')}"
    # shares of 48,240: 31,200 -> 64.7%, 15,400 -> 31.9%, 1,640 -> 3.4%; P&L value - basis
    assert got["holding:AAPL"] == "64.7%   $312.00   +$12.00"
    assert got["holding:MSFT"] == "31.9%   $154.00   −$6.00"
    assert got["holding:NVDA"] == "3.4%   $16.40   +$6.40"
    assert "Open: buy MSFT" in all_texts(fig)
    assert not overlaps(fig), overlaps(fig)
    assert not inside(fig)
    from matplotlib.colors import to_rgba

    bars = list(fig.axes[-1].patches)
    assert len(bars) == 3
    colours = {round(b.get_width(), 1): b.get_facecolor() for b in bars}
    assert colours[64.7] == to_rgba(style.MONEY_IN) and colours[31.9] == to_rgba(style.MONEY_OUT)


def test_portfolio_window_since_first_trade_or_thirty_days() -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert portfolio.window(now - timedelta(hours=5), now) == (now - timedelta(hours=5), timedelta(hours=1))
    assert portfolio.window(now - timedelta(days=90), now) == (now - timedelta(days=30), timedelta(days=1))


def test_portfolio_in_norwegian() -> None:
    fig = portfolio.figure(a_portfolio("nb"))
    got = texts_of(fig)
    assert got["title"] == "Porteføljen til Alice"
    assert got["holding:AAPL"] == "64,7\xa0%   312,00\xa0USD   +12,00\xa0USD"
    assert not overlaps(fig), overlaps(fig)


# ---------------------------------------------------------------- group debts


def fewest_by_brute_force(nets: list[int]) -> int:
    """n minus the most blocks of a partition of the non-zero balances into zero-sum blocks."""
    vals = [v for v in nets if v]
    best = 0

    def parts(items: list[int]) -> Any:
        if not items:
            yield []
            return
        first, rest = items[0], items[1:]
        for p in parts(rest):
            for i in range(len(p)):
                yield p[:i] + [[first] + p[i]] + p[i + 1:]
            yield [[first]] + p

    for p in parts(vals):
        if all(sum(block) == 0 for block in p):
            best = max(best, len(p))
    return len(vals) - best


people = st.sampled_from(["ana", "bo", "cy", "di", "ed", "fi", "gu"])
debt_lists = st.lists(st.builds(Debt, people, people, st.integers(0, 5000), st.sampled_from(["USD", "NOK"])), max_size=14)


@settings(max_examples=150, deadline=None)
@given(debt_lists)
def test_simplify_is_exact_and_fewest(given_debts: list[Debt]) -> None:
    pays = debts.simplify(given_debts)
    assert all(isinstance(p.amount, int) and p.amount > 0 and p.debtor != p.creditor for p in pays)
    # everyone pays or receives exactly their net balance, per currency
    assert debts.net_balances(pays) == debts.net_balances(given_debts)
    for cur, nets in debts.net_balances(given_debts).items():
        assert sum(1 for p in pays if p.currency == cur) == fewest_by_brute_force(list(nets.values()))


def test_simplify_collapses_a_chain_and_keeps_currencies_apart() -> None:
    chain = [Debt("ana", "bo", 2000, "USD"), Debt("bo", "cy", 2000, "USD"), Debt("cy", "ana", 500, "NOK")]
    assert debts.simplify(chain) == [Debt("cy", "ana", 500, "NOK"), Debt("ana", "cy", 2000, "USD")]
    # two pairs that settle among themselves: 2 payments, where a greedy pass makes 3
    pairs = [Debt("a", "x", 700, "EUR"), Debt("b", "y", 300, "EUR"), Debt("c", "x", 300, "EUR"), Debt("c", "y", 400, "EUR"),
             Debt("d", "z", 1000, "EUR"), Debt("y", "d", 0, "EUR")]
    assert len(debts.simplify(pairs)) == fewest_by_brute_force(list(debts.net_balances(pairs)["EUR"].values()))
    with pytest.raises(ValueError):
        debts.simplify([Debt("a", "b", -1, "USD")])
    with pytest.raises(TypeError):
        debts.simplify([Debt("a", "b", 1.5, "USD")])  # type: ignore[arg-type]


def test_debts_picture_prints_the_settle_up_payments() -> None:
    given_debts = [Debt("Alice", "Bjørn", 2000, "NOK"), Debt("Bjørn", "Chloé", 2000, "NOK"), Debt("Dev", "Alice", 1550, "NOK"),
                   Debt("Émile", "Chloé", 4200, "NOK"), Debt("Frida", "Dev", 999, "NOK")]
    fig = debts.figure(given_debts, "nb", "Hytta")
    got = texts_of(fig)
    assert got["title"] == "Hvem skylder hvem i Hytta"
    for p in debts.simplify(given_debts):
        assert got[f"pay:{p.debtor}:{p.creditor}"] == money_text(p.amount, "NOK", "nb")
        assert got[f"line:{p.debtor}:{p.creditor}"] == money_text(p.amount, "NOK", "nb")
    assert got["person:Chloé"] == "Chloé\n+62,00\xa0kr"
    assert not overlaps(fig), overlaps(fig)
    assert not inside(fig)


def test_debts_picture_for_twelve_people_keeps_names_apart() -> None:
    names = ["Alice", "Bjørn", "Chloé", "Dev", "Émile", "Frida", "Gus", "Hana", "Ingrid", "Jonas", "Kari", "Léa"]
    ring = [Debt(names[i], names[(i * 5 + 3) % 12], 1000 + 137 * i, "USD") for i in range(12)]
    fig = debts.figure(ring, "en", "the trip")
    names_shown = [t for t, _ in style.visible_texts(fig) if (t.get_gid() or "").startswith("person:")]
    assert len(names_shown) == len(debts.net_balances(ring)["USD"])
    boxes = [b for t, b in style.visible_texts(fig) if (t.get_gid() or "").startswith(("person:", "title"))]
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert not inside(fig)


# ---------------------------------------------------------------- receipt


def test_receipt_prints_amount_payee_time_zone_and_id() -> None:
    from zoneinfo import ZoneInfo

    r = receipt.Receipt(2050, "NOK", "@alice", "@bjørn", datetime(2026, 11, 18, 15, 4, tzinfo=UTC), "t-0123456789abcdef",
                        "nb", "Pizza", ZoneInfo("Europe/Oslo"))
    fig = receipt.figure(r)
    got = texts_of(fig)
    assert got["amount"] == "20,50\xa0kr" and got["parties"] == "@alice til @bjørn"
    assert got["time"] == "18. nov. 2026 16:04 CET" and got["id"] == "ID t-0123456789abcdef"
    assert got["note"] == "«Pizza»"
    assert not overlaps(fig), overlaps(fig)
    width, height = png_size(receipt.png(r))
    assert width == 1080 and height < 700


# ---------------------------------------------------------------- through the engine


def test_statement_picture_prints_the_ledgers_closing_balance(world: LocalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    real = statement.figure

    def keep(data: statement.Statement) -> Any:
        fig = real(data)
        built.append(fig)
        return fig

    monkeypatch.setattr(statement, "figure", keep)
    onboard(world, "alice", topup="$100")
    onboard(world, "bob")
    world.render(world.say("alice", "dm", "send $23.45 to @bob"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    shown = world.render(world.say("alice", "dm", "/statement"))
    photos = [i for i in shown if i.get("photo")]
    assert len(photos) == 1 and len(built) == 1
    got = texts_of(built[0])
    assert got["closing:USD"] == f"Closing {money_text(balance(world, 'alice'), 'USD', 'en')}" == "Closing $76.55"
    assert got["title"] == "Alice's wallet, November 2026"
    with open(world.output_dir / str(photos[0]["photo"]), "rb") as fh:
        assert png_size(fh.read())[0] == 1080
    assert not overlaps(built[0]), overlaps(built[0])


def test_portfolio_picture_prints_what_the_text_says(world: LocalWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    real = portfolio.figure

    def keep(data: portfolio.Portfolio) -> Any:
        fig = real(data)
        built.append(fig)
        return fig

    monkeypatch.setattr(portfolio, "figure", keep)
    onboard(world, "alice", topup="$1000")
    world.render(world.say("alice", "dm", "buy 2 AAPL"))
    world.render(world.press("alice", "dm", "Confirm") or [])
    world.render(world.say("alice", "dm", "4826"))
    world.render(world.advance(timedelta(hours=26)))
    shown = world.render(world.say("alice", "dm", "portfolio"))
    assert [i for i in shown if i.get("photo")] and len(built) == 1
    got = texts_of(built[0])
    line = next(ln for ln in str(shown[-1]["text"]).splitlines() if "AAPL" in ln)
    value = line.split(" = ")[1].split(" (")[0]  # "  AAPL: 2 × $154.73 = $309.46 (−$3.02)"
    assert got["value:USD"] == f"USD · value {value}"
    assert got["holding:AAPL"].startswith(f"100%   {value}   ")
    assert not overlaps(built[0]), overlaps(built[0])


def test_statement_day_labels_stay_inside_the_picture() -> None:
    # first activity on the 18th, now the 23rd: the axis ends on a midnight whose label would be cut in half
    start = datetime(2026, 11, 18, 15, tzinfo=UTC)
    moves = (statement.Movement(start, 100000, 100000, "top-up"), statement.Movement(start + timedelta(days=3), -2500, 97500, "@bob"))
    for lang in ("en", "nb"):
        data = statement.Statement("Alice", lang, NOV, DEC, start + timedelta(days=5), (statement.Wallet("NOK", 0, moves),))
        fig = statement.figure(data)
        assert not inside(fig), inside(fig)
        assert not overlaps(fig), overlaps(fig)


def test_portfolio_basis_is_average_cost_in_minor_units() -> None:
    from decimal import Decimal

    from bot.models import FillRow
    from bot.trading import held_at

    t0 = datetime(2026, 11, 18, 15, tzinfo=UTC)
    fills = [FillRow(fill_id="f1", client_order_id="o1", user_id=1, symbol="AAPL", side="buy", qty="2", price="150", cash=30000,
                     fee=101, currency="USD", at=t0),
             FillRow(fill_id="f2", client_order_id="o2", user_id=1, symbol="AAPL", side="sell", qty="1", price="160", cash=16000,
                     fee=0, currency="USD", at=t0 + timedelta(days=1))]
    assert held_at(fills, "AAPL", t0 - timedelta(seconds=1)) == (Decimal(0), 0)
    assert held_at(fills, "AAPL", t0) == (Decimal(2), 30101)
    qty, basis = held_at(fills, "AAPL", t0 + timedelta(days=2))
    assert qty == 1 and basis == 15050  # half of 30,101 minor units, rounded half up: 15,050.5 -> 15,051 leaves 15,050
    assert isinstance(basis, int)
