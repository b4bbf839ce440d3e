"""How other packages read the books: booked fills, cash moves, positions and open lots."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import IN_BATCH, chunks, table_of
from app.ledger.fold import Holding, OpenLot, Split
from app.ledger.models import CashTransaction, CashType, Lot, Position, Trade
from app.ledger.rules import (
    Fill,
    cash_effect,
    cash_effect_sql,
    trade_cash_effect_sql,
    trade_counts,
    trade_signed_quantity_sql,
)
from app.market import store
from app.market.models import CorporateAction, Instrument
from app.market.provider import ActionType


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# The fills are read through Core (no ORM layer per row): histories run to many thousands.
TRADES = table_of(Trade).c
FILL_COLUMNS = (
    TRADES.instrument_id,
    type_coerce(TRADES.side, String),  # the plain value: no enum made per row
    TRADES.quantity,
    TRADES.price,
    TRADES.fees,
    TRADES.trade_date,
    TRADES.id,
)
_FILLS = select(*FILL_COLUMNS).where(
    TRADES.portfolio_id == bindparam("portfolio_id", type_=Uuid), trade_counts(TRADES)
)


def _fill(row: Any) -> Fill:
    _, side, quantity, price, fees, day, trade_id = row
    return Fill(side, quantity, price, fees, day, trade_id)


async def booked_fills(
    session: AsyncSession, portfolio_id: uuid.UUID, instrument_ids: Sequence[int] | None = None
) -> dict[int, list[Fill]]:
    """Each instrument's fills that count, in fold order; all instruments when None."""
    fills: dict[int, list[Fill]] = defaultdict(list)
    query = _FILLS.order_by(TRADES.instrument_id, TRADES.trade_date, TRADES.id)
    batches = [None] if instrument_ids is None else chunks(list(instrument_ids), IN_BATCH)
    for batch in batches:
        selected = query if batch is None else query.where(TRADES.instrument_id.in_(batch))
        rows = await session.execute(selected, {"portfolio_id": portfolio_id})
        for row in rows.all():
            fills[row[0]].append(_fill(row))
    return fills


async def fills_until(
    session: AsyncSession, portfolio_id: uuid.UUID, day: date
) -> dict[tuple[int, str], list[Fill]]:
    """Fills that count up to and including `day`, by (instrument id, ticker), in fold order."""
    rows = await session.execute(
        _FILLS.add_columns(Instrument.ticker)
        .join(Instrument, Instrument.id == TRADES.instrument_id)
        .where(TRADES.trade_date <= day)
        .order_by(Instrument.ticker, TRADES.trade_date, TRADES.id),
        {"portfolio_id": portfolio_id},
    )
    fills: dict[tuple[int, str], list[Fill]] = {}
    for row in rows.all():
        fills.setdefault((row.instrument_id, row.ticker), []).append(_fill(row[:7]))
    return fills


async def cash_moved_after(session: AsyncSession, portfolio_id: uuid.UUID, day: date) -> Decimal:
    """What trades and cash transactions dated after `day` moved the balance by."""
    return sum((amount for _, amount in await cash_moves(session, portfolio_id, day)), Decimal(0))


async def fills_after(
    session: AsyncSession, portfolio_id: uuid.UUID, after: date | None
) -> list[tuple[int, Fill]]:
    """(instrument id, fill) of every fill that counts dated after `after` (all when None)."""
    query = _FILLS if after is None else _FILLS.where(TRADES.trade_date > after)
    rows = await session.execute(query, {"portfolio_id": portfolio_id})
    return [(row.instrument_id, _fill(row)) for row in rows]


async def cash_after(
    session: AsyncSession, portfolio_id: uuid.UUID, after: date | None
) -> list[tuple[date, CashType, Decimal]]:
    """(date, type, amount) of every cash transaction dated after `after` (all when None)."""
    query = select(CashTransaction.date, CashTransaction.type, CashTransaction.amount).where(
        CashTransaction.portfolio_id == portfolio_id
    )
    if after is not None:
        query = query.where(CashTransaction.date > after)
    return [(day, kind, amount) for day, kind, amount in (await session.execute(query)).all()]


async def cash_moves(
    session: AsyncSession, portfolio_id: uuid.UUID, after: date | None
) -> list[tuple[date, Decimal]]:
    """The balance's moves by day after `after` (all when None), from trades and cash."""
    if is_postgres(session):
        return await _daily_moves_sql(session, portfolio_id, after)
    daily: dict[date, Decimal] = defaultdict(Decimal)
    for _, fill in await fills_after(session, portfolio_id, after):
        daily[fill.trade_date] += fill.cash_effect
    for day, kind, amount in await cash_after(session, portfolio_id, after):
        daily[day] += cash_effect(kind, amount)
    return sorted(daily.items())


async def trade_cash_by_day(
    session: AsyncSession, portfolio_id: uuid.UUID, after: date | None
) -> list[tuple[date, Decimal]]:
    """What trades dated after `after` moved the balance by, per day (PostgreSQL's sums)."""
    rows = await session.execute(
        select(Trade.trade_date, func.sum(trade_cash_effect_sql()))
        .where(
            Trade.portfolio_id == portfolio_id,
            trade_counts(),
            Trade.trade_date > (after or date.min),
        )
        .group_by(Trade.trade_date)
    )
    return [(day, amount) for day, amount in rows.all()]


