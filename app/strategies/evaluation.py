"""Strategies evaluated on each ticker's split-adjusted bars.

A ticker's indicators are computed once over its whole history for every strategy that
holds it, each strategy's rule is applied to every bar, and the signals are stored once per
strategy, ticker and date: evaluating again stores nothing new. A ticker whose data cannot
be had or confirmed is skipped with an `error` event; the others are still evaluated.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import chunks
from app.core.errors import DomainError, InvalidInput
from app.indicators.service import History, IndicatorTable, whole_histories, whole_table
from app.indicators.spec import parse
from app.market.service import MarketData
from app.strategies import events, kinds, service, signals
from app.strategies.kinds import HOLD, TYPES, Rule
from app.strategies.models import EventType, Severity, SignalStatus, Strategy
from app.strategies.schemas import EvaluationRead, TickerError

CLOSE_PLACES = Decimal("0.000001")

Progress = Callable[[int, int], None]  # tickers done, tickers in all
TICKERS_AT_ONCE = 100  # histories read in one pass: memory bounded, progress as it goes


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    newest: bool = False  # only each ticker's newest bar up to end, HOLD included


@dataclass
class Outcome:
    signals: int = 0  # new ones
    tickers: int = 0  # evaluated
    errors: list[TickerError] = field(default_factory=list)

    def read(self) -> EvaluationRead:
        return EvaluationRead(signals=self.signals, tickers=self.tickers, errors=self.errors)


async def evaluate(
    session: AsyncSession,
    market: MarketData,
    strategy: Strategy,
    start: date,
    end: date,
    progress: Progress | None = None,
) -> EvaluationRead:
    """Store the BUY and SELL signals of every bar from start to end of each ticker of the
    strategy's universe. The strategy is read unlocked: its tickers' bars may have to come
    from the vendor first, and a request that has only read holds no connection meanwhile
    (deleted meanwhile: see _store)."""
    if start > end:
        raise InvalidInput("start is after end.", details={"start": start, "end": end})
    window = Window(start, end)
    outcome = (await _evaluate(session, market, [strategy], window, progress))[strategy.id]
    await _record(session, strategy.id, window, outcome)
    return outcome.read()


async def evaluate_after_close(
    session: AsyncSession, market: MarketData, day: date, progress: Progress | None = None
) -> dict[int, EvaluationRead]:
    """Each active strategy on each ticker's newest bar up to `day`: one signal per ticker,
    HOLD included. Run again, it stores nothing, and records nothing where it stored nothing
    new and nothing failed."""
    strategies = await service.active(session)
    window = Window(day, day, newest=True)
    outcomes = await _evaluate(session, market, strategies, window, progress)
    for strategy_id, outcome in outcomes.items():
        if outcome.signals or outcome.errors:
            await _record(session, strategy_id, window, outcome)
    return {strategy_id: outcome.read() for strategy_id, outcome in outcomes.items()}


async def _evaluate(
    session: AsyncSession,
    market: MarketData,
    strategies: Sequence[Strategy],
    window: Window,
    progress: Progress | None,
) -> dict[int, Outcome]:
    outcomes = {s.id: Outcome() for s in strategies}
    rules = {s.id: kinds.rule(s.kind, s.params) for s in strategies}
    universe = _by_ticker(strategies)
    done = 0
    for batch in chunks(list(universe), TICKERS_AT_ONCE):
        histories, failed = await whole_histories(market, session, batch, window.end)
        rows: list[dict[str, Any]] = []
        for ticker in batch:
            holders = universe[ticker]
            names = {name for s in holders for name in rules[s.id].names}
            found = (
                _table(ticker, histories[ticker], names, market, window)
                if ticker in histories
                else _error(ticker, failed[ticker])
            )
            for s in holders:
                if isinstance(found, IndicatorTable):
                    rows += _signals(s.id, rules[s.id], found, window)
                    outcomes[s.id].tickers += 1
                else:
                    outcomes[s.id].errors.append(found)
                    await _record_error(session, s.id, window, found)
            done += 1
            if progress is not None:
                progress(done, len(universe))
        for strategy_id in await _store(session, rows):
            outcomes[strategy_id].signals += 1
    return outcomes


async def _store(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Store the signals; a strategy deleted since it was read (it had none) is not found."""
    try:
        async with session.begin_nested():
            return await signals.store(session, rows)
    except IntegrityError as exc:
        raise service.StrategyNotFound(details={"reason": "deleted while evaluated"}) from exc


