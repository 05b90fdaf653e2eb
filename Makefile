# Two commands do all set-up on a fresh machine (Python 3.11 + pip; npm only to fetch MathJax once):
#   make book   — create .venv, execute every notebook with Papermill, build the HTML book (_build/html)
#   make test   — create/update .venv, lint (make lint), then run the test suite
# Both are idempotent: nothing is reinstalled or re-executed when nothing changed.
# The environment is the exact one in requirements.lock; `make lock` refreshes that file from pyproject.toml.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PARAMS ?= notebooks/params/default.yml
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-chtml.js
PYTEST_ARGS ?=
# Two pytest-xdist workers: the two end-to-end units (the tiny book with the tests that read its cache, and
# the README recipes) run side by side, then the short modules (tests/conftest.py groups them).
# PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
PIP_VERSION := 26.3
# Extras locked and installed with the package (pyproject.toml keeps version ranges for library users).
LOCK_EXTRAS := book test dev
LOCK_ARGS ?=

.PHONY: book test notebooks html lint lock clean help

help:
	@echo "make book   build the whole book (PARAMS=$(PARAMS))"
	@echo "make test   lint, then run the test suite"
	@echo "make notebooks / make html   the two halves of 'make book'"
	@echo "make lint   ruff check + ruff format --check"
	@echo "make lock   re-resolve requirements.lock (keeps current pins; LOCK_ARGS=--upgrade for newest)"
	@echo "make clean  remove build outputs (keeps .venv)"

book: $(VENV)/.installed $(MATHJAX)
	$(PY) -m helpers.runner book --params $(PARAMS)

notebooks: $(VENV)/.installed
	$(PY) -m helpers.runner execute --params $(PARAMS)

html: $(VENV)/.installed $(MATHJAX)
	$(PY) -m helpers.runner build

# Lint first: a recipe starts only after all its prerequisites finished (also under -j), so a lint or
# format error stops `make test` (and CI, which runs it) before pytest.
test: $(VENV)/.installed lint $(MATHJAX)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Reinstall only when the lock or the package metadata changes (the package itself is installed editable,
# without dependencies: every dependency comes from the lock at its exact version).
$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# One resolution for every platform, Python 3.11.5 or later (soupsieve needs 3.11.5); uv keeps the pins
# already in requirements.lock unless a range in pyproject.toml excludes them or LOCK_ARGS=--upgrade.
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile pyproject.toml $(addprefix --extra ,$(LOCK_EXTRAS)) --universal \
	  --python-version 3.11.5 --custom-compile-command 'make lock' --quiet $(LOCK_ARGS) -o requirements.lock

# MathJax is served from the book itself so that pages render offline (npm registry, install time only).
$(MATHJAX):
	rm -rf book/_static/mathjax && mkdir -p book/_static/mathjax
	tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-$(MATHJAX_VERSION).tgz) \
	  && cp $$tmp/package/es5/tex-chtml.js book/_static/mathjax/ \
	  && mkdir -p book/_static/mathjax/output/chtml/fonts \
	  && cp -r $$tmp/package/es5/output/chtml/fonts/woff-v2 book/_static/mathjax/output/chtml/fonts/ \
	  && cp $$tmp/package/LICENSE book/_static/mathjax/ && rm -rf $$tmp

clean:
	rm -rf _build build
