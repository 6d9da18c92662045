# ota-emu: `make demo` runs the main job, `make test` runs the tests.
# Both install what is missing on a fresh Debian or Ubuntu machine.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
DEBS    := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gdb-multiarch mosquitto
FW      := firmware_images/build

.PHONY: all deps venv native firmware demo test lint pytest bench clean

all: venv native firmware

# Debian packages: the cross compiler and newlib, QEMU (differential tests),
# gdb-multiarch (GDB client) and Mosquitto (real-broker tests).
deps:
	@bash .ci/install-debs $(DEBS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

native: venv
	$(PY) -c "from emu.core import native; print('native core:', native.build())"

# The PAL test vectors are signed at build time with the venv's Python.
firmware: deps venv
	$(MAKE) -C firmware_images -j2 PYTHON=$(abspath $(PY))

demo: deps venv native firmware
	$(PY) -m emu demo

lint: venv
	$(VENV)/bin/ruff check emu tests

pytest: venv native firmware
	$(VENV)/bin/pytest -q

test: deps venv native firmware lint pytest

bench: venv native firmware
	$(PY) -m emu bench

clean:
	$(MAKE) -C firmware_images clean
	rm -rf emu/core/_build build
