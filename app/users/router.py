"""The signed-in user's own account."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi_users.exceptions import InvalidPasswordException, UserAlreadyExists

from app.audit.service import record, snapshot
from app.auth.dependencies import CsrfFailed, InvalidCredentials, require
from app.auth.permissions import Permission
from app.core.errors import responses
from app.users.manager import EmailTaken, InvalidPassword, UserManagerDep, UsernameTaken
from app.users.models import User
from app.users.schemas import UserRead, UserSelfUpdate

router = APIRouter(prefix="/users", tags=["users"])

AUDITED_FIELDS = ("email", "username", "full_name", "role", "team_id", "is_active", "approved_at")
Me = Annotated[User, Depends(require(Permission.ACCOUNT_SELF))]


@router.get("/me", response_model=UserRead, responses=responses(InvalidCredentials))
async def read_me(user: Me) -> User:
    return user


@router.patch(
    "/me",
    response_model=UserRead,
    responses=responses(InvalidCredentials, CsrfFailed, UsernameTaken, EmailTaken, InvalidPassword),
    summary="Change your email, username, full name or password",
)
async def update_me(
    body: UserSelfUpdate, user: Me, manager: UserManagerDep, request: Request
) -> User:
    before = snapshot(user, AUDITED_FIELDS)
    # null leaves a field as it is (these columns cannot be empty)
    body = UserSelfUpdate.model_validate(body.model_dump(exclude_none=True))
    try:
        updated = await manager.update(body, user, safe=True, request=request)
    except UserAlreadyExists as exc:
        raise EmailTaken from exc
    except InvalidPasswordException as exc:
        raise InvalidPassword(str(exc.reason)) from exc
    await record(
        manager.user_db.session,  # type: ignore[attr-defined]
        actor_id=user.id,
        action="user.update_self",
        object_type="user",
        object_id=user.id,
        before=before,
        after=snapshot(updated, AUDITED_FIELDS) | {"password_changed": body.password is not None},
    )
    return updated
