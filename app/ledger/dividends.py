"""Dividends a portfolio is entitled to: proposed from its instruments' stored cash
dividends, then booked (a `dividend` cash transaction) or dismissed.

The entitlement is the split-adjusted quantity held at the close before the ex-date x the
cash amount a share. A proposal is dated the pay date (the ex-date when none is known). A
portfolio that already booked a dividend of the ticker by hand between the ex-date and ten
days after the pay date has it `matched`: nothing more to book.
"""

import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.core.database import table_of, upsert, utcnow
from app.core.errors import Conflict, NotFound
from app.ledger import posting, queries
from app.ledger.fold import fold
from app.ledger.models import CashTransaction, CashType, Dividend, DividendStatus
from app.ledger.rules import Fill
from app.market import store
from app.market.models import Instrument
from app.market.provider import ActionType
from app.portfolios.models import Portfolio

CENT = Decimal("0.01")
MATCH_DAYS = timedelta(days=10)
dividends = table_of(Dividend)


class DividendNotFound(NotFound):
    code = "dividend_not_found"
    message = "No such dividend in this portfolio."


class DividendNotProposed(Conflict):
    code = "dividend_not_proposed"
    message = "Only a proposed dividend can be booked or dismissed."


class DividendNotYetPaid(Conflict):
    code = "dividend_not_yet_paid"
    message = "A dividend is booked on or after its pay date."


def entitlement(fills: list[Fill], splits: list[Any], ex_date: date) -> Decimal:
    """The quantity held at the close before `ex_date`, split-adjusted up to then."""
    before = [f for f in fills if f.trade_date < ex_date]
    return fold(
        before, allow_short=True, splits=[s for s in splits if s.ex_date < ex_date]
    ).quantity


async def propose(session: AsyncSession, portfolio: Portfolio, today: date) -> None:
    """Bring the portfolio's proposals up to date with its stored dividends and its trades
    (a back-dated trade changes an entitlement still proposed); with `auto_book_dividends`,
    book those paid by `today`. The caller holds the portfolio's lock."""
    history = await queries.booked_fills(session, portfolio.id)
    paid = await store.actions(session, list(history), kind=ActionType.CASH_DIVIDEND, end=today)
    if not paid:
        return
    splits = await queries.splits(session, list(history))
    existing = {
        row.action_id: row
        for row in await session.execute(
            select(
                dividends.c.action_id, dividends.c.id, dividends.c.status, dividends.c.quantity
            ).where(dividends.c.portfolio_id == portfolio.id)
        )
    }
    by_hand = await _booked_by_hand(session, portfolio.id)
    for action in paid:
        quantity = entitlement(
            history[action.instrument_id],
            [s for s, _ in splits.get(action.instrument_id, [])],
            action.ex_date,
        )
        await _propose_one(
            session, portfolio.id, action, quantity, existing.get(action.id), by_hand
        )
    if portfolio.auto_book_dividends and portfolio.archived_at is None:  # archived: read-only
        await _auto_book(session, portfolio, today)


async def _propose_one(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    action: store.StoredAction,
    quantity: Decimal,
    existing: Any,
    by_hand: list[tuple[int, date]],
) -> None:
    amount = (quantity * action.cash_amount).quantize(CENT, ROUND_HALF_UP)
    if existing is not None:
        if existing.status != DividendStatus.PROPOSED or existing.quantity == quantity:
            return
        if quantity <= 0:
            await session.execute(delete(dividends).where(dividends.c.id == existing.id))
        else:
            await session.execute(
                update(dividends)
                .where(dividends.c.id == existing.id)
                .values(quantity=quantity, amount=amount)
            )
        return
    if quantity <= 0:
        return
    pay_date = action.pay_date or action.ex_date
    matched = any(
        instrument == action.instrument_id and action.ex_date <= day <= pay_date + MATCH_DAYS
        for instrument, day in by_hand
    )
    statement = upsert(session, Dividend).on_conflict_do_nothing(
        index_elements=["portfolio_id", "action_id"]
    )
    await session.execute(
        statement,
        {
            "portfolio_id": portfolio_id,
            "action_id": action.id,
            "instrument_id": action.instrument_id,
            "ex_date": action.ex_date,
            "pay_date": pay_date,
            "quantity": quantity,
            "cash_amount": action.cash_amount,
            "amount": amount,
            "status": (DividendStatus.MATCHED if matched else DividendStatus.PROPOSED).value,
            "created_at": utcnow(),
        },
    )


