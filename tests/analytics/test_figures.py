"""The return figures on small series whose answers are known."""

import math
import statistics
from datetime import date

import numpy as np

from app.analytics import figures


def test_xirr_of_ten_percent_over_a_year() -> None:
    rate, reason = figures.xirr(np.array([0, 365]), np.array([-1000.0, 1100.0]))
    assert reason is None and rate is not None and abs(rate - 0.1) < 1e-12


def test_xirr_without_a_sign_change_or_time_has_no_solution() -> None:
    days = np.array([0, 30])
    assert figures.xirr(days, np.array([-1.0, -2.0]))[0] is None
    rate, reason = figures.xirr(np.array([5, 5]), np.array([-1.0, 2.0]))
    assert rate is None and reason == "every flow falls on the same day"


def test_sharpe_compounds_the_annual_risk_free_rate_to_a_day() -> None:
    r = [0.01, -0.005, 0.002, 0.003, 0.0]
    daily = 1.05 ** (1 / 252) - 1
    expected = statistics.mean(x - daily for x in r) / statistics.stdev(r) * math.sqrt(252)
    assert abs(figures.daily_risk_free(0.05) - daily) < 1e-15
    sharpe = figures.sharpe(np.array(r), daily)
    assert sharpe is not None and abs(sharpe - expected) < 1e-12
    assert figures.sharpe(np.array([0.01, 0.01]), 0.0) is None  # no spread


def test_a_rising_index_has_no_drawdown() -> None:
    drawdown = figures.max_drawdown(date(2024, 1, 5), [date(2024, 1, 8)], np.array([1.1]))
    assert drawdown == figures.Drawdown(0.0, None, None)


def test_days_without_capital_are_not_returns() -> None:
    daily = figures.Daily(
        [date(2024, 1, 8), date(2024, 1, 9)],
        previous=np.array([0.0, 0.0]),
        value=np.array([0.0, 100.0]),
        inflow=np.array([0.0, 100.0]),
        outflow=np.array([0.0, 0.0]),
    )
    r, counted = figures.returns(daily)
    assert counted.tolist() == [False, True] and r.tolist() == [0.0, 0.0]
