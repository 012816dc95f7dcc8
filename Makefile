# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha1(sys.stdin.buffer.read()).hexdigest()[:12])")

.PHONY: install run test lint typecheck bench validate-bank clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'Python 3.11+ is required (set PYTHON=python3.11)')"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,embedded,crosscheck]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Run the service (web, worker, beat, Redis, SQLite) in the foreground; Ctrl-C stops it all.
run: $(STAMP)
	$(BIN)/python -m config.stack

## Run the whole test suite (SQLite by default; DATABASE_URL selects PostgreSQL).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

validate-bank: $(STAMP)
	$(BIN)/python manage.py validate_bank

## Benchmarks need torchvision, which lives in its own virtualenv (several GB).
bench: $(STAMP)
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet "torch==2.14.1" "torchvision==0.29.1" numpy pyyaml
	.venv-bench/bin/python bench/compute.py

clean:
	rm -rf $(VENV) .venv-bench data .mypy_cache .ruff_cache .pytest_cache
