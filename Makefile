# Two entry points (see README): `make all` synthesises the default config into cdk.out, validates
# it and rehearses its deployment; `make test` runs the test suite. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Node 22 LTS from the npm registry (node package) first on PATH: jsii and the CDK CLI use it.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
LAYER := build/layers/x509/python
LAYER_PLATFORM := --platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all:

.PHONY: all setup layers browser synth validate rehearse test lint clean

all: synth validate rehearse

setup: $(BIN)/.installed node_modules/.installed layers

# The pinned tools, then the validator itself (pyproject.toml), editable: `cmk-validate` runs this checkout.
$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# cryptography for the cluster-initialisation Lambda (python3.12, arm64), from PyPI wheels.
layers: build/layers/x509.built
build/layers/x509.built: requirements-layer.txt $(BIN)/.installed
	rm -rf $(LAYER)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile --target $(LAYER) $(LAYER_PLATFORM) -r requirements-layer.txt
	rm -rf $(LAYER)/bin
	touch $@

synth: setup
	rm -rf cdk.out
	cdk synth --quiet --output cdk.out

# The architecture's invariants plus cfn-lint (through its API), on every stack in cdk.out.
validate: setup
	$(BIN)/cmk-validate cdk.out

# The deploy rehearsal: deploy cdk.out offline, scale the HSMs up and down (the same app synthesised
# with another hsmCount, as `cdk deploy -c hsmCount=N` would deploy it), then destroy.
SCALE_UP ?= 4
SCALE_DOWN ?= 2
rehearse: synth
	rm -rf cdk.scale-up.out cdk.scale-down.out
	cdk synth --quiet -c hsmCount=$(SCALE_UP) --output cdk.scale-up.out
	cdk synth --quiet -c hsmCount=$(SCALE_DOWN) --output cdk.scale-down.out
	$(BIN)/python -m rehearsal cdk.out --update cdk.scale-up.out --update cdk.scale-down.out

# Debian's Chromium renders the review page in a browser test; installed when we are root (CI).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "note: chromium not installed (needs root); the browser test will skip"

test: setup browser
	$(BIN)/python -m pytest -n 2 -q

# ruff, configured in pyproject.toml.
lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf cdk.out cdk.*.out build $(VENV) node_modules
