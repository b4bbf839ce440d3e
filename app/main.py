"""The application factory and its lifespan."""

import gc
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app.admin.router import router as admin_router
from app.analytics.router import router as analytics_router
from app.auth import router as auth_router
from app.backtests.router import router as backtests_router
from app.cash.router import router as cash_router
from app.core.config import Settings, get_settings
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.dashboard import router as dashboard_router
from app.dividends.router import router as dividends_router
from app.indicators.router import router as indicators_router
from app.jobs.lifespan import background_work
from app.jobs.router import router as jobs_router
from app.jobs.tasks import Resources
from app.market.router import router as market_router
from app.ops.router import router as ops_router
from app.orders.router import broker_router
from app.orders.router import router as orders_router
from app.portfolios.router import router as portfolios_router
from app.positions.router import router as positions_router
from app.state import open_state
from app.strategies.router import router as strategies_router
from app.trades.router import router as trades_router
from app.users.bootstrap import ensure_first_admin
from app.users.router import router as users_router

DESCRIPTION = """
Folio keeps an investment desk's portfolios, trades, positions and cash exact to the cent,
values them with market data, and reports performance.

Sign in with **Authorize** (bearer token from `POST /auth/jwt/login`), or through the
dashboard's cookie. Every error is `{"error": {"code", "message", "details"}}`.
"""


UPLOAD_PATH = re.compile(r"/portfolios/[^/]+/trades/import")


def body_limit(settings: Settings) -> Callable[[str], int]:
    """The body size allowed on a path: CSV uploads get more than JSON requests."""

    def limit_for(path: str) -> int:
        if UPLOAD_PATH.fullmatch(path):
            return settings.max_upload_bytes
        return settings.max_body_bytes

    return limit_for


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_dir)
        async with open_state(settings) as state:
            app.state.shared = state
            await ensure_first_admin(state.sessions, settings)
            # What start-up made lives as long as the process: keep it out of every GC pass.
            gc.collect()
            gc.freeze()
            resources = Resources(state.sessions, state.market)
            async with background_work(settings, resources) as job_queue:
                state.job_queue = job_queue
                yield

    app = FastAPIOffline(
        title="Folio",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "X-Process-Time", "X-Data-Stale", "Retry-After"],
    )
    app.add_middleware(RequestContextMiddleware, body_limit_for=body_limit(settings))
    # Starlette tries routes in order: the most asked for first (quotes, the signed-in user,
    # a portfolio's books), the admin's last.
    app.include_router(ops_router)
    app.include_router(market_router)
    app.include_router(users_router)
    app.include_router(portfolios_router)
    app.include_router(trades_router)
    app.include_router(positions_router)
    app.include_router(analytics_router)
    app.include_router(cash_router)
    app.include_router(dividends_router)
    app.include_router(indicators_router)
    app.include_router(auth_router.build_router(settings))
    app.include_router(strategies_router)
    app.include_router(backtests_router)
    app.include_router(orders_router)
    app.include_router(broker_router)
    app.include_router(jobs_router)
    app.include_router(admin_router)
    app.include_router(dashboard_router)
    return app
