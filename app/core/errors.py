"""Domain exceptions and the one place that turns every error into Folio's JSON envelope."""

import logging
import math
from decimal import Decimal
from enum import Enum
from http import HTTPStatus
from typing import Any

from asyncpg.exceptions import PostgresError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("folio.errors")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    """Every error response: `{"error": {"code", "message", "details"}}`."""

    error: ErrorDetail


class DomainError(Exception):
    """An error a service raises; it carries a stable code and knows nothing of HTTP."""

    status_code = HTTPStatus.BAD_REQUEST
    code = "bad_request"
    message = "The request cannot be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or {}
        self.headers = headers
        super().__init__(self.message)


class NotFound(DomainError):
    status_code = HTTPStatus.NOT_FOUND
    code = "not_found"
    message = "Not found."


class Conflict(DomainError):
    status_code = HTTPStatus.CONFLICT
    code = "conflict"
    message = "The request conflicts with the current state."


class InvalidInput(DomainError):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_error"
    message = "The request is not valid."


class Unauthorized(DomainError):
    status_code = HTTPStatus.UNAUTHORIZED
    code = "not_authenticated"
    message = "Authentication is required."


class Forbidden(DomainError):
    status_code = HTTPStatus.FORBIDDEN
    code = "forbidden"
    message = "You are not allowed to do this."


class TooManyRequests(DomainError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    code = "too_many_requests"
    message = "Too many requests; try again later."


class PayloadTooLarge(DomainError):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    message = "The request body is too large."


class ServiceUnavailable(DomainError):
    status_code = HTTPStatus.SERVICE_UNAVAILABLE
    code = "service_unavailable"
    message = "A service Folio depends on is unavailable; try again shortly."


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    message = "The database is unavailable; try again shortly."


class UnstorableValue(InvalidInput):
    code = "unstorable_value"
    message = "A value in the request cannot be stored: a NUL character, or a number out of range."


class MalformedBody(DomainError):
    code = "malformed_body"
    message = "The request body could not be read (not JSON, not UTF-8, or broken multipart)."


# What FastAPI and Starlette say when they cannot read a body at all.
_UNREADABLE_BODY = frozenset({"There was an error parsing the body", "Invalid multipart data."})


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    content = _json_safe(jsonable_encoder(error_body(code, message, details)))
    return JSONResponse(content, status_code=status, headers=headers)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k != "ctx"} | _ctx(e) for e in exc.errors()]
    details = {"errors": errors}
    return error_response(422, "validation_error", "The request is not valid.", details)


