# Two entry points for a fresh clone: `make run` (install + launch) and `make test` (install + test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install system-deps bench clean

run: install
	$(BIN)/attricam

test: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps facenet-pytorch==2.6.0
	touch $(STAMP)

# Shared libraries Qt needs even offscreen (EGL/GL, xkbcommon, fontconfig, dbus); installed only when missing.
system-deps:
	@if ! ldconfig -p | grep -q 'libEGL.so.1' || ! ldconfig -p | grep -q 'libxkbcommon.so.0' || ! ldconfig -p | grep -q 'libfontconfig.so.1'; then \
		echo "Installing Qt's system libraries (needs root: apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
			libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 \
			libxcb-render-util0 libxcb-image0 fonts-dejavu-core >/dev/null; \
	fi

bench: install
	$(BIN)/python benchmarks/bench_live.py

clean:
	rm -rf $(VENV) .pytest_cache
