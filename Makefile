# seedkit: two commands on a fresh machine -> `make demo`, `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test notebooks lab browser exercises clean

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

# Unit tests, the exercise notebooks (tests/test_exercises.py: up to date, each stops at its first
# exercise; with solutions injected they are the solution notebooks) and the browser test; then every
# solution notebook in fast mode.
# Notebooks run in fast mode train into tempfile folders (about 0.8 GB a `make test`): TMPDIR points
# them, and pytest's own temporary folders, at one folder that is removed afterwards, pass or fail.
# The unit tests run in TEST_WORKERS pytest-xdist processes: on 2 cores 6 min 40 s instead of 9 min 22 s
# (much of a test is start-up, subprocesses and waiting). The notebooks run one at a time: two at once
# took 5 min 58 s against 3 min 51 s, their kernels fighting over the cores.
TEST_WORKERS ?= 2
test: venv browser
	@tmp=$$(mktemp -d -t seedkit-test.XXXXXX); \
	SEEDKIT_FAST=1 TMPDIR=$$tmp $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal tests \
	  && TMPDIR=$$tmp $(MAKE) notebooks; \
	rc=$$?; rm -rf "$$tmp"; exit $$rc

# Per-cell limit 240 s (a fast-mode cell needs seconds to half a minute). nbclient used to sleep out
# that whole limit after notebook 06's step scrubber (a missed wake-up, jupyter/nbclient#312): the
# root conftest.py polls the kernel's replies in half-second slices instead (06: 283-321 s -> 44-49 s).
# Fast-mode notebooks train into tempfile folders: TMPDIR points them at a folder removed afterwards.
notebooks: venv
	@tmp=$$(mktemp -d -t seedkit-notebooks.XXXXXX); \
	SEEDKIT_FAST=1 TMPDIR=$$tmp $(PY) -m pytest -q --nbmake --nbmake-timeout=240 --ignore=notebooks/exercises \
	  notebooks; rc=$$?; rm -rf "$$tmp"; exit $$rc

# The browser test drives Debian's Chromium: install it when missing (needs root and apt-get).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (apt-get) for tests/test_browser.py"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is missing and cannot be installed here: tests/test_browser.py will skip"; \
	  fi; }

# Regenerate notebooks/exercises/ after editing a solution notebook.
exercises: venv
	$(VENV)/bin/seedkit notebooks make-exercises

# Speed benchmarks on this machine's device (CPU: under 10 minutes): benchmarks/results/*.json + results.md
.PHONY: bench
bench: venv
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_sample.py
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_report.py

lab: venv
	$(PY) -m ipykernel install --sys-prefix --name seedkit --display-name "seedkit" >/dev/null
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --notebook-dir=notebooks

clean:
	rm -rf $(VENV) outputs .pytest_cache
