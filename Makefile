# The organiser's commands. `make up` and `make test` install what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CDK CLI and jsii need Node 22+ (the CDK's support for Node 20 ended 2026-10-30; see
# workshop_spec/platforms.yaml). When the system's Node is older, `make node` installs Node from
# npm into .cache/node (the npm package `node`: ~5 s, ~190 MB, no root, no other download
# site), and this PATH entry makes every recipe below, npx and jsii included, use it.
NODE_MIN_MAJOR := 22
NODE_INSTALL_VERSION := 24.21.0
LOCAL_NODE := .cache/node
export PATH := $(CURDIR)/$(LOCAL_NODE)/node_modules/node/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
# The CDK CLI writes under the passwd home otherwise (read-only in some CI sandboxes).
export CDK_HOME ?= $(CURDIR)/.cache/cdk
CDK := npx --no-install cdk --no-notices

.DEFAULT_GOAL := help
.PHONY: help node setup up down test lint format synth nag-report deploy destroy diff clean cost janitor preflight residue handout smoke workshop-studio workshop-studio-rehearsal pool-deploy pool-teardown

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-local.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The xgboost the serving models are trained with at synth (the built-in 1.7-1's), installed
# here with every other pin so that synthesis itself reaches no package index.
SERVING_XGBOOST := .cache/artifacts/.serving-xgboost.installed
$(SERVING_XGBOOST): workshop_artifacts/runtime_locks/xgboost-1.7-1.txt $(VENV)/.installed
	$(PY) -m workshop_artifacts.runtimes overlay xgboost-1.7-1 xgboost >/dev/null
	touch $@

# The labs' notebook kernel: Python 3.10 (the notebook platform's) with the SageMaker SDK v3 the
# labs teach, from its lock (~2.5 min and ~0.9 GB the first time, then cached by the lock's
# bytes in .cache/artifacts/runtime-venv/). `make up` and the tests run every lab notebook in it.
LAB_KERNEL := .cache/artifacts/.lab-kernel.installed
$(LAB_KERNEL): workshop_artifacts/kernel_locks/notebook-al2023-v1.txt $(VENV)/.installed
	$(PY) -m workshop_artifacts.runtimes lab-kernel >/dev/null
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: ## Node 22+ for the CDK CLI: the system's, or else Node 24 installed from npm into .cache/node
	@major=$$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'); \
	if [ "$${major:-0}" -lt $(NODE_MIN_MAJOR) ]; then \
	  echo "The CDK CLI needs Node $(NODE_MIN_MAJOR)+, found $$(node --version 2>/dev/null || echo none): installing Node $(NODE_INSTALL_VERSION) from npm into $(LOCAL_NODE) (by hand: npm install --prefix $(LOCAL_NODE) node@$(NODE_INSTALL_VERSION), then put $(LOCAL_NODE)/node_modules/node/bin first on PATH)"; \
	  npm install --prefix $(LOCAL_NODE) --no-audit --no-fund --loglevel=error node@$(NODE_INSTALL_VERSION) >/dev/null \
	    && echo "Node $$(node --version) from $(LOCAL_NODE) (make clean removes it)"; \
	fi

setup: node $(VENV)/.installed $(SERVING_XGBOOST) $(LAB_KERNEL) node_modules/.installed ## create .venv and install the pinned Python and npm packages

up: setup ## rehearse the whole workshop locally (no AWS account, no Docker); report in .local/
	$(PY) -m workshopctl up

down: ## remove the local target's state; with AWS credentials, also the janitor's dry run (APPLY=1 deletes)
	@test -x $(PY) && $(PY) -m workshopctl down || rm -rf .local
	@test ! -x $(PY) || $(PY) -m workshopctl janitor --if-credentials $(if $(APPLY),--apply)

test: setup ## lint, then the test suite (synth, nag, cfn-lint, snapshots, properties, local target)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: setup ## ruff lint + format check
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: setup ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

synth: setup ## synthesize every stack into cdk.out through the pinned CDK CLI (security packs run)
	rm -f cdk.out/validation-report.json
	$(CDK) synth --quiet
	$(VENV)/bin/cfn-lint cdk.out/*.template.json
	@echo "templates: $$(ls cdk.out/*.template.json | tr '\n' ' ')"

nag-report: synth ## list every cdk-nag acknowledgement with its reason
	$(PY) -m workshopctl nag-report

diff: setup ## what a deploy would change in the account of the shell's credentials
	$(CDK) diff --all

preflight: setup ## quotas, region, bootstrap, cost tag, platforms vs the event's needs (PREFLIGHT_ARGS="--offline quotas.json", "--request", "--fix")
	$(PY) -m workshopctl preflight $(PREFLIGHT_ARGS)

deploy: synth ## checks credentials and quotas, bootstraps if needed, deploys stacks in parallel (DEPLOY_ARGS="-c key=value")
	$(PY) -m workshopctl deploy $(DEPLOY_ARGS)

handout: setup ## each attendee's sheet (HTML + CSV) from the deployed stacks' outputs (HANDOUT_ARGS="--passwords", "--offline")
	$(PY) -m workshopctl handout $(HANDOUT_ARGS)

workshop-studio: setup ## an AWS Workshop Studio bundle in workshop-studio/: templates without CDK bootstrap, assets, pages (WORKSHOP_STUDIO_ARGS="--region eu-west-1 -c key=value")
	$(PY) -m workshopctl workshop-studio $(WORKSHOP_STUDIO_ARGS)

workshop-studio-rehearsal: workshop-studio ## the bundle deployed into an emulated participant account, the labs run there (REHEARSAL_ARGS="--account 111122223333 --account ...", "--no-labs")
	$(PY) -m workshopctl workshop-studio-rehearsal $(REHEARSAL_ARGS)

pool-deploy: setup ## accounts=per-attendee: organiser stack, the account templates and assets into its bucket, then the StackSets (POOL_ARGS="--region eu-west-1 -c key=value")
	$(PY) -m workshopctl pool deploy $(POOL_ARGS)

pool-teardown: setup ## accounts=per-attendee: janitor --apply in each pool account, cdk destroy of the StackSets and the organiser stack, residue scan per account
	$(PY) -m workshopctl pool teardown $(POOL_ARGS)

smoke: setup ## after a deploy: every lab as the smoke attendee, readiness table, clean-up (SMOKE_ARGS="--emulated")
	$(PY) -m workshopctl smoke $(SMOKE_ARGS)

janitor: setup ## dry run: what attendees left in the account, with hourly cost (deletes nothing)
	$(PY) -m workshopctl janitor

destroy: setup ## janitor --apply, cdk destroy --all (times per stack), then the residue scan: exit 1 if anything remains
	$(PY) -m workshopctl destroy

residue: setup ## after a destroy: what the workshop left in the account, as a table (read-only)
	$(PY) -m workshopctl residue

cost: setup ## estimated cost per attendee-hour of the config, from the price table
	$(PY) -m workshopctl cost

clean: down ## remove build output as well (cdk.out, caches); keeps .venv and node_modules
	rm -rf cdk.out .pytest_cache .ruff_cache .hypothesis .cache
