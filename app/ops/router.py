"""Liveness, readiness, metrics and inspiration: the public operations routes."""

import asyncio
import secrets

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app.ops.quotes import QUOTES
from app.ops.schemas import Check, Health, Quote, Readiness
from app.state import AppState, AppStateDep

router = APIRouter(tags=["operations"])

READINESS_TIMEOUT_SECONDS = 2.0


@router.get("/health", response_model=Health, summary="Liveness")
async def health() -> Health:
    return Health()


@router.get(
    "/health/ready",
    response_model=Readiness,
    summary="Readiness of the database, the cache and the market-data provider",
    responses={503: {"model": Readiness, "description": "The database is down"}},
)
async def ready(state: AppStateDep, response: Response) -> Readiness:
    database, cache = await asyncio.gather(_check_database(state), _check_cache(state))
    market = state.market.health()
    if database.status == "down":
        response.status_code = 503
        status = "unavailable"
    else:
        status = "ready" if cache.status == market.status == "up" else "degraded"
    return Readiness(status=status, database=database, cache=cache, market_data=market)


async def _check_database(state: AppState) -> Check:
    engine = state.engine
    backend = engine.dialect.name
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to answer means the database is down
        return Check(status="down", backend=backend, detail=type(exc).__name__)
    return Check(status="up", backend=backend)


async def _check_cache(state: AppState) -> Check:
    cache = state.cache
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            up = await cache.ping()
    except TimeoutError:
        up = False
    return Check(status="up" if up else "down", backend=cache.backend)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/inspiration", response_model=Quote, summary="A random investing quote")
async def inspiration() -> Quote:
    quote, author = secrets.choice(QUOTES)
    return Quote(quote=quote, author=author)
