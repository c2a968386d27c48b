# The two commands: `make run` (the site with demo data) and `make test` (the whole suite).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# A Python 3.12 interpreter: python3.12 on the PATH, else pyenv's newest 3.12.x. Never a silent fallback to 3.11.
PYTHON312 := $(shell for candidate in "$$(command -v python3.12)" \
	  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12.*/bin/python3.12 2>/dev/null | sort -rV); do \
	  [ -n "$$candidate" ] && "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null \
	    && { echo "$$candidate"; break; }; done)

.PHONY: run test venv css lint format check-python chromium clean

check-python:
	@if [ -z "$(PYTHON312)" ]; then \
	  echo "Nexus needs Python 3.12 (Django 6.1 does not install on older versions)."; \
	  echo "Install it, e.g. 'pyenv install 3.12' or your system's python3.12 package, then run make again."; \
	  exit 1; \
	fi

$(STAMP): requirements.txt requirements-dev.txt | check-python
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then \
	  echo "Replacing $(VENV): it was not made with Python 3.12."; rm -rf $(VENV); fi
	@[ -x $(PY) ] || "$(PYTHON312)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Nexus is starting on http://127.0.0.1:8000  (SQLite, M-Pesa emulator)."
	@echo "E-mails (sign-up verification, password reset) are printed in this console."
	@echo ""
	$(PY) manage.py runserver 127.0.0.1:8000

# Browser tests need Debian's chromium; as root it is installed when missing, otherwise those tests are skipped.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "Could not install chromium: browser tests will be skipped."; \
	  else \
	    echo "chromium is not installed (apt-get install chromium as root): browser tests will be skipped."; \
	  fi; \
	fi

test: venv chromium
	$(PY) -m pytest $(PYTEST_ARGS)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

css: venv node_modules/.package-lock.json
	PYTHON=$(PY) npm run --silent build:css

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache .test-db.sqlite3
