"""Every ORM model, imported once so Alembic and the mappers see the whole schema."""

from app.core.database import Base

__all__ = ["Base"]
