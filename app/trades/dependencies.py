"""The instrument a booking names, resolved before the portfolio is locked."""

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentUser
from app.core.database import SessionDep
from app.ledger.posting import instrument_for
from app.market.models import Instrument
from app.state import MarketDep
from app.trades.schemas import TradeCreate


async def trade_instrument(
    body: TradeCreate, _: CurrentUser, session: SessionDep, market: MarketDep
) -> Instrument:
    """A first-seen ticker is asked of the provider here, before any of the booking's
    writes and before the portfolio's lock is taken (any signed-in user may look a ticker
    up: market:read is everyone's)."""
    return await instrument_for(session, market, body.ticker)


TradeInstrument = Annotated[Instrument, Depends(trade_instrument)]
