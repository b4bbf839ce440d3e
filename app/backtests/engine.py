"""The backtest engine: one strategy's decisions on one ticker's bars, long-only.

Decisions come in as one array (BUY, SELL or HOLD on each bar's close); orders fill by the
rules of app/backtests/fills.py. A BUY when flat buys every share the cash affords; a SELL
when long sells them all; any other decision does nothing. Equity on every bar is cash plus
shares x close. Money is simulated in floats, as the bars' split-adjusted prices are.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from app.analytics import figures
from app.backtests.fills import Fill, affordable_shares, commission, fill_bar
from app.strategies.kinds import BUY, SELL

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Bars:
    """A ticker's split-adjusted bars over the range, oldest first."""

    days: npt.NDArray[np.datetime64]
    open: Floats
    close: Floats


@dataclass(frozen=True)
class Terms:
    cash: float
    commission: float  # a rate on each side
    fill: Fill
    risk_free_rate: float  # annual


@dataclass(frozen=True, slots=True)
class Entry:
    bar: int  # the bar whose price filled it
    price: float
    quantity: int
    commission: float


@dataclass(frozen=True, slots=True)
class RoundTrip:
    entry: Entry
    exit_bar: int
    exit_price: float
    exit_commission: float

    @property
    def commission(self) -> float:
        return self.entry.commission + self.exit_commission

    @property
    def pnl(self) -> float:
        gain = self.entry.quantity * (self.exit_price - self.entry.price)
        return gain - self.commission

    @property
    def ret(self) -> float:
        return self.pnl / (self.entry.quantity * self.entry.price)


@dataclass(frozen=True)
class Run:
    trades: list[RoundTrip]
    open_trade: Entry | None
    equity: Floats  # on every bar
    stats: dict[str, Any]


def run(bars: Bars, decisions: npt.NDArray[np.int8], terms: Terms) -> Run:
    """Fill the decisions and measure the result."""
    trades, open_trade, changes = _fills(bars, decisions, terms)
    equity = _equity(bars, changes)
    return Run(trades, open_trade, equity, statistics(bars, trades, open_trade, equity, terms))


# From this bar on: cash, shares. A fill shows in the equity from the bar after its
# decision, also when it fills at the decision's close (as the reference library books it).
Change = tuple[int, float, int]


def _fills(
    bars: Bars, decisions: npt.NDArray[np.int8], terms: Terms
) -> tuple[list[RoundTrip], Entry | None, list[Change]]:
    prices = (bars.open if terms.fill is Fill.NEXT_OPEN else bars.close).tolist()
    cash, rate = terms.cash, terms.commission
    trades: list[RoundTrip] = []
    held: Entry | None = None
    changes: list[Change] = [(0, cash, 0)]
    last = len(decisions) - 1  # a decision on the last bar has nothing to fill on
    acting = np.flatnonzero(decisions[:last])
    for i, side in zip(acting.tolist(), decisions[acting].tolist(), strict=True):
        at = fill_bar(i, terms.fill)
        price = prices[at]
        if held is None and side == BUY:
            quantity = affordable_shares(cash, price, rate)
            if quantity:
                held = Entry(at, price, quantity, commission(quantity, price, rate))
                cash -= quantity * price + held.commission
                changes.append((i + 1, cash, quantity))
        elif held is not None and side == SELL:
            trade = RoundTrip(held, at, price, commission(held.quantity, price, rate))
            cash += held.quantity * price - trade.exit_commission
            changes.append((i + 1, cash, 0))
            trades.append(trade)
            held = None
    return trades, held, changes


def _equity(bars: Bars, changes: list[Change]) -> Floats:
    """cash + shares x close on every bar."""
    starts = np.array([c[0] for c in changes])
    step = np.searchsorted(starts, np.arange(len(bars.close)), side="right") - 1
    cash = np.array([c[1] for c in changes])[step]
    shares = np.array([c[2] for c in changes], dtype=np.float64)[step]
    return cash + shares * bars.close


def drawdown(equity: Floats) -> Floats:
    """1 - equity / its running peak, on every bar: 0 at a new peak."""
    return 1.0 - equity / np.maximum.accumulate(equity)


def statistics(
    bars: Bars,
    trades: Sequence[RoundTrip],
    open_trade: Entry | None,
    equity: Floats,
    terms: Terms,
) -> dict[str, Any]:
    """Every statistic of PRODUCT.md, with the definitions portfolio performance uses."""
    with np.errstate(all="ignore"):  # an undefined figure is null
        return _equity_figures(bars, equity, terms) | _trade_figures(
            len(bars.close), trades, open_trade
        )


def _equity_figures(bars: Bars, equity: Floats, terms: Terms) -> dict[str, Any]:
    days: list[date] = bars.days.tolist()
    total = float(equity[-1] / terms.cash - 1.0)
    annual = figures.annualized(total, (days[-1] - days[0]).days)
    r = equity[1:] / equity[:-1] - 1.0
    risk_free = figures.daily_risk_free(terms.risk_free_rate)
    fall = figures.max_drawdown(days[0], days[1:], equity[1:] / equity[0])
    depth = -fall.depth
    return {
        "total_return": total,
        "buy_hold_return": float(bars.close[-1] / bars.close[0] - 1.0),
        "annualized_return": annual,
        "volatility": figures.volatility(r),
        "sharpe": figures.sharpe(r, risk_free),
        "sortino": figures.sortino(r, risk_free),
        "max_drawdown": depth,
        "max_drawdown_peak": fall.peak,
        "max_drawdown_trough": fall.trough,
        "calmar": annual / depth if annual is not None and depth > 0 else None,
        "equity_final": float(equity[-1]),
        "equity_peak": float(equity.max()),
    }


def _trade_figures(
    bar_count: int, trades: Sequence[RoundTrip], open_trade: Entry | None
) -> dict[str, Any]:
    pnl = np.array([t.pnl for t in trades])
    returns = np.array([t.ret for t in trades])
    held = np.zeros(bar_count, dtype=bool)
    for t in trades:
        held[t.entry.bar : t.exit_bar + 1] = True
    if open_trade is not None:
        held[open_trade.bar :] = True
    paid = sum(t.commission for t in trades) + (open_trade.commission if open_trade else 0.0)
    losses = -pnl[pnl < 0].sum()
    return {
        "trades": len(trades),
        "win_rate": _mean(pnl > 0),
        "best_trade": float(returns.max()) if len(trades) else None,
        "worst_trade": float(returns.min()) if len(trades) else None,
        "avg_trade": _mean(returns),
        "profit_factor": float(pnl[pnl > 0].sum() / losses) if losses > 0 else None,
        "expectancy": _mean(pnl),
        "sqn": _sqn(pnl),
        "exposure": float(held.mean()),
        "commissions": float(paid),
    }


def _mean(values: npt.NDArray[Any]) -> float | None:
    return float(values.mean()) if len(values) else None


def _sqn(pnl: Floats) -> float | None:
    if len(pnl) < 2:
        return None
    spread = float(np.std(pnl, ddof=1))
    if spread < figures.ZERO_SPREAD:
        return None
    return float(np.sqrt(len(pnl)) * pnl.mean() / spread)