async def _booked_by_hand(session: AsyncSession, portfolio_id: uuid.UUID) -> list[tuple[int, date]]:
    """(instrument, date) of the dividends booked as cash without a proposal."""
    rows = await session.execute(
        select(CashTransaction.instrument_id, CashTransaction.date).where(
            CashTransaction.portfolio_id == portfolio_id,
            CashTransaction.type == CashType.DIVIDEND,
            CashTransaction.instrument_id.is_not(None),
            CashTransaction.id.not_in(
                select(dividends.c.cash_transaction_id).where(
                    dividends.c.cash_transaction_id.is_not(None)
                )
            ),
        )
    )
    return [(instrument, day) for instrument, day in rows.tuples() if instrument is not None]


async def _auto_book(session: AsyncSession, portfolio: Portfolio, today: date) -> None:
    due = await session.scalars(
        select(dividends.c.id).where(
            dividends.c.portfolio_id == portfolio.id,
            dividends.c.status == DividendStatus.PROPOSED.value,
            dividends.c.pay_date <= today,
        )
    )
    for dividend_id in list(due):
        await book(session, portfolio.pm_id, portfolio, dividend_id, today, automatic=True)


async def _proposed(session: AsyncSession, portfolio_id: uuid.UUID, dividend_id: int) -> Dividend:
    row = await session.scalar(
        select(Dividend)
        .where(Dividend.id == dividend_id, Dividend.portfolio_id == portfolio_id)
        .with_for_update()
    )
    if row is None:
        raise DividendNotFound(details={"id": dividend_id})
    if row.status != DividendStatus.PROPOSED:
        raise DividendNotProposed(details={"id": dividend_id, "status": row.status.value})
    return row


async def book(
    session: AsyncSession,
    actor_id: uuid.UUID,
    portfolio: Portfolio,
    dividend_id: int,
    today: date,
    *,
    automatic: bool = False,
) -> Dividend:
    """Book a proposed dividend as a `dividend` cash transaction dated its pay date."""
    row = await _proposed(session, portfolio.id, dividend_id)
    if row.pay_date > today:
        raise DividendNotYetPaid(details={"id": dividend_id, "pay_date": row.pay_date.isoformat()})
    ticker = await session.scalar(
        select(Instrument.ticker).where(Instrument.id == row.instrument_id)
    )
    note = (
        f"{ticker} dividend of {row.cash_amount} a share on {row.quantity} shares, ex {row.ex_date}"
    )
    if automatic:
        note += " (booked automatically)"
    cash = posting.NewCash(CashType.DIVIDEND, row.amount, row.pay_date, note, row.instrument_id)
    posted = await posting.post_cash(session, actor_id, portfolio, cash, ticker)
    row.status, row.cash_transaction_id = DividendStatus.BOOKED, posted.ids[0]
    await _decided(session, actor_id, portfolio.id, row, "dividend.book")
    return row


async def dismiss(
    session: AsyncSession, actor_id: uuid.UUID, portfolio: Portfolio, dividend_id: int
) -> Dividend:
    row = await _proposed(session, portfolio.id, dividend_id)
    row.status = DividendStatus.DISMISSED
    await _decided(session, actor_id, portfolio.id, row, "dividend.dismiss")
    return row


async def _decided(
    session: AsyncSession, actor_id: uuid.UUID, portfolio_id: uuid.UUID, row: Dividend, action: str
) -> None:
    row.decided_by, row.decided_at = actor_id, utcnow()
    await session.flush()
    await record(
        session,
        actor_id=actor_id,
        action=action,
        object_type="dividend",
        object_id=row.id,
        portfolio_id=portfolio_id,
        after={"status": row.status.value, "amount": str(row.amount)},
    )


_LISTED = select(
    dividends.c.id,
    Instrument.ticker,
    dividends.c.ex_date,
    dividends.c.pay_date,
    dividends.c.quantity,
    dividends.c.cash_amount,
    dividends.c.amount,
    dividends.c.status,
    dividends.c.cash_transaction_id,
).join(Instrument, Instrument.id == dividends.c.instrument_id)


async def one(session: AsyncSession, portfolio_id: uuid.UUID, dividend_id: int) -> dict[str, Any]:
    row = await session.execute(
        _LISTED.where(dividends.c.portfolio_id == portfolio_id, dividends.c.id == dividend_id)
    )
    return dict(row.mappings().one())


async def listed(
    session: AsyncSession,
    portfolio_id: uuid.UUID,
    status: DividendStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """The portfolio's dividends, newest ex-date first, with their tickers."""
    query = _LISTED.where(dividends.c.portfolio_id == portfolio_id)
    if status is not None:
        query = query.where(dividends.c.status == status.value)
    rows = (
        (await session.execute(query.order_by(dividends.c.ex_date.desc(), dividends.c.id)))
        .mappings()
        .all()
    )
    return [dict(r) for r in rows[offset : offset + limit]], len(rows)
