"""Field types every domain's schemas share."""

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def _plain(value: Decimal) -> str:
    return format(value, "f")


# A Decimal written in JSON as a plain string: "0.0000001", never "1E-7".
DecimalString = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]
