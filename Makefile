# Panjereh: `make demo` to run it, `make test` to test it. Everything else is below.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export PANJEREH_DATABASE_URL ?= sqlite:///./var/panjereh.db

.PHONY: demo test bench lint install install-dev serve assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3

# Installs are stamped by the hash of what they install from, so a change reinstalls.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Front-end assets come from the npm registry through the lock file, then are copied into
# the package (git-ignored); nothing is fetched from a CDN at run time.
WEB_VENDOR := panjereh/web/static/vendor/manifest.json
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
$(WEB_VENDOR): node_modules/.package-lock.json | $(VENV)/.installed
	$(BIN)/python -m panjereh.web.assets
assets: $(WEB_VENDOR)

# The worker (clock sweep, notifications, pushes to agencies) and three simulated agency
# systems (IVO by push, INSO and IFDA by pull) run beside the server and stop with it.
SIMS := var/agency-sims
demo: install assets
	$(BIN)/panjereh db upgrade
	$(BIN)/panjereh demo-data
	$(BIN)/panjereh agency demo-connect --directory $(SIMS) --api-url http://$(HOST):$(PORT)
	$(BIN)/panjereh worker & pids=$$!; \
	for sim in $(SIMS)/*.json; do $(BIN)/panjereh agency-sim --config $$sim & pids="$$pids $$!"; done; \
	trap 'kill $$pids 2>/dev/null' EXIT INT TERM; \
	$(BIN)/panjereh serve --host $(HOST) --port $(PORT)

serve: install assets
	$(BIN)/panjereh serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check panjereh tests bench
	$(BIN)/ruff format --check panjereh tests bench
	$(BIN)/mypy

test: lint assets
	$(BIN)/python -m pytest -q

# `make bench` runs every benchmark but the national dashboard (10 million inquiries, 15 to 35
# minutes by host): `BENCH_ARGS="--only dashboard"` runs that one, `BENCH_ARGS=--quick` all of
# them short.
bench: install-dev assets
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis node_modules \
		panjereh/web/static/vendor
