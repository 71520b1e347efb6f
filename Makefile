# Two entry points for a fresh clone: `make run` (install + launch) and `make test` (install + test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install system-deps bench clean

run: install system-deps
	$(BIN)/attricam

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# The checks CI holds (rules and options in pyproject.toml): lint, formatting, types on engine/, training/ and
# desktop/, the import contracts. mypy and import-linter read imports from files, so tools/ hands them the
# package-dir mapping (engine/ is attricam.engine; see tools/package_layout.py).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tools.typecheck
	$(BIN)/python -m tools.lint_imports

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.14.1
	$(BIN)/pip install --quiet -e '.[gui,training,dev,descriptor]'
	$(BIN)/pip install --quiet --no-deps facenet-pytorch==2.6.0  # the reference MTCNN of tests and benchmarks
	$(BIN)/python -m attricam.engine.mtcnn_export  # MTCNN's nets as ONNX, once, so the app needs no torch to detect faces
	$(BIN)/python -m attricam.engine.face_network_onnx  # dlib's face network as ONNX, once (the second opinion's descriptor, ~4 ms a face)
	@$(MAKE) --no-print-directory system-deps
	touch $(STAMP)

# The shared libraries PySide6's xcb and offscreen plugins cannot find (ldd, plus the dlopened
# libxcb-cursor0), installed with apt-get only when missing. Checked on every `make run` (~0.1 s), so
# a desktop that lost or never had one of them is repaired too.
system-deps:
	@sh scripts/qt-system-deps.sh $(BIN)/python

bench: install
	$(BIN)/python -m benchmarks.bench_live

clean:
	rm -rf $(VENV) .pytest_cache
