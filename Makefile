# The two set-up commands of the README: `make run` and `make test`. Both bootstrap .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOG := $(VENV)/install.log
SHELL := /bin/bash
# The browser tests drive Debian's chromium (/usr/bin/chromium); Playwright never downloads a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint bench docs clean chromium

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
	@$(MAKE) --no-print-directory chromium
	@touch $(STAMP)
	@echo "finbot: installed. Every command: $(BIN)/finbot --help; the documentation: docs/README.md"

# Debian's chromium for the passkey browser tests, installed with apt-get when it is missing (as root).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    echo "  [+] installing Debian's chromium for the browser tests (apt-get; about 60 s)"; mkdir -p $(VENV); \
	    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; } >> $(LOG) 2>&1 \
	      || echo "      chromium was not installed (see $(LOG)): the browser tests will be skipped"; \
	  else echo "  (no $(CHROMIUM): install Debian's chromium package for the browser tests)"; fi; \
	fi

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
