"""One API process's share of the cross-process single-flight test (run by test_processes).

It builds MarketData like the app does, says `ready`, waits for `go` on stdin, then makes
50 quote and 50 daily-bars requests at once and prints how many answered.
"""

import asyncio
import sys
from datetime import date

from app.core.cache import RedisCache
from app.core.config import Settings
from app.core.database import create_engine, create_sessionmaker
from app.market.service import create_market_data


async def main(database_url: str, redis_url: str, vendor_url: str) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        redis_url=redis_url,
        market_data_provider="tiingo",  # type: ignore[arg-type]
        tiingo_api_key="tiingo-test-key",
        tiingo_base_url=vendor_url,
        market_lock_poll_seconds=0.01,
        log_dir=None,
    )
    engine = create_engine(settings)
    cache = RedisCache(redis_url)
    market = create_market_data(settings, cache, create_sessionmaker(engine))
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    answers = await asyncio.gather(
        *(market.quote("AAPL") for _ in range(50)),
        *(market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5)) for _ in range(50)),
    )
    print(len(answers), flush=True)
    await market.close()
    await cache.close()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
