"""Each rule's SQL form, as PostgreSQL sums it, equals its Python form row by row."""

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.ledger import queries
from app.ledger.models import CashTransaction, CashType, Side, Trade, TradeStatus
from app.ledger.rules import Fill, cash_effect, counts
from app.market.models import Instrument
from tests.factories import make_portfolio, make_user

FIRST = date(2025, 1, 1)


async def test_sql_and_python_forms_of_the_rules_agree(session: AsyncSession) -> None:
    rng = random.Random(3)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm)
    instrument = Instrument(ticker="RULEX", name="Rule X", currency="USD", provider="simulated")
    session.add(instrument)
    await session.flush()
    trades = [
        Trade(
            portfolio_id=portfolio.id,
            instrument_id=instrument.id,
            side=rng.choice(list(Side)),
            quantity=Decimal(rng.randint(1, 10**9)) / 10**4,
            price=Decimal(rng.randint(1, 10**12)) / 10**8,
            fees=Decimal(rng.randint(0, 999)) / 100,
            trade_date=FIRST + timedelta(days=rng.randint(0, 30)),
            status=rng.choice(list(TradeStatus)),
            created_by=pm.id,
        )
        for _ in range(200)
    ]
    cash = [
        CashTransaction(
            portfolio_id=portfolio.id,
            type=rng.choice(list(CashType)),
            amount=Decimal(rng.randint(1, 10**9)) / 100,
            date=FIRST + timedelta(days=rng.randint(0, 30)),
            created_by=pm.id,
        )
        for _ in range(50)
    ]
    session.add_all([*trades, *cash])
    await session.flush()

    counted = [t for t in trades if counts(t.status)]
    fills = [Fill(t.side.value, t.quantity, t.price, t.fees, t.trade_date, t.id) for t in counted]
    by_day: dict[date, Decimal] = defaultdict(Decimal)
    for f in fills:
        by_day[f.trade_date] += f.cash_effect
    assert dict(await queries.trade_cash_by_day(session, portfolio.id, None)) == by_day
    for c in cash:
        by_day[c.date] += cash_effect(c.type, c.amount)
    assert await queries.cash_moves(session, portfolio.id, None) == sorted(by_day.items())
    cut = FIRST + timedelta(days=15)
    assert await queries.cash_moves(session, portfolio.id, cut) == [
        (day, amount) for day, amount in sorted(by_day.items()) if day > cut
    ]

    [(_, days, quantities)] = await queries.quantity_arrays(session, portfolio.id, None, 8)
    epoch = date(1970, 1, 1)
    assert sorted(zip(days, quantities, strict=True)) == sorted(
        ((f.trade_date - epoch).days, int(f.signed_quantity * 10**8)) for f in fills
    )
