# Deep Learning for the Physical Sciences -- build and test entry points.
#   make book          build the executed HTML book (profile: $DLPS_PROFILE, else the default)
#   make test          unit tests, every notebook under nbval, exercises, book build, browser;
#                      then test-amp: every notebook again with bf16 autocast emulated on the CPU
#   make notebooks     export stripped .ipynb copies for Colab/Binder into _build/notebooks
#   make colab-test    run every exported lesson and solution notebook in an emulated Colab
#   make gpu-check     run every lesson in the full profile on a CUDA GPU, without Jupyter
#   make check-wheels  check that every pin has wheels for each supported Python and platform
#   make pdf           the whole book as one PDF (lessons, exercises, solutions, instructor guide)
#   make lint          ruff on the Python files, and on the code cells of lessons and solutions;
#                      CITATION.cff (cffconvert) and the GitHub workflows (actionlint)
#   make workshop-kit  fetch + verify every dataset and weight file, pack an offline kit in dist/
#   make stage         fetch + verify every dataset into $DLPS_DATA
#   make env           the learners' environment only: .venv from requirements.txt, JupyterLab
#   make dev-env       make env, plus the authors' tools of requirements-dev.txt (book, lint,
#                      tests); book, test, lint and colab-test do this first
# Every target first creates or updates the virtual environment .venv: `env` and the learner
# targets from requirements.txt, the authors' targets also from requirements-dev.txt.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# A second stamp for the authors' tools: a learner's `make env` never installs them, and a
# change to either requirements file brings them up to date before the next book or test.
DEV_STAMP := $(VENV)/.installed-dev
VENDOR := _build/vendor/.complete
# The Pythons the course supports: every pin in requirements.txt has binary wheels for each of
# them on Linux x86_64 and macOS arm64 (make check-wheels). pandas 3 and scipy 1.17 need 3.11.
SUPPORTED_PYTHONS := 3.11 3.12 3.13 3.14
# JupyterLab opens Markdown (MyST) files as notebooks through jupytext: settings for this .venv.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: book test test-amp gpu-check notebooks workshop-kit stage exercises env dev-env clean check-wheels colab-test lint pdf

env: $(STAMP)

# The interpreter check comes first: the .venv's Python if it exists, else $(PYTHON).
# Packages the lock no longer holds (andi-datasets and stochastic pinned numpy<2) are removed
# from an older .venv, or `pip check` would fail on them.
$(STAMP): requirements.txt pyproject.toml tools/jupyterlab-overrides.json
	@py=$(PY); test -x $$py || py=$(PYTHON); \
	version=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	case " $(SUPPORTED_PYTHONS) " in *" $$version "*) ;; *) \
	echo "make env: $$py is Python $${version:-(not found)}; the course needs Python 3.11, 3.12, 3.13 or 3.14." >&2; \
	echo "Install one of them and run e.g. 'make env PYTHON=python3.12' (remove .venv first if it exists)." >&2; \
	exit 1;; esac
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip uninstall --quiet --yes andi-datasets stochastic 2>/dev/null
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip check
	mkdir -p $(dir $(LAB_SETTINGS))
	cp tools/jupyterlab-overrides.json $(LAB_SETTINGS)
	touch $@

dev-env: $(DEV_STAMP)

# requirements-dev.txt includes requirements.txt, so pip resolves the authors' tools together
# with the learner pins and never moves one of those.
$(DEV_STAMP): $(STAMP) requirements.txt requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip check
	touch $@

# Every pin resolves to binary wheels for every supported Python on Linux x86_64 and macOS arm64
# (a dry run of pip against PyPI: nothing is built or installed).
check-wheels: $(STAMP)
	$(PY) tools/check_wheels.py $(SUPPORTED_PYTHONS)

# Every exported lesson and solution notebook, setup cell included, run as in Google Colab:
# Python 3.12 with today's releases of what Colab ships, none of what it lacks, a fresh runtime
# per notebook, smoke profile. Everything (the environment too) stays in _build/colab.
colab-test: $(DEV_STAMP)
	$(PY) tools/colab_emulation.py

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

