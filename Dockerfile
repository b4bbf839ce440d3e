# syntax=docker/dockerfile:1
# Folio's API image: uv installs the locked dependencies in a builder stage, Node builds the
# dashboard in another; a slim runtime stage gets both and runs as a non-root user.

ARG PYTHON_VERSION=3.11

# The dashboard, built once into static files that the API serves at /app.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:${PYTHON_VERSION}-slim-bookworm AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3
WORKDIR /app

# Dependencies first: a change to Folio's code does not reinstall them.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

COPY pyproject.toml uv.lock README.md alembic.ini ./
COPY alembic ./alembic
COPY app ./app
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
    && python -m compileall -q app alembic


FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
# The same path as in the builder: the virtualenv's scripts and Folio's install point there.
WORKDIR /app
COPY --from=builder /app /app
COPY --from=web /web/dist /app/web/dist
RUN groupadd --system --gid 10001 folio \
    && useradd --system --uid 10001 --gid folio --home-dir /app --no-create-home folio \
    && mkdir -p /app/data /app/logs \
    && chown folio:folio /app/data /app/logs

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////app/data/folio.db \
    LOG_DIR=/app/logs

USER folio
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["folio", "serve", "--host", "0.0.0.0", "--port", "8000"]
