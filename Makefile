# propdesk developer commands. `make demo` and `make test` work on a fresh machine: they create
# .venv, install the pinned dependencies and the project, then run.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
PYTEST_ARGS ?= -q

.PHONY: install demo test lint typecheck layers pytest fuzz bench clean lock

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/propdesk demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

# Latency tests measure wall-clock time against a served propdesk; they run after the parallel
# run, one at a time, so that the other worker's tests do not take their CPU.
pytest: install
	$(BIN)/pytest -n 2 -m "not latency" $(PYTEST_ARGS)
	$(BIN)/pytest -n 0 -m latency $(PYTEST_ARGS)

test: lint typecheck layers pytest

# A deep schemathesis run over /api/v1 and /v2 on SQLite and PostgreSQL: the examples per
# operation that `make test` uses (36) times about 30. `make fuzz FUZZ_EXAMPLES=5000` for more.
FUZZ_EXAMPLES ?= 1000
fuzz: install
	PROPDESK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -n 2 $(PYTEST_ARGS) tests/api/test_openapi_schemathesis.py

lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^propdesk' > requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