def _json_safe(value: Any) -> Any:
    """The echoed input as JSON can carry it: NaN and infinities as text, lone surrogates
    escaped."""
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_json_safe(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _ctx(error: dict[str, Any]) -> dict[str, Any]:
    ctx = error.get("ctx")
    return {"ctx": {k: str(v) for k, v in ctx.items()}} if ctx else {}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail.value if isinstance(exc.detail, Enum) else exc.detail
    if exc.status_code == MalformedBody.status_code and str(detail) in _UNREADABLE_BODY:
        code, message = MalformedBody.code, MalformedBody.message
    elif isinstance(detail, dict) and "code" in detail:
        code = detail["code"]
        code = code.value if isinstance(code, Enum) else str(code)
        code, message = code.lower(), str(detail.get("reason", phrase))
    elif isinstance(detail, str) and detail != phrase:
        code, message = detail.lower(), detail
    else:
        code, message = phrase.lower().replace(" ", "_").replace("-", "_"), phrase + "."
    return error_response(exc.status_code, code, message, None, getattr(exc, "headers", None))


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and _sqlstate(exc) in _UNSTORABLE_INPUT:
        logger.warning("value refused by the database: %s", exc.orig)
        return error_response(
            UnstorableValue.status_code, UnstorableValue.code, UnstorableValue.message
        )
    if (
        isinstance(exc, DBAPIError)
        and not exc.connection_invalidated
        and not _is_connection_error(exc)
        and not _server_unavailable(exc)
    ):
        return await _unexpected_error(_, exc)
    return _database_unavailable(exc)


async def _driver_error(request: Request, exc: Exception) -> JSONResponse:
    """A driver error SQLAlchemy did not wrap: asyncpg's own, raised while connecting."""
    if _server_unavailable(exc):
        return _database_unavailable(exc)
    return await _unexpected_error(request, exc)


def _database_unavailable(exc: BaseException) -> JSONResponse:
    logger.error("database unavailable: %s", exc.__class__.__name__)
    err = DatabaseUnavailable(headers={"Retry-After": "1"})
    return error_response(err.status_code, err.code, err.message, None, err.headers)


# SQLSTATEs for a value PostgreSQL cannot take: a NUL or untranslatable character, a number
# out of range (22000: the driver's own refusal, e.g. an integer beyond 64 bits), too long.
_UNSTORABLE_INPUT = frozenset({"22000", "22001", "22003", "22021", "22P05"})


# The server refusing or dropping connections: 08xxx connection exceptions, 57P01-57P03
# (shut down by an administrator or a crash, or still starting up).
_SERVER_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03"})


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error, wrapped by SQLAlchemy or raw (as on connecting)."""
    cause: BaseException | None = exc
    while cause is not None:
        state = getattr(cause, "sqlstate", None)
        if state:
            return str(state)
        cause = getattr(cause, "orig", None) or cause.__cause__
    return None


def _server_unavailable(exc: BaseException) -> bool:
    state = _sqlstate(exc)
    return state is not None and (state.startswith("08") or state in _SERVER_UNAVAILABLE)


def _is_connection_error(exc: DBAPIError) -> bool:
    return isinstance(exc, OperationalError | InterfaceError) or isinstance(
        exc.orig, ConnectionError | OSError
    )


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal_error", "An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeoutError, _database_error)
    app.add_exception_handler(ConnectionError, _database_error)
    app.add_exception_handler(OSError, _database_error)
    app.add_exception_handler(PostgresError, _driver_error)
    app.add_exception_handler(Exception, _unexpected_error)
    _document_the_envelope(app)


# The error bodies FastAPI (422) and fastapi-users (400) document; the handlers above
# answer both with the envelope instead.
_FOREIGN_ERROR_SCHEMAS = ("HTTPValidationError", "ErrorModel")


def _document_the_envelope(app: FastAPI) -> None:
    """Make the OpenAPI document show the envelope for every error, as the handlers send it,
    and the 400 that any operation with a body answers when the body cannot be read."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operation in _operations(schema):
                _envelope_errors(operation)
            components = schema.get("components", {}).get("schemas", {})
            components.update(_envelope_components())
            for name in (*_FOREIGN_ERROR_SCHEMAS, "ValidationError"):
                components.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    return [
        op for item in schema.get("paths", {}).values() for m, op in item.items() if m in methods
    ]


def _envelope_errors(operation: dict[str, Any]) -> None:
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for response in operation.get("responses", {}).values():
        content = response.get("content", {}).get("application/json")
        ref = (content or {}).get("schema", {}).get("$ref", "")
        if ref.rsplit("/", 1)[-1] in _FOREIGN_ERROR_SCHEMAS:
            content["schema"] = envelope
            for example in content.get("examples", {}).values():
                example["value"] = _as_envelope(example.get("value"))
    if "requestBody" in operation:
        operation["responses"].setdefault(
            str(int(MalformedBody.status_code)),
            {
                "description": f"{MalformedBody.message} `{MalformedBody.code}`",
                "content": {"application/json": {"schema": envelope}},
            },
        )


def _as_envelope(value: Any) -> Any:
    """A fastapi-users example (`{"detail": "CODE"}`) as the envelope the handler sends."""
    detail = value.get("detail") if isinstance(value, dict) else None
    if isinstance(detail, dict) and "code" in detail:
        return error_body(str(detail["code"]).lower(), str(detail.get("reason", "")))
    if isinstance(detail, str):
        return error_body(detail.lower(), detail)
    return value


def _envelope_components() -> dict[str, Any]:
    schema = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"ErrorEnvelope": schema, **schema.pop("$defs", {})}


def responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route, so Swagger shows every error it can answer."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(
            int(err.status_code), {"model": ErrorEnvelope, "description": err.message}
        )
        if err.code not in entry["description"]:
            entry["description"] += f" `{err.code}`"
    return out
