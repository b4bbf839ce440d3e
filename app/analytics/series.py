"""The daily NAV series, vectorised over a business days x instruments grid.

Quantities and prices become integers at one scale each, so a day's market value is an
exact integer sum: int64 when the largest possible sum fits, else Python integers in object
arrays (exact, slower). Cash is summed in Decimal. Events dated on a weekend count on the
next business day; a holding is valued at its latest close on or before the day.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

import numpy as np
import numpy.typing as npt

from app.market.history import EXACT, Closes, day_numbers, places

EPOCH = date(1970, 1, 1)
INT64_SAFE = 2**62
NO_CLOSE_AGE = 10**6

Ints = npt.NDArray[np.int64]
Days = npt.NDArray[np.datetime64]
Matrix = npt.NDArray[Any]


def business_days(first: date, last: date) -> Days:
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    return days[np.is_busday(days)]


def previous_business_day(day: date) -> date:
    shifted: date = np.busday_offset(np.datetime64(day, "D"), -1, roll="forward").astype(date)
    return shifted


def roll_forward(day: date) -> date:
    rolled: date = np.busday_offset(np.datetime64(day, "D"), 0, roll="forward").astype(date)
    return rolled


def _day_numbers(days: Iterable[date]) -> Ints:
    return day_numbers(np.array(list(days), dtype="datetime64[D]"))


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=number)


def scaled(values: Sequence[Decimal], scale: int) -> list[int]:
    return [int(v.scaleb(scale, EXACT)) for v in values]


def int_array(values: Sequence[int], bound: int) -> Matrix:
    """int64 when `bound` (the largest magnitude any later sum can reach) fits, else objects."""
    if bound < INT64_SAFE:
        return np.array(values, dtype=np.int64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@dataclass(frozen=True)
class TradeMoves:
    """Booked trades after the series' cut: signed quantities by (column, day), and the cash
    they moved by day. Entries may repeat; they add up."""

    column: Ints
    day: Ints  # days since 1970-01-01
    quantity: Matrix  # x 10**scale: int64, or Python ints in an object array
    scale: int
    cash_day: Ints
    cash: list[Decimal]


@dataclass(frozen=True, slots=True)
class CashEvent:
    day: date
    amount: Decimal  # signed: money in is positive
    external: bool  # a deposit or withdrawal


@dataclass(frozen=True)
class Book:
    """The holdings and cash now, and every trade and cash move dated after the cut."""

    instruments: list[int]
    tickers: list[str]
    quantities: list[Decimal]
    cash: Decimal
    trades: TradeMoves
    cash_events: list[CashEvent]

    @property
    def first_day(self) -> date | None:
        days = [c.day for c in self.cash_events]
        if len(self.trades.day):
            days.append(from_day_number(int(self.trades.day.min())))
        return min(days, default=None)


def trade_moves(
    trades: Sequence[tuple[int, date, Decimal, Decimal]],
) -> TradeMoves:
    """TradeMoves of single trades: (column, day, signed quantity, cash effect)."""
    scale = places(t[2] for t in trades)
    days = day_numbers(np.array([t[1] for t in trades], dtype="datetime64[D]"))
    quantities = scaled([t[2] for t in trades], scale)
    return TradeMoves(
        column=np.array([t[0] for t in trades], dtype=np.int64),
        day=days,
        quantity=int_array(quantities, sum(map(abs, quantities))),
        scale=scale,
        cash_day=days,
        cash=[t[3] for t in trades],
    )


@dataclass(frozen=True)
class Holdings:
    quantity: Matrix  # days x instruments, quantity x 10**scale
    scale: int


@dataclass(frozen=True)
class Prices:
    value: Matrix  # days x instruments: the latest close on or before the day, 0 if none
    known: npt.NDArray[np.bool_]
    on_day: npt.NDArray[np.bool_]  # a close dated that very day
    age: Ints  # days since that close


@dataclass(frozen=True)
class Series:
    days: list[date]
    nav: list[Decimal | None]
    cash: list[Decimal]
    inflow: list[Decimal]
    outflow: list[Decimal]
    missing: list[list[dict[str, Any]] | None]


def _rows(grid: Days, days: Ints) -> Ints:
    """Each day's row in the grid: a weekend counts on the next business day."""
    rolled = np.busday_offset(days.astype("datetime64[D]"), 0, roll="forward")
    return np.searchsorted(grid, rolled).astype(np.int64)


def holdings(grid: Days, book: Book) -> Holdings:
    """Each instrument's quantity at each day's close: the quantity before the grid (now,
    less every later trade) plus the cumulative sum of the grid's trades."""
    trades = book.trades
    scale = max(trades.scale, places(book.quantities))
    now = scaled(book.quantities, scale)
    factor = 10 ** (scale - trades.scale)
    moved = float(np.abs(trades.quantity.astype(float)).sum()) * factor
    bound = (max(map(abs, now), default=0) + moved) * 2
    base = int_array(now, int(bound))
    moves = (trades.quantity if base.dtype != object else trades.quantity.astype(object)) * factor
    np.subtract.at(base, trades.column, moves)
    rows = _rows(grid, trades.day)
    inside = rows < len(grid)
    delta = np.zeros((len(grid), len(book.instruments)), dtype=base.dtype)
    np.add.at(delta, (rows[inside], trades.column[inside]), moves[inside])
    return Holdings(base + np.cumsum(delta, axis=0), scale)


