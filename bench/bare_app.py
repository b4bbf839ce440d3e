"""The baseline: a bare FastAPI app with one route, served the same way as Folio."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
