# The two commands of the README: `make run` and `make test`. Everything else is set-up
# they call, idempotently: a second run does nothing it does not need to.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test setup setup-test lint typecheck nodetest pytest bench nodered lock clean

# The engine and Node-RED (NODE_RED=0: the engine alone).
run: setup nodered
	ops/run.sh $(CONFIG)

test: setup setup-test nodered lint typecheck nodetest pytest

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# requirements.lock pins every package with its hashes (`make lock` rewrites it).
$(VENV)/.synced: $(UV) pyproject.toml requirements.lock
	test -x $(VENV)/bin/python || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(VENV)/bin/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps --editable .
	touch $@

lock: $(UV)
	$(UV) pip compile pyproject.toml --group dev --generate-hashes --universal \
	  --python-version 3.11 --quiet -o requirements.lock

# Debian packages for the real peers the tests talk to (listed in tests/debian-packages.txt).
setup-test:
	bash ops/install-test-packages.sh tests/debian-packages.txt

lint: setup
	$(VENV)/bin/ruff check hub_engine tests bench python-nodes

typecheck: setup
	$(VENV)/bin/mypy
	cd python-nodes && ../$(VENV)/bin/mypy --strict hub_nodes

# The Node-RED nodes in a real Node-RED runtime (node-red-node-test-helper, Node 24).
nodetest: setup nodered
	HUB_NODES_PYTHON=$(CURDIR)/$(VENV)/bin/python node_modules/.bin/node --test python-nodes/test/hub.test.js

# The real-time closed loops (marked sleepy in tests/conftest.py) wait four at a time;
# then everything else, one test at a time.
pytest: setup
	$(VENV)/bin/pytest -n 4 -m sleepy $(PYTEST_ARGS)
	$(VENV)/bin/pytest -m "not sleepy" $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/python -m bench

nodered: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) $(TOOLS) node_modules .pytest_cache .mypy_cache .ruff_cache
