# The two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)

.PHONY: run test install lint bench bench-web bench-newsletter clean

# The local run and the tests use development defaults (SQLite, console mail, the Stripe
# stand-in); production sets DEBUG=0 and the settings in the README's table.
run test: export DEBUG ?= 1
# the demo reads on the meter: three free premium articles a month for free members
run: export METERED_FREE_ARTICLES ?= 3

$(STAMP): requirements.lock
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

## make run: set up from nothing and serve the demo site on http://127.0.0.1:8000
run: $(STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(VENV)/bin/honcho --procfile Procfile.dev start

# The browser tests drive Debian's Chromium (never a downloaded build) and inject axe-core,
# which npm installs at the version tests/integration/browser/package-lock.json pins.
CHROMIUM := /usr/bin/chromium
AXE := tests/integration/browser/node_modules/axe-core/axe.min.js

$(AXE): tests/integration/browser/package-lock.json
	cd tests/integration/browser && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## make test: set up and run the whole suite (in parallel), on the local PostgreSQL and Redis when
## they answer; scripts/test-services finds them, else falls back and says in one line what it skips
test: $(STAMP)
	@if [ -x $(CHROMIUM) ]; then $(MAKE) --no-print-directory $(AXE); \
	else echo "Chromium not found at $(CHROMIUM): browser tests skipped (apt-get install chromium)"; fi
	$(PY) scripts/test-services $(PY) -m pytest -n auto $(PYTEST_ARGS)

## make lint: ruff's rules (pyproject.toml) and its format, checked, nothing changed; CI runs it
## (`.venv/bin/ruff format . && .venv/bin/ruff check --fix .` mends most of what it finds)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## make bench: every benchmark, each printing its own figures (README, "Performance"); one that misses
## its target does not stop the others, and make bench then fails;
## needs the local PostgreSQL and Redis, and wrk for the web one (apt-get install -y wrk)
bench: $(STAMP)
	@status=0; \
	$(MAKE) --no-print-directory bench-web || status=1; \
	$(MAKE) --no-print-directory bench-trials || status=1; \
	$(MAKE) --no-print-directory bench-newsletter || status=1; \
	exit $$status

## make bench-web: the reading pages under gunicorn against a hello-world ceiling (issue 6)
bench-web: $(STAMP)
	$(PY) bench/web_bench.py $(BENCH_ARGS)

## make bench-trials: 1,000,000 due trials among 1,500,000 members swept on PostgreSQL (database
## `bench`, created if missing); prints the query plan and rows/s (README, "Performance")
.PHONY: bench-trials
bench-trials: $(STAMP)
	$(PY) bench/trial_sweep.py

## make bench-newsletter: an article sent to 1,000,000 subscribers on PostgreSQL (database
## `bench_newsletter`, created if missing): planning timed in-process, then real workers mail it to a
## local SMTP sink; prints both against baselines from the same run (README, "Performance")
bench-newsletter: $(STAMP)
	$(PY) bench/newsletter_bench.py $(BENCH_NEWSLETTER_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache db.sqlite3 var/
