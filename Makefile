# The two commands of the README: `make run` (the bot) and `make test` (the suite).
# Both create or reuse the project-local .venv, install the project, compile the catalogs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install catalogs compile-catalogs lint

run: install compile-catalogs
	$(BIN)/python -m bot run

test: install compile-catalogs
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $(STAMP)

compile-catalogs: install
	$(BIN)/pybabel -q compile -d locales -D messages

# For developers after changing user-facing strings: refresh the template and catalogs.
catalogs: install
	$(BIN)/pybabel -q extract -F babel.cfg -o locales/messages.pot --no-location \
		--sort-output --project civicbot --copyright-holder civicbot .
	$(BIN)/pybabel -q update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
		--ignore-obsolete \
		--width 99
