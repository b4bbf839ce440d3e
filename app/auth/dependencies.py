"""Who is calling (cookie or bearer JWT) and whether they may: the access dependencies."""

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.permissions import Permission, PermissionDenied, has_permission, role_of
from app.auth.strategy import Account, as_user
from app.core.errors import Forbidden, Unauthorized
from app.state import shared
from app.users.models import User

AUTH_COOKIE = "folio_auth"
CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class InvalidCredentials(Unauthorized):
    code = "invalid_token"
    message = (
        "The token is missing, expired or signed out, or its account is inactive, "
        "not approved, or has changed its password or role since."
    )


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = "The X-CSRF-Token header must echo the csrftoken cookie."


class SignedIn(OAuth2PasswordBearer):
    """Lets a request through when it is signed in as an account the database has now (or
    as this process keeps it until the account changes: see auth/sessions.py), so that
    deactivation, a password change or a demotion takes effect at once; with a permission,
    only if the account's role has it. For a route's `dependencies`: it builds no user.

    A bearer token wins over the dashboard's cookie; only cookie-authenticated writes need
    CSRF. One dependency, not one per credential and one more for the permission: every
    signed-in request pays a solver pass for each (and a route signs in once: a test
    walks them).
    """

    def __init__(self, permission: Permission | None = None) -> None:
        super().__init__(
            tokenUrl="/auth/jwt/login",
            scheme_name="OAuth2PasswordBearer",
            auto_error=False,
            description=f"A bearer token, or the `{AUTH_COOKIE}` cookie set by "
            "`POST /auth/cookie/login` (whose writes echo the `csrftoken` cookie in "
            f"`{CSRF_HEADER}`).",
        )
        self.required_permission = permission

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        await self.account(request)

    async def account(self, request: Request) -> Account:
        bearer = await super().__call__(request)
        token = bearer or request.cookies.get(AUTH_COOKIE)
        state = shared(request)
        account = await state.tokens.signed_in_account(state.sessions, token) if token else None
        if account is None:
            raise InvalidCredentials(headers={"WWW-Authenticate": "Bearer"})
        if not bearer and request.method not in SAFE_METHODS:  # signed in by the cookie
            _check_csrf(request)
        if (permission := self.required_permission) is not None:
            role = role_of(account["role"], account["is_superuser"])
            if not has_permission(role, permission):
                raise PermissionDenied(details={"permission": permission.value})
        request.state.auth_token = token
        return account


class SignedInUser(SignedIn):
    """The signed-in user, for a route that reads or changes it."""

    async def __call__(self, request: Request) -> User:  # type: ignore[override]
        return as_user(await self.account(request))


def _check_csrf(request: Request) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    header = request.headers.get(CSRF_HEADER)
    if not cookie or not header or not hmac.compare_digest(cookie, header):
        raise CsrfFailed


current_user = SignedInUser()
CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: Permission) -> SignedInUser:
    """The signed-in user, if their role has `permission`."""
    return SignedInUser(permission)


def guard(permission: Permission) -> SignedIn:
    """For a route's `dependencies`: lets the call through if the signed-in user's role has
    `permission`, without building the user."""
    return SignedIn(permission)
