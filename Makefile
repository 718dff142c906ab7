# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv bench clean

# Where `make bench` writes its figures (git-ignored; never a tracked file): make bench BENCH_OUT=/tmp/bench
BENCH_OUT ?= results/bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/sim compare scenarios/fangxing.yaml scenarios/zhaojialou.yaml --reps 10

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py --out $(BENCH_OUT)/engine.json
	$(BIN)/python benchmarks/staffing.py --before --out $(BENCH_OUT)/staffing.json
	$(BIN)/python benchmarks/sweep_scale.py --out $(BENCH_OUT)/sweep.json

clean:
	rm -rf $(VENV) build *.egg-info
