# Development and deployment targets. Run `make help` for the list.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

# Image of the operator. A tag other than "latest" makes Kubernetes use
# imagePullPolicy IfNotPresent, so an image loaded with `make kind-load` is used
# without a registry.
IMG ?= litellm-operator:dev
CONTAINER_TOOL ?= docker
KUBECTL ?= kubectl
KIND ?= kind
KIND_CLUSTER ?= litellm-operator
# Kustomize folder that deploy and undeploy use: default (cluster-wide) or
# namespaced (one namespace, see manifests/namespaced/README.md).
OVERLAY ?= default
# Namespace that litellm-kind installs LiteLLM into. Custom resources there
# reach it with `instanceRef: {name: litellm}`.
LITELLM_NAMESPACE ?= default
IGNORE_NOT_FOUND ?= false

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show the targets and what they do.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target> [VAR=value]\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: install-dev
install-dev: $(VENV)/.installed ## Create .venv with the package and the test dependencies.

.PHONY: manifests
manifests: install-dev ## Regenerate the CRDs in manifests/crd and the field reference in docs/reference from the Python models.
	$(PY) -m litellm_operator.api.crdgen manifests/crd --docs docs/reference

.PHONY: test
test: install-dev ## Run all tests; end-to-end tests use the LiteLLM at LITELLM_URL (with LITELLM_MASTER_KEY) when set, the in-process fake otherwise.
	@# pytest exits with 5 when it collected no tests; that fails the target like any other error.
	@status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; \
	exit $$status

.PHONY: test-e2e
test-e2e: install-dev ## Run only the end-to-end tests (pytest -m e2e) against the real LiteLLM at LITELLM_URL with LITELLM_MASTER_KEY.
	@if [ -z "$$LITELLM_URL" ] || [ -z "$$LITELLM_MASTER_KEY" ]; then \
		echo 'LITELLM_URL and LITELLM_MASTER_KEY must name a running LiteLLM proxy and its master key (for example make litellm-kind, then a port-forward to 127.0.0.1:4000)' >&2; \
		exit 1; \
	fi
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

.PHONY: lint
lint: install-dev ## Check the code with ruff from the virtualenv.
	@if [ ! -x $(VENV)/bin/ruff ]; then \
		echo 'ruff is missing from $(VENV); run: $(PY) -m pip install -e ".[test]"' >&2; \
		exit 1; \
	fi
	$(VENV)/bin/ruff check litellm_operator tests hack

.PHONY: run
run: install-dev ## Run the operator against the current kubeconfig context (LITELLM_URL_OVERRIDE=http://127.0.0.1:4000 reaches a port-forwarded LiteLLM; RUN_ARGS adds flags).
	$(VENV)/bin/litellm-operator $(RUN_ARGS)

.PHONY: demo
demo: install-dev ## Run the demo against the in-process API server double and LiteLLM fake.
	$(PY) -m litellm_operator.demo

.PHONY: bench
bench: install-dev ## Run the benchmarks.
	$(PY) -m litellm_operator.bench

##@ Build

.PHONY: docker-build
docker-build: ## Build the operator image IMG.
	$(CONTAINER_TOOL) build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the operator image IMG.
	$(CONTAINER_TOOL) push $(IMG)

##@ Deployment (current kubeconfig context)

.PHONY: install
install: ## Install the CRDs from manifests/crd.
	$(KUBECTL) apply -k manifests/crd

# Deleting a CRD deletes its custom resources, and their finalizers hold the
# deletion until the operator has removed the objects from LiteLLM. Run
# uninstall while the operator still runs.
.PHONY: uninstall
uninstall: ## Delete the CRDs and with them every custom resource (run it before undeploy).
	$(KUBECTL) delete --ignore-not-found=$(IGNORE_NOT_FOUND) -k manifests/crd

# The image placeholder controller:latest in manifests/manager is replaced in
# the rendered output, so no tracked file changes.
.PHONY: deploy
deploy: ## Deploy the CRDs and the operator with image IMG (OVERLAY=namespaced for one namespace).
	$(KUBECTL) kustomize manifests/$(OVERLAY) | sed 's|image: controller:latest|image: $(IMG)|' | $(KUBECTL) apply -f -

# The awk filter drops the CRDs from the rendered documents, so undeploy never
# deletes custom resources.
.PHONY: undeploy
undeploy: ## Delete the operator deployed by deploy; the CRDs and custom resources stay.
	$(KUBECTL) kustomize manifests/$(OVERLAY) | awk 'BEGIN { RS = "\n---\n"; ORS = "\n---\n" } !/(^|\n)kind: CustomResourceDefinition\n/' | $(KUBECTL) delete --ignore-not-found=$(IGNORE_NOT_FOUND) -f -

##@ Local cluster (kind)

.PHONY: kind-up
kind-up: ## Create the kind cluster KIND_CLUSTER from hack/kind-config.yaml and install the CRDs.
	KIND=$(KIND) KUBECTL=$(KUBECTL) KIND_CLUSTER=$(KIND_CLUSTER) hack/kind-up.sh

.PHONY: kind-down
kind-down: ## Delete the kind cluster KIND_CLUSTER.
	$(KIND) delete cluster --name $(KIND_CLUSTER)

.PHONY: kind-load
kind-load: ## Load the image IMG from the local container engine into the kind cluster.
	$(KIND) load docker-image $(IMG) --name $(KIND_CLUSTER)

.PHONY: litellm-kind
litellm-kind: ## Deploy LiteLLM and PostgreSQL from hack/litellm-kind.yaml into LITELLM_NAMESPACE of the kind cluster.
	$(KUBECTL) --context kind-$(KIND_CLUSTER) apply -n $(LITELLM_NAMESPACE) -f hack/litellm-kind.yaml
	$(KUBECTL) --context kind-$(KIND_CLUSTER) -n $(LITELLM_NAMESPACE) rollout status statefulset/litellm-postgres --timeout=300s
	$(KUBECTL) --context kind-$(KIND_CLUSTER) -n $(LITELLM_NAMESPACE) rollout status deployment/litellm --timeout=600s
