# Folio's commands. `make run` serves the API on the embedded default; `make test` runs the suite.
# With Node present both build the dashboard (web/) first, when its sources changed.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
NPM := $(shell command -v npm 2>/dev/null)
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
	$(wildcard web/index.html web/vite.config.ts web/tsconfig*.json web/package.json)

.PHONY: install run test lint format types bench fuzz migrate web web-test web-lint

.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/python -m pip install --quiet uv

install: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html

web-test: web/node_modules/.package-lock.json
	cd web && npm test

run: install $(if $(NPM),web)
	$(UV) run folio serve --host $(HOST) --port $(PORT)

test: install $(if $(NPM),web web-test)
	$(UV) run pytest $(PYTEST_ARGS)

lint: install $(if $(NPM),web-lint)
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy app

# The typed client is generated from web/openapi.json (kept current by a test): no drift.
web-lint: web/node_modules/.package-lock.json
	cd web && npx openapi-typescript openapi.json -o node_modules/.schema.d.ts >/dev/null \
	  && diff -q node_modules/.schema.d.ts src/api/schema.d.ts \
	  || { echo "web/src/api/schema.d.ts is behind web/openapi.json: npm run generate"; exit 1; }
	cd web && npm run typecheck

types: install
	$(UV) run mypy app

format: install
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

# wrk drives the load when present; installed here when we may (root with apt-get).
bench: install
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq wrk >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || \
	  echo "could not install wrk: the load comes from the slower httpx driver"; \
	fi
	$(UV) sync --frozen --group bench
	$(UV) run --group bench python -m bench $(BENCH_ARGS)

fuzz: install
	$(UV) run pytest tests/fuzz --fuzz-examples=500 $(PYTEST_ARGS)

migrate: install
	$(UV) run folio db upgrade
