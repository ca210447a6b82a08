# Developer workflow. Everything runs inside .venv (created by `make install`).
# Read top to bottom: install -> build -> lint -> test -> bench -> demo.

PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
CARGO   ?= cargo
# Two cores on the reference machine: keep builds from starving the tests.
export CARGO_BUILD_JOBS ?= 2

.PHONY: install build build-dev proto proto-check lint format test test-rust test-python bench demo demo-server clean

## install: create .venv, install the Python dev tools and build the extension (release)
install: $(BIN)/maturin build

$(BIN)/maturin: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip "maturin>=1.7,<2"
	touch $(BIN)/maturin

## build: compile the Rust extension in release mode into python/loadforge/ (editable install)
build:
	$(BIN)/maturin develop --release --extras dev

## build-dev: a faster debug build while iterating
build-dev:
	$(BIN)/maturin develop --extras dev

## proto: regenerate python/loadforge/_proto from proto/
proto:
	$(BIN)/python scripts/gen_proto.py

proto-check:
	$(BIN)/python scripts/gen_proto.py --check

## lint: ruff, mypy, rustfmt, clippy, stale generated code
lint: proto-check
	$(BIN)/ruff check python tests benches scenarios scripts
	$(BIN)/ruff format --check python tests benches scenarios scripts
	$(BIN)/mypy
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

format:
	$(BIN)/ruff check --fix python tests benches scenarios scripts
	$(BIN)/ruff format python tests benches scenarios scripts
	$(CARGO) fmt --all

## test: everything a fresh clone must pass (install, lint, Rust tests, Python tests)
test: install lint test-rust test-python

test-rust:
	$(CARGO) test --workspace --exclude loadforge-py

test-python:
	$(BIN)/pytest

## bench: peers (wrk, h2load, Locust, grpc.aio) and loadforge side by side, as ratios
bench: install
	$(BIN)/pip install -q -r benches/requirements.txt
	$(BIN)/python benches/run.py

## demo: start the demo target and run a real load test of scenarios/demo.py against it
demo: install
	$(BIN)/python scripts/demo.py

demo-server: install
	$(BIN)/loadforge demo-server

clean:
	rm -rf $(VENV) target python/loadforge/*.so