def _by_ticker(strategies: Sequence[Strategy]) -> dict[str, list[Strategy]]:
    """The strategies of each ticker of their universes."""
    holders: dict[str, list[Strategy]] = {}
    for strategy in strategies:
        for ticker in strategy.tickers:
            holders.setdefault(ticker, []).append(strategy)
    return holders


def _table(
    ticker: str, history: History, names: set[str], market: MarketData, window: Window
) -> IndicatorTable | TickerError:
    """The ticker's bars and indicators over its whole history up to the window's end, or
    why they cannot be used."""
    if history.stale:
        message = "Some of its dates or splits could not be confirmed with the market-data vendor."
        return TickerError(ticker=ticker, code="market_data_stale", message=message)
    if window.newest and not len(history.bars.days):
        message = f"It has no bar on or before {window.end}."
        return TickerError(ticker=ticker, code="no_bars", message=message)
    indicators = [parse(name) for name in sorted(names)]
    return whole_table(ticker, history, indicators, market.provider.name)


def _error(ticker: str, exc: DomainError) -> TickerError:
    return TickerError(ticker=ticker, code=exc.code, message=exc.message)


def _signals(
    strategy_id: int, rule: Rule, table: IndicatorTable, window: Window
) -> list[dict[str, Any]]:
    """The rows to store: the BUY and SELL bars of the window, or the newest bar whatever it
    says."""
    decisions = rule.decide(table.columns)
    if window.newest:
        picked = [len(decisions) - 1]
    else:
        in_window = table.days >= np.datetime64(window.start, "D")
        picked = np.flatnonzero(in_window & (decisions != HOLD)).tolist()
    return [_row(strategy_id, rule, table, i, int(decisions[i])) for i in picked]


def _row(
    strategy_id: int, rule: Rule, table: IndicatorTable, i: int, decision: int
) -> dict[str, Any]:
    columns = table.columns
    return {
        "strategy_id": strategy_id,
        "ticker": table.ticker,
        "date": table.days[i].item(),
        "type": TYPES[decision].value,
        "close": Decimal(repr(float(columns["close"][i]))).quantize(CLOSE_PLACES).normalize(),
        "reasons": rule.explain(columns, i, decision),
        "indicators": rule.seen(columns, i),
        "status": SignalStatus.NEW.value,
    }


async def _record(session: AsyncSession, strategy_id: int, window: Window, o: Outcome) -> None:
    failed = [e.ticker for e in o.errors]
    on = f"after the close of {window.end}" if window.newest else f"{window.start} to {window.end}"
    message = f"Evaluated {on}: new signals {o.signals}, tickers evaluated {o.tickers}"
    message += f"; not evaluated: {', '.join(failed)}." if failed else "."
    details = {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "after_close": window.newest,
        "signals": o.signals,
        "tickers": o.tickers,
        "errors": failed,
    }
    severity = Severity.WARNING if failed else Severity.INFO
    await events.record(session, strategy_id, EventType.EVALUATED, message, details, severity)


async def _record_error(
    session: AsyncSession, strategy_id: int, window: Window, error: TickerError
) -> None:
    details = {"start": window.start.isoformat(), "end": window.end.isoformat()}
    await events.record(
        session,
        strategy_id,
        EventType.ERROR,
        f"{error.ticker} not evaluated: {error.message}",
        details | error.model_dump(),
        Severity.ERROR,
    )
