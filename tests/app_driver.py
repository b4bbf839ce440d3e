"""A real app on its own database, driven from synchronous code (Hypothesis's rules)."""

import asyncio
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from tests.conftest import REDIS_URL, make_settings


class AppDriver:
    def __init__(self, database_url: str) -> None:
        self.runner = asyncio.Runner()
        self.app: FastAPI = create_app(
            make_settings(database_url=database_url, redis_url=REDIS_URL)
        )
        self.lifespan: LifespanManager = self.run(self._start())
        self.client = AsyncClient(transport=ASGITransport(app=self.app), base_url="https://test")

    async def _start(self) -> LifespanManager:
        lifespan = LifespanManager(self.app)
        await lifespan.__aenter__()
        return lifespan

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.lifespan.__aexit__(None, None, None))
        self.runner.close()
