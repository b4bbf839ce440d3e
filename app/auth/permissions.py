"""The permissions dictionary: what each role may do. Portfolio membership decides where."""

from enum import StrEnum
from typing import TYPE_CHECKING

from app.core.errors import Forbidden

if TYPE_CHECKING:
    from app.users.models import User


class Role(StrEnum):
    ADMIN = "admin"
    PORTFOLIO_MANAGER = "portfolio_manager"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Permission(StrEnum):
    PORTFOLIOS_CREATE = "portfolios:create"
    PORTFOLIOS_READ = "portfolios:read"
    PORTFOLIOS_UPDATE = "portfolios:update"
    PORTFOLIOS_ARCHIVE = "portfolios:archive"
    PORTFOLIOS_MEMBERS = "portfolios:members"
    TRADES_CREATE = "trades:create"
    TRADES_CANCEL = "trades:cancel"
    CASH_CREATE = "cash:create"
    DIVIDENDS_BOOK = "dividends:book"
    MARKET_READ = "market:read"
    MARKET_REFRESH = "market:refresh"
    MARKET_CLASSIFY = "market:classify"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    JOBS_READ = "jobs:read"
    STRATEGIES_READ = "strategies:read"
    STRATEGIES_WRITE = "strategies:write"
    BACKTESTS_RUN = "backtests:run"
    ORDERS_PLACE = "orders:place"
    ORDERS_OVERRIDE = "orders:override"
    POLICY_CHANGE = "policy:change"
    ACCOUNT_SELF = "account:self"


_MEMBER_READ = {
    Permission.ACCOUNT_SELF,
    Permission.PORTFOLIOS_READ,
    Permission.MARKET_READ,
    Permission.JOBS_READ,
    Permission.STRATEGIES_READ,
}
_BOOKING = {Permission.TRADES_CREATE, Permission.CASH_CREATE, Permission.ORDERS_PLACE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PORTFOLIO_MANAGER: frozenset(
        _MEMBER_READ
        | _BOOKING
        | {
            Permission.PORTFOLIOS_CREATE,
            Permission.PORTFOLIOS_UPDATE,
            Permission.PORTFOLIOS_ARCHIVE,
            Permission.PORTFOLIOS_MEMBERS,
            Permission.TRADES_CANCEL,
            Permission.DIVIDENDS_BOOK,
            Permission.ORDERS_OVERRIDE,
            Permission.POLICY_CHANGE,
            Permission.MARKET_REFRESH,
            Permission.MARKET_CLASSIFY,
            Permission.STRATEGIES_WRITE,
            Permission.BACKTESTS_RUN,
        }
    ),
    Role.ANALYST: frozenset(
        _MEMBER_READ | _BOOKING | {Permission.STRATEGIES_WRITE, Permission.BACKTESTS_RUN}
    ),
    Role.VIEWER: frozenset(_MEMBER_READ),
}

# Inside a portfolio, these need its PM (or an admin); the others need any membership.
PM_ONLY: frozenset[Permission] = frozenset(
    {
        Permission.PORTFOLIOS_UPDATE,
        Permission.PORTFOLIOS_ARCHIVE,
        Permission.PORTFOLIOS_MEMBERS,
        Permission.TRADES_CANCEL,
        Permission.DIVIDENDS_BOOK,
        Permission.ORDERS_OVERRIDE,
        Permission.POLICY_CHANGE,
    }
)


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


class PermissionDenied(Forbidden):
    code = "permission_denied"
    message = "Your role does not allow this."


def effective_role(user: "User") -> Role:
    return role_of(user.role, user.is_superuser)


def role_of(role: Role, is_superuser: bool) -> Role:
    """A superuser acts as an admin whatever their role."""
    return Role.ADMIN if is_superuser else role


def acts_as_pm(user: "User", pm_id: object) -> bool:
    """Whether the user may do what only a portfolio's PM (or an admin) may."""
    role = effective_role(user)
    return role is Role.ADMIN or (role is Role.PORTFOLIO_MANAGER and user.id == pm_id)
