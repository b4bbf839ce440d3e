"""The average-cost fold, against values computed by hand."""

from datetime import date
from decimal import Decimal as D

import pytest

from app.ledger.fold import fold
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
