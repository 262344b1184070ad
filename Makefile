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

# The main job on the embedded default: generate a sample, check it against the MDS rules, load
# it into an OMOP CDM v5.4 SQLite database, read it back (equal up to docs/omop-loss.md), run the
# OHDSI data-quality and clinical checks on it (docs/data-quality.md), then serve the FHIR API on that
# database until Ctrl-C (RUN_SERVE=no stops after the export). The pseudonym key and the token
# below are for this synthetic demo only: real loads need MDS_ADAPTER_PSEUDONYM_KEY set (there
# is no default) and real tokens in MDS_ADAPTER_API_KEYS.
DEMO_DB   := sqlite:///$(OUT)/omop.sqlite
DEMO_KEY  := synthetic-demo-only-key
DEMO_KEYS := {"demo-token-not-a-secret": {"client": "demo", "scopes": ["bundle.write", "export.read", "admin"]}}
RUN_SERVE ?= yes
run: $(STAMP)
	mkdir -p $(OUT)
	rm -f $(OUT)/omop.sqlite
	$(BIN)/mds-adapter synth --n 1000 --seed 1 -o $(OUT)/sample.jsonl
	$(BIN)/mds-adapter check $(OUT)/sample.jsonl
	$(BIN)/mds-adapter db init --db $(DEMO_DB)
	MDS_ADAPTER_PSEUDONYM_KEY=$(DEMO_KEY) $(BIN)/mds-adapter load $(OUT)/sample.jsonl --db $(DEMO_DB)
	$(BIN)/mds-adapter export --db $(DEMO_DB) --to mds -o $(OUT)/exported.jsonl
	$(BIN)/mds-adapter compare $(OUT)/sample.jsonl $(OUT)/exported.jsonl --omop-losses
	$(BIN)/mds-adapter db check --db $(DEMO_DB) --allow-known
ifeq ($(RUN_SERVE),yes)
	@echo "serving the FHIR API on $(DEMO_DB) at http://127.0.0.1:8080/fhir (token demo-token-not-a-secret; Ctrl-C stops)"
	MDS_ADAPTER_PSEUDONYM_KEY=$(DEMO_KEY) MDS_ADAPTER_API_KEYS='$(DEMO_KEYS)' \
		$(BIN)/mds-adapter serve --db $(DEMO_DB)
endif

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
