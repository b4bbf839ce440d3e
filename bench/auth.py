"""An authenticated request with the dashboard's cookie, against GET /health in the same run."""

import httpx

from app.auth.permissions import Role
from bench import seed
from bench.harness import FOLIO_APP, Aim, Context, Request, Row, load, serving


def run(ctx: Context) -> list[Row]:
    user = seed.account(ctx.database_url, Role.ANALYST)
    with serving(FOLIO_APP, ctx.folio_env(SECRET_KEY=seed.SECRET_KEY)) as url:
        login = httpx.post(
            f"{url}/auth/cookie/login", data={"username": user.email, "password": seed.PASSWORD}
        )
        login.raise_for_status()
        cookie = f"folio_auth={login.cookies['folio_auth']}"
        health = load(f"{url}/health", ctx.load_seconds, ctx.connections)
        me = load(
            f"{url}/users/me",
            ctx.load_seconds,
            ctx.connections,
            Request(headers={"Cookie": cookie}),
        )
    return [
        Row(
            "GET /users/me (cookie) throughput, vs GET /health",
            me.requests_per_second,
            "req/s",
            baseline=health.requests_per_second,
            aim=Aim(">=", 0.3),
        ),
        Row("GET /users/me (cookie) p99", me.p99_ms, "ms", baseline=health.p99_ms),
    ]
