"""Load a portfolio by slug for a caller: 404 outside it, 403 without the permission."""

from collections.abc import Awaitable, Callable

from app.auth.dependencies import CurrentUser, PermissionDenied, effective_role
from app.auth.permissions import PM_ONLY, Permission, Role, has_permission
from app.core.database import SessionDep
from app.portfolios import service
from app.portfolios.models import Portfolio


def portfolio_access(permission: Permission) -> Callable[..., Awaitable[Portfolio]]:
    async def load_portfolio(slug: str, user: CurrentUser, session: SessionDep) -> Portfolio:
        portfolio = await service.get_visible(session, user, slug)
        role = effective_role(user)
        if not has_permission(role, permission):
            raise PermissionDenied(details={"permission": permission.value})
        if permission in PM_ONLY and role is not Role.ADMIN and portfolio.pm_id != user.id:
            raise PermissionDenied(
                "Only the portfolio's PM may do this.", details={"permission": permission.value}
            )
        return portfolio

    load_portfolio.required_permission = permission  # type: ignore[attr-defined]
    return load_portfolio
