# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint system-deps screenshots clean

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
	$(BIN)/mypy

test: $(VENV)/.dev-stamp system-deps lint
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/pytest

# The screenshots in docs/screenshots (linked from the README), taken by the browser tests.
screenshots: $(VENV)/.dev-stamp system-deps
	rm -rf docs/screenshots
	BROBYGGER_SCREENSHOTS=$(CURDIR)/docs/screenshots HF_HUB_OFFLINE=1 \
		$(BIN)/pytest -q tests/web/test_browser.py

clean:
	rm -rf $(VENV) var
