"""An instrument's sector: the vendor's where it gives one, else set by an admin or PM."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.market.models import Instrument
from app.market.service import MarketData, normalise


async def stored_sector(session: AsyncSession, ticker: str) -> str | None:
    return await session.scalar(
        select(Instrument.sector).where(Instrument.ticker == normalise(ticker))
    )


async def classify(
    session: AsyncSession,
    market: MarketData,
    actor_id: uuid.UUID,
    ticker: str,
    sector: str | None,
) -> Instrument:
    """Set the instrument's sector (None: the vendor's again); audited."""
    instrument = await market.ensure_instrument(session, ticker)
    before = instrument.sector
    instrument.sector = sector or (await market.ticker_info(ticker)).info.sector
    await session.flush()
    await record(
        session,
        actor_id=actor_id,
        action="instrument.classify",
        object_type="instrument",
        object_id=instrument.ticker,
        before={"sector": before},
        after={"sector": instrument.sector},
    )
    return instrument