async def _daily_moves_sql(
    session: AsyncSession, portfolio_id: uuid.UUID, after: date | None
) -> list[tuple[date, Decimal]]:
    cut = after or date.min
    trades = select(Trade.trade_date.label("day"), trade_cash_effect_sql().label("amount")).where(
        Trade.portfolio_id == portfolio_id, trade_counts(), Trade.trade_date > cut
    )
    cash = select(CashTransaction.date, cash_effect_sql()).where(
        CashTransaction.portfolio_id == portfolio_id, CashTransaction.date > cut
    )
    moves = trades.union_all(cash).subquery()
    rows = await session.execute(
        select(moves.c.day, func.sum(moves.c.amount)).group_by(moves.c.day).order_by(moves.c.day)
    )
    return [(day, amount) for day, amount in rows.all()]


async def quantity_arrays(
    session: AsyncSession, portfolio_id: uuid.UUID, after: date | None, scale: int
) -> list[tuple[int, list[int], list[int | None]]]:
    """Each instrument's fills after `after` as arrays of day numbers since 1970-01-01 and
    of signed quantities in units of 10**-scale, None where one does not fit 64 bits
    (PostgreSQL)."""
    rows = await session.execute(_quantity_arrays(portfolio_id, after, scale))
    return [(instrument_id, days, quantities) for instrument_id, days, quantities in rows.all()]


def _quantity_arrays(portfolio_id: uuid.UUID, after: date | None, scale: int) -> Select[Any]:
    quantity = trade_signed_quantity_sql()
    factor = 10**scale
    as_integer = func.round(quantity * factor)
    fits = (func.abs(quantity) < 9 * 10 ** (18 - scale)) & (quantity * factor == as_integer)
    return (
        select(
            Trade.instrument_id,
            func.array_agg(
                type_coerce(Trade.trade_date - literal_column("DATE '1970-01-01'"), Integer)
            ),
            func.array_agg(case((fits, cast(as_integer, BigInteger)))),
        )
        .where(
            Trade.portfolio_id == portfolio_id,
            trade_counts(),
            Trade.trade_date > (after or date.min),
        )
        .group_by(Trade.instrument_id)
    )


async def holdings(
    session: AsyncSession, portfolio_id: uuid.UUID
) -> list[tuple[int, str, Holding]]:
    """Every position of the portfolio, open or closed, by ticker."""
    rows = await session.execute(
        select(
            Position.instrument_id,
            Instrument.ticker,
            Position.quantity,
            Position.cost_basis,
            Position.realized_pnl,
            Position.opened_on,
            Position.last_trade_date,
        )
        .join(Instrument, Instrument.id == Position.instrument_id)
        .where(Position.portfolio_id == portfolio_id)
        .order_by(Instrument.ticker)
    )
    return [(r[0], r[1], Holding(*r[2:])) for r in rows]


async def open_lots(
    session: AsyncSession, portfolio_id: uuid.UUID, ticker: str | None = None
) -> list[tuple[int, str, OpenLot]]:
    """Open lots by ticker, oldest first: (instrument id, ticker, lot)."""
    query = (
        select(
            Lot.instrument_id,
            Instrument.ticker,
            Lot.trade_id,
            Lot.open_date,
            Lot.quantity,
            Lot.cost,
        )
        .join(Instrument, Instrument.id == Lot.instrument_id)
        .where(Lot.portfolio_id == portfolio_id)
        .order_by(Instrument.ticker, Lot.open_date, Lot.trade_id)
    )
    if ticker is not None:
        query = query.where(Instrument.ticker == ticker)
    return [(r[0], r[1], OpenLot(*r[2:])) for r in (await session.execute(query)).all()]


async def held_tickers(session: AsyncSession) -> list[str]:
    """Every ticker some portfolio holds, long or short, in alphabetical order."""
    rows = await session.execute(
        select(Instrument.ticker)
        .join(Position, Position.instrument_id == Instrument.id)
        .where(Position.quantity != 0)
        .distinct()
    )
    return sorted(rows.scalars())


async def holding_portfolios(session: AsyncSession) -> list[uuid.UUID]:
    """Every portfolio with a position, open or closed."""
    return list(await session.scalars(select(Position.portfolio_id).distinct()))


def traded_instruments(portfolio_id: uuid.UUID) -> Select[tuple[int]]:
    """A subquery: every instrument the portfolio has a position in, open or closed."""
    return select(Position.instrument_id).where(Position.portfolio_id == portfolio_id)


async def splits(
    session: AsyncSession, instrument_ids: Sequence[int], through: date | None = None
) -> dict[int, list[tuple[Split, datetime]]]:
    """Each instrument's splits with an ex-date up to `through` (all when None), oldest
    first, with when each was stored."""
    found: dict[int, list[tuple[Split, datetime]]] = defaultdict(list)
    for action in await store.actions(session, instrument_ids, kind=ActionType.SPLIT, end=through):
        split = Split(action.ex_date, action.split_to, action.split_from)
        found[action.instrument_id].append((split, action.fetched_at))
    return found


async def action_state(
    session: AsyncSession, portfolio_id: uuid.UUID
) -> list[tuple[int, str, date | None, date | None]]:
    """Every position's instrument, ticker, the date its corporate actions are known up to,
    and the earliest ex-date of a split stored since the position was last folded (one
    query: it runs before every read of the books)."""
    unfolded = (
        select(func.min(CorporateAction.ex_date))
        .where(
            CorporateAction.instrument_id == Position.instrument_id,
            CorporateAction.type == ActionType.SPLIT,
            CorporateAction.fetched_at > Position.updated_at,
        )
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Position.instrument_id, Instrument.ticker, Instrument.actions_through, unfolded)
        .join(Instrument, Instrument.id == Position.instrument_id)
        .where(Position.portfolio_id == portfolio_id)
    )
    return list(rows.tuples().all())
