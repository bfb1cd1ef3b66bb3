# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export CAIRN_HOME ?= $(CURDIR)/.cairn

.PHONY: install demo test lint typecheck bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# Seed the demo, make its first admin, and serve it on 127.0.0.1:8080 (Ctrl-C stops it).
demo: install
	$(BIN)/cairn demo --reset
	@token=$$($(BIN)/cairn admin bootstrap user:demo-admin 2>/dev/null) && \
	  echo "" && \
	  echo "Cairn is serving the demo at http://127.0.0.1:8080 (API docs: /api/v1/docs)" && \
	  echo "Admin token, shown once (Cairn keeps only its hash):" && \
	  echo "  export CAIRN_TOKEN=$$token" && \
	  echo "Then: $(BIN)/cairn --registry http://127.0.0.1:8080 model list" && \
	  echo ""
	$(BIN)/cairn serve --host 127.0.0.1 --port 8080

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2

bench: install
	$(BIN)/python bench/register.py

clean:
	rm -rf $(VENV) .cairn .mypy_cache .ruff_cache .pytest_cache
