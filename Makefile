# entrygate — the two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The test suite runs every storage test on SQLite and on this PostgreSQL server (trust auth);
# it creates and drops a throw-away database per test session.
ENTRYGATE_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export ENTRYGATE_TEST_POSTGRES_URL
PYTEST_ARGS ?=

.PHONY: demo test test-fast lint openapi screenshots bench bench-gate bench-palm bench-palm-restart bench-risk clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/entrygate demo

test: $(STAMP)
	@$(PY) -c "import psycopg,os; psycopg.connect(os.environ['ENTRYGATE_TEST_POSTGRES_URL'], connect_timeout=5).close()" \
	  || (echo "make test needs PostgreSQL at $$ENTRYGATE_TEST_POSTGRES_URL (set ENTRYGATE_TEST_POSTGRES_URL)"; exit 1)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/lint-imports

# docs/openapi.json, the OpenAPI document the platform serves (a test fails when the two differ).
openapi: $(STAMP)
	$(PY) -m entrygate.openapi_document docs/openapi.json

# The console screenshots in docs/img, from the demo's own data (needs Chromium); tests never write there.
screenshots: $(STAMP)
	$(PY) bench/screenshots.py --out docs/img

bench: bench-gate bench-palm bench-palm-restart bench-risk

bench-gate: $(STAMP)
	$(PY) bench/gate_latency.py

bench-palm: $(STAMP)
	$(PY) bench/palm_identification.py --sizes 100000 1000000

# A restarted process's palm index: from its file on disk versus rebuilt from the database.
bench-palm-restart: $(STAMP)
	$(PY) bench/palm_restart.py --sizes 100000 1000000

bench-risk: $(STAMP)
	$(PY) bench/risk_scoring.py

clean:
	rm -rf $(VENV) var/ .pytest_cache .hypothesis
