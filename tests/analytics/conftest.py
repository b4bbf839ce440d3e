import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.analytics.helpers import A_CLOSES, B_CLOSES, Desk, add_instrument, make_desk


@pytest.fixture
async def desk(app: FastAPI, session: AsyncSession, client: AsyncClient) -> Desk:
    """A PM's empty portfolio, with TESTA and the benchmark TESTB priced over the test week."""
    await add_instrument(session, "TESTA", A_CLOSES)
    await add_instrument(session, "TESTB", B_CLOSES)
    return await make_desk(app, session, client)
