# Two commands do all set-up (see README):
#   make main   - create .venv, install, run the main job on the motion dataset
#   make test   - create .venv, install, run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install main test

$(VENV)/.installed: setup.py requirements/cpu.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/cpu.txt
	$(PY) -m pip install -q -e '.[tests]'
	touch $@

install: $(VENV)/.installed

main: install
	$(PY) tools/main_job.py

test: install
	$(PY) -m pytest -q
