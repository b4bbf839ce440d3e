"""Indicator names (`sma_20`, `macd_12_26_9`, `bbands_20_2.5`, ...): parsed and checked."""

import re
from dataclasses import dataclass

from app.core.errors import InvalidInput

DEFAULT_NAMES = (
    "sma_20",
    "ema_20",
    "macd_12_26_9",
    "rsi_14",
    "bbands_20_2",
    "atr_14",
    "stoch_14_3_3",
    "obv",
)
# TA-Lib's own limits: it refuses anything beyond them.
MAX_PERIOD = 100_000
MAX_DEVIATIONS = 3e37
MAX_NAMES_TEXT = 1000  # characters of a comma-separated list

_PERIOD = re.compile(r"\d{1,6}", re.ASCII)
_REAL = re.compile(r"\d+(?:\.\d+)?", re.ASCII)


class InvalidIndicator(InvalidInput):
    code = "invalid_indicator"
    message = "An indicator's name or parameters are not valid."


@dataclass(frozen=True, slots=True)
class Param:
    label: str
    minimum: int = 1
    real: bool = False  # a number of standard deviations, not a period


@dataclass(frozen=True, slots=True)
class Kind:
    params: tuple[Param, ...]
    suffixes: tuple[str, ...] = ("",)


KINDS: dict[str, Kind] = {
    "sma": Kind((Param("period"),)),
    "ema": Kind((Param("period"),)),
    "rsi": Kind((Param("period", 2),)),
    "atr": Kind((Param("period"),)),
    "macd": Kind(
        (Param("fast period", 2), Param("slow period", 2), Param("signal period")),
        ("", "_signal", "_hist"),
    ),
    "bbands": Kind(
        (Param("period", 2), Param("deviations", real=True)), ("_upper", "_middle", "_lower")
    ),
    "stoch": Kind((Param("%K period"), Param("%K smoothing"), Param("%D smoothing")), ("_k", "_d")),
    "obv": Kind(()),
}


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str
    kind: str
    params: tuple[int | float, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.name + suffix for suffix in KINDS[self.kind].suffixes)


def invalid(name: str, reason: str) -> InvalidIndicator:
    return InvalidIndicator(f"{name!r}: {reason}.", details={"name": name, "reason": reason})


def parse(name: str) -> Indicator:
    """The indicator a name stands for; InvalidIndicator saying why when it stands for none."""
    kind_name, *values = name.split("_")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise invalid(name, f"unknown indicator; known: {', '.join(KINDS)}")
    if len(values) != len(kind.params):
        labels = ", ".join(p.label for p in kind.params)
        takes = f"{len(kind.params)} parameter(s): {labels}" if labels else "no parameters"
        raise invalid(name, f"{kind_name} takes {takes}")
    params = tuple(_value(name, p, v) for p, v in zip(kind.params, values, strict=True))
    if kind_name == "macd" and params[0] >= params[1]:
        raise invalid(name, "the fast period must be shorter than the slow period")
    return Indicator(name, kind_name, params)


def _value(name: str, param: Param, text: str) -> int | float:
    if param.real:
        if _REAL.fullmatch(text) and 0 < float(text) <= MAX_DEVIATIONS:
            return float(text)
        raise invalid(name, f"the {param.label} must be a number above 0, like 2 or 2.5")
    if _PERIOD.fullmatch(text) and param.minimum <= int(text) <= MAX_PERIOD:
        return int(text)
    raise invalid(
        name, f"the {param.label} must be a whole number from {param.minimum} to {MAX_PERIOD}"
    )


def parse_column(column: str) -> Indicator:
    """The indicator a column (`rsi_14`, `macd_12_26_9_hist`, `bbands_20_2_lower`) is part of."""
    kind = KINDS.get(column.split("_", 1)[0])
    suffixes = kind.suffixes if kind else ()
    suffix = next((s for s in suffixes if s and column.endswith(s)), "")
    indicator = parse(column.removesuffix(suffix))
    if column not in indicator.columns:
        raise invalid(column, f"not a column; {indicator.name} has {', '.join(indicator.columns)}")
    return indicator


def parse_names(names: str | None) -> list[Indicator]:
    """Comma-separated names (the defaults when None), each once, in the order given."""
    if names is None:
        return [parse(name) for name in DEFAULT_NAMES]
    if len(names) > MAX_NAMES_TEXT:
        raise invalid(names[:40] + "...", f"name indicators in at most {MAX_NAMES_TEXT} characters")
    asked = dict.fromkeys(part.strip() for part in names.split(",") if part.strip())
    if not asked:
        raise invalid(names, "name at least one indicator")
    return [parse(name) for name in asked]
