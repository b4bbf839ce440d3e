"""Tiingo on loopback, answering with its real bodies (tests/market/vendor/), that can be made
slow, failing or rate limiting while Folio talks to it over a real socket."""

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

VENDOR = Path(__file__).parents[1] / "market" / "vendor" / "tiingo"
Mode = Literal["ok", "slow", "failing", "limited"]


def _body(name: str) -> Any:
    return json.loads((VENDOR / name).read_text())


@dataclass
class FakeTiingo:
    mode: Mode = "ok"
    slow_seconds: float = 10.0
    retry_after: str = "1"
    # After this many 429s the vendor answers again (None: it keeps refusing).
    limited_times: int | None = None
    calls: list[tuple[float, str, int]] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._server.wait_closed()

    def calls_to(self, path: str) -> list[tuple[float, str, int]]:
        return [c for c in self.calls if c[1] == path]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = urlsplit(head.split(b" ", 2)[1].decode()).path
            status, headers, body = await self._answer(path)
            self.calls.append((time.perf_counter(), path, status))
            payload = json.dumps(body).encode()
            lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", "Connection: close"]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            lines.append(f"Content-Length: {len(payload)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)

    async def _answer(self, path: str) -> tuple[int, dict[str, str], Any]:
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        elif self.mode == "failing":
            return 500, {}, {"detail": "Internal Server Error"}
        elif self.mode == "limited" and (self.limited_times is None or self.limited_times > 0):
            if self.limited_times is not None:
                self.limited_times -= 1
            body = _body("tiingo_error_ratelimit_hourly.json")
            return 429, {"Retry-After": self.retry_after}, body
        return _ok(path)


def _ok(path: str) -> tuple[int, dict[str, str], Any]:
    parts = path.strip("/").split("/")
    if parts[0] == "iex" and len(parts) == 2:
        quote = next(q for q in _body("tiingo_iex.json") if q["ticker"] == "AAPL")
        return 200, {}, [quote | {"ticker": parts[1].upper()}]
    if parts[:2] == ["tiingo", "daily"] and len(parts) == 3:
        meta = _body("tiingo_meta.json") | {"ticker": parts[2].upper(), "name": parts[2].upper()}
        return 200, {}, meta
    if parts[:2] == ["tiingo", "daily"] and len(parts) == 4 and parts[3] == "prices":
        return 200, {}, _body("tiingo_daily_prices.json")
    return 404, {}, _body("tiingo_error_notfound.json")