def prices(grid: Days, closes: Closes, columns: int) -> Prices:
    """Closes carried forward over the grid; row 0 of the work arrays holds each column's
    last close before the grid."""
    grid_days = day_numbers(grid)
    count = len(grid_days)
    value = np.zeros((count + 1, columns), dtype=closes.value.dtype)
    close_day = np.zeros((count + 1, columns), dtype=np.int64)
    has = np.zeros((count + 1, columns), dtype=bool)
    row = np.searchsorted(grid_days, closes.day)
    exact = (row < count) & (grid_days[np.minimum(row, count - 1)] == closes.day)
    last_before = _last_per_column(np.flatnonzero(closes.day < grid_days[0]), closes.column)
    for rows, picks in ((row[exact] + 1, np.flatnonzero(exact)), (0, last_before)):
        cols = closes.column[picks]
        value[rows, cols] = closes.value[picks]
        close_day[rows, cols] = closes.day[picks]
        has[rows, cols] = True
    latest = np.where(has, np.arange(count + 1)[:, None], -1)
    np.maximum.accumulate(latest, axis=0, out=latest)
    known = latest >= 0
    at = (np.maximum(latest, 0), np.arange(columns))
    day_of = np.concatenate(([grid_days[0] - 1], grid_days))[:, None]
    return Prices(
        value=np.where(known, value[at], 0)[1:],
        known=known[1:],
        on_day=has[1:],
        age=np.where(known, day_of - close_day[at], NO_CLOSE_AGE)[1:],
    )


def _last_per_column(picks: Ints, column: Ints) -> Ints:
    """Of indices into (column, day)-sorted arrays, the last one of each column."""
    if len(picks) == 0:
        return picks
    cols = column[picks]
    return picks[np.r_[cols[1:] != cols[:-1], True]]


def market_values(held: Holdings, priced: Prices, price_scale: int) -> list[Decimal]:
    quantity, price = held.quantity, priced.value
    bound = int(np.abs(quantity).max(initial=0)) * int(np.abs(price).max(initial=0))
    if bound * max(quantity.shape[1], 1) >= INT64_SAFE and quantity.dtype != object:
        quantity = quantity.astype(object)
    totals = (quantity * price).sum(axis=1)
    return [Decimal(int(v)).scaleb(-(held.scale + price_scale), EXACT) for v in totals]


def _daily_sums(count: int, rows: Ints, amounts: Sequence[Decimal]) -> list[Decimal]:
    sums = np.full(count + 1, Decimal(0), dtype=object)
    if len(amounts):
        values = np.empty(len(amounts), dtype=object)
        values[:] = amounts
        np.add.at(sums, np.minimum(rows, count), values)
    return list(sums[:count])


def cash_flows(grid: Days, book: Book) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    """Cash at each close, and the external money in (deposits) and out (withdrawals)."""
    with localcontext(EXACT):
        return _cash_flows(grid, book)


def _cash_flows(grid: Days, book: Book) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
    count = len(grid)
    cash_rows = _rows(grid, _day_numbers(c.day for c in book.cash_events))
    changes = [*book.trades.cash, *(c.amount for c in book.cash_events)]
    rows = np.concatenate((_rows(grid, book.trades.cash_day), cash_rows))
    external = [c for c in book.cash_events if c.external]
    ext_rows = _rows(grid, _day_numbers(c.day for c in external))
    inflow = _daily_sums(count, ext_rows, [max(c.amount, Decimal(0)) for c in external])
    outflow = _daily_sums(count, ext_rows, [max(-c.amount, Decimal(0)) for c in external])
    before = book.cash - sum(changes, Decimal(0))
    daily = _daily_sums(count, rows, changes)
    cash = list(np.cumsum(np.array([before, *daily], dtype=object))[1:])
    return cash, inflow, outflow


def missing(
    book: Book, held: Holdings, priced: Prices, unconfirmed: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.bool_], list[list[dict[str, Any]] | None]]:
    """Days whose NAV is unknown (a holding never priced), and each day's holdings without
    a close of that day: carried from an earlier one, and `stale` where the vendor could
    not be asked whether the day has a bar."""
    holding: npt.NDArray[np.bool_] = np.asarray(held.quantity != 0)
    unknown = holding & ~priced.known
    carried = holding & priced.known & ~priced.on_day
    stale = holding & unconfirmed & ~priced.on_day
    per_day: list[list[dict[str, Any]] | None] = [None] * len(holding)
    for row, col in zip(*np.nonzero(unknown | carried | stale), strict=True):
        entry = {"ticker": book.tickers[col], "carried": bool(carried[row, col])}
        if stale[row, col]:
            entry["stale"] = True
        per_day[row] = [*(per_day[row] or []), entry]
    return np.asarray(unknown.any(axis=1)), per_day


def assemble(
    grid: Days,
    book: Book,
    held: Holdings,
    priced: Prices,
    price_scale: int,
    unconfirmed: npt.NDArray[np.bool_],
) -> Series:
    values = market_values(held, priced, price_scale)
    cash, inflow, outflow = cash_flows(grid, book)
    unknown, gaps = missing(book, held, priced, unconfirmed)
    nav = [None if unknown[i] else EXACT.add(cash[i], values[i]) for i in range(len(grid))]
    return Series(
        days=grid.tolist(),
        nav=nav,
        cash=cash,
        inflow=inflow,
        outflow=outflow,
        missing=gaps,
    )
