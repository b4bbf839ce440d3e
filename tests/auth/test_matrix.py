"""Every protected route, called as every role and anonymously, answers as the permissions
dictionary says: anonymous 401, a role without the permission 403, a role with it neither."""

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role, has_permission
from tests.auth.routes import PUBLIC_ROUTES, api_routes, required_permissions
from tests.factories import bearer, make_user


async def test_role_permission_matrix(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    users = {role: await make_user(session, role) for role in Role}
    target = await make_user(session, Role.VIEWER)
    params = {"user_id": str(target.id)}
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
        for role, user in users.items():
            headers = await bearer(app, user)
            response = await client.request(endpoint.method, url, json={}, headers=headers)
            allowed = has_permission(role, permission)
            if allowed and response.status_code in (401, 403):
                mismatches.append(f"{role} {endpoint.method} {url}: {response.status_code}")
            if not allowed and response.status_code != 403:
                mismatches.append(f"{role} {endpoint.method} {url}: {response.status_code}")
            checked += 1
    assert mismatches == []
    assert checked >= 4 * 8
