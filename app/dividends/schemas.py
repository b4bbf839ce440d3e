from datetime import date

from pydantic import BaseModel

from app.core.pagination import Page
from app.core.schemas import DecimalString
from app.ledger.models import DividendStatus


class DividendRead(BaseModel):
    id: int
    ticker: str
    ex_date: date
    pay_date: date
    quantity: DecimalString
    cash_amount: DecimalString
    amount: DecimalString
    status: DividendStatus
    cash_transaction_id: int | None


DividendPage = Page[DividendRead]
