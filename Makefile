# The README's two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit e2e chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: install, migrate an embedded SQLite database, load the demo bank, serve on :8000
# --dev creates ./flowdesk.secret (mode 600, git-ignored) once, so later commands,
# plain `flowdesk serve` included, find a key; commands that only read need none.
run: $(STAMP)
	@echo "The flowdesk command is $(BIN)/flowdesk: run '. $(BIN)/activate' in another shell to use it as 'flowdesk'."
	$(BIN)/flowdesk serve --dev --demo

## test: lint, type-check, layer contracts, every test on SQLite and PostgreSQL, the browser test
test: $(STAMP) chromium lint typecheck
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Debian's Chromium for the end-to-end test (no browser download from elsewhere), and a
# CJK font (Noto Sans CJK) so headless pages and screenshots show Chinese, not empty boxes.
# Installs when either is missing: no chromium command, or no font that covers Chinese
# (fontconfig provides fc-list, which answers that).
CHROMIUM_PACKAGES := chromium fonts-noto-cjk fontconfig
chromium:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq $(CHROMIUM_PACKAGES) >/dev/null; \
	fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
