from datetime import date
from decimal import Decimal

from pydantic import BaseModel


class PositionRead(BaseModel):
    ticker: str
    quantity: Decimal
    average_cost: Decimal
    cost_basis: Decimal
    realized_pnl: Decimal
    opened_on: date | None
