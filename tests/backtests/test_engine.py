"""The engine's fills and figures on bars small enough to work out by hand."""

import math
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.backtests.engine import Bars, Terms, drawdown, run
from app.backtests.fills import Fill
from app.backtests.results import money
from app.strategies.kinds import BUY, HOLD, SELL

B, S, H = BUY, SELL, HOLD
NO_COMMISSION = Terms(cash=1000.0, commission=0.0, fill=Fill.NEXT_OPEN, risk_free_rate=0.0)


def bars(opens: Sequence[float], closes: Sequence[float]) -> Bars:
    first = date(2024, 1, 1)
    days = np.array([first + timedelta(days=i) for i in range(len(opens))], dtype="datetime64[D]")
    return Bars(days, np.array(opens, dtype=float), np.array(closes, dtype=float))


def decide(*sides: int) -> np.ndarray:
    return np.array(sides, dtype=np.int8)


def test_a_signal_on_the_last_bar_does_not_fill() -> None:
    result = run(bars([10, 11, 12], [10, 11, 12]), decide(H, H, B), NO_COMMISSION)
    assert result.trades == [] and result.open_trade is None
    assert result.equity.tolist() == [1000, 1000, 1000]
    assert result.stats["trades"] == 0 and result.stats["exposure"] == 0


def test_a_buy_fills_at_the_next_open_with_every_whole_share_the_cash_buys() -> None:
    result = run(
        bars([10, 11, 12, 13], [10.5, 11.5, 12.5, 13.5]), decide(H, B, H, H), NO_COMMISSION
    )
    entry = result.open_trade
    assert entry is not None
    assert (entry.bar, entry.price, entry.quantity) == (2, 12, 83)  # 1000 // 12
    # 4 left in cash; 83 shares at each close from the fill on.
    assert result.equity.tolist() == [1000, 1000, 4 + 83 * 12.5, 4 + 83 * 13.5]


def test_fill_at_close_fills_on_the_signal_bar() -> None:
    terms = Terms(cash=1000.0, commission=0.0, fill=Fill.CLOSE, risk_free_rate=0.0)
    result = run(bars([10, 11, 12, 13], [10.5, 11.5, 12.5, 13.5]), decide(H, B, S, H), terms)
    [trade] = result.trades
    assert (trade.entry.bar, trade.entry.price, trade.entry.quantity) == (1, 11.5, 86)
    assert (trade.exit_bar, trade.exit_price) == (2, 12.5)
    assert trade.pnl == pytest.approx(86 * 1.0)
    # As the reference library books it, a fill at a close shows in the next bar's equity.
    assert result.equity.tolist() == [1000, 1000, 11 + 86 * 12.5, 11 + 86 * 12.5]


def test_a_fill_at_a_close_pays_its_commission_in_the_next_bars_equity() -> None:
    terms = Terms(cash=1000.0, commission=0.01, fill=Fill.CLOSE, risk_free_rate=0.0)
    result = run(bars([10] * 3, [10] * 3), decide(B, H, H), terms)
    assert result.equity.tolist() == pytest.approx([1000, 1000 - 9.9, 1000 - 9.9])


def test_whole_shares_leave_room_for_the_commission_and_both_sides_pay_it() -> None:
    terms = Terms(cash=1000.0, commission=0.01, fill=Fill.NEXT_OPEN, risk_free_rate=0.0)
    result = run(bars([10, 10, 12, 12], [10, 10, 12, 12]), decide(B, H, S, H), terms)
    [trade] = result.trades
    # 1000 // (10 x 1.01) = 99 shares (100 would cost 1010); commission 9.90 in, 11.88 out.
    assert trade.entry.quantity == 99
    assert trade.entry.commission == pytest.approx(9.9)
    assert trade.exit_commission == pytest.approx(11.88)
    assert trade.pnl == pytest.approx(99 * 2 - 9.9 - 11.88)
    assert trade.ret == pytest.approx(trade.pnl / 990)
    assert result.equity[-1] == pytest.approx(1000 + trade.pnl)
    assert result.stats["commissions"] == pytest.approx(9.9 + 11.88)
    # Equity on the entry bar: cash less the commission, the shares at that close.
    assert result.equity[1] == pytest.approx(1000 - 990 - 9.9 + 99 * 10)


def test_an_open_trade_counts_in_equity_and_exposure_not_in_trade_statistics() -> None:
    terms = Terms(cash=1000.0, commission=0.01, fill=Fill.NEXT_OPEN, risk_free_rate=0.0)
    opens = [10, 10, 20, 20, 25, 25]
    result = run(bars(opens, opens), decide(B, S, H, B, H, H), terms)
    [closed] = result.trades
    assert (closed.entry.bar, closed.exit_bar) == (1, 2)
    held = result.open_trade
    assert held is not None and held.bar == 4
    stats = result.stats
    assert stats["trades"] == 1
    assert stats["win_rate"] == 1.0 and stats["best_trade"] == stats["worst_trade"] == closed.ret
    # Bars 1-2 (entry to exit) and 4-5 (the open trade) of six.
    assert stats["exposure"] == pytest.approx(4 / 6)
    assert stats["commissions"] == pytest.approx(closed.commission + held.commission)
    cash_after = 1000 + closed.pnl - held.quantity * 25 - held.commission
    assert result.equity[-1] == pytest.approx(cash_after + held.quantity * 25)
    assert stats["equity_final"] == result.equity[-1]


