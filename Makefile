# Two commands on a fresh machine with Python 3.11 or newer: `make demo` and `make test`.
# PYTHON: the first of python3.13, python3.12, python3.11, python3 on the PATH whose version is >= 3.11
# (override with `make PYTHON=/path/to/python test`).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv browser bench clean

# Where `make bench` writes its figures (git-ignored; never a tracked file): make bench BENCH_OUT=/tmp/bench
BENCH_OUT ?= results/bench

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "make: no Python 3.11 or newer found (tried python3.13, python3.12, python3.11, python3)." \
		"Install one (e.g. 'apt-get install python3' on Debian 12+, or from python.org) or run 'make PYTHON=/path/to/python3.11 ...'." >&2; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "make: $(PYTHON) cannot create virtual environments;" \
		"install its venv module (Debian/Ubuntu: apt-get install python3-venv)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# Headless Chromium for the app's browser test (Debian's package; Playwright's own download is not used).
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (apt-get) for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "make: chromium is missing and cannot be installed here (needs root and apt-get);" \
		"the browser test will fail: install it ('sudo apt-get install chromium') or set SKIP_BROWSER=1." >&2; fi

demo: $(STAMP)
	$(BIN)/sim compare scenarios/fangxing.yaml scenarios/zhaojialou.yaml --reps 10 --workers 2

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out $(BENCH_OUT)/engine.json
	$(BIN)/python benchmarks/staffing.py --before --out $(BENCH_OUT)/staffing.json
	$(BIN)/python benchmarks/sweep_scale.py --out $(BENCH_OUT)/sweep.json

clean:
	rm -rf $(VENV) build *.egg-info
