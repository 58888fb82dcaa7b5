# Two commands do all the set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# The Dagster UI and runs record into the same instance.
DAGSTER_YAML := $(DAGSTER_HOME)/dagster.yaml

.PHONY: run test test-fast ui lint bench scale eval-quotes train-quotes eval-quantities \
	eval-entities units clean system-packages

$(STAMP): pyproject.toml setup.py requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The gazetteer is built with the environment, as the model is installed with it
# (scripts/build_gazetteer.py): no run builds it, not even the first on a new data folder.
GAZETTEER := $(VENV)/.gazetteer
SETUP     := $(STAMP) $(GAZETTEER)
$(GAZETTEER): $(STAMP) pipelines/core/gazetteer.py $(shell find pipelines/core/data -type f)
	$(BIN)/python scripts/build_gazetteer.py
	touch $@

# The instance's settings: pipelines/dagster.yaml and the event log in this folder
$(DAGSTER_YAML): $(STAMP) pipelines/dagster.yaml pipelines/instance_settings.py
	$(BIN)/python -m pipelines.instance_settings $(DAGSTER_HOME)

# `dg` runs in the project's own environment (it warns when another one is active).
DG := VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg

## make run: set up, materialise every asset on seeds/ (NEWS_SEEDS_DIR) into data/, print a summary
run: $(SETUP) $(DAGSTER_YAML)
	$(DG) launch --job news_etl --config pipelines/run_config.yaml
	$(BIN)/newsetl summary

## make ui: the Dagster UI on the same instance as `make run` (http://127.0.0.1:3000)
ui: $(SETUP) $(DAGSTER_YAML)
	$(DG) dev --host 127.0.0.1 --port $${PORT:-3000}

## make test: set up (and, as root, the Debian packages the tests use), lint, test (on
## TEST_WORKERS processes, whole modules each, so module fixtures are built once; 2 = the cores;
## the slowest modules first, in the order tests/conftest.py gives; TEST_ARGS adds options)
TEST_WORKERS ?= 2
TEST_ARGS ?=
test: $(SETUP) $(DAGSTER_YAML) system-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(TEST_ARGS)

## make test-fast: the inner loop: ruff and every test not marked `slow` (no servers, no
## browser, no killed runs; on TEST_WORKERS processes as `make test`: about a minute and a half)
test-fast: $(SETUP) $(DAGSTER_YAML)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(TEST_ARGS)

# Debian packages the tests drive for real: chromium (the UI test), redis-server (Celery broker).
system-packages:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (install them as root: apt-get install$$missing)"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(SETUP) $(DAGSTER_YAML)
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)

## make scale: the storage layer on 1,000,000 synthetic articles (SCALE_ARGS="--articles N")
scale: $(SETUP)
	$(BIN)/python scripts/scale_sim.py $(SCALE_ARGS)

eval-quotes: $(SETUP) $(DAGSTER_YAML)
	$(BIN)/python scripts/eval_quotes.py

## make train-quotes: the quote model from PolNeAR train (parses cached under $TMPDIR), chosen on dev
train-quotes: $(SETUP)
	$(BIN)/python scripts/train_quotes.py

eval-quantities: $(SETUP) $(DAGSTER_YAML)
	$(BIN)/python scripts/eval_quantities.py

## make units: rebuild pipelines/core/data/units.tsv from pint, ISO 4217 and scripts/data/
units: $(STAMP)
	$(BIN)/python scripts/build_units.py

eval-entities: $(SETUP) $(DAGSTER_YAML)
	$(BIN)/python scripts/eval_entities.py $(EVAL_ARGS)

clean:
	rm -rf data .dagster_home
