"""The average-cost fold, against values computed by hand."""

from datetime import date
from decimal import Decimal as D

import pytest

from app.ledger.fold import fold
from app.ledger.models import CostMethod
from app.ledger.rules import Fill, InsufficientQuantity

DAY = date(2026, 1, 5)


def buy(q: str, p: str, f: str = "0") -> Fill:
    return Fill("buy", D(q), D(p), D(f), DAY)


def sell(q: str, p: str, f: str = "0") -> Fill:
    return Fill("sell", D(q), D(p), D(f), DAY)


def test_buys_average_their_cost_including_fees() -> None:
    h = fold([buy("10", "100", "1"), buy("10", "110", "1")], allow_short=False).holding()
    assert h.quantity == D(20)
    assert h.cost_basis == D("2102")
    assert h.average_cost == D("105.1")


def test_a_sell_realises_against_the_average_and_keeps_it() -> None:
    h = fold(
        [buy("10", "100", "1"), buy("10", "110", "1"), sell("5", "120", "2")], allow_short=False
    ).holding()
    # avg 105.1: realised (120 - 105.1) * 5 - 2 = 72.5; basis 2102 - 525.5 = 1576.5
    assert h.realized_pnl == D("72.5")
    assert h.cost_basis == D("1576.5")
    assert h.average_cost == D("105.1")


def test_selling_everything_closes_the_position_with_its_pnl() -> None:
    h = fold([buy("3", "10"), sell("3", "12", "0.5")], allow_short=False).holding()
    assert (h.quantity, h.cost_basis, h.realized_pnl) == (0, 0, D("5.5"))
    assert h.opened_on is None


def test_selling_more_than_held_is_refused_without_shorts() -> None:
    with pytest.raises(InsufficientQuantity):
        fold([buy("3", "10"), sell("4", "12")], allow_short=False).holding()


def test_a_sell_through_zero_opens_a_short_at_the_sell_price() -> None:
    h = fold([buy("3", "10"), sell("5", "12", "1")], allow_short=True).holding()
    # closes 3 with 3/5 of the fee: (12 - 10) * 3 - 0.6 = 5.4; opens -2 at 12 with fee 0.4
    assert h.realized_pnl == D("5.4")
    assert h.quantity == D(-2)
    assert h.cost_basis == D("-23.6")
    assert h.average_cost == D("11.8")


def test_covering_a_short_realises_the_difference() -> None:
    h = fold([sell("2", "12"), buy("2", "9", "1")], allow_short=True).holding()
    assert h.quantity == 0 and h.cost_basis == 0
    assert h.realized_pnl == D("5")


def test_exact_decimals_survive_the_fold() -> None:
    h = fold([buy("0.00000001", "1234567.12345678")], allow_short=False).holding()
    assert h.cost_basis == D("0.0123456712345678")


def fill(side: str, day: str, q: str, p: str, f: str, trade_id: int) -> Fill:
    return Fill(side, D(q), D(p), D(f), date.fromisoformat(day), trade_id)


THREE_BUYS_TWO_SELLS = [
    fill("buy", "2024-01-10", "10", "100", "1", 1),
    fill("buy", "2024-03-01", "10", "110", "1", 2),
    fill("buy", "2024-06-03", "10", "120", "2", 3),
    fill("sell", "2024-09-02", "6", "130", "1.2", 4),
    fill("sell", "2025-02-03", "8", "125", "1.6", 5),  # across lots 1 and 2
]


def test_fifo_closes_the_oldest_lots_first_with_their_own_cost_and_term() -> None:
    book = fold(THREE_BUYS_TWO_SELLS, allow_short=False, method=CostMethod.FIFO, keep_closed=True)
    closed = [
        (c.open_trade_id, c.close_trade_id, c.quantity, c.cost, c.proceeds, c.gain, c.term)
        for c in book.closed
    ]
    assert closed == [
        (1, 4, D(6), D("600.6"), D("778.8"), D("178.2"), "short"),  # 236 days
        (1, 5, D(4), D("400.4"), D("499.2"), D("98.8"), "long"),  # 390 days
        (2, 5, D(4), D("440.4"), D("499.2"), D("58.8"), "short"),  # 339 days
    ]
    assert [(lot.trade_id, lot.quantity, lot.cost) for lot in book.lots] == [
        (2, D(6), D("660.6")),
        (3, D(10), D("1202")),
    ]
    h = book.holding()
    assert (h.quantity, h.cost_basis, h.realized_pnl) == (D(16), D("1862.6"), D("335.8"))


def test_average_cost_dates_the_same_lots_but_realises_at_the_average() -> None:
    fifo = fold(
        THREE_BUYS_TWO_SELLS, allow_short=False, method=CostMethod.FIFO, keep_closed=True
    ).holding()
    book = fold(
        THREE_BUYS_TWO_SELLS, allow_short=False, method=CostMethod.AVERAGE, keep_closed=True
    )
    h = book.holding()
    assert [(lot.trade_id, lot.quantity) for lot in book.lots] == [(2, D(6)), (3, D(10))]
    assert h.realized_pnl.quantize(D("0.0001")) == D("235.3333")
    assert book.closed[0].gain == D("118.0")  # (130 - 3304/30) x 6 - 1.2
    # The same total P&L whatever the method: realized less what is still carried.
    assert abs((h.realized_pnl - h.cost_basis) - (fifo.realized_pnl - fifo.cost_basis)) < D("1e-20")


def test_a_short_sale_opens_a_short_lot_that_buys_close() -> None:
    book = fold(
        [
            fill("sell", "2024-01-02", "5", "50", "1", 1),
            fill("buy", "2024-02-01", "3", "40", "0.6", 2),
        ],
        allow_short=True,
        method=CostMethod.FIFO,
        keep_closed=True,
    )
    [closed] = book.closed
    assert (closed.quantity, closed.cost, closed.proceeds, closed.gain) == (
        D(-3),
        D("120.6"),
        D("149.4"),
        D("28.8"),
    )
    [lot] = book.lots
    assert (lot.trade_id, lot.quantity, lot.cost) == (1, D(-2), D("-99.6"))
    assert book.holding().realized_pnl == D("28.8")


def test_a_fill_that_crosses_zero_closes_every_lot_and_opens_the_other_side() -> None:
    book = fold(
        [fill("buy", "2024-01-02", "2", "10", "0", 1), fill("buy", "2024-01-03", "2", "12", "0", 2),
         fill("sell", "2024-01-04", "5", "15", "1", 3)],
        allow_short=True,
        method=CostMethod.FIFO,
        keep_closed=True,
    )  # fmt: skip
    assert [c.open_trade_id for c in book.closed] == [1, 2]
    assert sum((c.gain for c in book.closed), D(0)) == D(60 - 44) - D("0.8")
    [lot] = book.lots
    assert (lot.trade_id, lot.quantity, lot.cost) == (3, D(-1), D("-14.8"))
