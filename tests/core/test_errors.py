"""Bad input of every shape gets a 4xx with the error envelope, never a 500."""

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from app.core.config import Settings
from app.core.errors import Conflict
from app.main import create_app


class Payload(BaseModel):
    amount: Decimal


@pytest.fixture
async def echo_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    app: FastAPI = create_app(settings)

    @app.post("/echo")
    async def echo(payload: Payload) -> Payload:
        return payload

    @app.post("/conflict")
    async def conflict() -> None:
        raise Conflict("already there", code="already_there", details={"id": 1})

    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


def assert_envelope(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["details"], dict)


async def test_malformed_json_is_422_with_envelope(echo_client: AsyncClient) -> None:
    response = await echo_client.post(
        "/echo", content=b'{"amount": 1', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 422, "validation_error")
    assert response.json()["error"]["details"]["errors"][0]["type"] == "json_invalid"


async def test_wrong_content_type_is_4xx_with_envelope(echo_client: AsyncClient) -> None:
    response = await echo_client.post(
        "/echo", content=b'{"amount": 1}', headers={"content-type": "text/plain"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"]


async def test_body_over_one_megabyte_is_413(echo_client: AsyncClient) -> None:
    body = b'{"amount": "' + b"1" * (1_048_576 + 10) + b'"}'
    response = await echo_client.post(
        "/echo", content=body, headers={"content-type": "application/json"}
    )
    assert_envelope(response, 413, "payload_too_large")


async def test_streamed_body_over_the_limit_is_413(echo_client: AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"1" * 100_000

    response = await echo_client.post(
        "/echo", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_envelope(response, 413, "payload_too_large")


async def test_validation_error_keeps_fastapi_detail(echo_client: AsyncClient) -> None:
    response = await echo_client.post("/echo", json={"amount": "lots"})
    assert_envelope(response, 422, "validation_error")
    [error] = response.json()["error"]["details"]["errors"]
    assert error["loc"] == ["body", "amount"]


async def test_domain_error_maps_to_its_status_and_code(echo_client: AsyncClient) -> None:
    response = await echo_client.post("/conflict")
    assert_envelope(response, 409, "already_there")
    assert response.json()["error"]["details"] == {"id": 1}


async def test_decimal_round_trips_exactly(echo_client: AsyncClient) -> None:
    response = await echo_client.post("/echo", json={"amount": "1234567.123456789"})
    assert response.json() == {"amount": "1234567.123456789"}
