"""Every ORM model, imported once so Alembic and the mappers see the whole schema."""

from app.audit.models import AuditEvent
from app.core.database import Base
from app.users.models import Team, User

__all__ = ["AuditEvent", "Base", "Team", "User"]
