# The instructor's repository. The whole set-up is `make book` and `make test`: each creates .venv
# from the pinned requirements when it is missing or older than requirements.txt / pyproject.toml.
include course.mk

help:
	@echo "make book     build the website into _build/html (warnings are errors)"
	@echo "make pdf      the whole book as one PDF, _build/pdf/book.pdf, also at _build/html/book.pdf (builds the website first; needs Chromium)"
	@echo "make test     lint (make lint), then every test: library vs Keras, lessons, the package outside the repository, grading round trip"
	@echo "make lab      open JupyterLab in the course environment"
	@echo "make release  regenerate the student assignment notebooks from solutions/ (ASSIGNMENT=01_neuron: that one only)"
	@echo "make public DEST=../course-public   write the student-facing repository (no solutions) into DEST"
	@echo "make autograde ASSIGNMENT=01_neuron   grade submitted/*/01_neuron/"
	@echo "make feedback  ASSIGNMENT=01_neuron   write feedback/ for that assignment"
	@echo "make grades                           grades.csv (every student x assignment) and grades-canvas.csv"
	@echo "make report    ASSIGNMENT=01_neuron   the class report: reports/01_neuron.html and a summary"

# The browser tests reuse _build/html when it is newer than the sources (else they build it).
# Two test workers share the machine: one BLAS thread each, so they do not fight over the cores.
# Lint first (seconds): a finding stops the run before the long tests.
.PHONY: test lint
test: $(STAMP) lint browser
	CHROMIUM=$(CHROMIUM) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .

# --- instructor -------------------------------------------------------------
# Grading runs through `python -m grader` (nbgrader is the engine; see grader/__init__.py).
# Submissions go in submitted/<student>/<assignment>/<notebook>.ipynb.
# Extra options go in ARGS, e.g. make autograde ASSIGNMENT=01_neuron ARGS="--force --jobs 4",
# or ARGS="--student ada,bob" to grade (again) only those students.
.PHONY: release autograde feedback grades report public
need_assignment = $(or $(ASSIGNMENT),$(error give the assignment, e.g. make $@ ASSIGNMENT=01_neuron))
need_dest = $(or $(DEST),$(error give the folder of the public repository, e.g. make $@ DEST=../course-public))

# Exit status 1 of autograde and feedback means "done, but some student was not graded / got no
# feedback" (the command listed them, with the reasons): an expected outcome, not a failed make.
# Status 2 (could not run: no secret, no sandbox, no such assignment) still stops make.
expected_outcome = || [ $$? -eq 1 ]
# COURSE=<folder>: a course folder other than this repository (its own nbgrader_config.py, solutions/, submitted/)
grader = $(BIN)/python -m grader $(if $(COURSE),--root $(COURSE))

release: $(STAMP)
	@$(grader) release $(ASSIGNMENT)

# The student-facing repository (tools/public.py says what goes in it and what never does).
public: $(STAMP)
	$(BIN)/python -m tools.public $(need_dest)

autograde: $(STAMP)
	@$(grader) autograde $(need_assignment) $(ARGS) $(expected_outcome)

feedback: $(STAMP)
	@$(grader) feedback $(need_assignment) $(expected_outcome)

grades: $(STAMP)
	@$(grader) export

report: $(STAMP)
	@$(grader) report $(need_assignment)
