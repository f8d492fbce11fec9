# seedkit: two commands on a fresh machine -> `make demo`, `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test lab clean

# Re-installs only when pyproject.toml changes (the stamp is newer otherwise).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (seedkit)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	$(VENV)/bin/seedkit demo

test: venv
	SEEDKIT_FAST=1 $(PY) -m pytest -q tests
	SEEDKIT_FAST=1 $(PY) -m pytest -q --nbmake --nbmake-timeout=600 notebooks

# Speed benchmarks on this machine's device (CPU: under 10 minutes): benchmarks/results/*.json + results.md
.PHONY: bench
bench: venv
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_sample.py
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_report.py

lab: venv
	$(PY) -m ipykernel install --sys-prefix --name seedkit --display-name "seedkit" >/dev/null
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf $(VENV) outputs .pytest_cache
