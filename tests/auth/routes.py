"""What the route-walking tests read off the app: each route's required permission."""

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.permissions import Permission

# The only routes anyone may call without signing in.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/health/ready"),
        ("GET", "/metrics"),
        ("GET", "/inspiration"),
        ("POST", "/auth/jwt/login"),
        ("POST", "/auth/cookie/login"),
        ("POST", "/auth/register"),
        ("POST", "/auth/forgot-password"),
        ("POST", "/auth/reset-password"),
        ("POST", "/auth/request-verify-token"),
        ("POST", "/auth/verify"),
        ("GET", "/app"),  # the dashboard's page and assets: it signs in itself
        ("GET", "/app/{path:path}"),
    }
)
# Documentation pages and their assets are public too (not part of the API schema).
PUBLIC_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/static-offline-docs")


def required_permissions(dependant: Dependant) -> set[Permission]:
    found: set[Permission] = set()
    for dep in dependant.dependencies:
        permission = getattr(dep.call, "required_permission", None)
        if permission is not None:
            found.add(permission)
        found |= required_permissions(dep)
    return found


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    dependant: Dependant


def api_routes(app: FastAPI) -> list[Endpoint]:
    return [
        Endpoint(method, context.path, context.dependant)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and not context.path.startswith(PUBLIC_PREFIXES)
        for method in sorted(context.methods)
    ]


def unguarded_routes(app: FastAPI) -> list[str]:
    return [
        f"{e.method} {e.path}"
        for e in api_routes(app)
        if (e.method, e.path) not in PUBLIC_ROUTES and not required_permissions(e.dependant)
    ]
