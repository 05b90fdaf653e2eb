# Two commands do all set-up on a fresh machine (Python 3.11 + pip; npm only to fetch MathJax once):
#   make book   — create .venv, execute every notebook with Papermill, build the HTML book (_build/html)
#   make test   — create/update .venv and run the test suite
# Both are idempotent: nothing is reinstalled or re-executed when nothing changed.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PARAMS ?= notebooks/params/default.yml
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-chtml.js
PYTEST_ARGS ?=

.PHONY: book test notebooks html clean help

help:
	@echo "make book   build the whole book (PARAMS=$(PARAMS))"
	@echo "make test   run the test suite"
	@echo "make notebooks / make html   the two halves of 'make book'"
	@echo "make clean  remove build outputs (keeps .venv)"

book: $(VENV)/.installed $(MATHJAX)
	$(PY) -m helpers.runner book --params $(PARAMS)

notebooks: $(VENV)/.installed
	$(PY) -m helpers.runner execute --params $(PARAMS)

html: $(VENV)/.installed $(MATHJAX)
	$(PY) -m helpers.runner build

test: $(VENV)/.installed $(MATHJAX)
	$(PY) -m pytest $(PYTEST_ARGS)

# Reinstall only when the dependency list changes (the package itself is installed editable).
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[book,test]'
	touch $@

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
