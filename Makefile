# make run: set up and serve http://127.0.0.1:8000 · make test: the whole suite on SQLite, no services
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1:8000

.PHONY: setup run serve-prod test bench lint format messages ci

setup:
	@bash scripts/bootstrap.sh

# The demo's role users sign in without a second factor (OTP_REQUIRED=false, refused by `check --deploy`).
run: setup
	DEBUG=true $(MANAGE) migrate --noinput
	DEBUG=true $(MANAGE) load_catalog
	DEBUG=true $(MANAGE) load_demo
	DEBUG=true OTP_REQUIRED=false WEBHOOK_ALLOWED_HOSTS=127.0.0.1,localhost RUNSERVER_URL=http://$(HOST) \
	  $(MANAGE) runserver $(HOST)

# Production: the Procfile's web (gunicorn), worker and beat (Celery) under honcho, after collectstatic and
# migrate; needs DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis or RabbitMQ) and SECRET_KEY.
serve-prod: setup
	@for v in DATABASE_URL CELERY_BROKER_URL SECRET_KEY; do \
	  [ -n "$${!v:-}" ] || { echo "serve-prod needs $$v in the environment (README: Running in production)" >&2; exit 1; }; \
	done
	@mkdir -p var
	$(MANAGE) check --deploy --fail-level WARNING
	$(MANAGE) collectstatic --noinput -v 0
	$(MANAGE) migrate --noinput
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec $(VENV)/bin/honcho start -f Procfile

test: setup
	$(PY) -m pytest -m "not celery and not postgresql" $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench.run

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: setup
	$(MANAGE) makemessages -l zh_Hans -l en --no-obsolete --ignore=.venv --ignore=tests --ignore=bench
	$(MANAGE) compilemessages --ignore=.venv

ci:
	bash .ci/run