def test_a_buy_while_long_and_a_sell_while_flat_do_nothing() -> None:
    result = run(bars([10] * 6, [10] * 6), decide(S, B, B, S, S, H), NO_COMMISSION)
    [trade] = result.trades
    assert (trade.entry.bar, trade.exit_bar) == (2, 4)


def test_a_buy_the_cash_cannot_pay_for_waits_for_the_next_buy() -> None:
    result = run(
        bars([2000, 2000, 500, 500], [2000] * 2 + [500] * 2), decide(B, B, H, H), NO_COMMISSION
    )
    assert result.open_trade is not None and result.open_trade.bar == 2


def test_figures_follow_their_definitions() -> None:
    closes = [100.0, 110.0, 99.0, 120.0, 90.0, 95.0]
    terms = Terms(cash=1000.0, commission=0.0, fill=Fill.CLOSE, risk_free_rate=0.05)
    result = run(bars(closes, closes), decide(B, H, H, H, H, H), terms)
    equity = result.equity  # 10 shares from the first close on
    assert equity.tolist() == [c * 10 for c in closes]
    stats = result.stats
    r = equity[1:] / equity[:-1] - 1
    rf = 1.05 ** (1 / 252) - 1
    assert stats["total_return"] == pytest.approx(950 / 1000 - 1)
    assert stats["buy_hold_return"] == pytest.approx(95 / 100 - 1)
    assert stats["annualized_return"] == pytest.approx(0.95 ** (365 / 5) - 1)
    assert stats["volatility"] == pytest.approx(np.std(r, ddof=1) * math.sqrt(252))
    assert stats["sharpe"] == pytest.approx(np.mean(r - rf) / np.std(r, ddof=1) * math.sqrt(252))
    downside = math.sqrt(np.mean(np.minimum(r - rf, 0) ** 2))
    assert stats["sortino"] == pytest.approx(np.mean(r - rf) / downside * math.sqrt(252))
    assert stats["max_drawdown"] == pytest.approx(1 - 900 / 1200)
    assert (stats["max_drawdown_peak"], stats["max_drawdown_trough"]) == (
        date(2024, 1, 4),
        date(2024, 1, 5),
    )
    assert stats["calmar"] == pytest.approx(stats["annualized_return"] / 0.25)
    assert stats["equity_peak"] == 1200
    assert drawdown(equity).tolist() == pytest.approx([0, 0, 0.1, 0, 0.25, 1 - 950 / 1200])


def test_trade_figures_over_round_trips() -> None:
    prices = [10, 10, 12, 12, 9, 8, 11, 12, 10, 9]
    result = run(bars(prices, prices), decide(B, S, H, B, S, B, S, B, S, H), NO_COMMISSION)
    pnl = [t.pnl for t in result.trades]
    assert len(pnl) == 4 and sum(p > 0 for p in pnl) == 2 and sum(p < 0 for p in pnl) == 2
    stats = result.stats
    gains, losses = sum(p for p in pnl if p > 0), -sum(p for p in pnl if p < 0)
    assert stats["win_rate"] == pytest.approx(sum(p > 0 for p in pnl) / 4)
    assert stats["profit_factor"] == pytest.approx(gains / losses)
    assert stats["expectancy"] == pytest.approx(np.mean(pnl))
    assert stats["sqn"] == pytest.approx(2 * np.mean(pnl) / np.std(pnl, ddof=1))
    assert stats["avg_trade"] == pytest.approx(np.mean([t.ret for t in result.trades]))


def test_money_in_results_is_plain_decimal_text() -> None:
    assert [money(v) for v in (100000.0, 0.1 + 0.2, -0.0, 12.3456789012)] == [
        "100000",
        "0.3",
        "0",
        "12.3456789",
    ]


@st.composite
def random_runs(draw: st.DrawFn) -> tuple[Bars, np.ndarray, Terms]:
    count = draw(st.integers(2, 60))
    price = st.floats(0.5, 500, allow_nan=False, allow_infinity=False)
    opens = draw(st.lists(price, min_size=count, max_size=count))
    closes = draw(st.lists(price, min_size=count, max_size=count))
    sides = draw(st.lists(st.sampled_from([B, S, H, H]), min_size=count, max_size=count))
    terms = Terms(
        cash=draw(st.floats(100, 1e6)),
        commission=draw(st.sampled_from([0.0, 0.001, 0.01])),
        fill=draw(st.sampled_from(list(Fill))),
        risk_free_rate=0.0,
    )
    return bars(opens, closes), decide(*sides), terms


@settings(max_examples=300, deadline=None)
@given(random_runs())
def test_final_equity_is_cash_plus_round_trips_plus_the_open_trade(
    case: tuple[Bars, np.ndarray, Terms],
) -> None:
    prices, decisions, terms = case
    result = run(prices, decisions, terms)
    held = result.open_trade
    open_value = 0.0
    amounts = [terms.cash]
    if held is not None:
        open_value = held.quantity * (prices.close[-1] - held.price) - held.commission
        amounts.append(held.quantity * max(held.price, prices.close[-1]))
    amounts += [t.entry.quantity * max(t.entry.price, t.exit_price) for t in result.trades]
    expected = terms.cash + sum(t.pnl for t in result.trades) + open_value
    # Summed in another order: equal up to float rounding of the largest amounts handled.
    rounding = 1e-15 * max(amounts) * (2 * len(result.trades) + 3)
    assert abs(result.equity[-1] - expected) <= rounding
    assert result.stats["trades"] == len(result.trades)
