"""Who is calling (cookie or bearer JWT) and whether they may: the access dependencies."""

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer

from app.auth.permissions import Permission, PermissionDenied, effective_role, has_permission
from app.core.errors import Forbidden, Unauthorized
from app.state import AppStateDep
from app.users.models import User

AUTH_COOKIE = "folio_auth"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/jwt/login", auto_error=False)
cookie_scheme = APIKeyCookie(name=AUTH_COOKIE, auto_error=False)


class InvalidCredentials(Unauthorized):
    code = "invalid_token"
    message = (
        "The token is missing, expired or signed out, or its account is inactive, "
        "not approved, or has changed its password or role since."
    )


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = "The X-CSRF-Token header must echo the csrftoken cookie."


async def current_user(
    request: Request,
    state: AppStateDep,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> User:
    """The signed-in user, as the database has the account now (or as this process keeps it
    until the account changes: see auth/sessions.py), so that deactivation, a password
    change or a demotion takes effect at once.

    A bearer token wins over the cookie; only cookie-authenticated writes need CSRF.
    """
    token = bearer or cookie
    user = await state.tokens.signed_in_user(state.sessions, token) if token else None
    if user is None:
        raise InvalidCredentials(headers={"WWW-Authenticate": "Bearer"})
    if bearer is None and request.method not in SAFE_METHODS:
        _check_csrf(request)
    request.state.auth_token = token
    return user


def _check_csrf(request: Request) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    header = request.headers.get(CSRF_HEADER)
    if not cookie or not header or not hmac.compare_digest(cookie, header):
        raise CsrfFailed


CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: Permission) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets the call through only if the user's role has `permission`."""

    async def check_permission(user: CurrentUser) -> User:
        if not has_permission(effective_role(user), permission):
            raise PermissionDenied(details={"permission": permission.value})
        return user

    check_permission.required_permission = permission  # type: ignore[attr-defined]
    return check_permission
