# Emotionfy: `make run` runs the product, `make test` runs the tests. Both set up what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins many packages of its own: it lives in a venv of its own (tests/test_infra.py finds it there).
TOOLS := .venv-tools
MODELS := model/onnx/mini_xception.onnx model/onnx/faceapi_expression.onnx
VIDEO ?=
OUT ?= out
# apt-get needs root; use sudo when not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup system tools models run analyze test lint unit bench clean frontend frontend-test chromium e2e screenshots

help:
	@echo "make run                  the whole stack on loopback: API on http://127.0.0.1:8000 (Ctrl-C stops it)"
	@echo "make analyze VIDEO=path   analyse one video from the command line, write $(OUT)/<name>.json|.csv|.html"
	@echo "make test                 lint, type-check and run every suite (Python, Vitest, browser end to end)"
	@echo "make frontend             build the web app into frontend/dist (make run serves it on :8080)"
	@echo "make screenshots          run the browser journey and refresh docs/screenshots/"
	@echo "make bench                speed and memory benchmarks (writes docs/benchmarks.md)"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) models system

# The training recipe's tests (tiny synthetic data, one epoch: CI never trains a model) need torch, a CPU
# build that pip takes from this machine's disk; `make run` does not need it.
TRAIN_STAMP := $(VENV)/.train-installed
$(TRAIN_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[train]"
	touch $@

$(TOOLS)/.installed:
	test -d $(TOOLS) || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet "checkov==3.3.30"
	touch $@

tools: $(TOOLS)/.installed

# Debian packages the local stack runs: redis-server (MongoDB and AWS come from PyPI: SecantusDB, moto).
# Debian packages, installed quietly: apt's output goes to a log shown only when the install fails.
APT_LOG := /tmp/emotionfy-apt.log
APT_INSTALL = $(SUDO) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1)' \
	>$(APT_LOG) 2>&1 || { tail -n 40 $(APT_LOG); echo "apt-get install $(1) failed (log: $(APT_LOG))"; exit 1; }

system:
	@command -v redis-server >/dev/null 2>&1 || { echo "installing redis-server (Debian) ..."; \
		$(call APT_INSTALL,redis-server); }

models: $(STAMP)
	$(BIN)/python -m model.build

# `make run API_PORT=8001` etc. when a port is taken (defaults: devstack/stack.py Ports).
API_PORT ?= 8000
SITE_PORT ?= 8080
MOTO_PORT ?= 5005
REDIS_PORT ?= 6380
MONGO_PORT ?= 27018

run: setup frontend
	$(BIN)/python -m devstack --api-port $(API_PORT) --site-port $(SITE_PORT) --moto-port $(MOTO_PORT) \
		--redis-port $(REDIS_PORT) --mongo-port $(MONGO_PORT)

analyze: setup
ifeq ($(strip $(VIDEO)),)
	@echo "usage: make analyze VIDEO=path/to/video.mp4"; exit 2
else
	$(BIN)/emotionfy analyze "$(VIDEO)" --json "$(OUT)/$(basename $(notdir $(VIDEO))).json" \
		--csv "$(OUT)/$(basename $(notdir $(VIDEO))).csv" --html "$(OUT)/$(basename $(notdir $(VIDEO))).html"
endif

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: setup tools $(TRAIN_STAMP)
	$(BIN)/python -m pytest

test: lint unit frontend-test e2e

# --- the web app (frontend/): npm ci, Vite build, Vitest, and the journey in Debian's Chromium ---
frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

# Rebuild the web app only when its sources changed (make run starts in seconds the second time).
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) chalicelib/engine/palette.json \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package.json
frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build
	touch $@

frontend: frontend/dist/index.html

frontend-test: frontend/node_modules/.package-lock.json
	cd frontend && npm test

chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium (Debian) ..."; \
		$(call APT_INSTALL,chromium); }

# Screenshots go to a scratch folder unless asked for (make screenshots), so tests leave the tree clean.
e2e: setup frontend chromium
	cd frontend && EMOTIONFY_SCREENSHOTS=$${EMOTIONFY_SCREENSHOTS:-$(CURDIR)/out/screenshots} npm run e2e

screenshots:
	EMOTIONFY_SCREENSHOTS=$(CURDIR)/docs/screenshots $(MAKE) e2e

bench: setup
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.concurrency
	$(BIN)/python -m bench.cloud_timeline

clean:
	rm -rf $(VENV) $(TOOLS) model/onnx model/.cache .pytest_cache .mypy_cache .ruff_cache $(OUT)
	@echo "kept .local/ (the local stack's users, videos and sessions); remove it by hand to start afresh"
