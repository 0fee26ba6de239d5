# Deep Learning for the Physical Sciences -- build and test entry points.
#   make book          build the executed HTML book (profile: $DLPS_PROFILE, else the default)
#   make test          unit tests, every notebook under nbval, exercises, book build, browser
#   make notebooks     export stripped .ipynb copies for Colab/Binder into _build/notebooks
#   make workshop-kit  fetch + verify every dataset and weight file, pack an offline kit in dist/
#   make stage         fetch + verify every dataset into $DLPS_DATA
# Every target first creates or updates the virtual environment .venv from requirements.txt.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
VENDOR := _build/vendor/.complete

.PHONY: book test notebooks workshop-kit stage exercises env clean

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	touch $@

# MathJax and the Jupyter widget renderer (for progress bars) are served from the book itself,
# not from a CDN, so pages work offline. npm fetches them once; _config.yml points at the copies.
$(VENDOR):
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed to fetch MathJax and the widget renderer"; exit 1; }
	npm install --no-save --no-audit --no-fund --silent --prefix _build/npm \
		mathjax@3.2.2 @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.4
	rm -rf _build/vendor && mkdir -p _build/vendor/widgets
	cp -r _build/npm/node_modules/mathjax/es5 _build/vendor/mathjax
	cp -r _build/npm/node_modules/@jupyter-widgets/html-manager/dist/. _build/vendor/widgets/
	cp _build/npm/node_modules/requirejs/require.js _build/vendor/widgets/require.js
	touch $@

exercises: $(STAMP)
	$(PY) tools/make_exercises.py

# Each profile keeps its own execution cache and run records, so a book built in one profile
# never shows outputs cached from another. _build/html links to the latest build.
book: $(STAMP) $(VENDOR)
	$(PY) tools/make_exercises.py --check
	@profile=$$($(PY) -c "import dlps; print(dlps.get_profile())") && \
	out=_build/book-$$profile && \
	echo "Building the book in the '$$profile' profile into $$out" && \
	DLPS_RUN_LOG=$(CURDIR)/$$out/runs $(VENV)/bin/jupyter-book build . --path-output $$out \
		--warningiserror --nitpick --keep-going && \
	ln -sfn book-$$profile/_build/html _build/html && \
	echo "Book written to _build/html/index.html"

notebooks: $(STAMP)
	rm -rf _build/notebooks
	$(PY) tools/export_notebooks.py _build/notebooks

# The kit holds every registry file, verified; the command fails if any file cannot be had.
KIT := _build/workshop-kit/dlps-data
workshop-kit: $(STAMP)
	rm -rf _build/workshop-kit && mkdir -p $(KIT) dist
	DLPS_DATA=$(CURDIR)/$(KIT) $(PY) -m dlps stage
	$(PY) -m dlps kit-readme $(KIT)
	tar -C _build/workshop-kit -chf dist/dlps-workshop-kit.tar dlps-data
	@echo "Kit written to dist/dlps-workshop-kit.tar"

stage: $(STAMP)
	$(PY) -m dlps stage

# The suite sets up its own environment (tests/conftest.py: smoke profile, test data folder,
# stand-ins, run log) and options (pyproject.toml), so `make test` is plain `pytest`.
test: $(STAMP) $(VENDOR)
	$(PY) -m pytest

clean:
	rm -rf _build dist
