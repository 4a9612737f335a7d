# Panjereh: `make demo` to run it, `make test` to test it. Everything else is below.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export PANJEREH_DATABASE_URL ?= sqlite:///./var/panjereh.db

.PHONY: demo test bench lint install install-dev serve clean

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

# The worker (clock sweep, notifications) runs beside the server and stops with it.
demo: install
	$(BIN)/panjereh db upgrade
	$(BIN)/panjereh demo-data
	$(BIN)/panjereh worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/panjereh serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/panjereh serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check panjereh tests bench
	$(BIN)/ruff format --check panjereh tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

bench: install-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
