from datetime import date

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
