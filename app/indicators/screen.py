"""A screen: the tickers whose latest stored indicator values meet every condition, in one
query over indicator_values (one conditional aggregate per column used)."""

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Double, Select, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import InvalidInput
from app.indicators.latest import PRICE_COLUMNS
from app.indicators.models import IndicatorValue
from app.indicators.spec import parse_column
from app.market.models import Instrument

MAX_CONDITIONS = 20
MAX_TICKERS = 1000
OPERATORS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}
_COLUMN = r"[A-Za-z][A-Za-z0-9_.]*"
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
_CONDITION = re.compile(
    rf"\s*({_COLUMN})\s*(<=|>=|!=|<|>|=)\s*({_COLUMN}|{_NUMBER.pattern})\s*", re.ASCII
)
HOW = "write <column> <operator> <number or column>, like rsi_14<30 or close>sma_200"


class InvalidScreen(InvalidInput):
    code = "invalid_screen"
    message = "A screen's condition or universe is not valid."


@dataclass(frozen=True, slots=True)
class Condition:
    column: str
    operator: str  # one of OPERATORS
    other: str | float  # another column, or a number


@dataclass(frozen=True, slots=True)
class Match:
    ticker: str
    date: date  # of the newest bar the values were stored for
    values: dict[str, float | None]  # every column the conditions use


def invalid(text: str, reason: str) -> InvalidScreen:
    return InvalidScreen(f"{text!r}: {reason}.", details={"where": text, "reason": reason})


def parse_condition(text: str) -> Condition:
    """A `where` condition; InvalidScreen when malformed, InvalidIndicator for a bad column."""
    match = _CONDITION.fullmatch(text)
    if match is None:
        raise invalid(text, f"{HOW}; operators: {' '.join(OPERATORS)}")
    column, op, other = match.groups()
    check_column(column)
    if not _NUMBER.fullmatch(other):
        check_column(other)
        return Condition(column, op, other)
    number = float(other)
    if not math.isfinite(number):
        raise invalid(text, "the number is too large")
    return Condition(column, op, number)


def check_column(column: str) -> None:
    """A stored price column or an indicator's column; InvalidIndicator saying why not."""
    if column not in PRICE_COLUMNS:
        parse_column(column)


def parse_tickers(tickers: str) -> list[str]:
    found = list(dict.fromkeys(t.strip().upper() for t in tickers.split(",") if t.strip()))
    if not found or len(found) > MAX_TICKERS:
        reason = f"name from 1 to {MAX_TICKERS} tickers, separated by commas"
        raise InvalidScreen(f"tickers: {reason}.", details={"tickers": tickers, "reason": reason})
    return found


async def screen(session: AsyncSession, where: Sequence[str], tickers: str | None) -> list[Match]:
    """The tickers (among those named; else all) whose latest values meet every condition,
    sorted by ticker."""
    if not 1 <= len(where) <= MAX_CONDITIONS:
        reason = f"give from 1 to {MAX_CONDITIONS} `where` conditions; {HOW}"
        raise InvalidScreen(f"{reason}.", details={"where": list(where), "reason": reason})
    conditions = [parse_condition(text) for text in where]
    universe = parse_tickers(tickers) if tickers is not None else None
    named = (name for c in conditions for name in (c.column, c.other) if isinstance(name, str))
    used = list(dict.fromkeys(named))
    rows = await session.execute(_query(conditions, used, universe))
    return [
        Match(ticker, day, dict(zip(used, values, strict=True)))
        for ticker, day, *values in rows.tuples()
    ]


def _query(
    conditions: list[Condition], columns: list[str], tickers: list[str] | None
) -> Select[Any]:
    """One row per instrument: its ticker, newest date and each column's value, kept when
    every condition holds."""
    v = IndicatorValue
    # Compared as the floats they were computed as (SQLite stores them as decimal text).
    number = cast(v.value, Double)
    value_of = {name: func.max(number).filter(v.name == name) for name in columns}

    def side(other: str | float) -> Any:
        return value_of[other] if isinstance(other, str) else other

    held = [OPERATORS[c.operator](value_of[c.column], side(c.other)) for c in conditions]
    query = (
        select(Instrument.ticker, func.max(v.date), *value_of.values())
        .select_from(v)
        .join(Instrument, Instrument.id == v.instrument_id)
        .where(v.name.in_(columns))
        .group_by(Instrument.id, Instrument.ticker)
        .having(and_(*held))
        .order_by(Instrument.ticker)
    )
    return query if tickers is None else query.where(Instrument.ticker.in_(tickers))
