"""Sign-in and sign-out for the dashboard (cookie) and for curl (bearer), plus registration,
password reset and email verification from fastapi-users."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users.authentication import BearerTransport, CookieTransport, Transport
from fastapi_users.exceptions import (
    InvalidPasswordException,
    InvalidResetPasswordToken,
    UserAlreadyExists,
    UserInactive,
    UserNotExists,
)
from fastapi_users.router import get_verify_router
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.auth import throttle
from app.auth.dependencies import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    CsrfFailed,
    InvalidCredentials,
    guard,
)
from app.auth.permissions import Permission
from app.core.config import Settings
from app.core.database import SessionDep
from app.core.errors import DomainError, Forbidden, responses
from app.state import AppState, AppStateDep
from app.users.manager import UserManager, UserManagerDep, UsernameTaken, get_user_manager
from app.users.schemas import UserCreate, UserRead


class BadCredentials(DomainError):
    code = "login_bad_credentials"
    message = "Wrong email or password."


class AccountPendingApproval(Forbidden):
    code = "account_pending_approval"
    message = "This account is waiting for an admin's approval."


def _cookie_transport(settings: Settings) -> CookieTransport:
    return CookieTransport(
        cookie_name=AUTH_COOKIE,
        cookie_max_age=settings.access_token_lifetime_seconds,
        cookie_secure=not settings.is_development,
        cookie_httponly=True,
        cookie_samesite="lax",
    )


def _set_csrf_cookie(response: Response, settings: Settings, value: str | None) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        value or "",
        max_age=settings.access_token_lifetime_seconds if value else 0,
        secure=not settings.is_development,
        httponly=False,  # the dashboard reads it and echoes it in X-CSRF-Token
        samesite="lax",
    )


async def _sign_in(
    request: Request, state: AppState, form: OAuth2PasswordRequestForm, manager: UserManagerDep
) -> str:
    cache = state.cache
    address = request.client.host if request.client else "unknown"
    await throttle.admit(cache, form.username, address)
    user = await manager.authenticate(form)
    if user is None or not user.is_active:
        raise BadCredentials
    await throttle.succeeded(cache, form.username, address)
    if user.approved_at is None:
        raise AccountPendingApproval
    return await state.tokens.write_token(user)


async def _sign_out(request: Request, state: AppState, session: SessionDep) -> None:
    await state.tokens.revoke(session, request.state.auth_token)


class RegisterInvalidPassword(DomainError):
    code = "register_invalid_password"
    message = "The password is not acceptable."


class ResetTokenInvalid(DomainError):
    code = "reset_password_bad_token"
    message = "The reset token is invalid or expired."


class ResetInvalidPassword(DomainError):
    code = "reset_password_invalid_password"
    message = "The password is not acceptable."


class RegistrationReceived(BaseModel):
    message: str = (
        "If the address has no account yet, one is made and waits for an admin's approval."
    )


class EmailBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ada@desk.example"}]}
    )

    email: EmailStr


class PasswordReset(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"token": "the token from the email", "password": "a new passphrase"}]
        },
    )

    token: str = Field(max_length=2048)
    password: str = Field(max_length=128)


LOGIN_ERRORS = responses(BadCredentials, AccountPendingApproval, throttle.LoginThrottled)
LOGOUT_ERRORS = responses(InvalidCredentials, CsrfFailed)
FormDep = Annotated[OAuth2PasswordRequestForm, Depends()]


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])
    bearer: Transport = BearerTransport(tokenUrl="/auth/jwt/login")
    cookie = _cookie_transport(settings)
    signed_in = Depends(guard(Permission.ACCOUNT_SELF))

    @router.post("/jwt/login", summary="Sign in; returns a bearer token", responses=LOGIN_ERRORS)
    async def jwt_login(
        request: Request, state: AppStateDep, form: FormDep, manager: UserManagerDep
    ) -> Response:
        return await bearer.get_login_response(await _sign_in(request, state, form, manager))

    @router.post(
        "/jwt/logout",
        status_code=204,
        summary="Revoke the bearer token",
        responses=LOGOUT_ERRORS,
        dependencies=[signed_in],
    )
    async def jwt_logout(request: Request, state: AppStateDep, session: SessionDep) -> Response:
        await _sign_out(request, state, session)
        return Response(status_code=204)

    @router.post(
        "/cookie/login",
        status_code=204,
        responses=LOGIN_ERRORS,
        summary="Sign in; sets the HttpOnly auth cookie and the csrftoken cookie",
    )
    async def cookie_login(
        request: Request, state: AppStateDep, form: FormDep, manager: UserManagerDep
    ) -> Response:
        response = await cookie.get_login_response(await _sign_in(request, state, form, manager))
        _set_csrf_cookie(response, settings, secrets.token_urlsafe(32))
        return response

    @router.post(
        "/cookie/logout",
        status_code=204,
        summary="Sign out and revoke the cookie",
        responses=LOGOUT_ERRORS,
        dependencies=[signed_in],
    )
    async def cookie_logout(request: Request, state: AppStateDep, session: SessionDep) -> Response:
        await _sign_out(request, state, session)
        response = await cookie.get_logout_response()
        _set_csrf_cookie(response, settings, None)
        return response

    @router.post(
        "/register",
        status_code=202,
        response_model=RegistrationReceived,
        responses=responses(UsernameTaken, RegisterInvalidPassword),
        summary="Ask for an account; an admin approves it before it can sign in",
    )
    async def register(
        request: Request, body: UserCreate, manager: UserManagerDep
    ) -> RegistrationReceived:
        try:
            await manager.create(body, safe=True, request=request)
        except UserAlreadyExists:
            same_work_as_a_hash(manager)
        except InvalidPasswordException as exc:
            raise RegisterInvalidPassword(str(exc.reason)) from exc
        return RegistrationReceived()

    @router.post(
        "/forgot-password",
        status_code=202,
        summary="Send a password reset token by email, if the address has an active account",
    )
    async def forgot_password(request: Request, body: EmailBody, manager: UserManagerDep) -> None:
        try:
            user = await manager.get_by_email(body.email)
            await manager.forgot_password(user, request)
        except (UserNotExists, UserInactive):
            same_work_as_a_hash(manager)

    @router.post(
        "/reset-password",
        responses=responses(ResetTokenInvalid, ResetInvalidPassword),
        summary="Set a new password with a reset token; every session of the account ends",
    )
    async def reset_password(
        request: Request, body: PasswordReset, manager: UserManagerDep
    ) -> None:
        try:
            await manager.reset_password(body.token, body.password, request)
        except (InvalidResetPasswordToken, UserNotExists, UserInactive) as exc:
            raise ResetTokenInvalid from exc
        except InvalidPasswordException as exc:
            raise ResetInvalidPassword(str(exc.reason)) from exc

    router.include_router(get_verify_router(get_user_manager, UserRead))
    return router


def same_work_as_a_hash(manager: UserManager) -> None:
    """What hashing a password costs, spent where an answer must not say that an address
    has (or has no) account by how fast it comes."""
    manager.password_helper.hash(secrets.token_urlsafe(16))
