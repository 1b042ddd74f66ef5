# Two commands do all set-up (see README):
#   make main   - create .venv, install, run the main job on the motion dataset
#   make test   - create .venv, install, run the test suite, then the checks
#                 that MMAction2's own tests and a built wheel behave
# torch: TORCH_SPEC picks the release, TORCH_INDEX where it comes from, e.g.
#   make test TORCH_INDEX=https://download.pytorch.org/whl/cpu   (CPU build)
# Left empty, pip's own configuration decides (here: the local CPU wheel).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=

.PHONY: install main lint test pytest stock-check wheel-check

$(VENV)/.installed: setup.py pyproject.toml requirements/stack.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q '$(TORCH_SPEC)' $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install -q -r requirements/stack.txt
	$(PY) -m pip install -q -e '.[tests,dev]'
	touch $@

install: $(VENV)/.installed

main: install
	$(PY) tools/main_job.py

# style: the checks a reviewer runs (configuration in pyproject.toml)
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/codespell
	$(VENV)/bin/mypy

# the README's test command: the suite, MMAction2's own tests without and
# with the plugin (identical outcomes), and a built wheel in a fresh venv
test: pytest stock-check wheel-check

pytest: install
	$(PY) -m pytest -q

stock-check: install
	$(PY) .ci/stock/compare.py

wheel-check: install
	$(PY) .ci/wheel_check.py
