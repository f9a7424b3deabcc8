# 政策助手 — the two commands in the README are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast setup index lint bench clean-index browser-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[st,dev]'
	touch $(STAMP)

setup: $(STAMP)

# Debian Chromium + driver (+ CJK font for readable screenshots) for the browser tests; skipped when present.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk" || \
	  { (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; }

index: setup
	$(BIN)/policy-assistant index build

run: setup
	$(BIN)/policy-assistant index build
	$(BIN)/policy-assistant app

test: setup browser-deps
	$(BIN)/ruff check .
	$(BIN)/pytest -q

# The quick loop while editing (< 60 s): everything except the tests that need the real built index or
# many real questions (slow), a browser (browser) or the sentence-transformers/torch extra (st).
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not slow and not browser and not st"

lint: setup
	$(BIN)/ruff check .
