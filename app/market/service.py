"""Market data as the rest of Folio sees it: one provider behind one facade."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.cache import Cache
from app.core.config import ProviderName, Settings
from app.market.provider import MarketDataProvider
from app.market.simulated import SimulatedProvider
from app.ops.schemas import Check


class MarketData:
    def __init__(self, provider: MarketDataProvider) -> None:
        self.provider = provider

    def health(self) -> Check:
        return Check(status="up", backend=self.provider.name)

    async def close(self) -> None:
        await self.provider.aclose()


def create_market_data(
    settings: Settings, cache: Cache, sessionmaker: async_sessionmaker[AsyncSession]
) -> MarketData:
    if settings.selected_provider is not ProviderName.SIMULATED:
        raise NotImplementedError("vendor providers arrive with the market-data clients")
    return MarketData(SimulatedProvider())
