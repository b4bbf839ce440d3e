"""Reading a trades CSV: header aliases, then every row through TradeCreate.

Rows are numbered as a spreadsheet numbers them: the header is row 1, the first trade row 2.
"""

import csv
import gc
import hashlib
import io
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import BinaryIO, NamedTuple, TypeVar

from pydantic import ValidationError

from app.core.errors import InvalidInput
from app.ledger.models import Side
from app.ledger.posting import NewTrade
from app.trades.schemas import ImportRowError, TradeCreate

T = TypeVar("T")

COLUMNS: dict[str, tuple[str, ...]] = {
    "trade_date": ("trade_date", "date"),
    "ticker": ("ticker", "symbol"),
    "side": ("side", "action", "type"),
    "quantity": ("quantity", "qty", "shares"),
    "price": ("price",),
    "fees": ("fees", "fee", "commission"),
    "notes": ("notes", "note", "memo"),
    "external_id": ("external_id", "id"),
}
REQUIRED = ("trade_date", "ticker", "side", "quantity", "price")
SIDES = {"buy": "buy", "b": "buy", "sell": "sell", "s": "sell"}
HEADER_ROW = 1
# Cells a spreadsheet would run as a formula, and the columns where a person writes freely.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FREE_TEXT = ("notes", "external_id")
MAX_LISTED_ROWS = 100
PROGRESS_EVERY = 5000
# Parsing runs in a thread, and a thread that computes holds the GIL for its whole switch
# interval each time the event loop asks: the loop's requests then wait for seconds.
GIL_HANDOFF_EVERY = 100

Progress = Callable[[str, int, int], None]
"""Told (stage, done, total) as work advances: stages `validating`, `booking`, `exporting`."""


def quiet(stage: str, done: int, total: int) -> None:
    return None


class InvalidCsv(InvalidInput):
    code = "invalid_csv"
    message = "The CSV file has errors; nothing was booked."


class Row(NamedTuple):
    """A validated trade row as plain values: one small object a row, not a model's several."""

    number: int
    ticker: str
    side: str
    quantity: Decimal
    price: Decimal
    fees: Decimal
    trade_date: date
    notes: str
    external_id: str | None

    @classmethod
    def of(cls, number: int, t: TradeCreate) -> "Row":
        return cls(
            number,
            t.ticker,
            t.side.value,
            t.quantity,
            t.price,
            t.fees,
            t.trade_date,
            t.notes,
            t.external_id,
        )

    def new_trade(self, instrument_id: int) -> NewTrade:
        return NewTrade(
            instrument_id,
            self.ticker,
            Side(self.side),
            self.quantity,
            self.price,
            self.fees,
            self.trade_date,
            self.notes,
            self.external_id,
        )


class RowErrors:
    """Reasons collected by row number, raised at once as InvalidCsv."""

    def __init__(self) -> None:
        self.by_row: dict[int, list[str]] = defaultdict(list)
        # The good tickers of bad rows: checked too, so a file's every error shows at once.
        self.tickers: list[tuple[int, str]] = []

    def add(self, row: int, reason: str) -> None:
        self.by_row[row].append(reason)

    def raise_if_any(self) -> None:
        if self.by_row:
            raise invalid(self.by_row)


def invalid(by_row: dict[int, list[str]], message: str | None = None) -> InvalidCsv:
    listed = [
        ImportRowError(row=row, errors=errors).model_dump()
        for row, errors in sorted(by_row.items())[:MAX_LISTED_ROWS]
    ]
    return InvalidCsv(message, details={"rows": listed, "total": len(by_row)})


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during a synchronous bulk step: on 100,000 rows its
    passes over the growing list cost more than the parsing itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _records(source: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """The file's records, read as they are needed: a large file is never all in memory."""
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    number = 0
    try:
        for number, cells in enumerate(csv.reader(_text_lines(text), strict=True), start=1):
            yield number, cells
    except UnicodeDecodeError as exc:
        raise invalid({}, f"The file is not UTF-8 text (row {number + 1}).") from exc
    except csv.Error as exc:
        raise invalid({number + 1: [f"not readable as CSV: {exc}"]}) from exc
    finally:
        text.detach()  # the caller's file stays open


def _text_lines(text: io.TextIOWrapper) -> Iterator[str]:
    for line in text:
        if "\x00" in line:
            raise invalid({}, "The file is binary, not CSV text.")
        yield line


def _columns(header: list[str]) -> dict[str, int]:
    aliases = {alias: field for field, names in COLUMNS.items() for alias in names}
    found: dict[str, int] = {}
    errors: list[str] = []
    for index, name in enumerate(header):
        field = aliases.get(name.strip().lower().replace(" ", "_"))
        if field is None:
            continue
        if field in found:
            errors.append(f"columns {header[found[field]]!r} and {name!r} both give {field}")
        found[field] = index
    errors += [
        f"no {f} column (one of: {', '.join(COLUMNS[f])})" for f in REQUIRED if f not in found
    ]
    if errors:
        raise invalid({HEADER_ROW: errors})
    return found


def inert(text: str) -> str:
    """The cell as a spreadsheet shows text: one that would start a formula gets a quote."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _uninert(text: str) -> str:
    """What `inert` quoted, read back as it was written."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _values(cells: list[str], columns: dict[str, int]) -> dict[str, str]:
    values = {}
    for field, index in columns.items():
        cell = cells[index] if index < len(cells) else ""
        value = cell if field == "notes" else cell.strip()
        if field in FREE_TEXT:
            value = _uninert(value)
        if value:
            values[field] = value
    if "side" in values:
        values["side"] = SIDES.get(values["side"].lower(), values["side"])
    return values


def _reasons(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
        for e in exc.errors(include_url=False)
    ]


def parse(source: BinaryIO, errors: RowErrors, progress: Progress = quiet) -> list[Row]:
    """The file's trades in file order; what is wrong with the others goes into `errors`.
    Progress is told in bytes read."""
    with _collector_paused():
        return _parse(source, errors, progress)


def _parse(source: BinaryIO, errors: RowErrors, progress: Progress) -> list[Row]:
    size = source.seek(0, io.SEEK_END)
    source.seek(0)
    records = _records(source)
    first = next(records, None)
    if first is None:
        raise invalid({HEADER_ROW: ["the file is empty: a header row is needed"]})
    header = first[1]
    columns = _columns(header)
    rows: list[Row] = []
    for number, cells in records:
        if number % GIL_HANDOFF_EVERY == 0:
            time.sleep(0)  # the event loop waits for the GIL: let it have it now, not in 5 ms
        if number % PROGRESS_EVERY == 0:
            progress("validating", min(source.tell(), size), size)
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            errors.add(number, f"{len(cells)} cells, but the header has {len(header)} columns")
            continue
        values = _values(cells, columns)
        try:
            rows.append(Row.of(number, TradeCreate.model_validate(values)))
        except ValidationError as exc:
            for reason in _reasons(exc):
                errors.add(number, reason)
            if "ticker" in values and all(e["loc"][:1] != ("ticker",) for e in exc.errors()):
                errors.tickers.append((number, values["ticker"].upper()))
    progress("validating", size, size)
    return rows


def digest(source: BinaryIO) -> str:
    """The file's SHA-256, read in pieces; the file is left at its start."""
    source.seek(0)
    sha = hashlib.file_digest(source, "sha256")  # type: ignore[arg-type]
    source.seek(0)
    return sha.hexdigest()
