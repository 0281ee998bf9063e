# The whole set-up is `make book` and `make test`: each creates .venv from the pinned
# requirements when it is missing or older than requirements.txt / pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed

# nbgrader calls alembic and jupyter by name: the venv's bin must come first on PATH.
export PATH := $(BIN):$(PATH)
# TensorFlow's C++ start-up chatter is not course material.
export TF_CPP_MIN_LOG_LEVEL := 2
export KERAS_BACKEND := tensorflow
export PYTHONHASHSEED := 0

.PHONY: venv browser book pdf test lab clean
.DEFAULT_GOAL := help

help:
	@echo "make book     build the website into _build/html (warnings are errors)"
	@echo "make pdf      the whole book as one PDF, _build/pdf/book.pdf, also at _build/html/book.pdf (builds the website first; needs Chromium)"
	@echo "make test     run every test: library vs Keras, lessons, grading round trip"
	@echo "make lab      open JupyterLab in the course environment"
	@echo "make release  regenerate the student assignment notebooks from solutions/"
	@echo "make autograde ASSIGNMENT=01_neuron   grade submitted/*/01_neuron/"
	@echo "make feedback  ASSIGNMENT=01_neuron   write feedback/ for that assignment"
	@echo "make grades                           export grades.csv"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Open _build/html/index.html"

# The browser tests (tests/test_browser.py) drive Debian's Chromium through Playwright's Python
# package (no browser download). As root, a missing /usr/bin/chromium is installed with apt;
# otherwise the tests fail and say how to get one.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Chromium for the browser tests (apt-get install chromium)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@test -x "$(CHROMIUM)" || echo "No Chromium at $(CHROMIUM): the browser tests will fail. Install it with 'sudo apt-get install chromium', or run make test CHROMIUM=/path/to/chrome."

# The whole book as one PDF: built once more as a single page (reusing the executed notebooks of
# `make book`), printed by Chromium (_ext/book_pdf.py), and put next to the website as book.pdf,
# where every page's download menu links it.
pdf: book browser
	CHROMIUM=$(CHROMIUM) $(BIN)/python _ext/book_pdf.py --publish

# The browser tests reuse _build/html when it is newer than the sources (else they build it).
# Two test workers share the machine: one BLAS thread each, so they do not fight over the cores.
test: $(STAMP) browser
	CHROMIUM=$(CHROMIUM) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2

lab: $(STAMP)
	$(BIN)/jupyter lab

clean:
	rm -rf _build .jupyter_cache release autograded feedback gradebook.db

# --- instructor -------------------------------------------------------------
# Grading runs through `python -m grader` (nbgrader is the engine; see grader/__init__.py).
# Submissions go in submitted/<student>/<assignment>/<notebook>.ipynb.
# Extra options go in ARGS, e.g. make autograde ASSIGNMENT=01_neuron ARGS="--force --jobs 4".
.PHONY: release autograde feedback grades
need_assignment = $(or $(ASSIGNMENT),$(error give the assignment, e.g. make $@ ASSIGNMENT=01_neuron))

release: $(STAMP)
	$(BIN)/python -m grader release

autograde: $(STAMP)
	$(BIN)/python -m grader autograde $(need_assignment) $(ARGS)

feedback: $(STAMP)
	$(BIN)/python -m grader feedback $(need_assignment)

grades: $(STAMP)
	$(BIN)/python -m grader export
