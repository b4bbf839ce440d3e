"""Load a portfolio by slug for a caller: 404 outside it, 403 without the permission."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import CsrfFailed, CurrentUser, InvalidCredentials
from app.auth.permissions import (
    PM_ONLY,
    Permission,
    PermissionDenied,
    Role,
    effective_role,
    has_permission,
)
from app.core.database import SessionDep
from app.core.errors import responses
from app.core.idempotency import IdempotencyKeyHeader, idempotent_post
from app.portfolios import service
from app.portfolios.models import Portfolio


def portfolio_access(
    permission: Permission, *, for_update: bool = False
) -> Callable[..., Awaitable[Portfolio]]:
    """With `for_update`, the portfolio row is locked for the request's transaction in the
    statement that checks visibility, and an archived portfolio is refused."""

    async def load_portfolio(slug: str, user: CurrentUser, session: SessionDep) -> Portfolio:
        portfolio = await service.get_visible(session, user, slug, for_update=for_update)
        role = effective_role(user)
        if not has_permission(role, permission):
            raise PermissionDenied(details={"permission": permission.value})
        if permission in PM_ONLY and role is not Role.ADMIN and portfolio.pm_id != user.id:
            raise PermissionDenied(
                "Only the portfolio's PM may do this.", details={"permission": permission.value}
            )
        if for_update and portfolio.archived_at is not None:
            raise service.PortfolioArchived(details={"slug": portfolio.slug})
        return portfolio

    load_portfolio.required_permission = permission  # type: ignore[attr-defined]
    return load_portfolio


PortfolioForRead = Annotated[Portfolio, Depends(portfolio_access(Permission.PORTFOLIOS_READ))]
PortfolioForTrading = Annotated[
    Portfolio, Depends(portfolio_access(Permission.TRADES_CREATE, for_update=True))
]
PortfolioForCash = Annotated[
    Portfolio, Depends(portfolio_access(Permission.CASH_CREATE, for_update=True))
]
PortfolioForCancel = Annotated[
    Portfolio, Depends(portfolio_access(Permission.TRADES_CANCEL, for_update=True))
]
PortfolioForDividends = Annotated[
    Portfolio, Depends(portfolio_access(Permission.DIVIDENDS_BOOK, for_update=True))
]
# An import parses its file before it takes the lock (the ledger takes it).
PortfolioForImport = Annotated[Portfolio, Depends(portfolio_access(Permission.TRADES_CREATE))]
BOOKS_RESPONSES = responses(
    InvalidCredentials, PermissionDenied, CsrfFailed, service.PortfolioNotFound
)


@dataclass(frozen=True)
class Idempotent:
    """A booking request's `Idempotency-Key`, bound to its caller and unit of work."""

    session: AsyncSession
    user_id: uuid.UUID
    key: str | None

    async def post(
        self, scope: str, body: BaseModel, run: Callable[[], Awaitable[BaseModel]]
    ) -> JSONResponse:
        """Run the booking once per key and answer 201, or replay the first answer."""
        return await idempotent_post(self.session, self.user_id, self.key, scope, body, 201, run)


async def idempotent(
    session: SessionDep, user: CurrentUser, key: IdempotencyKeyHeader = None
) -> Idempotent:
    return Idempotent(session, user.id, key)


IdempotentDep = Annotated[Idempotent, Depends(idempotent)]
