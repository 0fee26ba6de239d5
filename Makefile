# Deep Learning for the Physical Sciences -- build and test entry points.
#   make book    build the executed HTML book into _build/html (profile: $DLPS_PROFILE or default)
#   make test    unit tests + every notebook under nbval + book build check (smoke profile)
#   make stage   fetch and verify every dataset into $DLPS_DATA (offline workshop preparation)
# Each target creates or updates the virtual environment .venv from requirements.txt first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test stage exercises env clean

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	touch $@

exercises: $(STAMP)
	$(PY) tools/make_exercises.py

book: $(STAMP)
	$(PY) tools/make_exercises.py --check
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Book written to _build/html/index.html"

test: $(STAMP)
	rm -rf _build/nbval
	$(PY) tools/convert_notebooks.py _build/nbval lessons solutions > /dev/null
	DLPS_PROFILE=smoke TQDM_DISABLE=1 $(PY) -m pytest tests _build/nbval --nbval-lax --durations=15

stage: $(STAMP)
	$(PY) -m dlps stage

clean:
	rm -rf _build
