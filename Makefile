# The two commands: `make run` and `make test`. Everything else is a step of theirs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test test-dates install install-dev translations vendor vendor-dev lint unit browser journeys i18n-extract bench clean

run: install
	$(BIN)/saas run

# The test runs keep compiled bytecode (in __pycache__, ignored by git) even
# where the environment sets PYTHONDONTWRITEBYTECODE: otherwise each pytest
# process (two workers, the plans run, two workers at each moved instant)
# rewrites and compiles every test module again, ~3 s of CPU each.
test test-dates: export PYTHONDONTWRITEBYTECODE =

test: install-dev lint
	$(BIN)/pytest -n 2 --dist loadgroup -p no:cacheprovider -m "not plans"
	$(BIN)/pytest -p no:cacheprovider -m plans -q
	$(MAKE) --no-print-directory test-dates

# The date-sensitive tests (marker `dates`) again with the clock moved to each
# of these instants, the next one after today (tests/moved_clock.py says why
# each): a failing one is replayed with `pytest -m dates --moved-to=<the ISO
# instant in its header>`.
MOVED_TO ?= month-start march-dst october-dst year-end
test-dates: install-dev
	@failed=""; for when in $(MOVED_TO); do \
	  echo "== the date-sensitive tests at $$($(BIN)/python -m tests.moved_clock $$when)"; \
	  $(BIN)/pytest -n 2 -p no:cacheprovider -m "dates and not browser and not slow" --moved-to=$$when -q \
	    || failed="$$failed $$when"; \
	done; \
	if [ -n "$$failed" ]; then echo "failed at:$$failed"; exit 1; fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(STAMP) translations vendor

install-dev: $(DEV_STAMP) translations vendor-dev

# front-end libraries from the npm registry (package.json), served from static/vendor/
NPM_STAMP := node_modules/.installed
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

vendor: $(NPM_STAMP) $(STAMP)
	$(BIN)/python -m saas.vendor

vendor-dev: $(NPM_STAMP) $(STAMP)
	$(BIN)/python -m saas.vendor --dev

# compiled at install; the .mo files are not committed
translations:
	$(BIN)/pybabel compile -d translations

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

unit:
	$(BIN)/pytest -m "not browser and not slow"

browser:
	$(BIN)/pytest -m browser

# What `saas run` starts (web, worker, cron) driven over real HTTP, and the API
# fuzzed by schemathesis with each role's token (tests/journeys/, about 4
# minutes on one worker); `make test` runs them too, grouped on one worker.
journeys: install-dev
	$(BIN)/pytest -n 0 -p no:cacheprovider -m journey tests/journeys

# after adding strings: extract, merge into both catalogues, then translate
i18n-extract:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
	$(BIN)/python -m saas.i18n_tools fill-english

bench: install-dev
	$(BIN)/python -m bench

# Over real HTTP (README "Performance"): the platform at 502 agencies and
# 3,000,000 visits (built once a day, kept under instance/bench-http/), gunicorn
# as `saas run` starts it, wrk on each busy page against a trivial Flask app;
# under 15 minutes. BENCH_HTTP_ARGS="--visits 100000" is a quick check (3 minutes).
.PHONY: bench-http
bench-http: install-dev
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (Debian's package)"; apt-get install -y -q wrk; }
	$(BIN)/python -m bench.http $(BENCH_HTTP_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
