import uuid
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.permissions import Role
from app.core.database import Base, Timestamps, UUIDPrimaryKey, utcnow


class Team(UUIDPrimaryKey, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(UUIDPrimaryKey, Timestamps, Base):
    """A Folio user, as fastapi-users expects one, with the desk's own fields."""

    __tablename__ = "users"
    # "Ada" and "ada" are one username.
    __table_args__ = (Index("uq_users_username_lower", func.lower(text("username")), unique=True),)

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(1024))
    username: Mapped[str] = mapped_column(String(50), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, values_callable=lambda e: [r.value for r in e]),
        default=Role.VIEWER,
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # In every token; a change of password, activation or role bumps it, ending all sessions.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role is Role.ADMIN
