# VoicePay developer commands. `make demo` and `make test` work on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit evals evals-voice evals-baseline bench clean

$(STAMP): pyproject.toml scripts/install-voice-auth.sh scripts/install-speech.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	scripts/install-voice-auth.sh $(VENV)
	scripts/install-speech.sh $(VENV)
	touch $(STAMP)

setup: $(STAMP)
	scripts/ensure-system-deps.sh

demo: setup
	$(BIN)/voicepay demo --out out/demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy .

unit: setup
	$(BIN)/pytest -q

# The starter eval suite, offline, gated against the baseline report kept in the repo.
evals: setup
	rm -rf out/evals
	$(BIN)/voicepay eval run evals/suites/core --out out/evals --jobs 2
	$(BIN)/voicepay eval diff evals/baseline/report.json out/evals \
		--fail-on errors=0 --fail-on policy_violations=0

# Refresh the baseline after an intended change (review the diff before committing it).
evals-baseline: setup
	rm -rf out/evals-baseline
	$(BIN)/voicepay eval run evals/suites/core --out out/evals-baseline --jobs 2
	mkdir -p evals/baseline
	cp out/evals-baseline/report.json evals/baseline/report.json

# The voice-mode suite: the full audio pipeline offline, each call recorded and the recording
# scanned for card data (slow: speech recognition on the CPU; not part of `make test`).
evals-voice: setup
	rm -rf out/evals-voice
	OMP_NUM_THREADS=1 $(BIN)/voicepay eval run evals/suites/voice --out out/evals-voice \
		--mode voice --jobs 2

test: lint typecheck unit evals

bench: setup
	$(BIN)/python bench/turn_overhead.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache .hypothesis
