from datetime import date
from typing import Literal

from pydantic import BaseModel

from app.core.schemas import DecimalString


class PositionRead(BaseModel):
    ticker: str
    quantity: DecimalString
    average_cost: DecimalString
    cost_basis: DecimalString
    realized_pnl: DecimalString
    opened_on: date | None
    last_price: DecimalString | None = None
    price_date: date | None = None
    market_value: DecimalString | None = None
    unrealized_pnl: DecimalString | None = None
    weight: DecimalString | None = None


class LotRead(BaseModel):
    ticker: str
    trade_id: int
    open_date: date
    quantity: DecimalString
    cost_per_share: DecimalString
    cost: DecimalString
    holding_days: int
    last_price: DecimalString | None
    market_value: DecimalString | None
    unrealized_pnl: DecimalString | None


class ClosedLotRead(BaseModel):
    ticker: str
    open_trade_id: int
    close_trade_id: int
    open_date: date
    close_date: date
    quantity: DecimalString
    cost: DecimalString
    proceeds: DecimalString
    gain: DecimalString
    term: Literal["short", "long"]
