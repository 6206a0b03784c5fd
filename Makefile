# The two commands a newcomer needs: `make dev` (whole system on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install dev test lint fmt schema lock reference

# Installs the locked versions (constraints.txt, `make lock`) so every build gets the same ones.
$(BIN)/jamajama: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint constraints.txt -e '.[dev]'
	touch $(BIN)/jamajama

install: $(BIN)/jamajama

dev: install
	$(BIN)/jamajama dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schema: install
	$(BIN)/jamajama schema write

# The differential tests run the npm reference tools (Apollo Gateway, The Guild's composer):
# installed here, and again whenever their lock file changes. Without npm those tests skip.
REFERENCE := tools/reference/node_modules/.package-lock.json
$(REFERENCE): tools/reference/package-lock.json
	@if command -v npm >/dev/null; then cd tools/reference && npm ci --no-audit --no-fund && touch node_modules/.package-lock.json; \
	else echo "npm not found: the tests against the Node reference tools will skip"; fi

reference: $(REFERENCE)

test: lint reference
	$(BIN)/python -m pytest

# Re-resolve every dependency of pyproject.toml (all extras, any platform) to the newest allowed
# versions; run the tests, then commit constraints.txt.
lock: install
	$(BIN)/pip install --quiet 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
		--no-header --annotation-style line --quiet -o constraints.txt.new
	{ sed -n '1,/^# (uv pip compile/p' constraints.txt; \
	  sed -E 's/  +# via .*$$//; s/ *$$//' constraints.txt.new; } > constraints.txt.tmp
	rm constraints.txt.new && mv constraints.txt.tmp constraints.txt
