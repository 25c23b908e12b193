# The README's two commands: `make up` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
HOST   ?= 127.0.0.1
PORT   ?= 8765
DATA   ?= var

.PHONY: up test lint fmt bench clean install install-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[gridops]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The stdio sandbox needs bubblewrap (Debian package); as root with apt-get, install it.
# Without it the sandbox uses Landlock, or refuses to start servers (docs/sandbox.md).
SANDBOX_DEPS = command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	&& apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } \
	|| echo "note: bubblewrap is not installed; stdio servers get Landlock or a refusal (docs/sandbox.md)"

install: $(VENV)/.installed
	@$(SANDBOX_DEPS)
install-dev: $(VENV)/.installed-dev
	@$(SANDBOX_DEPS)

## make up: install, create the embedded SQLite grid database on first run, and serve the
## gateway on 127.0.0.1:$(PORT) with the Grid Ops server (sandboxed, stdio) behind it.
up: install
	@mkdir -p $(DATA)/gridops
	$(VENV)/bin/bastion gridops init-db --db sqlite:///$(abspath $(DATA))/gridops/gridops.db
	$(VENV)/bin/bastion demo --data-dir $(DATA) --port $(PORT)

## make test: install the dev extras and run every test (PostgreSQL/Redis tests use the local services).
test: install-dev
	$(PY) -m pytest

lint: install-dev
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples
	$(VENV)/bin/mypy

fmt: install-dev
	$(VENV)/bin/ruff format src tests bench examples
	$(VENV)/bin/ruff check --fix src tests bench examples

## make bench: every benchmark; each prints a table and writes JSON under bench/results/.
bench: install-dev
	$(PIP) install --quiet -e '.[dev,bench]'
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache .mypy_cache .ruff_cache
