"""Every ORM model, imported once so Alembic and the mappers see the whole schema."""

from app.audit.models import AuditEvent
from app.core.database import Base
from app.market.models import Instrument, PriceBar, PriceCoverage
from app.users.models import Team, User

__all__ = ["AuditEvent", "Base", "Instrument", "PriceBar", "PriceCoverage", "Team", "User"]
