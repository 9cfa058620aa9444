# The two commands of the README: `make run` (the bot) and `make test` (the suite).
# Both create or reuse the project-local .venv, install the project, compile the catalogs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-shifted install catalogs compile-catalogs lint browser

run: install compile-catalogs
	$(BIN)/python -m bot run

# Two workers (pytest-xdist), a file each at a time; each has its own PostgreSQL database
# (tests/conftest.py). `make test WORKERS=0` runs the suite in one process.
WORKERS ?= 2
test: install compile-catalogs browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile

# The SQLite suite once more with the wall clock of every process it starts moved years ahead,
# to 00:30 on 1 January in Hà Nội (17:30 UTC the day before, so the local and UTC years differ):
# a test that depends on today's date fails the day it is written. Debian's libfaketime
# (package faketime) shifts the whole process tree (monotonic time by the same amount:
# leaving it alone breaks time.sleep under libfaketime 0.9.10).
SHIFT_TO ?= 2030-12-31 17:30:00 UTC
test-shifted: install compile-catalogs browser
	command -v faketime >/dev/null || { apt-get update -qq && apt-get install -y -qq faketime; }
	offset=$$(( $$(date -d '$(SHIFT_TO)' +%s) - $$(date +%s) )); \
	env -u TEST_DATABASE_URL \
		faketime -f "+$${offset}s" $(BIN)/python -m pytest -q -p no:cacheprovider \
			-n $(WORKERS) --dist loadfile

# The public page's browser tests drive Debian's chromium through Playwright (never a
# downloaded browser).
browser:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

# The .po live in locales/; their .mo go inside the package (bot/locales), where the wheel's
# build step (setup.py) puts them too.
compile-catalogs: install
	for po in locales/*/LC_MESSAGES/messages.po; do \
		mo=bot/$${po%.po}.mo; mkdir -p $$(dirname $$mo); \
		$(BIN)/pybabel -q compile -i $$po -o $$mo || exit 1; \
	done

# For developers after changing user-facing strings: refresh the template and catalogs.
catalogs: install
	$(BIN)/pybabel -q extract -F babel.cfg -o locales/messages.pot --no-location \
		--sort-output --project civicbot --copyright-holder civicbot .
	$(BIN)/pybabel -q update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
		--ignore-obsolete \
		--width 99
