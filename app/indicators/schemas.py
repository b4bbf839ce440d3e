"""What the indicators route answers: each day's adjusted bar and indicator values."""

import json
from datetime import date
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from app.indicators.compute import Floats
from app.indicators.screen import Match
from app.indicators.service import IndicatorTable

ROWS_PER_CHUNK = 500


class IndicatorRow(BaseModel):
    """A day's split-adjusted bar, then each indicator column asked for (null while it warms
    up), named as the indicator (`sma_20`) or with its part (`macd_12_26_9_signal`)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float | None] = Field(init=False)

    date: date
    open: float
    high: float
    low: float
    close: float
    volume: float


class IndicatorsRead(BaseModel):
    ticker: str
    history_start: date | None = Field(description="The first bar the indicators start from")
    provider: str
    stale: bool = Field(
        description="True when some dates or splits could not be confirmed with the vendor"
    )
    items: list[IndicatorRow] = Field(description="Market days from start to end, oldest first")


class ScreenItem(BaseModel):
    ticker: str
    date: Annotated[date, Field(description="The newest bar the values were stored for")]
    values: dict[str, float | None] = Field(description="Every column the conditions use")


class ScreenRead(BaseModel):
    items: list[ScreenItem] = Field(description="Sorted by ticker")
    total: int = Field(description="Every ticker that matched")
    limit: int
    offset: int

    @classmethod
    def of(cls, matches: list[Match], limit: int, offset: int) -> "ScreenRead":
        items = [
            ScreenItem(ticker=m.ticker, date=m.date, values=m.values)
            for m in matches[offset : offset + limit]
        ]
        return cls(items=items, total=len(matches), limit=limit, offset=offset)


def numbers(values: Floats) -> list[float | None]:
    """The values as JSON numbers, None where there is none (NaN)."""
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    result: list[float | None] = out.tolist()
    return result


def columns(table: IndicatorTable) -> dict[str, list[Any]]:
    """Every column as a plain list: dates as YYYY-MM-DD, numbers, None."""
    dates: list[str] = np.datetime_as_string(table.days, unit="D").tolist()
    return {"date": dates} | {name: numbers(v) for name, v in table.columns.items()}


def indicators_json(table: IndicatorTable) -> bytes:
    """IndicatorsRead as JSON, its rows built as plain dicts and encoded ROWS_PER_CHUNK at a
    time: run in a thread, the encoder then lets go of the GIL between chunks."""
    head = {
        "ticker": table.ticker,
        "history_start": table.history_start.isoformat() if table.history_start else None,
        "provider": table.provider,
        "stale": table.stale,
    }
    found = columns(table)
    names = list(found)
    rows = list(zip(*found.values(), strict=True))
    chunks = (
        _dumps([dict(zip(names, row, strict=True)) for row in rows[i : i + ROWS_PER_CHUNK]])[1:-1]
        for i in range(0, len(rows), ROWS_PER_CHUNK)
    )
    return f'{_dumps(head)[:-1]},"items":[{",".join(chunks)}]}}'.encode()


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))
