"""One vendor's HTTP client: a shared httpx.AsyncClient, bounded retries, refused payloads."""

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from app.core.config import Settings
from app.market.guards import RateLimiter, retry_after_header
from app.market.provider import (
    MarketDataUnauthorized,
    MarketDataUnavailable,
    UnknownTicker,
    VendorDataInvalid,
)

logger = logging.getLogger("folio.market")

T = TypeVar("T")
DEFAULT_RETRY_AFTER_SECONDS = 5.0


class RetryableResponse(Exception):
    """A 429 or 5xx: worth another try, after `retry_after` seconds when the vendor says so."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number (fractions accepted) or an HTTP date."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")


def decode_json(body: bytes) -> Any:
    """JSON with every fraction as a Decimal (no float reaches money) and no NaN or Infinity."""
    return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)


class VendorHTTP:
    def __init__(
        self, vendor: str, client: httpx.AsyncClient, limiter: RateLimiter, settings: Settings
    ) -> None:
        self.vendor = vendor
        self.client = client
        self.limiter = limiter
        self.max_bytes = settings.vendor_max_response_bytes
        self.max_attempts = settings.vendor_max_attempts
        self.max_wait = settings.vendor_max_wait_seconds
        self._backoff = wait_random_exponential(
            multiplier=settings.vendor_backoff_base_seconds,
            max=settings.vendor_backoff_max_seconds,
        )

    async def get_json(
        self, path: str, ticker: str, params: Mapping[str, str] | None = None
    ) -> Any:
        """GET `path` and decode it, retrying 429, 5xx and network errors within the bounds."""
        deadline = time.monotonic() + self.max_wait
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((RetryableResponse, httpx.TransportError)),
            wait=self._wait,
            stop=stop_after_attempt(self.max_attempts) | stop_before_delay(self.max_wait),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return await retrying(self._attempt, path, ticker, params, deadline)
        except RetryableResponse as exc:
            logger.warning("%s %s still answers HTTP %s; giving up", self.vendor, path, exc.status)
            wait = exc.retry_after or DEFAULT_RETRY_AFTER_SECONDS
            raise MarketDataUnavailable(
                details={"provider": self.vendor}, headers=retry_after_header(wait)
            ) from exc
        except httpx.TransportError as exc:
            logger.warning("%s %s unreachable: %r; giving up", self.vendor, path, exc)
            raise MarketDataUnavailable(
                details={"provider": self.vendor},
                headers=retry_after_header(DEFAULT_RETRY_AFTER_SECONDS),
            ) from exc

    async def aclose(self) -> None:
        await self.client.aclose()

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableResponse) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        sleep = state.next_action.sleep if state.next_action else 0.0
        logger.warning("%s call failed (%r); retry in %.2fs", self.vendor, error, sleep)

    async def _attempt(
        self, path: str, ticker: str, params: Mapping[str, str] | None, deadline: float
    ) -> Any:
        await self.limiter.acquire(deadline)
        async with self.client.stream("GET", path, params=params) as response:
            status = response.status_code
            if status == httpx.codes.OK:
                return self._decode(await self._read(response, path), path)
            if status == httpx.codes.TOO_MANY_REQUESTS or status >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise RetryableResponse(status, retry_after)
            message = (await self._read(response, path))[:500].decode(errors="replace")
        if status == httpx.codes.NOT_FOUND:
            raise UnknownTicker(details={"ticker": ticker})
        if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            logger.error(
                "%s REFUSED FOLIO'S KEY OR PLAN (HTTP %s on %s): %s; check the API key and plan",
                self.vendor.upper(),
                status,
                path,
                message,
            )
            raise MarketDataUnauthorized(details={"provider": self.vendor})
        logger.warning("%s answered HTTP %s on %s: %s", self.vendor, status, path, message)
        raise MarketDataUnavailable(details={"provider": self.vendor})

    async def _read(self, response: httpx.Response, path: str) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            self._too_large(path)
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                self._too_large(path)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, path: str) -> NoReturn:
        logger.error("%s %s: response over %d bytes refused", self.vendor, path, self.max_bytes)
        raise VendorDataInvalid(details={"provider": self.vendor})

    def _decode(self, body: bytes, path: str) -> Any:
        try:
            return decode_json(body)
        except ValueError as exc:
            logger.error("%s %s: response is not valid JSON (%s); refused", self.vendor, path, exc)
            raise VendorDataInvalid(details={"provider": self.vendor}) from exc

    def validate(self, adapter: TypeAdapter[T], data: Any, what: str) -> T:
        """The payload as `adapter` reads it; anything else is refused and logged."""
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)[:5]
            logger.error("%s %s refused: %s", self.vendor, what, errors)
            raise VendorDataInvalid(details={"provider": self.vendor}) from exc
