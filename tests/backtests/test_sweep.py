"""Sweeps: the grid's combinations, each result the single backtest's, the warm-up."""

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.backtests import results
from app.backtests.engine import Terms
from app.backtests.fills import Fill
from app.backtests.sweep import Decider, TooManyCombinations, expand
from app.market.history import Adjusted
from app.strategies.kinds import HOLD, InvalidStrategyParams

TERMS = Terms(cash=10_000.0, commission=0.001, fill=Fill.NEXT_OPEN, risk_free_rate=0.0)


def walk(seed: int, count: int) -> Adjusted:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, count)))
    open_ = close * np.exp(rng.normal(0, 0.005, count))
    high, low = np.maximum(open_, close) * 1.01, np.minimum(open_, close) * 0.99
    days = np.array([date(2020, 1, 1) + timedelta(days=i) for i in range(count)], "datetime64[D]")
    return Adjusted(days, open_, high, low, close, rng.integers(1000, 5000, count).astype(float))


def test_the_grid_skips_and_counts_what_the_kind_forbids() -> None:
    grid = expand("sma_cross", {}, {"fast": [5, 10, 20], "slow": [10, 20]})
    assert grid.combinations == [
        {"fast": 5, "slow": 10},
        {"fast": 5, "slow": 20},
        {"fast": 10, "slow": 20},
    ]
    assert grid.skipped == 3  # 10/10, 20/10, 20/20


def test_fixed_parameters_come_from_params() -> None:
    grid = expand("rsi_threshold", {"period": 14}, {"lower": [20, 30], "upper": [70]})
    assert grid.combinations == [
        {"period": 14, "lower": 20, "upper": 70},
        {"period": 14, "lower": 30, "upper": 70},
    ]


def test_a_grid_beyond_the_limit_or_with_a_foreign_parameter_is_refused() -> None:
    with pytest.raises(TooManyCombinations):  # 100 x 101, most of them valid or not
        expand("sma_cross", {}, {"fast": list(range(1, 101)), "slow": list(range(2, 103))})
    with pytest.raises(InvalidStrategyParams, match="unknown parameter period"):
        expand("sma_cross", {"slow": 30}, {"period": [5]})


@pytest.mark.parametrize(
    ("params", "grid", "reason"),
    [
        ({}, {"fast": ["5", 10], "slow": [20]}, "fast must be a whole number"),
        ({}, {"fast": [5.5], "slow": [20]}, "fast must be a whole number"),
        ({}, {"fast": [True], "slow": [20]}, "fast must be a whole number"),
        ({"slow": "20"}, {"fast": [5]}, "slow must be a whole number"),
        ({}, {"fast": [5]}, "no value for slow"),
        ({}, {"fast": [20, 30], "slow": [10]}, "Every combination of the grid is forbidden"),
    ],
)
def test_a_value_wrong_on_its_own_or_a_grid_with_nothing_allowed_is_refused(
    params: dict[str, object], grid: dict[str, list[object]], reason: str
) -> None:
    with pytest.raises(InvalidStrategyParams) as refused:
        expand("sma_cross", params, grid)  # type: ignore[arg-type]
    assert reason in refused.value.message


def test_decisions_start_after_every_indicator_has_warmed_up() -> None:
    bars = walk(1, 120)
    decided = Decider(bars).decisions("macd_cross", {"fast": 12, "slow": 26, "signal": 9})
    assert decided is not None
    # TA-Lib's MACD signal line has its first value on bar 26 + 9 - 2 = 33.
    assert (decided[:34] == HOLD).all() and (decided[34:] != HOLD).any()


def test_too_few_bars_for_the_warm_up_gives_no_decisions() -> None:
    bars = walk(2, 31)  # sma_30's first value is on bar 29: bar 30 is the only one left
    assert Decider(bars).decisions("sma_cross", {"fast": 10, "slow": 30}) is None
    assert Decider(walk(2, 32)).decisions("sma_cross", {"fast": 10, "slow": 30}) is not None


GRIDS: dict[str, dict[str, list[float]]] = {
    "sma_cross": {"fast": [2, 3, 5, 8], "slow": [3, 5, 13, 21]},
    "ema_cross": {"fast": [2, 4, 6], "slow": [5, 10, 30]},
    "macd_cross": {"fast": [3, 5], "slow": [8, 12], "signal": [2, 4]},
    "rsi_threshold": {"period": [3, 7], "lower": [30, 45], "upper": [55, 70]},
    "bollinger_reversion": {"period": [5, 10], "k": [0.5, 1, 2.5]},
}


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(40, 250),
    st.sampled_from(sorted(GRIDS)),
    st.sampled_from(list(Fill)),
)
def test_every_sweep_result_is_the_single_backtest_with_its_parameters(
    seed: int, count: int, kind: str, fill: Fill
) -> None:
    bars = walk(seed, count)
    terms = Terms(cash=10_000.0, commission=0.001, fill=fill, risk_free_rate=0.02)
    grid = expand(kind, {}, GRIDS[kind])
    found, short = results.sweep(Decider(bars), kind, grid.combinations, terms)
    assert len(found) + short == len(grid.combinations)
    for result in found:
        single = results.backtest(bars, kind, result["params"], terms)
        assert result["stats"] == single["stats"]
