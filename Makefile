# The two set-up commands of the README: `make run` and `make test`. Both bootstrap .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOG := $(VENV)/install.log
SHELL := /bin/bash

.PHONY: run test lint bench docs clean

# The first run installs everything (about 90 s on a fresh machine) and says what it is doing;
# pip's whole output goes to .venv/install.log, and its end is shown if something fails.
$(STAMP): pyproject.toml
	@echo "finbot: first run, setting up $(VENV) (about 90 s on a fresh machine; later runs start at once)"
	@echo "  [1/3] creating the virtual environment $(VENV) with $(PY)"
	@$(PY) -m venv $(VENV)
	@echo "  [2/3] upgrading pip"
	@$(BIN)/pip install --upgrade pip > $(LOG) 2>&1 || { echo "pip failed; the end of $(LOG):"; tail -20 $(LOG); exit 1; }
	@echo "  [3/3] installing finbot and its dependencies (spaCy, SQLAlchemy, python-telegram-bot, ...)"
	@set -o pipefail; ( s=0; while sleep 15; do s=$$((s + 15)); echo "        ... still working ($$s s)"; done ) & tick=$$!; \
	  $(BIN)/pip install --progress-bar off -e '.[dev]' 2>&1 | tee -a $(LOG) | awk '\
	    /^Collecting / { n++; if (n == 1 || n % 10 == 0) { printf "        packages found so far: %3d (%s)\n", n, $$2; fflush() } } \
	    /^Installing collected packages/ { printf "        installing the %d packages found (the longest step)\n", n; fflush() }'; \
	  rc=$$?; kill $$tick 2>/dev/null; wait $$tick 2>/dev/null; \
	  if [ $$rc -ne 0 ]; then echo "pip failed; the end of $(LOG):"; tail -20 $(LOG); exit 1; fi
	@touch $(STAMP)
	@echo "finbot: installed. Every command: $(BIN)/finbot --help; the documentation: docs/README.md"

run: $(STAMP)
	$(BIN)/finbot run

test: $(STAMP)
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bot intents ledger adapters tests bench
	$(BIN)/mypy --strict ledger intents bot

# docs/settings.md is generated from the settings class (bot/config.py); tests fail when it is stale.
docs: $(STAMP)
	$(BIN)/python -m adapters.cli.settings_doc

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info finbot.db finbot.db-* .pytest_cache .hypothesis
