"""Every ORM model, imported once so Alembic and the mappers see the whole schema."""

from app.analytics.models import PortfolioNav
from app.audit.models import AuditEvent
from app.auth.models import RevokedToken
from app.backtests.models import Backtest
from app.core.database import Base
from app.core.idempotency import IdempotencyKey
from app.indicators.models import IndicatorValue
from app.jobs.models import JobProgress
from app.ledger.models import CashTransaction, Dividend, Lot, Position, Trade
from app.market.models import CorporateAction, Instrument, PriceBar, PriceCoverage
from app.orders.models import Order, OrderEvent, OrderFill
from app.portfolios.models import Portfolio, PortfolioMember
from app.strategies.models import Signal, Strategy, StrategyEvent
from app.users.models import Team, User

__all__ = [
    "AuditEvent",
    "Backtest",
    "Base",
    "CashTransaction",
    "CorporateAction",
    "Dividend",
    "IdempotencyKey",
    "IndicatorValue",
    "Instrument",
    "JobProgress",
    "Lot",
    "Order",
    "OrderEvent",
    "OrderFill",
    "Portfolio",
    "PortfolioMember",
    "PortfolioNav",
    "Position",
    "PriceBar",
    "PriceCoverage",
    "RevokedToken",
    "Signal",
    "Strategy",
    "StrategyEvent",
    "Team",
    "Trade",
    "User",
]
