import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.backtests.fills import OrderKind
from app.core.schemas import DecimalString, IsoDate
from app.ledger.models import Side
from app.orders.models import Leg, OrderClass, OrderEventType, OrderStatus, TimeInForce
from app.orders.policy import CheckRead
from app.portfolios.schemas import Ticker
from app.trades.schemas import Price, Quantity

# A colon is Folio's own: a bracket's legs and a strategy's orders are named with one.
ClientOrderId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class TakeProfit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit_price: Price


class StopLoss(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stop_price: Price


class OrderRequest(BaseModel):
    """An order to check or place. `limit_price` for limit and stop-limit orders,
    `stop_price` for stop and stop-limit ones; a bracket takes `take_profit` and/or
    `stop_loss`, placed as the opposite side's children once the order fills."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "client_order_id": "desk-2026-12-04-001",
                    "ticker": "AAPL",
                    "side": "buy",
                    "type": "limit",
                    "time_in_force": "gtc",
                    "quantity": "100",
                    "limit_price": "185.00",
                    "order_class": "bracket",
                    "take_profit": {"limit_price": "210.00"},
                    "stop_loss": {"stop_price": "170.00"},
                }
            ]
        },
    )

    client_order_id: ClientOrderId | None = Field(
        default=None, description="Your id for it: sent again, the first order is answered"
    )
    ticker: Ticker
    side: Side
    type: OrderKind = OrderKind.MARKET
    time_in_force: TimeInForce = TimeInForce.DAY
    quantity: Quantity
    limit_price: Price | None = None
    stop_price: Price | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    take_profit: TakeProfit | None = None
    stop_loss: StopLoss | None = None
    override_reason: Reason | None = Field(
        default=None, description="Accept a soft breach of the policy (the portfolio's PM)"
    )

    @model_validator(mode="after")
    def _prices_fit_type(self) -> Self:
        needs_limit = self.type in (OrderKind.LIMIT, OrderKind.STOP_LIMIT)
        needs_stop = self.type in (OrderKind.STOP, OrderKind.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise ValueError(
                f"limit_price is {'required' if needs_limit else 'not taken'} "
                f"for a {self.type.value} order"
            )
        if needs_stop != (self.stop_price is not None):
            raise ValueError(
                f"stop_price is {'required' if needs_stop else 'not taken'} "
                f"for a {self.type.value} order"
            )
        legs = self.take_profit is not None or self.stop_loss is not None
        if (self.order_class is OrderClass.BRACKET) != legs:
            raise ValueError(
                "a bracket order takes take_profit and/or stop_loss; a simple order takes neither"
            )
        gains = self.side is Side.BUY
        prices = [  # from the lowest up for a buy: stop-loss, entry, take-profit
            self.stop_loss.stop_price if self.stop_loss else None,
            self.limit_price,
            self.take_profit.limit_price if self.take_profit else None,
        ]
        known = [p for p in prices if p is not None]
        if known != sorted(known, reverse=not gains) or len(set(known)) < len(known):
            raise ValueError(
                "a bracket's stop_loss, limit_price and take_profit must rise in that order "
                "for a buy and fall for a sell"
            )
        return self


class OrderRead(BaseModel):
    id: int
    client_order_id: str
    ticker: str
    side: Side
    type: OrderKind
    time_in_force: TimeInForce
    quantity: DecimalString
    limit_price: DecimalString | None
    stop_price: DecimalString | None
    order_class: OrderClass
    leg: Leg | None = Field(description="Which child of a bracket this is")
    parent_id: int | None
    status: OrderStatus
    filled_quantity: DecimalString
    filled_avg_price: DecimalString | None
    checks: CheckRead | None = Field(description="The latest pre-trade check")
    legs: list["OrderRead"] = Field(default_factory=list, description="A bracket's children")
    placed_by: uuid.UUID
    strategy_id: int | None
    signal_id: int | None
    broker: str
    broker_order_id: str | None
    created_at: datetime
    submitted_at: datetime | None
    filled_at: datetime | None
    canceled_at: datetime | None
    expired_at: datetime | None


class OrderEventRead(BaseModel):
    id: int
    order_id: int
    type: OrderEventType
    at: datetime
    by: uuid.UUID | None
    data: dict[str, Any]


class OverrideRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "approved by the investment committee"}]},
    )
    reason: Reason


class PaperRun(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    through: IsoDate | None = Field(
        default=None, description="The last bar to fill on; default: the last final close"
    )


class PaperRunRead(BaseModel):
    through: date
    portfolios: int
    fills: int
    expired: int
    rejected: int
