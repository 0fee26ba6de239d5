# Deep Learning for the Physical Sciences -- build and test entry points.
#   make book    build the executed HTML book into _build/html (profile: $DLPS_PROFILE or default)
#   make test    unit tests + every notebook under nbval + book build check (smoke profile)
#   make stage   fetch and verify every dataset into $DLPS_DATA (offline workshop preparation)
# Each target creates or updates the virtual environment .venv from requirements.txt first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

MATHJAX := _build/mathjax/mathjax/tex-chtml.js

.PHONY: book test stage exercises env clean

env: $(STAMP)

# MathJax is served from the book itself (no CDN), so equations render offline. npm fetches it.
$(MATHJAX):
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed to fetch MathJax for offline equations"; exit 1; }
	npm install --no-save --no-audit --no-fund --silent --prefix _build/npm mathjax@3.2.2
	rm -rf _build/mathjax && mkdir -p _build/mathjax
	cp -r _build/npm/node_modules/mathjax/es5 _build/mathjax/mathjax

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	touch $@

exercises: $(STAMP)
	$(PY) tools/make_exercises.py

book: $(STAMP) $(MATHJAX)
	$(PY) tools/make_exercises.py --check
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Book written to _build/html/index.html"

# Tests use their own data folder (_build/test-data): files come, checksum-verified, from data/
# and $$DLPS_MIRROR; stand-ins from tests/make_fixtures.py fill in only what cannot be had.
TEST_ENV = DLPS_PROFILE=smoke TQDM_DISABLE=1 DLPS_DATA=$(CURDIR)/_build/test-data \
	DLPS_MIRROR="$(CURDIR)/data$(if $(DLPS_MIRROR),:$(DLPS_MIRROR))" \
	DLPS_TEST_FIXTURES=$(CURDIR)/_build/test-fixtures/fixtures.json

test: $(STAMP) $(MATHJAX)
	rm -rf _build/nbval _build/test-data
	$(PY) tests/make_fixtures.py _build/test-fixtures > /dev/null
	$(PY) tools/convert_notebooks.py _build/nbval lessons solutions > /dev/null
	$(TEST_ENV) $(PY) -m pytest tests _build/nbval --nbval-lax --durations=20

stage: $(STAMP)
	$(PY) -m dlps stage

clean:
	rm -rf _build
