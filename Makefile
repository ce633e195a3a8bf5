# Two commands: `make serve` and `make test`. Both set up everything on first use.
# `make check` is the developer's loop: lint, import contracts, types and the fast tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tests run in parallel (pytest-xdist), each worker with a PostgreSQL of its own; a file's tests stay on one worker.
JOBS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(JOBS) --dist loadfile

.PHONY: serve test check lint browser-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: any other version pulls gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/attest serve

# Debian's Chromium for the browser tests (never a downloaded browser), and from npm (package.json)
# axe-core and Lighthouse, which runs on that same Chromium (CHROME_PATH).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }
	@test -f node_modules/axe-core/axe.min.js -a -f node_modules/lighthouse/cli/index.js || \
	  npm install --no-audit --no-fund --silent

test: lint browser-deps
	$(PYTEST)

check: lint
	$(PYTEST) -m "not slow"

# ruff, the layout's import contracts (pyproject.toml) and the type checker.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules test-artifacts
