"""Field types every domain's schemas share.

Request values are read strictly: a number as plain ASCII digits (not "1_000", not another
script's digits), a date as YYYY-MM-DD (never a Unix time), a boolean as true or false
(never 1 or "yes").
"""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _plain(value: Decimal) -> str:
    return format(value, "f")


# A Decimal written in JSON as a plain string: "0.0000001", never "1E-7".
DecimalString = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]


def _number(value: Any) -> Any:
    if isinstance(value, bool) or (isinstance(value, str) and not _NUMBER.fullmatch(value)):
        raise ValueError("a number written with the digits 0-9, like 12.50")
    return value


def _integer(value: Any) -> Any:
    if isinstance(value, bool) or (isinstance(value, str) and not _INTEGER.fullmatch(value)):
        raise ValueError("a whole number written with the digits 0-9")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError("a date as YYYY-MM-DD")


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ValueError("true or false")


PlainDecimal = Annotated[Decimal, BeforeValidator(_number)]
PlainInt = Annotated[int, BeforeValidator(_integer)]
IsoDate = Annotated[date, BeforeValidator(_date)]
StrictBool = Annotated[bool, BeforeValidator(_boolean)]
