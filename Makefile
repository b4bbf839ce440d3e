# Folio's commands. `make run` serves the API on the embedded default; `make test` runs the suite.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format types bench fuzz migrate

.tools/bin/uv:
	python3 -m venv .tools && .tools/bin/python -m pip install --quiet uv

install: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen

run: install
	$(UV) run folio serve --host $(HOST) --port $(PORT)

test: install
	$(UV) run pytest $(PYTEST_ARGS)

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy app

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
