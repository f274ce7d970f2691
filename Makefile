# Emotionfy: `make run` runs the product, `make test` runs the tests. Both set up what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODELS := model/onnx/mini_xception.onnx model/onnx/faceapi_expression.onnx
VIDEO ?=
OUT ?= out

.PHONY: help setup models run test lint unit bench clean

help:
	@echo "make run VIDEO=path   analyse a video, write $(OUT)/<name>.json|.csv|.html"
	@echo "make test             lint, type-check and run the whole test suite"
	@echo "make bench            speed and memory benchmark (writes docs/benchmarks.md)"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) models

models: $(STAMP)
	$(BIN)/python -m model.build

run: setup
ifeq ($(strip $(VIDEO)),)
	@echo "usage: make run VIDEO=path/to/video.mp4   (the local web stack arrives with the backend)"; exit 2
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

clean:
	rm -rf $(VENV) model/onnx model/.cache .pytest_cache .mypy_cache .ruff_cache $(OUT)
