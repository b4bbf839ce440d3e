"""No route can be added without a permission check unless it is on the short public list."""

from fastapi import FastAPI
from httpx import AsyncClient

from app.core.config import Settings
from app.main import create_app
from tests.auth.routes import PUBLIC_ROUTES, api_routes, unguarded_routes


def test_every_route_has_a_permission_or_is_public(app: FastAPI) -> None:
    assert len(api_routes(app)) > len(PUBLIC_ROUTES)
    assert unguarded_routes(app) == []


def test_a_new_unprotected_route_is_caught(settings: Settings) -> None:
    probe = create_app(settings)

    @probe.get("/portfolios/secret-probe")
    async def leaky() -> dict[str, str]:
        return {"leak": "yes"}

    assert unguarded_routes(probe) == ["GET /portfolios/secret-probe"]


def test_the_public_list_names_only_existing_routes(app: FastAPI) -> None:
    existing = {(e.method, e.path) for e in api_routes(app)}
    assert existing >= PUBLIC_ROUTES


async def test_public_routes_answer_without_credentials(client: AsyncClient) -> None:
    for method, path in PUBLIC_ROUTES:
        response = await client.request(method, path)
        assert response.status_code not in (401, 403), (method, path)
