"""Request id, process time, body size limit and request metrics, as one pure ASGI middleware."""

import re
import time
import uuid
from collections.abc import Callable

from fastapi import HTTPException
from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import error_response
from app.core.logging import request_id_var

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter(
    "folio_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
LATENCY = Histogram(
    "folio_http_request_duration_seconds",
    "Time to serve a request",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, body_limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.body_limit_for = body_limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _client_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers["X-Process-Time"] = f"{time.perf_counter() - started:.6f}"
                headers.setdefault("X-Content-Type-Options", "nosniff")
                # Answers are about a signed-in user or live books: no cache keeps them.
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        limit = self.body_limit_for(scope["path"])
        received = 0

        async def limited_receive() -> Message:
            # Raised inside the route's body parsing, so FastAPI's handler answers it.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                detail = {"code": "payload_too_large", "reason": _too_large_reason(limit)}
                raise HTTPException(413, detail=detail)
            return message

        try:
            if _declared_length(scope) > limit:
                await error_response(413, "payload_too_large", _too_large_reason(limit))(
                    scope, receive, send_with_headers
                )
                return
            await self.app(scope, limited_receive, send_with_headers)
        finally:
            request_id_var.reset(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _VALID_REQUEST_ID.match(candidate) else None
    return None


def _too_large_reason(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
