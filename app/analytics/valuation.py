"""Valuation as of a date: each holding at that day's close (or today's quote), cash, NAV.

A holding without any price is named in `missing_prices` and left unvalued; the totals that
would need it (market value, NAV, unrealized P&L, weights) are then null, never partial.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.analytics.performance import check_date, market_today
from app.analytics.schemas import PositionValue, ValuationRead, money, percent, ratio
from app.core.database import utcnow
from app.ledger import actions, queries
from app.ledger.fold import fold
from app.market import history
from app.market.calendar import last_final_date, new_york_date
from app.market.history import EXACT
from app.market.results import QuoteResult
from app.market.service import MAX_QUOTES, MarketData
from app.portfolios.models import Portfolio


@dataclass(frozen=True, slots=True)
class Held:
    instrument_id: int
    ticker: str
    quantity: Decimal
    cost_basis: Decimal
    realized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class Price:
    value: Decimal
    day: date
    previous: Decimal | None
    source: str
    stale: bool


async def valuation(
    session: AsyncSession, market: MarketData, portfolio: Portfolio, as_of: date | None
) -> ValuationRead:
    today = market_today()
    as_of = as_of or today
    check_date(as_of, "as_of")
    await actions.apply_splits(session, market, portfolio, min(as_of, settled()))
    held, cash = await holdings_at(session, portfolio, as_of, today)
    live = as_of >= today and len(held) <= MAX_QUOTES
    quoted = await price_all(session, market, held, as_of, live=live)
    return value(held, quoted, cash, as_of, market.provider.name)


def settled() -> date:
    """The last date whose close is final."""
    return last_final_date(utcnow())


async def holdings_at(
    session: AsyncSession, portfolio: Portfolio, as_of: date, today: date
) -> tuple[list[Held], Decimal]:
    """Open holdings and cash at the close of `as_of`: the positions themselves for today,
    else a fold of the trades up to that date."""
    if as_of >= today:
        held = await queries.holdings(session, portfolio.id)
        return [
            Held(i, t, h.quantity, h.cost_basis, h.realized_pnl) for i, t, h in held if h.quantity
        ], portfolio.cash_balance
    fills = await queries.fills_until(session, portfolio.id, as_of)
    cash = portfolio.cash_balance - await queries.cash_moved_after(session, portfolio.id, as_of)
    splits = await queries.splits(session, [i for i, _ in fills], through=as_of)
    folded = {
        (i, t): fold(f, allow_short=True, splits=[s for s, _ in splits.get(i, [])]).holding()
        for (i, t), f in fills.items()
    }
    return [
        Held(i, t, h.quantity, h.cost_basis, h.realized_pnl)
        for (i, t), h in folded.items()
        if h.quantity
    ], cash


def _held(row: dict[str, Any]) -> Held:
    return Held(
        row["instrument_id"], row["ticker"], row["quantity"], row["cost_basis"], row["realized_pnl"]
    )


async def price_all(
    session: AsyncSession,
    market: MarketData,
    held: Sequence[Held],
    as_of: date,
    *,
    live: bool,
) -> dict[int, Price]:
    """Each holding's close of `as_of` (or the latest before it) and the one before, through
    the price-history reader; live quotes override them when `live`."""
    tickers = {h.instrument_id: h.ticker for h in held}
    recent, unconfirmed = await history.recent(market, session, tickers, as_of)
    found = {
        i: Price(c[0][1], c[0][0], c[1][1] if len(c) > 1 else None, "close", False)
        for i, c in recent.items()
    }
    for u in unconfirmed:  # a day after the close used may have had a bar: not confirmed
        for i in (i for i, t in tickers.items() if t == u.ticker and i in found):
            if u.end > found[i].day:
                found[i] = replace(found[i], stale=True)
    if live:
        found |= await _quoted(market, held, found)
    return found


async def _quoted(
    market: MarketData, held: Sequence[Held], closes: dict[int, Price]
) -> dict[int, Price]:
    answers = await market.quotes([h.ticker for h in held])
    out = {}
    for h in held:
        answer = answers.get(h.ticker)
        if not isinstance(answer, QuoteResult):
            continue
        quote, close = answer.quote, closes.get(h.instrument_id)
        previous = quote.previous_close or (close.value if close else None)
        out[h.instrument_id] = Price(
            quote.price, new_york_date(quote.as_of), previous, "quote", answer.stale
        )
    return out


def value(
    held: Sequence[Held], quoted: dict[int, Price], cash: Decimal, as_of: date, provider: str
) -> ValuationRead:
    with localcontext(EXACT):
        lines = [_line(h, quoted.get(h.instrument_id)) for h in held]
        market_value = _total(line["market_value"] for line in lines)
        nav = None if market_value is None else cash + market_value
        cost = sum((h.cost_basis for h in held), Decimal(0))
        unrealized = None if market_value is None else market_value - cost
        day_change = _total(line["day_change"] for line in lines)
        before = _total(line["previous_value"] for line in lines)
        return ValuationRead(
            as_of=as_of,
            nav=money(nav),
            cash=money(cash),
            market_value=money(market_value),
            cost_basis=money(cost),
            unrealized_pnl=money(unrealized),
            unrealized_pnl_pct=_percent_of(unrealized, cost),
            day_change=money(day_change),
            day_change_pct=_percent_of(day_change, before),
            positions=[_position(line, nav) for line in lines],
            missing_prices=[line["ticker"] for line in lines if line["last_price"] is None],
            stale_prices=[line["ticker"] for line in lines if line["stale"]],
            provider=provider,
        )


def _line(h: Held, price: Price | None) -> dict[str, Any]:
    mv = h.quantity * price.value if price else None
    previous = price.previous if price else None
    return {
        "ticker": h.ticker,
        "quantity": h.quantity,
        "average_cost": h.cost_basis / h.quantity if h.quantity else Decimal(0),
        "cost_basis": h.cost_basis,
        "realized_pnl": h.realized_pnl,
        "last_price": price.value if price else None,
        "price_date": price.day if price else None,
        "price_source": price.source if price else None,
        "stale": price.stale if price else False,
        "market_value": mv,
        "unrealized_pnl": mv - h.cost_basis if mv is not None else None,
        "previous_close": previous,
        "previous_value": h.quantity * previous if previous is not None else None,
        "day_change": h.quantity * (price.value - previous) if price and previous else None,
    }


def _position(line: dict[str, Any], nav: Decimal | None) -> PositionValue:
    mv = line["market_value"]
    return PositionValue(
        **{k: v for k, v in line.items() if k != "previous_value"}
        | {
            "market_value": money(mv),
            "unrealized_pnl": money(line["unrealized_pnl"]),
            "unrealized_pnl_pct": _percent_of(line["unrealized_pnl"], line["cost_basis"]),
            "weight": ratio(mv / nav) if mv is not None and nav else None,
            "day_change": money(line["day_change"]),
            "day_change_pct": _percent_of(line["day_change"], line["previous_value"]),
        }
    )


def _total(values: Any) -> Decimal | None:
    total = Decimal(0)
    for v in values:
        if v is None:
            return None
        total += v
    return total


def _percent_of(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    return percent(part / abs(whole)) if part is not None and whole else None


async def last_closes(
    session: AsyncSession, market: MarketData, tickers: dict[int, str]
) -> dict[int, Decimal]:
    """The latest stored close of each instrument (by id) that has one."""
    held = [Held(i, t, Decimal(0), Decimal(0), Decimal(0)) for i, t in tickers.items()]
    quoted = await price_all(session, market, held, market_today(), live=False)
    return {i: price.value for i, price in quoted.items()}


async def mark(
    session: AsyncSession, market: MarketData, portfolio: Portfolio, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Position rows with their value at the latest stored close: one bulk read of prices."""
    held = [_held(r) for r in rows]
    quoted = await price_all(session, market, held, market_today(), live=False)
    with localcontext(EXACT):
        lines = [_line(h, quoted.get(h.instrument_id)) for h in held]
        total = _total(
            line["market_value"] for line, h in zip(lines, held, strict=True) if h.quantity
        )
        nav = None if total is None else portfolio.cash_balance + total
        return [
            row
            | {
                "last_price": line["last_price"],
                "price_date": line["price_date"],
                "market_value": money(line["market_value"]),
                "unrealized_pnl": money(line["unrealized_pnl"]),
                "weight": ratio(line["market_value"] / nav)
                if line["market_value"] is not None and nav
                else None,
            }
            for row, line in zip(rows, lines, strict=True)
        ]
