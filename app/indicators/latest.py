"""Each ticker's indicator values on its newest bar, stored after each close so that a
screen is a query, not a computation."""

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Integer,
    Numeric,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import table_of, upsert, utcnow
from app.indicators.compute import compute
from app.indicators.models import IndicatorValue
from app.indicators.service import History, whole_histories
from app.indicators.spec import DEFAULT_NAMES, Indicator, parse
from app.market.calendar import new_york_date
from app.market.provider import UnknownTicker
from app.market.service import MarketData, normalise

logger = logging.getLogger("folio.indicators")

STORED_NAMES = (*DEFAULT_NAMES, "sma_50", "sma_200")
# Stored beside the indicators' columns, split-adjusted like them.
PRICE_COLUMNS = ("close", "volume")
_KEY = ("instrument_id", "name")
_COLUMNS = (*_KEY, "date", "value", "computed_at")


@dataclass(frozen=True)
class Stored:
    """The tickers whose latest values were stored, and why the others were not."""

    tickers: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # ticker: an error code


@dataclass(frozen=True, slots=True)
class Value:
    instrument_id: int
    name: str  # a column: rsi_14, macd_12_26_9_hist, close
    date: date
    value: Decimal | None  # the float's shortest exact text: it reads back as that float


async def store_latest(
    session: AsyncSession,
    market: MarketData,
    tickers: Sequence[str],
    names: Sequence[str] = STORED_NAMES,
) -> Stored:
    """Upsert every column of the indicators named, and the close and volume, on each
    ticker's newest bar (computed over its whole history); the caller commits."""
    indicators = [parse(name) for name in dict.fromkeys(names)]
    end = new_york_date(utcnow())
    stored = Stored()
    asked: dict[str, str] = {}  # as the caller spelled it: as Folio keys it
    for ticker in dict.fromkeys(tickers):
        try:
            asked[ticker] = normalise(ticker)
        except UnknownTicker as exc:
            stored.failed[ticker] = exc.code
    histories, failed = await whole_histories(market, session, list(asked.values()), end)
    values: list[Value] = []
    for ticker, key in asked.items():
        if key in failed:
            stored.failed[ticker] = failed[key].code
        elif newest := _newest(histories[key], indicators):
            values += newest
            stored.tickers.append(ticker)
        else:
            stored.failed[ticker] = "no_bars"
    for ticker, code in stored.failed.items():
        logger.warning("latest indicators of %s not stored: %s", ticker, code)
    if values:
        await _upsert(session, values)
    return stored


def _newest(history: History, indicators: list[Indicator]) -> list[Value]:
    """Each column's value on the ticker's newest bar, None while it warms up."""
    bars = history.bars
    if not len(bars.days):
        return []
    columns = {name: getattr(bars, name) for name in PRICE_COLUMNS} | compute(bars, indicators)
    day: date = bars.days[-1].item()
    return [
        Value(history.instrument_id, name, day, _number(float(column[-1])))
        for name, column in columns.items()
    ]


def _number(value: float) -> Decimal | None:
    return Decimal(repr(value)) if math.isfinite(value) else None


async def _upsert(session: AsyncSession, values: list[Value]) -> None:
    """One upsert of every value, each key once and in order (concurrent runs lock rows
    alike): from one array per column on PostgreSQL, whatever the number of rows; row by row
    on SQLite, which has no arrays."""
    keyed = {(v.instrument_id, v.name): v for v in values}  # `aapl` and `AAPL` asked
    values = [keyed[key] for key in sorted(keyed)]
    table = table_of(IndicatorValue)
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(table).from_select(_COLUMNS, _arrays(values, now))
        await session.execute(_on_conflict(statement))
        return
    rows = [asdict(v) | {"computed_at": now} for v in values]
    await session.execute(_on_conflict(upsert(session, table)), rows)


def _on_conflict(statement: Any) -> Any:
    update = {name: statement.excluded[name] for name in _COLUMNS if name not in _KEY}
    return statement.on_conflict_do_update(index_elements=list(_KEY), set_=update)


def _arrays(values: list[Value], now: datetime) -> Select[Any]:
    """The values as the rows of PostgreSQL's unnest over one bound array per column."""
    source = (
        func.unnest(
            bindparam("instrument_ids", [v.instrument_id for v in values], ARRAY(Integer)),
            bindparam("names", [v.name for v in values], ARRAY(String)),
            bindparam("dates", [v.date for v in values], ARRAY(Date)),
            bindparam("values", [v.value for v in values], ARRAY(Numeric)),
        )
        .table_valued(*_COLUMNS[:-1])
        .render_derived()
    )
    return select(*source.c, literal(now, DateTime(timezone=True)))
