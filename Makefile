# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Exact versions of every dependency (the service's and the dev, embedded and crosscheck extras).
LOCK := requirements/lock.txt
LOCK_EXTRAS := --extra dev --extra embedded --extra crosscheck
# The stamp names the hash of pyproject.toml and the lock: a change to either reinstalls.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | $(PYTHON) -c "import hashlib,sys; print(hashlib.sha1(sys.stdin.buffer.read()).hexdigest()[:12])")

.PHONY: install run test check lint typecheck bench validate-bank lock lock-upgrade clean

# Plain pip installs the lock (torch's CPU wheel comes from this machine's pip configuration),
# then the project itself without resolving anything again.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 'Python 3.11+ is required (set PYTHON=python3.11)')"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Run the service (web, worker, beat, Redis, SQLite) in the foreground; Ctrl-C stops it all.
run: $(STAMP)
	$(BIN)/python -m config.stack

## Run the whole test suite (SQLite by default; DATABASE_URL selects PostgreSQL).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The edit-test loop: everything but the integration, crosscheck and slow tests.
check: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not crosscheck and not slow" $(PYTEST_ARGS)

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

## Re-pin the lock after a change to pyproject.toml (keeps the other pins as they are).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip-tools>=7.4,<8"
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links $(LOCK_EXTRAS) --output-file $(LOCK) \
		$(PIP_COMPILE_ARGS) pyproject.toml

## Move every pin to the newest version pyproject.toml allows.
lock-upgrade:
	$(MAKE) --no-print-directory lock PIP_COMPILE_ARGS=--upgrade

clean:
	rm -rf $(VENV) .venv-bench data .mypy_cache .ruff_cache .pytest_cache