# cffconvert checks CITATION.cff against the Citation File Format schema. It has an environment
# of its own: its last release needs jsonschema < 4, which Jupyter cannot use.
CFFCONVERT := _build/cffconvert/bin/cffconvert
$(CFFCONVERT): tools/requirements-cffconvert.txt
	rm -rf _build/cffconvert
	$(PY) -m venv _build/cffconvert
	_build/cffconvert/bin/pip install --quiet -r tools/requirements-cffconvert.txt
	touch $@

# ruff with pyproject.toml's rules on every .py file; then, through nbQA (which reads MyST
# Markdown with jupytext), on the code cells of the lessons and solutions, at the books' 80
# columns. Exercise pages are generated from the solutions, so they are checked through them.
# Rules that do not fit teaching notebooks are left out there: imports where a section first
# needs them (E402) or grouped by topic (I001), `for epoch in range(n)` loops (B007), a bare
# name at the end of a cell to display it (B018), closures called at once (B023).
# Then CITATION.cff against its schema, and the GitHub workflows with actionlint.
NOTEBOOK_LINT_IGNORE := E402,I001,B007,B018,B023
lint: $(DEV_STAMP) $(CFFCONVERT)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/nbqa ruff lessons/*.md solutions/*.md --line-length 80 \
		--extend-ignore $(NOTEBOOK_LINT_IGNORE)
	$(CFFCONVERT) --validate -i CITATION.cff
	$(VENV)/bin/actionlint

exercises: $(STAMP)
	$(PY) tools/make_exercises.py

# Each profile keeps its own execution cache and run records, so a book built in one profile
# never shows outputs cached from another. _build/html links to the latest build. --all re-reads
# every page: without it, a page whose notebook failed (e.g. for a missing data file, since
# supplied) would not be tried again and the rebuild would pass with the failure on the page;
# the cache still skips every notebook that ran before, unchanged.
book: $(DEV_STAMP) $(VENDOR)
	$(PY) tools/make_exercises.py --check
	@profile=$$($(PY) -c "import dlps; print(dlps.get_profile())") && \
	out=_build/book-$$profile && \
	echo "Building the book in the '$$profile' profile into $$out" && \
	DLPS_RUN_LOG=$(CURDIR)/$$out/runs $(VENV)/bin/jupyter-book build . --path-output $$out \
		--warningiserror --nitpick --keep-going --all && \
	ln -sfn book-$$profile/_build/html _build/html && \
	echo "Book written to _build/html/index.html"

# The PDF edition: the book as one HTML page (same output folder, flags and execution cache as
# `make book`, so no notebook runs again after it), printed by Chromium after MathJax has typeset
# every equation; offline. Needs Debian's chromium (or CHROMIUM=/path/to/chrome).
PDF := _build/deep-learning-physical-sciences.pdf
pdf: $(DEV_STAMP) $(VENDOR)
	$(PY) tools/make_exercises.py --check
	@profile=$$($(PY) -c "import dlps; print(dlps.get_profile())") && \
	out=_build/book-$$profile && \
	echo "Building the PDF edition in the '$$profile' profile from $$out" && \
	DLPS_RUN_LOG=$(CURDIR)/$$out/runs $(PY) tools/make_pdf.py --path-output $$out --pdf $(PDF)

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
# stand-ins, run log) and options (pyproject.toml), so `make test` is plain `pytest`, followed
# by test-amp.
test: $(DEV_STAMP) $(VENDOR)
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-amp

# Every lesson and solution notebook once more with mixed precision emulated on the CPU
# (bfloat16 autocast, as on an A100/H100), in a build folder of its own: a float32 result
# compared with an autocast one, a bfloat16 tensor handed to NumPy or a dtype clash in a
# hand-written layer fails here as it would on a GPU.
test-amp: $(DEV_STAMP)
	DLPS_EMULATE_AMP=1 DLPS_TEST_BUILD=$(CURDIR)/_build/test-amp $(PY) -m pytest \
		-p no:cacheprovider lessons solutions

# Every lesson in the full profile on a CUDA GPU, cell by cell in plain Python (no Jupyter, no
# virtual environment: a GPU machine's own python3 and packages), with run records, peak device
# memory and per-cell times in _build/gpu-check. See tools/gpu_check.py for what it needs.
gpu-check:
	$(PYTHON) tools/gpu_check.py $(GPU_CHECK_ARGS)

clean:
	rm -rf _build dist
