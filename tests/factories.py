"""Small builders for test data."""

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.market.models import Instrument, PriceBar, PriceCoverage
from app.portfolios.models import Portfolio
from app.users.models import Team, User
from app.users.service import create_user

PASSWORD = "correct horse battery staple"
_counter = itertools.count()


async def make_user(
    session: AsyncSession,
    role: Role = Role.ANALYST,
    *,
    approved: bool = True,
    team: Team | None = None,
    superuser: bool = False,
) -> User:
    n = f"{next(_counter)}{uuid.uuid4().hex[:6]}"
    user = await create_user(
        session,
        email=f"user{n}@desk.example",
        password=PASSWORD,
        username=f"user{n}",
        full_name=f"User {n}",
        role=role,
        superuser=superuser,
        approved=approved,
    )
    if team is not None:
        user.team_id = team.id
    await session.commit()
    return user


async def make_team(session: AsyncSession, name: str | None = None) -> Team:
    team = Team(name=name or f"Team {uuid.uuid4().hex[:8]}")
    session.add(team)
    await session.commit()
    return team


async def bearer(app: FastAPI, user: User) -> dict[str, str]:
    """Authorization headers with a token our JWT strategy issued for user."""
    token = await app.state.shared.tokens.write_token(user)
    return {"Authorization": f"Bearer {token}"}


async def make_portfolio(
    session: AsyncSession,
    pm: User,
    *,
    team: Team | None = None,
    cash: str = "0",
    allow_short: bool = False,
    allow_negative_cash: bool = False,
) -> Portfolio:
    n = uuid.uuid4().hex[:8]
    portfolio = Portfolio(
        slug=f"fund-{n}",
        name=f"Fund {n}",
        pm_id=pm.id,
        team_id=team.id if team else None,
        cash_balance=Decimal(cash),
        allow_short=allow_short,
        allow_negative_cash=allow_negative_cash,
    )
    session.add(portfolio)
    await session.commit()
    return portfolio


# Prices stored as if a vendor had given them, long before any test runs, under the
# simulated provider's name, with every later corporate action known (there are none).
PRICES_PROVIDER = "simulated"
PRICES_STORED_AT = datetime(2024, 2, 1, tzinfo=UTC)
ACTIONS_KNOWN = date(2099, 12, 31)


@dataclass(frozen=True)
class StoredBar:
    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    adj_close: Decimal
    volume: int


def flat_bar(day: date, close: Decimal, volume: int = 1000) -> StoredBar:
    """A bar whose open, high, low and adjusted close are its close."""
    return StoredBar(day, close, close, close, close, close, volume)


async def store_priced(
    session: AsyncSession,
    ticker: str,
    bars: Sequence[StoredBar],
    *,
    covered_through: date | None = None,
) -> int:
    """An instrument with these bars, the dates from its first bar to `covered_through`
    (default: its last) covered, so nothing is asked of the vendor; committed."""
    first = bars[0].date if bars else None
    last = bars[-1].date if bars else None
    instrument = Instrument(
        ticker=ticker,
        name=f"Test {ticker}",
        currency="USD",
        provider=PRICES_PROVIDER,
        first_price_date=first,
        last_price_date=last,
        actions_through=ACTIONS_KNOWN,
    )
    session.add(instrument)
    await session.flush()
    if first is not None:
        session.add(
            PriceCoverage(
                instrument_id=instrument.id,
                provider=PRICES_PROVIDER,
                start_date=first,
                end_date=covered_through or last or first,
                fetched_at=PRICES_STORED_AT,
            )
        )
    session.add_all(price_bar(instrument.id, bar) for bar in bars)
    await session.commit()
    return instrument.id


def price_bar(instrument_id: int, bar: StoredBar) -> PriceBar:
    """The stored row of a bar."""
    return PriceBar(
        instrument_id=instrument_id,
        **vars(bar),
        provider=PRICES_PROVIDER,
        fetched_at=PRICES_STORED_AT,
    )
