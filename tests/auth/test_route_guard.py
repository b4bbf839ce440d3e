"""No route can be added without a permission check unless it is on the short public list."""

from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from httpx import AsyncClient

from app.auth.dependencies import CurrentUser, SignedIn, require
from app.auth.permissions import Permission
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


def test_a_route_signs_in_once(app: FastAPI, settings: Settings) -> None:
    """Two sign-in dependencies on one route (a permission and the user, say) would each
    read the token and the account: a route asks for the user with its permission."""
    twice = [f"{e.method} {e.path}" for e in api_routes(app) if len(sign_ins(e.dependant)) > 1]
    assert twice == []
    probe = create_app(settings)

    @probe.get("/portfolios/twice", dependencies=[Depends(require(Permission.PORTFOLIOS_READ))])
    async def twice_signed_in(user: CurrentUser) -> dict[str, str]:
        return {"email": user.email}

    assert [e.path for e in api_routes(probe) if len(sign_ins(e.dependant)) > 1] == [
        "/portfolios/twice"
    ]


def sign_ins(dependant: Dependant) -> set[int]:
    found = {id(d.call) for d in dependant.dependencies if isinstance(d.call, SignedIn)}
    return found.union(*(sign_ins(d) for d in dependant.dependencies))


def test_the_public_list_names_only_existing_routes(app: FastAPI) -> None:
    existing = {(e.method, e.path) for e in api_routes(app)}
    assert existing >= PUBLIC_ROUTES


async def test_public_routes_answer_without_credentials(client: AsyncClient) -> None:
    for method, path in PUBLIC_ROUTES:
        response = await client.request(method, path)
        assert response.status_code not in (401, 403), (method, path)
