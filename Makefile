# The two commands of the README: `make demo` and `make test`.
# Installs come from the lock files (exact versions and hashes); pyproject.toml keeps the
# direct pins. `make lock` regenerates the locks after a pin changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install install-test demo demo-serve test test-fast lint bench lock clean

# Runtime only: what `frwatch demo`, `crawl`, `serve` … need.
$(VENV)/.installed-runtime: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Runtime plus the test and benchmark tools (pytest, selenium, aiosmtpd, …) and the
# distributed extra (scrapy-redis, redis), which tests/test_distributed.py exercises.
$(VENV)/.installed-test: requirements-test.lock $(VENV)/.installed-runtime
	$(BIN)/pip install --quiet --require-hashes -r requirements-test.lock
	touch $@

install: $(VENV)/.installed-runtime

install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/frwatch demo

# The demo, then Datasette on http://127.0.0.1:8001/ with the demo web still up (so
# "original article" links open), until Ctrl-C.
demo-serve: install
	$(BIN)/frwatch demo --serve

# Whole modules spread over one process per core, at most four (two on a two-core
# machine): in one process the suite keeps one core busy, as most tests start servers
# and subprocesses and wait for them.
test: install-test
	$(BIN)/python -m pytest -n logical --maxprocesses 4 --dist loadfile

# The unit layer alone (tests/unit: no servers, no subprocesses, no model), in seconds.
test-fast: install-test
	$(BIN)/python -m pytest -m "not slow"

# ruff over the repository, then mypy over the packages listed in pyproject's [tool.mypy].
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install-test
	$(BIN)/python -m benchmarks.crawl

lock:
	$(BIN)/pip install --quiet pip-tools==7.6.2
	$(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --strip-extras \
		--output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --allow-unsafe --generate-hashes --strip-extras \
		--extra test --extra bench --extra distributed --output-file requirements-test.lock \
		pyproject.toml

clean:
	rm -rf $(VENV) data build *.egg-info
