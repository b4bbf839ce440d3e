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
