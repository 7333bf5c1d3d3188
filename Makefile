# Two commands set everything up: `make run` serves the API, `make test` runs every test.
# Each installs or refreshes what it needs itself (.venv, pip, npm ci, MariaDB).

SHELL := /bin/bash
# The Lambda runtime's Python (python3.13): on PATH, or a pyenv build of it.
PYTHON ?= $(shell bash scripts/find-python.sh 3.13)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
LAMBDA_PORT ?= 3002
STAMPS := .stamps

.PHONY: run test test-fast offline iac-check migration-status peel bench lint typecheck clean deps

$(STAMPS):
	@mkdir -p $(STAMPS)

# Python: a venv refreshed whenever the pinned requirements change, with the project
# itself installed in editable mode (pyproject.toml).
$(STAMPS)/venv: requirements.txt requirements-dev.txt pyproject.toml | $(STAMPS)
	@test -n "$(PYTHON)" || { echo "make: no Python 3.13 found (python3.13 on PATH or under ~/.pyenv/versions)" >&2; exit 2; }
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Node: the Serverless toolchain and newman, exactly as locked; npm ci's postinstall
# applies patches/ (patch-package) to them.
$(STAMPS)/node: package.json package-lock.json $(wildcard patches/*.patch) | $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# checkov in a venv of its own: its pins clash with the project's.
$(STAMPS)/iac: requirements-iac.txt | $(STAMPS)
	@test -x .venv-iac/bin/python || $(PYTHON) -m venv .venv-iac
	.venv-iac/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-iac.txt
	@touch $@

deps: $(STAMPS)/venv $(STAMPS)/node $(STAMPS)/iac

## make run: the monolith on 127.0.0.1:$(PORT); SQLite under instance/ unless DATABASE_URL is set.
run: $(STAMPS)/venv
	$(BIN)/alembic upgrade head
	$(BIN)/flask --app scripts.local_api run --host 127.0.0.1 --port $(PORT)

## make offline: the Lambda topology (stage local) through serverless-offline on 127.0.0.1:$(PORT).
offline: export DATABASE_URL ?= sqlite:///$(CURDIR)/instance/offline.db
offline: $(STAMPS)/venv $(STAMPS)/node
	$(BIN)/alembic upgrade head
	PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install sls offline start --stage local \
		--host 127.0.0.1 --httpPort $(PORT) --lambdaPort $(LAMBDA_PORT)

## make iac-check: package dev/staging/prod offline; cfn-lint (+serverless rules) and checkov.
iac-check: deps
	bash scripts/iac-check.sh

## make migration-status: who owns each route (monolith / pinned / shadow / new); fails on a lost,
## shadowed or doubly claimed route, or a connection budget over the proxy's share.
migration-status: $(STAMPS)/venv
	$(BIN)/python -m scripts.migration_status

## make peel ROUTE='POST /api/users' NAME=registerUser [STEP=pin|shadow|switch]:
## pin a monolith route to a dedicated function of its own, shadow it with new code
## (reads only: compared, not served), or switch it to new code.
STEP ?= pin
peel: $(STAMPS)/venv
	@test -n "$(ROUTE)" -a -n "$(NAME)" || { echo "usage: make peel ROUTE='METHOD /path' NAME=lowerCamelCase [STEP=pin|shadow|switch]" >&2; exit 2; }
	$(BIN)/python -m scripts.peel "$(ROUTE)" "$(NAME)" --step "$(STEP)"

## make bench: cold start, warm time and peak RSS of every dedicated route, function vs
## monolith vs floor, interleaved rounds on SQLite and MariaDB, measured on the packaged zip in
## a read-only folder; prints a table, writes bench/out/ (results.json, results.md, bench.svg).
bench: deps
	bash scripts/ensure-mariadb.sh
	$(BIN)/python -m bench.run

## make test: lint, types and every test, on SQLite and on MariaDB (started if it is down).
test: deps
	bash scripts/ensure-mariadb.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m scripts.migration_status
	CONDUIT_TEST_DATABASES=sqlite,mysql $(BIN)/pytest

## make test-fast: the edit loop: lint, types, and the unit and functional tests on SQLite
## (no MariaDB, no moto, no packaging, no servers). `make test` stays the full run.
test-fast: $(STAMPS)/venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	CONDUIT_TEST_DATABASES=sqlite $(BIN)/pytest -m "not mysql" tests/unit tests/functional

lint: $(STAMPS)/venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMPS)/venv
	$(BIN)/mypy

clean:
	rm -rf .serverless .serverless-* .requirements .requirements.zip .serverless-wsgi \
		wsgi_handler.py serverless_wsgi.py unzip_requirements.py instance
