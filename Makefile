# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-slow lint system-deps screenshots bench bench-deps clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Runtime install: the app and its bundled embedding model, nothing else.
$(VENV)/.run-stamp: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	touch $@

# Dev install. torch is pinned first: an unpinned torch (pulled by sentence-transformers)
# would download a multi-GB CUDA build; 2.13.0 is a small CPU build.
$(VENV)/.dev-stamp: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.run-stamp

run: $(VENV)/.run-stamp
	$(BIN)/brobygger demo seed
	$(BIN)/brobygger serve

# PostgreSQL server binaries for the persistence tests (the suite starts its own throwaway
# server) and Debian's Chromium for the browser tests (Playwright drives it; nothing downloads
# a browser of its own).
system-deps:
	@if [ -x /usr/bin/chromium ]; then echo "Chromium: $$(/usr/bin/chromium --version)"; else \
		echo "Installerer Chromium fra Debian-pakker ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "PostgreSQL: $$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | head -1)"; \
	else \
		echo "Installerer PostgreSQL-server fra Debian-pakker ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(VENV)/.dev-stamp system-deps lint
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/pytest --durations=15

# The same suite with 25 times as many examples for the property tests and the API fuzzing
# (tests/service/test_fuzz.py, tests/properties/): about an hour.
test-slow: $(VENV)/.dev-stamp system-deps lint
	BROBYGGER_SLOW=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/pytest

# The screenshots in docs/screenshots (linked from the README), taken by the browser tests.
screenshots: $(VENV)/.dev-stamp system-deps
	rm -rf docs/screenshots
	BROBYGGER_SCREENSHOTS=$(CURDIR)/docs/screenshots HF_HUB_OFFLINE=1 \
		$(BIN)/pytest -q tests/web/test_browser.py tests/web/test_browser_conference.py tests/web/test_browser_pages.py

# Benchmarks (docs/PERFORMANCE.md). `make bench` measures everything and renews docs/perf/
# (about an hour on two cores, most of it the 1M-vector index); `make bench QUICK=1` runs
# each script in its quick mode in a few minutes and writes to var/bench-quick/ instead.
BENCH_OUT   := $(if $(QUICK),var/bench-quick,docs/perf)
BENCH_QUICK := $(if $(QUICK),--quick,)
bench: $(VENV)/.dev-stamp bench-deps
	mkdir -p $(BENCH_OUT)
	HF_HUB_OFFLINE=1 $(BIN)/python bench/ingest.py $(BENCH_QUICK) \
		--json $(BENCH_OUT)/ingest.json --plot $(BENCH_OUT)/ingest.html
	HF_HUB_OFFLINE=1 $(BIN)/python bench/query.py $(BENCH_QUICK) \
		--json $(BENCH_OUT)/query.json --plot $(BENCH_OUT)/query.html
	HF_HUB_OFFLINE=1 $(BIN)/python bench/latency.py $(BENCH_QUICK) \
		--json $(BENCH_OUT)/latency.json --plot $(BENCH_OUT)/latency.html
	HF_HUB_OFFLINE=1 $(BIN)/python bench/load.py $(BENCH_QUICK) \
		--json $(BENCH_OUT)/load.json --plot $(BENCH_OUT)/load.html
	HF_HUB_OFFLINE=1 $(BIN)/python bench/conference.py $(if $(QUICK),--quick,--runs 3) \
		--json $(BENCH_OUT)/conference.json

# wrk, the HTTP load generator of bench/load.py, from Debian packages.
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { echo "Installerer wrk fra Debian-pakker ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

clean:
	rm -rf $(VENV) var
