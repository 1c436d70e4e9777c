# newsreader: `make run` to try it, `make test` to test it. Needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint htmlcheck serve release bench collectstatic migrate seed editor clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PIP) install -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --no-input -v 0

# The bundled demo: its documents mark the stories with real coverage as drafts
# (published: false); --publish-drafts publishes those, so a first run shows stories
# grouped with their coverage. import_stories never does that by default.
seed: migrate
	$(PY) manage.py import_stories data/seeds --publish-drafts
	@echo "Imported the bundled demo (data/seeds/), its drafts published. Editors: make editor, then http://$(HOST):$(PORT)/admin/"

run: seed
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

editor: migrate
	$(PY) manage.py create_editor

collectstatic: $(VENV)/.installed
	DJANGO_PLAIN_STATIC=false $(PY) manage.py collectstatic --no-input -v 0

# The tests run with the production static storage (hashed, compressed files
# collected first), so a template naming a missing static file fails them.
test: $(VENV)/.installed-dev
	DJANGO_PLAIN_STATIC=false $(PY) manage.py collectstatic --no-input -v 0
	DJANGO_PLAIN_STATIC=false $(PY) -m pytest -p xdist -n 2 $(PYTEST_ARGS)

# The Nu HTML Checker over a crawl of the site (make test runs it too once installed):
# installs it under var/vnu/ first (needs Java and npm; as root, apt-installs them).
htmlcheck: $(VENV)/.installed-dev
	bash .ci/install-vnu.sh
	DJANGO_PLAIN_STATIC=false $(PY) manage.py collectstatic --no-input -v 0
	DJANGO_PLAIN_STATIC=false $(PY) -m pytest -q tests/test_html_validity.py $(PYTEST_ARGS)

# djhtml checks the templates' indentation, the public pages' Jinja2 ones and the admin's and sitemaps'
# Django ones (`$(VENV)/bin/djhtml templates stories/templates` fixes it);
# makemigrations --check fails when a model change has no migration.
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r newsreader stories
	$(VENV)/bin/djhtml --check templates stories/templates
	$(PY) manage.py makemigrations --check --dry-run

# Once per release, before the app servers start (safe to run on each: releases take
# turns on a lock and migrate once): collectstatic, then migrate.
release: $(VENV)/.installed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(PY) manage.py release

# Never migrates (several app servers start at once): refuses until `make release` ran.
serve: $(VENV)/.installed
	@DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(PY) manage.py release --check -v 0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-false} $(VENV)/bin/gunicorn newsreader.wsgi --bind $(HOST):$(PORT) --workers $${WORKERS:-2} --no-control-socket

# Benchmarks (not part of make test): import at 1k/10k/100k documents, pages at
# 100,000 stories. Long: the 100k corpora and databases are built once and kept
# under $$BENCH_DIR (default /tmp/newsreader-bench). Writes bench/results/ and docs/benchmarks.md.
# On PostgreSQL too, side by side with SQLite: DATABASE_URL=postgres://user@host/db make bench
# (its databases are created on that server, named after db: the user needs CREATEDB);
# BENCH_DATABASE=sqlite|postgresql|both picks (default: both when DATABASE_URL names PostgreSQL).
bench: $(VENV)/.installed-dev
	$(PY) bench/bench_import.py --sizes $${BENCH_SIZES:-1000,10000,100000} --runs $${BENCH_RUNS:-3} $(if $(BENCH_DATABASE),--database $(BENCH_DATABASE))
	$(PY) bench/bench_pages.py --runs $${BENCH_RUNS:-3} $(if $(BENCH_DATABASE),--database $(BENCH_DATABASE))
	$(PY) bench/report.py

clean:
	rm -rf $(VENV) staticfiles var db.sqlite3 db.sqlite3-wal db.sqlite3-shm db.sqlite3-generation
