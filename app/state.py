"""The composition root: what a process opens once (engine, sessions, cache, market data,
email, tokens, job queue), built by one function that the app's lifespan and the CLI both
use, and read by requests through the typed dependencies below, never by hand."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from procrastinate import App
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from app.auth.strategy import RevocableJWTStrategy
from app.core.cache import Cache, create_cache
from app.core.config import Settings
from app.core.database import create_engine, create_sessionmaker
from app.market.service import MarketData, create_market_data
from app.users.email import EmailSender, create_email_sender


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cache: Cache
    market: MarketData
    email: EmailSender
    tokens: RevocableJWTStrategy
    job_queue: App | None = None  # the API's handle on the worker's queue (PostgreSQL)


@asynccontextmanager
async def open_state(settings: Settings) -> AsyncIterator[AppState]:
    engine = create_engine(settings)
    cache = create_cache(settings.redis_url, settings.redis_max_connections)
    sessions = create_sessionmaker(engine)
    market = create_market_data(settings, cache, sessions)
    tokens = RevocableJWTStrategy(
        settings.secret_key, settings.access_token_lifetime_seconds, settings.session_cache_seconds
    )
    try:
        async with tokens.signed_in.listening_to(settings):
            yield AppState(
                settings, engine, sessions, cache, market, create_email_sender(settings), tokens
            )
    finally:
        await market.close()
        await cache.close()
        await engine.dispose()


def shared(connection: HTTPConnection) -> AppState:
    """The process's state; each dependency below reads it once, as one step of its own
    (a dependency of a dependency costs a request a solver pass)."""
    state: AppState = connection.app.state.shared
    return state


async def app_state(request: Request) -> AppState:
    return shared(request)


async def _settings(request: Request) -> Settings:
    return shared(request).settings


async def _market(request: Request) -> MarketData:
    return shared(request).market


async def _job_queue(request: Request) -> App | None:
    return shared(request).job_queue


AppStateDep = Annotated[AppState, Depends(app_state)]
SettingsDep = Annotated[Settings, Depends(_settings)]
MarketDep = Annotated[MarketData, Depends(_market)]
JobQueueDep = Annotated[App | None, Depends(_job_queue)]
