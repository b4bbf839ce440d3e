from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Check(BaseModel):
    status: Literal["up", "down"]
    backend: str | None = None
    detail: str | None = None


class Readiness(BaseModel):
    status: Literal["ready", "degraded", "unavailable"]
    database: Check
    cache: Check
    market_data: Check


class Quote(BaseModel):
    quote: str
    author: str
