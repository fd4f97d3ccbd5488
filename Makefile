# Development and deployment targets. Run `make help` for the list.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show the targets and what they do.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: install-dev
install-dev: $(VENV)/.installed ## Create .venv with the package and the test dependencies.

.PHONY: manifests
manifests: install-dev ## Regenerate the CRDs in manifests/crd from the Python models.
	$(PY) -m litellm_operator.api.crdgen manifests/crd

.PHONY: test
test: install-dev ## Run all tests (end-to-end ones too when LITELLM_URL and LITELLM_MASTER_KEY are set).
	$(PY) -m pytest $(PYTEST_ARGS)
