# One command runner: `make run`, `make test`, `make lint`, `make docs`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= build

.PHONY: run test lint fmt docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job on the embedded default: generate a sample, then check it against the MDS rules.
run: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/mds-adapter synth --n 1000 --seed 1 -o $(OUT)/sample.jsonl
	$(BIN)/mds-adapter check $(OUT)/sample.jsonl

test: lint
	$(BIN)/mds-adapter terminology check
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check adapter tests bench
	$(BIN)/ruff format --check adapter tests bench
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format adapter tests bench
	$(BIN)/ruff check --fix adapter tests bench

docs: $(STAMP)
	$(BIN)/python -m adapter.mds.gen

bench: $(STAMP)
	$(BIN)/python -m bench synth-check

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache
