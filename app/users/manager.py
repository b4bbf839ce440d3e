"""fastapi-users' user manager and database adapter, fitted to Folio's unit of work."""

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi_users import BaseUserManager, InvalidPasswordException, UUIDIDMixin
from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from sqlalchemy.exc import IntegrityError

from app.audit.service import record, snapshot
from app.core.database import SessionDep
from app.core.errors import Conflict, InvalidInput
from app.state import AppStateDep
from app.users.email import EmailSender
from app.users.models import User
from app.users.schemas import UserCreate

MIN_PASSWORD_LENGTH = 10


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "That username is taken."


class EmailTaken(Conflict):
    code = "email_taken"
    message = "That email belongs to another account."


class InvalidPassword(InvalidInput):
    code = "invalid_password"
    message = "The password is not acceptable."


class UserDatabase(SQLAlchemyUserDatabase[User, uuid.UUID]):
    """Flushes instead of committing: the request's session dependency commits once."""

    async def create(self, create_dict: dict[str, Any]) -> User:
        return await self.create_user(User(**create_dict))

    async def create_user(self, user: User) -> User:
        await self._flush(user)
        return user

    async def update(self, user: User, update_dict: dict[str, Any]) -> User:
        for key, value in update_dict.items():
            setattr(user, key, value)
        await self._flush(user)
        return user

    async def delete(self, user: User) -> None:
        await self.session.delete(user)
        await self.session.flush()

    async def _flush(self, user: User) -> None:
        # Read before flushing: a failed flush expires the row, and reloading it then fails.
        details = {"username": user.username}
        try:
            async with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError as exc:
            raise UsernameTaken(details=details) from exc


def end_sessions(user: User) -> None:
    """Every token issued to the user so far stops working."""
    user.session_version += 1


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    def __init__(self, user_db: UserDatabase, secret: str, email: EmailSender) -> None:
        super().__init__(user_db)
        self.reset_password_token_secret = secret
        self.verification_token_secret = secret
        self.email = email

    async def validate_password(self, password: str, user: UserCreate | User) -> None:  # type: ignore[override]
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidPasswordException(
                reason=f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
            )
        lowered = password.lower()
        names = (
            str(getattr(user, "email", "") or "").lower().split("@")[0],
            str(getattr(user, "username", "") or "").lower(),
        )
        if any(len(name) >= 3 and name in lowered for name in names):
            raise InvalidPasswordException(
                reason="The password must not contain your email or username."
            )

    async def on_after_register(self, user: User, request: Request | None = None) -> None:
        await record(
            self.user_db.session,  # type: ignore[attr-defined]
            actor_id=user.id,
            action="user.register",
            object_type="user",
            object_id=user.id,
            after=snapshot(user, ("email", "username", "full_name", "role")),
        )

    async def on_after_update(
        self, user: User, update_dict: dict[str, Any], request: Request | None = None
    ) -> None:
        if "password" in update_dict:
            end_sessions(user)
            await self.user_db.session.flush()  # type: ignore[attr-defined]

    async def on_after_reset_password(self, user: User, request: Request | None = None) -> None:
        end_sessions(user)
        await self.user_db.session.flush()  # type: ignore[attr-defined]

    async def on_after_forgot_password(
        self, user: User, token: str, request: Request | None = None
    ) -> None:
        await self.email.send(
            user.email,
            "Reset your Folio password",
            f"Use this token with POST /auth/reset-password within the hour: {token}",
        )

    async def on_after_request_verify(
        self, user: User, token: str, request: Request | None = None
    ) -> None:
        await self.email.send(
            user.email, "Verify your Folio email", f"Use this token with POST /auth/verify: {token}"
        )


async def get_user_db(session: SessionDep) -> UserDatabase:
    return UserDatabase(session, User)


async def get_user_manager(
    state: AppStateDep, user_db: Annotated[UserDatabase, Depends(get_user_db)]
) -> UserManager:
    return UserManager(user_db, state.settings.secret_key, state.email)


UserManagerDep = Annotated[UserManager, Depends(get_user_manager)]
