# Two commands on a fresh machine with Python 3.11 and make: `make demo` and `make test`.
# uv is bootstrapped with pip and run as a module, so nothing needs to be on PATH.
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast test-bigquery lint format docs generate clean
EMULATOR_VENV := .venv-bqemulator

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

.uv-bootstrap:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@touch .uv-bootstrap

install: .uv-bootstrap  ## install everything from uv.lock into .venv
	@$(UV) sync --frozen --compile-bytecode --quiet
	@test -f profiles.yml || cp profiles.yml.example profiles.yml

demo: install  ## recorded real data through the real loaders into data/, dbt build, docs
	@$(RUN) --quiet gridwarehouse demo

# -v: one line per test as it finishes, so a long run is never silent; the slowest are listed
test: install  ## everything, end-to-end and fault tests included (about 40 min on 2 cores)
	$(RUN) pytest -v --durations=15; status=$$?; if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

$(EMULATOR_VENV)/bin/python: tests/bigquery/emulator-requirements.txt .uv-bootstrap
	$(UV) venv -q --allow-existing --python $(PYTHON) $(EMULATOR_VENV)
	$(UV) pip install -q --python $(EMULATOR_VENV)/bin/python -r tests/bigquery/emulator-requirements.txt
	@touch $@

test-bigquery: install $(EMULATOR_VENV)/bin/python  ## BigQuery parity: the marts on a local emulator vs DuckDB, and the dlt-source example
	EMULATOR_PYTHON=$(abspath $(EMULATOR_VENV))/bin/python $(RUN) pytest -m bigquery tests/python/test_bigquery_parity.py tests/python/test_dlt_sources.py

test-fast: install  ## unit and recorded-data tests, on 2 cores (pytest-xdist): a few minutes
	$(RUN) pytest -n 2 -v --durations=10 -m "not slow and not bigquery"

lint: install  ## ruff + sqlfluff (dbt templater)
	$(RUN) ruff check loaders tests bench
	$(RUN) ruff format --check loaders tests bench
	GRIDWAREHOUSE_DUCKDB_PATH=:memory: $(RUN) sqlfluff lint models snapshots tests/dbt

format: install  ## apply ruff format and sqlfluff fixes
	$(RUN) ruff format loaders tests bench
	$(RUN) ruff check --fix loaders tests bench
	GRIDWAREHOUSE_DUCKDB_PATH=:memory: $(RUN) sqlfluff fix models snapshots tests/dbt

generate: install  ## regenerate BMRS staging models from the catalogue
	$(RUN) python -m loaders.sources.bmrs.dbtgen

docs: install  ## dbt docs generate, then serve on 127.0.0.1 (port printed)
	$(RUN) python -m loaders.common.docs $(ARGS)

clean:  ## remove build output (keeps data/)
	rm -rf target dbt_packages logs .pytest_cache .ruff_cache
