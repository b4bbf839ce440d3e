from typing import Annotated

from fastapi import Depends, Request

from app.market.service import MarketData


def market_data(request: Request) -> MarketData:
    market: MarketData = request.app.state.market_data
    return market


MarketDep = Annotated[MarketData, Depends(market_data)]
