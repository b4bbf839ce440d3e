"""The first admin: from FIRST_SUPERUSER_* settings, or, in the embedded mode, generated once."""

import logging
import secrets

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.permissions import Role
from app.core.config import Settings
from app.core.errors import Conflict
from app.users.models import User
from app.users.service import create_user

logger = logging.getLogger("folio.admin")

EMBEDDED_ADMIN_EMAIL = "admin@folio.example"


async def ensure_first_admin(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    email, password = settings.first_superuser_email, settings.first_superuser_password
    if not (email and password) and not settings.is_sqlite:
        return
    async with sessionmaker() as session:
        admin = await session.scalar(
            select(User.id).where(or_(User.role == Role.ADMIN, User.is_superuser)).limit(1)
        )
        if admin is not None:
            return
        generated = not (email and password)
        if generated:
            email, password = EMBEDDED_ADMIN_EMAIL, secrets.token_urlsafe(12)
        assert email and password
        try:
            await create_user(
                session, email=email, password=password, username="admin", superuser=True
            )
            await session.commit()
        except Conflict:
            return  # another worker created it first
        logger.info("first admin created", extra={"email": email})
        if generated:
            print(
                f"\nFolio created an admin account: {email}\n"
                f"One-time password (shown only now): {password}\n"
                "Sign in and change it with PATCH /users/me.\n",
                flush=True,
            )
