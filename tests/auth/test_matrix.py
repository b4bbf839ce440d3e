"""Every protected route, called as every role, as an outsider and anonymously, answers as the
permissions dictionary says: anonymous 401, outside a portfolio 404, lacking permission 403."""

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import PM_ONLY, Permission, Role, has_permission
from app.users.models import User
from tests.auth.routes import PUBLIC_ROUTES, Endpoint, api_routes, required_permissions
from tests.factories import bearer, make_portfolio, make_team, make_user


def expected(endpoint: Endpoint, permission: Permission, user: User, *, member: bool, pm: bool):  # type: ignore[no-untyped-def]
    role = Role.ADMIN if user.is_superuser else user.role
    scoped = "{slug}" in endpoint.path
    if scoped and not member and role is not Role.ADMIN:
        return 404
    if not has_permission(role, permission):
        return 403
    if scoped and permission in PM_ONLY and not pm and role is not Role.ADMIN:
        return 403
    return "allowed"


def matches(outcome: object, response: Response) -> bool:
    if outcome == "allowed":
        is_json = response.headers.get("content-type", "").startswith("application/json")
        body = response.json() if is_json else None
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        return response.status_code not in (401, 403) and code != "portfolio_not_found"
    if outcome == 404:
        return response.status_code == 404 and response.json()["error"]["code"] == (
            "portfolio_not_found"
        )
    return response.status_code == outcome


async def test_role_permission_matrix(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    team = await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    portfolio = await make_portfolio(session, pm, team=team, cash="1000")
    callers: list[tuple[User, bool, bool]] = [(pm, True, True)]
    for role in Role:
        callers.append((await make_user(session, role, team=team), True, False))
        callers.append((await make_user(session, role), False, False))
    target = await make_user(session, Role.VIEWER)
    params = {
        "slug": portfolio.slug,
        "user_id": str(target.id),
        "trade_id": "1",
        "dividend_id": "1",
        "ticker": "AAPL",
        "job_id": "1",
        "strategy_id": "1",
        "signal_id": "1",
        "backtest_id": "1",
        "order_id": "1",
    }
    mismatches: list[str] = []
    checked = 0
    for endpoint in api_routes(app):
        if (endpoint.method, endpoint.path) in PUBLIC_ROUTES:
            continue
        [permission] = required_permissions(endpoint.dependant)
        url = endpoint.path.format(**params)
        anonymous = await client.request(endpoint.method, url, json={})
        if anonymous.status_code != 401:
            mismatches.append(f"anonymous {endpoint.method} {url}: {anonymous.status_code}")
        for user, member, is_pm in callers:
            outcome = expected(endpoint, permission, user, member=member, pm=is_pm)
            headers = await bearer(app, user)
            response = await client.request(endpoint.method, url, json={}, headers=headers)
            if not matches(outcome, response):
                who = f"{user.role.value}{' member' if member else ''}{' pm' if is_pm else ''}"
                mismatches.append(
                    f"{who} {endpoint.method} {url}: {response.status_code}, expected {outcome}"
                )
            checked += 1
    assert mismatches == []
    assert checked >= 9 * 20
