"""The configured provider, with its HTTP client, rate limiter and credentials."""

import httpx

from app.core.cache import Cache
from app.core.config import ProviderName, Settings
from app.market.guards import RateLimiter
from app.market.http import VendorHTTP
from app.market.polygon import PolygonProvider
from app.market.provider import MarketDataProvider
from app.market.simulated import SimulatedProvider
from app.market.tiingo import TiingoProvider


def create_provider(settings: Settings, cache: Cache) -> MarketDataProvider:
    match settings.selected_provider:
        case ProviderName.TIINGO:
            key = _required(settings.tiingo_api_key, "TIINGO_API_KEY", "tiingo")
            return TiingoProvider(
                _vendor_http(
                    settings,
                    cache,
                    "tiingo",
                    settings.tiingo_base_url,
                    {"Authorization": f"Token {key}"},
                    settings.tiingo_calls_per_minute,
                )
            )
        case ProviderName.POLYGON:
            key = _required(settings.polygon_api_key, "POLYGON_API_KEY", "polygon")
            return PolygonProvider(
                _vendor_http(
                    settings,
                    cache,
                    "polygon",
                    settings.polygon_base_url,
                    {"Authorization": f"Bearer {key}"},
                    settings.polygon_calls_per_minute,
                )
            )
        case ProviderName.SIMULATED:
            return SimulatedProvider()


def _required(key: str | None, variable: str, provider: str) -> str:
    if not key:
        raise ValueError(f"{variable} must be set when MARKET_DATA_PROVIDER={provider}")
    return key


def _vendor_http(
    settings: Settings,
    cache: Cache,
    vendor: str,
    base_url: str,
    auth: dict[str, str],
    calls_per_window: int,
) -> VendorHTTP:
    client = httpx.AsyncClient(
        base_url=base_url,
        headers={**auth, "Accept": "application/json"},
        timeout=httpx.Timeout(settings.vendor_timeout_seconds),
    )
    limiter = RateLimiter(cache, vendor, calls_per_window, settings.vendor_rate_window_seconds)
    return VendorHTTP(vendor, client, limiter, settings)
