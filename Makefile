# Närvaro: `make run` serves the demo at http://127.0.0.1:8000 (Daphne and its worker), `make test` runs every test,
# `make faults` breaks Redis, PostgreSQL and Daphne for real and checks what docs/reliability.md promises.
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test faults setup services stop lint format browser bench bench-full bench-lagesbild lighthouse messages clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

services:
	scripts/services start

stop:
	scripts/services stop

messages: $(VENV)/.installed
	[ ! -d locale ] || $(PY) manage.py compilemessages --ignore=.venv -v0

setup: $(VENV)/.installed services messages
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0

run: setup
	$(PY) manage.py seed_demo
	$(PY) manage.py simulate_history --weeks 6
	@echo "Närvaro: http://$(HOST):$(PORT)/"
	VENV=$(VENV) scripts/serve $(HOST) $(PORT)

browser:
	scripts/browser

# The JavaScript linter and formatter, at the versions package-lock.json pins (a fresh machine has no node_modules).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	npm run --silent lint

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Two test processes (pytest-xdist): most of a browser test's time is waiting (a server starting, a page
# loading), so two share the 2 cores well. Each has its own test database (…_gw0, …_gw1) and channel
# prefix (conftest.py: per process id). TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= 2
test: setup browser lint
	$(VENV)/bin/pytest -n $(TEST_WORKERS)

# The fault scenarios (faults/, about 10 minutes on 2 cores): their own PostgreSQL, Redis, two Daphnes
# and a worker on free loopback ports, never the development instances (PostgreSQL and Redis are
# installed from Debian when missing). Figures at the end and in test-artifacts/faults.json.
faults: $(VENV)/.installed
	scripts/services install
	$(VENV)/bin/pytest -c faults/pytest.ini faults

$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: setup $(VENV)/.bench-installed
	$(PY) bench/run.py --quick

bench-full: setup $(VENV)/.bench-installed
	$(PY) bench/run.py --full

# The EST situation picture on a week of 10 teams x 7 evenings x 6 hours (about 300,000 positions) and 2,000
# notes, in a database of its own (bench_lagesbild): aggregation and picture() times. Not a timed test.
bench-lagesbild: setup
	$(PY) bench/lagesbild.py

# Lighthouse (mobile) on / and /falt/ as `make run` serves them, against the development database and a
# stub tile server (scripts/lighthouse says why); installs the pinned lighthouse into ~/.cache on first
# use. Prints the scores beside the load average. Not a test: the figures depend on the machine.
lighthouse: setup browser
	$(PY) scripts/lighthouse

clean: stop
	rm -rf .services staticfiles
