"""Sign-in and sign-out for the dashboard (cookie) and for curl (bearer), plus registration,
password reset and email verification from fastapi-users."""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users.authentication import BearerTransport, CookieTransport, Transport
from fastapi_users.router import get_register_router, get_reset_password_router, get_verify_router

from app.auth import throttle
from app.auth.dependencies import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    CsrfFailed,
    InvalidCredentials,
    jwt_strategy,
    require,
)
from app.auth.permissions import Permission
from app.core.config import Settings
from app.core.database import SessionDep
from app.core.errors import DomainError, Forbidden, responses
from app.users.manager import UserManagerDep, UsernameTaken, get_user_manager
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
    request: Request, form: OAuth2PasswordRequestForm, manager: UserManagerDep
) -> str:
    cache = request.app.state.cache
    address = request.client.host if request.client else "unknown"
    await throttle.admit(cache, form.username, address)
    user = await manager.authenticate(form)
    if user is None or not user.is_active:
        raise BadCredentials
    await throttle.succeeded(cache, form.username, address)
    if user.approved_at is None:
        raise AccountPendingApproval
    return await jwt_strategy(request).write_token(user)


async def _sign_out(request: Request, session: SessionDep) -> None:
    await jwt_strategy(request).revoke(session, request.state.auth_token)


LOGIN_ERRORS = responses(BadCredentials, AccountPendingApproval, throttle.LoginThrottled)
LOGOUT_ERRORS = responses(InvalidCredentials, CsrfFailed)
FormDep = Annotated[OAuth2PasswordRequestForm, Depends()]


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth"])
    bearer: Transport = BearerTransport(tokenUrl="/auth/jwt/login")
    cookie = _cookie_transport(settings)
    signed_in = Depends(require(Permission.ACCOUNT_SELF))

    @router.post("/jwt/login", summary="Sign in; returns a bearer token", responses=LOGIN_ERRORS)
    async def jwt_login(request: Request, form: FormDep, manager: UserManagerDep) -> Response:
        return await bearer.get_login_response(await _sign_in(request, form, manager))

    @router.post(
        "/jwt/logout",
        status_code=204,
        summary="Revoke the bearer token",
        responses=LOGOUT_ERRORS,
        dependencies=[signed_in],
    )
    async def jwt_logout(request: Request, session: SessionDep) -> Response:
        await _sign_out(request, session)
        return Response(status_code=204)

    @router.post(
        "/cookie/login",
        status_code=204,
        responses=LOGIN_ERRORS,
        summary="Sign in; sets the HttpOnly auth cookie and the csrftoken cookie",
    )
    async def cookie_login(request: Request, form: FormDep, manager: UserManagerDep) -> Response:
        response = await cookie.get_login_response(await _sign_in(request, form, manager))
        _set_csrf_cookie(response, settings, secrets.token_urlsafe(32))
        return response

    @router.post(
        "/cookie/logout",
        status_code=204,
        summary="Sign out and revoke the cookie",
        responses=LOGOUT_ERRORS,
        dependencies=[signed_in],
    )
    async def cookie_logout(request: Request, session: SessionDep) -> Response:
        await _sign_out(request, session)
        response = await cookie.get_logout_response()
        _set_csrf_cookie(response, settings, None)
        return response

    router.include_router(
        get_register_router(get_user_manager, UserRead, UserCreate),
        responses=responses(UsernameTaken),
    )
    router.include_router(get_reset_password_router(get_user_manager))
    router.include_router(get_verify_router(get_user_manager, UserRead))
    return router
