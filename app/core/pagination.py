"""`limit`/`offset` lists that say how many there are in all."""

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from app.core.schemas import PlainInt

MAX_PAGE_SIZE = 500
MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET is a bigint


class PageParams(BaseModel):
    limit: int
    offset: int


async def page_params(
    limit: Annotated[PlainInt, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = 50,
    offset: Annotated[PlainInt, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
