# What the course's two repositories share: the environment, the website, its PDF, JupyterLab.
# Included by the instructor's Makefile (this repository) and by the public repository's one
# (written by `make public`), so both set up and build the same way.

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

.PHONY: help venv browser book pdf lab clean
.DEFAULT_GOAL := help

venv: $(STAMP)

# The environment is exactly requirements.txt plus this course (installed editable, so a change
# to scratchnn shows at once): made anew whenever requirements.txt or pyproject.toml changes, so
# nothing of an older pin stays behind.
$(STAMP): requirements.txt pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Open _build/html/index.html"

# Debian's Chromium prints the PDF and drives the browser tests (through Playwright's Python
# package: no browser download). As root, a missing /usr/bin/chromium is installed with apt.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Chromium (apt-get install chromium)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@test -x "$(CHROMIUM)" || echo "No Chromium at $(CHROMIUM): install it with 'sudo apt-get install chromium', or give CHROMIUM=/path/to/chrome."

# The whole book as one PDF: built once more as a single page (reusing the executed notebooks of
# `make book`), printed by Chromium (tools/book_pdf.py), and put next to the website as book.pdf,
# where every page's download menu links it.
pdf: book browser
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m tools.book_pdf --publish

lab: $(STAMP)
	@echo "Instructors: grade with make autograde, never with the formgrader's Autograde button (it runs"
	@echo "submissions without the course's sandbox and trusted checks: see README, instructors)."
	$(BIN)/jupyter lab

# Everything the commands generate (the site, the PDF, grading's output, a pip build, test and lint
# caches, Python's bytecode); never submitted/ (the students' work) nor .venv (make venv).
clean:
	rm -rf _build .jupyter_cache release autograded feedback gradebook.db .grading grades.csv grades-canvas.csv \
	  reports build dist *.egg-info .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
