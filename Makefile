# Emotionfy: `make run` runs the product, `make test` runs the tests. Both set up what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODELS := model/onnx/mini_xception.onnx model/onnx/faceapi_expression.onnx
VIDEO ?=
OUT ?= out
# apt-get needs root; use sudo when not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup system models run analyze test lint unit bench clean

help:
	@echo "make run                  the whole stack on loopback: API on http://127.0.0.1:8000 (Ctrl-C stops it)"
	@echo "make analyze VIDEO=path   analyse one video from the command line, write $(OUT)/<name>.json|.csv|.html"
	@echo "make test                 lint, type-check and run the whole test suite"
	@echo "make bench                speed and memory benchmarks (writes docs/benchmarks.md)"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) models system

# Debian packages the local stack runs: redis-server (MongoDB and AWS come from PyPI: SecantusDB, moto).
system:
	@command -v redis-server >/dev/null 2>&1 || \
		$(SUDO) sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'

models: $(STAMP)
	$(BIN)/python -m model.build

run: setup
	$(BIN)/python -m devstack

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

unit: setup
	$(BIN)/python -m pytest

test: lint unit

bench: setup
	$(BIN)/python -m bench.engine
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) model/onnx model/.cache .pytest_cache .mypy_cache .ruff_cache $(OUT)
	@echo "kept .local/ (the local stack's users, videos and sessions); remove it by hand to start afresh"
