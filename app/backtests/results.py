"""Backtests and sweeps computed on bars, written out as their JSON results.

A sweep runs each combination through the same engine as a single backtest, on indicators
computed once per distinct parameter, so each of its results is the single backtest's.
"""

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from app.backtests import engine
from app.backtests.engine import Bars, Entry, RoundTrip, Terms
from app.backtests.sweep import Decider, TooFewBars
from app.market.history import Adjusted
from app.strategies.kinds import Params

MONEY_PLACES = 8


def money(value: float) -> str:
    """A float amount as a plain decimal string, to MONEY_PLACES places at most."""
    text = f"{value + 0.0:.{MONEY_PLACES}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def backtest(bars: Adjusted, kind: str, params: Params, terms: Terms) -> dict[str, Any]:
    """The whole result of one backtest: statistics, round trips, open trade, equity."""
    decisions = Decider(bars).decisions(kind, params)
    if decisions is None:
        raise too_few_bars(bars, kind)
    prices = _prices(bars)
    run = engine.run(prices, decisions, terms)
    days: list[date] = prices.days.tolist()
    last_close = float(prices.close[-1])
    return {
        "stats": clean(run.stats),
        "trades": [_trade(t, days) for t in run.trades],
        "open_trade": _open(run.open_trade, days, last_close) if run.open_trade else None,
        "equity": [
            {"date": day, "equity": money(value), "drawdown": fall}
            for day, value, fall in zip(
                np.datetime_as_string(prices.days).tolist(),
                run.equity.tolist(),
                engine.drawdown(run.equity).tolist(),
                strict=True,
            )
        ],
    }


def too_few_bars(bars: Adjusted, kind: str) -> TooFewBars:
    return TooFewBars(
        f"The range has {len(bars.close)} bars: too few for this {kind} strategy's warm-up "
        "and one more bar to fill on.",
        details={"bars": len(bars.close)},
    )


def sweep(
    decider: Decider, kind: str, combinations: Sequence[Params], terms: Terms
) -> tuple[list[dict[str, Any]], int]:
    """Each combination's statistics, and how many the bars are too few for."""
    prices = _prices(decider.bars)
    found: list[dict[str, Any]] = []
    for params in combinations:
        decisions = decider.decisions(kind, params)
        if decisions is not None:
            stats = engine.run(prices, decisions, terms).stats
            found.append({"params": params, "stats": clean(stats)})
    return found, len(combinations) - len(found)


def clean(stats: dict[str, Any]) -> dict[str, Any]:
    """JSON's values: dates as ISO text, an infinite or undefined figure as null."""
    out: dict[str, Any] = {}
    for name, value in stats.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        out[name] = value
    return out


def _prices(bars: Adjusted) -> Bars:
    return Bars(bars.days, np.asarray(bars.open), np.asarray(bars.close))


def _trade(trade: RoundTrip, days: list[date]) -> dict[str, Any]:
    return {
        "entry_date": days[trade.entry.bar].isoformat(),
        "exit_date": days[trade.exit_bar].isoformat(),
        "entry_price": money(trade.entry.price),
        "exit_price": money(trade.exit_price),
        "quantity": trade.entry.quantity,
        "pnl": money(trade.pnl),
        "return": trade.ret,
        "commission": money(trade.commission),
    }


def _open(entry: Entry, days: list[date], last_close: float) -> dict[str, Any]:
    gain = entry.quantity * (last_close - entry.price) - entry.commission
    return {
        "entry_date": days[entry.bar].isoformat(),
        "entry_price": money(entry.price),
        "quantity": entry.quantity,
        "market_price": money(last_close),
        "unrealized_pnl": money(gain),
    }
