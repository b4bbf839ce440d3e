"""Every change to a portfolio's books, in one sequence.

The caller holds the portfolio's row lock (`lock`, or a dependency that took it with the
visibility check). Then: write what happened (trades, cash, a cancel), fold the touched
positions and their lots, check the cash rule over the whole history, move the balance,
invalidate the NAV series from the earliest changed date, and record the audit event.
Services never commit: the caller's unit of work does.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Uuid, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.service import record, snapshot
from app.core.database import IN_BATCH, chunks, copy_rows, table_of, utcnow
from app.core.errors import Conflict, NotFound
from app.ledger import queries
from app.ledger.fold import Book, Holding, OpenLot, Split, fold
from app.ledger.models import (
    CashTransaction,
    CashType,
    CostMethod,
    Lot,
    Position,
    Side,
    Trade,
    TradeStatus,
)
from app.ledger.rules import (
    ZERO,
    Fill,
    InsufficientCash,
    InsufficientQuantity,
    cash_effect,
    counts,
    trade_cash_effect,
)
from app.market.models import Instrument
from app.market.provider import UnknownTicker, UnknownTickerInRequest
from app.market.service import MarketData, final_date
from app.portfolios.models import Portfolio

logger = logging.getLogger("folio.trades")
positions, lots, trades_table = table_of(Position), table_of(Lot), table_of(Trade)
portfolios = table_of(Portfolio)

INSERT_BATCH = 10_000
MAX_PARAMETERS = 32_767  # a statement's limit in asyncpg and SQLite


class TradeNotFound(NotFound):
    code = "trade_not_found"
    message = "No such trade in this portfolio."


class TradeAlreadyCancelled(Conflict):
    code = "trade_already_cancelled"
    message = "The trade is already cancelled."


class DuplicateExternalId(Conflict):
    code = "duplicate_external_id"
    message = "A trade with this external id is already booked in the portfolio."


@dataclass(frozen=True, slots=True)
class NewTrade:
    instrument_id: int
    ticker: str
    side: Side
    quantity: Decimal
    price: Decimal
    fees: Decimal
    trade_date: date
    notes: str = ""
    external_id: str | None = None

    def fill(self, trade_id: int) -> Fill:
        return Fill(
            self.side.value, self.quantity, self.price, self.fees, self.trade_date, trade_id
        )


@dataclass(frozen=True, slots=True)
class NewCash:
    type: CashType
    amount: Decimal
    date: date
    note: str = ""
    instrument_id: int | None = None


@dataclass(frozen=True, slots=True)
class Posted:
    ids: list[int]
    at: datetime


async def instrument_for(session: AsyncSession, market: MarketData, ticker: str) -> Instrument:
    """The instrument of a ticker being booked, with its splits (the provider is asked the
    first time). Call it before the portfolio's lock and the booking's writes."""
    try:
        found = await market.ensure_instrument(session, ticker)
    except UnknownTicker as exc:
        raise UnknownTickerInRequest(details={"ticker": ticker}) from exc
    if found.actions_through is None:  # later ones come with reads and after each close
        await market.ensure_actions(session, {found.id: found.ticker}, final_date())
    return found


# The sequence


async def post_trades(
    session: AsyncSession,
    actor_id: uuid.UUID,
    portfolio: Portfolio,
    trades: Sequence[NewTrade],
    *,
    audit_each: bool = True,
) -> Posted:
    """Book trades (one, or a whole import): all of them, or none."""
    await _check_external_ids(session, portfolio.id, trades)
    by_instrument: dict[int, list[NewTrade]] = defaultdict(list)
    for trade in trades:
        by_instrument[trade.instrument_id].append(trade)
    stored = await _stored_books(session, portfolio, by_instrument)
    posted = await _insert_trades(session, actor_id, portfolio.id, trades)
    fills: dict[int, list[Fill]] = defaultdict(list)
    for trade, trade_id in zip(trades, posted.ids, strict=True):
        fills[trade.instrument_id].append(trade.fill(trade_id))
    for instrument_id, new in fills.items():
        await _fold_into(session, portfolio, instrument_id, stored[instrument_id], new, trades)
    effect = sum((f.cash_effect for new in fills.values() for f in new), ZERO)
    dates = (min(t.trade_date for t in trades), max(t.trade_date for t in trades))
    outflow = min((t.trade_date for t in trades if t.side is Side.BUY), default=None)
    await _settle(session, portfolio, effect, dates, outflow)
    if audit_each:
        for trade, trade_id in zip(trades, posted.ids, strict=True):
            await _audit_trade(session, actor_id, portfolio.id, trade_id, trade)
    else:
        await _audit_import(session, actor_id, portfolio.id, posted.ids)
    return posted


async def post_cash(
    session: AsyncSession,
    actor_id: uuid.UUID,
    portfolio: Portfolio,
    cash: NewCash,
    ticker: str | None,
) -> Posted:
    at = utcnow()
    cash_id = await session.scalar(
        insert(CashTransaction)
        .values(
            portfolio_id=portfolio.id,
            type=cash.type,
            amount=cash.amount,
            date=cash.date,
            note=cash.note,
            instrument_id=cash.instrument_id,
            created_by=actor_id,
            created_at=at,
        )
        .returning(CashTransaction.id)
    )
    assert cash_id is not None
    effect = cash_effect(cash.type, cash.amount)
    on = cash.date
    await _settle(session, portfolio, effect, (on, on), on if effect < 0 else None)
    await record(
        session,
        actor_id=actor_id,
        action="cash.create",
        object_type="cash",
        object_id=cash_id,
        portfolio_id=portfolio.id,
        after={
            "type": cash.type.value,
            "amount": str(cash.amount),
            "date": cash.date.isoformat(),
            "note": cash.note,
            "ticker": ticker,
        },
    )
    logger.info("cash recorded", extra={"cash_id": cash_id, "portfolio_id": str(portfolio.id)})
    return Posted([cash_id], at)


async def cancel_trade(
    session: AsyncSession, actor_id: uuid.UUID, portfolio: Portfolio, trade_id: int, reason: str
) -> Trade:
    trade = await session.scalar(
        select(Trade).where(Trade.id == trade_id, Trade.portfolio_id == portfolio.id)
    )
    if trade is None:
        raise TradeNotFound(details={"id": trade_id})
    if not counts(trade.status):
        raise TradeAlreadyCancelled(details={"id": trade_id})
    before = _trade_snapshot(trade)
    trade.status, trade.cancel_reason = TradeStatus.CANCELLED, reason
    trade.cancelled_by, trade.cancelled_at = actor_id, utcnow()
    await session.flush()
    await refold(session, portfolio, [trade.instrument_id])
    effect = -trade_cash_effect(trade.side, trade.quantity, trade.price, trade.fees)
    on = trade.trade_date
    await _settle(session, portfolio, effect, (on, on), on if effect < 0 else None)
    await record(
        session,
        actor_id=actor_id,
        action="trade.cancel",
        object_type="trade",
        object_id=trade.id,
        portfolio_id=portfolio.id,
        before=before,
        after=_trade_snapshot(trade),
    )
    logger.info("trade cancelled", extra={"trade_id": trade.id, "portfolio_id": str(portfolio.id)})
    return trade


async def refold(
    session: AsyncSession,
    portfolio: Portfolio,
    instrument_ids: Sequence[int] | None = None,
    *,
    as_booked: bool = False,
) -> None:
    """Fold positions and lots again from their whole history (all when None): after a
    cancel, or (`as_booked`: shorts booked when allowed stay) a change of the cost method."""
    history = await queries.booked_fills(session, portfolio.id, instrument_ids)
    ids = list(history) if instrument_ids is None else list(instrument_ids)
    if instrument_ids is None:
        ids += [i for i, _, _ in await queries.holdings(session, portfolio.id) if i not in history]
    stored = await _positions(session, portfolio.id, ids)
    await _load_lots(session, portfolio.id, stored, ids)
    splits = await queries.splits(session, ids)
    for instrument_id in ids:
        book = _folded(
            portfolio,
            history.get(instrument_id, []),
            None,
            [split for split, _ in splits.get(instrument_id, [])],
            as_booked=as_booked,
        )
        await _save(session, portfolio.id, instrument_id, stored[instrument_id], book)


# Positions and lots


@dataclass(slots=True)
class _Stored:
    exists: bool
    holding: Holding
    lots: list[OpenLot]  # the stored lots that the fold may change
    history: list[Fill] | None = None
    folded_at: datetime | None = None
    splits: list[Split] = field(default_factory=list)


async def _stored_books(
    session: AsyncSession, portfolio: Portfolio, trades: dict[int, list[NewTrade]]
) -> dict[int, _Stored]:
    """Each touched position as stored, with its lots when the new trades may close some;
    with its whole history too when the new trades go before its last one or before one of
    its splits, or a split came after it was folded (the instrument is folded again)."""
    stored = await _positions(session, portfolio.id, list(trades))
    splits = await queries.splits(session, list(trades))
    for instrument_id, found in splits.items():
        stored[instrument_id].splits = [split for split, _ in found]
    back_dated = [
        i
        for i, new in trades.items()
        if _refolds(stored[i], min(t.trade_date for t in new), splits.get(i, []))
    ]
    if back_dated:
        history = await queries.booked_fills(session, portfolio.id, back_dated)
        for instrument_id in back_dated:
            stored[instrument_id].history = history.get(instrument_id, [])
    closing = [i for i, new in trades.items() if _closes(stored[i].holding.quantity, new)]
    await _load_lots(session, portfolio.id, stored, sorted({*back_dated, *closing}))
    return stored


def _refolds(stored: _Stored, first: date, splits: list[tuple[Split, datetime]]) -> bool:
    last = stored.holding.last_trade_date
    if last is not None and first < last:
        return True
    folded = stored.folded_at
    return any(s.ex_date > first or (folded and at > folded) for s, at in splits)


def _closes(quantity: Decimal, trades: list[NewTrade]) -> bool:
    """Whether any of the trades closes lots of a position of this quantity (a buy closes
    short lots, a sell long ones); a buy into a long position needs none of them."""
    return bool(quantity) and any((t.side is Side.BUY) == (quantity < 0) for t in trades)


_POSITIONS = select(
    positions.c.instrument_id,
    positions.c.quantity,
    positions.c.cost_basis,
    positions.c.realized_pnl,
    positions.c.opened_on,
    positions.c.last_trade_date,
    positions.c.updated_at,
).where(
    positions.c.portfolio_id == bindparam("portfolio_id", type_=Uuid),
    positions.c.instrument_id.in_(bindparam("instrument_ids", expanding=True)),
)


async def _positions(
    session: AsyncSession, portfolio_id: uuid.UUID, instrument_ids: list[int]
) -> dict[int, _Stored]:
    stored = {i: _Stored(False, Holding(), []) for i in instrument_ids}
    for batch in chunks(instrument_ids, IN_BATCH):
        rows = await session.execute(
            _POSITIONS, {"portfolio_id": portfolio_id, "instrument_ids": batch}
        )
        for instrument_id, *holding, folded_at in rows.all():
            stored[instrument_id] = _Stored(True, Holding(*holding), [], folded_at=folded_at)
    return stored


async def _load_lots(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    stored: dict[int, _Stored],
    instrument_ids: list[int],
) -> None:
    """Every open lot of these positions, oldest first."""
    for batch in chunks(instrument_ids, IN_BATCH):
        rows = await session.execute(
            select(Lot.instrument_id, Lot.trade_id, Lot.open_date, Lot.quantity, Lot.cost)
            .where(Lot.portfolio_id == portfolio_id, Lot.instrument_id.in_(batch))
            .order_by(Lot.instrument_id, Lot.open_date, Lot.trade_id)
        )
        for instrument_id, *lot in rows.all():
            stored[instrument_id].lots.append(OpenLot(*lot))


def _folded(
    portfolio: Portfolio,
    history: list[Fill],
    start: Book | None,
    splits: list[Split],
    *,
    as_booked: bool = False,
) -> Book:
    return fold(
        history,
        allow_short=portfolio.allow_short or as_booked,
        method=CostMethod(portfolio.cost_method),
        start=start,
        splits=splits,
    )


def _fold_order(fill: Fill) -> tuple[date, int]:
    return fill.trade_date, fill.trade_id


async def _fold_into(
    session: AsyncSession,
    portfolio: Portfolio,
    instrument_id: int,
    stored: _Stored,
    new: list[Fill],
    trades: Sequence[NewTrade],
) -> None:
    in_order = sorted(new, key=_fold_order)
    try:
        if stored.history is not None:
            history = sorted(stored.history + new, key=_fold_order)
            book = _folded(portfolio, history, None, stored.splits)
        else:
            method = CostMethod(portfolio.cost_method)
            start = Book.of(method, stored.holding, stored.lots)
            book = _folded(portfolio, in_order, start, [])
    except InsufficientQuantity as exc:
        exc.details["ticker"] = next(t.ticker for t in trades if t.instrument_id == instrument_id)
        raise
    await _save(session, portfolio.id, instrument_id, stored, book)


_UPDATE_POSITION = update(positions).where(
    positions.c.portfolio_id == bindparam("of_portfolio", type_=Uuid),
    positions.c.instrument_id == bindparam("of_instrument"),
)
_UPDATE_LOT = update(lots).where(lots.c.trade_id == bindparam("of_trade"))


async def _save(
    session: AsyncSession, portfolio_id: uuid.UUID, instrument_id: int, stored: _Stored, book: Book
) -> None:
    h = book.holding()
    values = {
        "quantity": h.quantity,
        "cost_basis": h.cost_basis,
        "realized_pnl": h.realized_pnl,
        "opened_on": h.opened_on,
        "last_trade_date": h.last_trade_date,
        "updated_at": utcnow(),
    }
    if stored.exists:
        where = {"of_portfolio": portfolio_id, "of_instrument": instrument_id}
        await session.execute(_UPDATE_POSITION, values | where)
    else:
        where = {"portfolio_id": portfolio_id, "instrument_id": instrument_id}
        await session.execute(insert(positions), values | where)
    await _save_lots(session, portfolio_id, instrument_id, stored.lots, list(book.lots))


async def _save_lots(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    instrument_id: int,
    before: list[OpenLot],
    after: list[OpenLot],
) -> None:
    """Write only what changed between the stored lots and the folded ones."""
    old = {lot.trade_id: (lot.quantity, lot.cost) for lot in before}
    new = {lot.trade_id: lot for lot in after}
    gone = [trade_id for trade_id in old if trade_id not in new]
    for batch in chunks(gone, IN_BATCH):
        await session.execute(delete(lots).where(lots.c.trade_id.in_(batch)))
    changed = [
        {"of_trade": lot.trade_id, "quantity": lot.quantity, "cost": lot.cost}
        for lot in after
        if lot.trade_id in old and old[lot.trade_id] != (lot.quantity, lot.cost)
    ]
    for rows in chunks(changed, INSERT_BATCH):
        await session.execute(_UPDATE_LOT, list(rows))
    added = [
        {
            "trade_id": lot.trade_id,
            "portfolio_id": portfolio_id,
            "instrument_id": instrument_id,
            "open_date": lot.open_date,
            "quantity": lot.quantity,
            "cost": lot.cost,
        }
        for lot in after
        if lot.trade_id not in old
    ]
    if len(added) > 1 and queries.is_postgres(session):
        await copy_rows(session, lots, list(added[0]), (tuple(row.values()) for row in added))
        return
    for rows in chunks(added, INSERT_BATCH):
        await session.execute(insert(lots), list(rows))


# Trades


async def _check_external_ids(
    session: AsyncSession, portfolio_id: uuid.UUID, trades: Sequence[NewTrade]
) -> None:
    wanted = [t.external_id for t in trades if t.external_id is not None]
    for batch in chunks(wanted, IN_BATCH):
        taken = (
            await session.execute(
                select(Trade.external_id, Trade.id).where(
                    Trade.portfolio_id == portfolio_id, Trade.external_id.in_(batch)
                )
            )
        ).first()
        if taken is not None:
            raise DuplicateExternalId(details={"external_id": taken[0], "trade_id": taken[1]})


_INSERT_TRADE = insert(trades_table).returning(trades_table.c.id)
_INSERT_TRADES = (
    insert(trades_table)
    .returning(trades_table.c.id, sort_by_parameter_order=True)
    .execution_options(insertmanyvalues_page_size=MAX_PARAMETERS // len(trades_table.c))
)
_NEXT_TRADE_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('trades', 'id')) FROM generate_series(1, :count)"
    " ORDER BY 1"
)


async def _insert_trades(
    session: AsyncSession, actor_id: uuid.UUID, portfolio_id: uuid.UUID, trades: Sequence[NewTrade]
) -> Posted:
    """Insert in the given order; the ids come back ascending in that order."""
    at = utcnow()
    common = {
        "portfolio_id": portfolio_id,
        "status": TradeStatus.BOOKED,
        "created_by": actor_id,
        "created_at": at,
    }
    rows = [common | _columns(t) for t in trades]
    if len(rows) == 1:
        return Posted([(await session.execute(_INSERT_TRADE, rows[0])).scalar_one()], at)
    if queries.is_postgres(session):
        ids = list((await session.execute(_NEXT_TRADE_IDS, {"count": len(rows)})).scalars())
        records = ((trade_id, *row.values()) for trade_id, row in zip(ids, rows, strict=True))
        await copy_rows(session, trades_table, ["id", *rows[0]], records)
        return Posted(ids, at)
    ids = []
    for batch in chunks(rows, INSERT_BATCH):
        ids.extend((await session.execute(_INSERT_TRADES, list(batch))).scalars())
    return Posted(ids, at)


def _columns(trade: NewTrade) -> dict[str, Any]:
    return {
        "instrument_id": trade.instrument_id,
        "side": trade.side,
        "quantity": trade.quantity,
        "price": trade.price,
        "fees": trade.fees,
        "trade_date": trade.trade_date,
        "notes": trade.notes,
        "external_id": trade.external_id,
    }


# Cash


_UPDATE_PORTFOLIO = update(portfolios).where(
    portfolios.c.id == bindparam("of_portfolio", type_=Uuid)
)


async def _settle(
    session: AsyncSession,
    portfolio: Portfolio,
    effect: Decimal,
    changed: tuple[date, date],
    outflow_from: date | None,
) -> None:
    """Move the balance by `effect`, refusing a balance below zero on any day from the
    earliest outflow on; invalidate the NAV series from the earliest changed date.

    `changed` is the first and last date the change touches. A change of one date on or
    after every other date of the books needs only the final balance checked."""
    balance = portfolio.cash_balance + effect
    first, last = changed
    if outflow_from is not None and not portfolio.allow_negative_cash:
        latest = portfolio.books_through
        if first == last and latest is not None and first >= latest:
            if balance < 0:
                raise InsufficientCash(
                    details={"date": first.isoformat(), "cash_balance": str(balance)}
                )
        else:
            await _check_cash_history(session, portfolio, balance, outflow_from)
    changes = {
        "cash_balance": balance,
        "books_through": max(last, portfolio.books_through or last),
        "updated_at": utcnow(),
    } | portfolio.nav_invalidation(first)
    await session.execute(_UPDATE_PORTFOLIO, changes | {"of_portfolio": portfolio.id})
    for name, value in changes.items():
        set_committed_value(portfolio, name, value)


async def invalidate_nav(session: AsyncSession, portfolio: Portfolio, day: date) -> None:
    """Mark the NAV series stale from `day` on (the caller holds the portfolio's lock)."""
    changes = {"updated_at": utcnow()} | portfolio.nav_invalidation(day)
    await session.execute(_UPDATE_PORTFOLIO, changes | {"of_portfolio": portfolio.id})
    for name, value in changes.items():
        set_committed_value(portfolio, name, value)


async def _check_cash_history(
    session: AsyncSession, portfolio: Portfolio, balance: Decimal, since: date
) -> None:
    """Refuse a balance below zero at the close of any day from `since` on, as the books
    now stand. The balance at a day's close is the final one less what later days moved."""
    moves = await queries.cash_moves(session, portfolio.id, since - timedelta(days=1))
    later = sum((amount for _, amount in moves), ZERO)
    if not moves or moves[0][0] != since:
        moves.insert(0, (since, ZERO))
    for day, amount in moves:
        later -= amount
        if balance - later < 0:
            raise InsufficientCash(
                details={"date": day.isoformat(), "cash_balance": str(balance - later)}
            )


# Audit


AUDITED = ("side", "quantity", "price", "fees", "trade_date", "notes", "status", "cancel_reason")


def _trade_snapshot(trade: Trade) -> dict[str, Any]:
    return snapshot(trade, AUDITED)


async def _audit_trade(
    session: AsyncSession, actor_id: uuid.UUID, portfolio_id: uuid.UUID, trade_id: int, t: NewTrade
) -> None:
    await record(
        session,
        actor_id=actor_id,
        action="trade.book",
        object_type="trade",
        object_id=trade_id,
        portfolio_id=portfolio_id,
        after={
            "side": t.side.value,
            "quantity": str(t.quantity),
            "price": str(t.price),
            "fees": str(t.fees),
            "trade_date": t.trade_date.isoformat(),
            "notes": t.notes,
            "status": TradeStatus.BOOKED.value,
            "cancel_reason": None,
            "ticker": t.ticker,
        },
    )
    logger.info("trade booked", extra={"trade_id": trade_id, "portfolio_id": str(portfolio_id)})


async def _audit_import(
    session: AsyncSession, actor_id: uuid.UUID, portfolio_id: uuid.UUID, ids: list[int]
) -> None:
    await record(
        session,
        actor_id=actor_id,
        action="trades.import",
        object_type="portfolio",
        object_id=portfolio_id,
        portfolio_id=portfolio_id,
        after={"count": len(ids), "first_trade_id": ids[0], "last_trade_id": ids[-1]},
    )
    logger.info("trades imported", extra={"count": len(ids), "portfolio_id": str(portfolio_id)})
