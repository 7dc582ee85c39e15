# tiny-analytics: every pipeline stage is one target calling one entry of the `ci` package.
# First use bootstraps everything: Debian packages, the locked venv, the locked Node tools.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= local
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
NPM_DIR := requirements/npm
STAMPS := .cache/stamps

.PHONY: help up down test lint unit integration seed provision aws-policy teardown power cost configure deploy verify smoke bench venv tools \
	clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

up: lint unit provision ## the main job on the local default: lint, unit, provision (ENV=local)

down: venv ## stop the local default (the local cloud's processes, by PID)
	$(PY) -m ci localcloud down

test: lint unit integration aws-policy ## the whole test suite (what .ci/run and CI run)

integration: venv tools ## tests/etl: ETL DAGs end to end (dag.test) against S3 (moto) and PostgreSQL
	$(PY) -m ci integration --env $(ENV)

seed: venv ## upload a day of sample raw files to ENV's raw bucket (DAY=YYYY-MM-DD)
	$(PY) -m ci seed --env $(ENV) $(if $(DAY),--day $(DAY))

lint: venv tools ## ruff, yamllint, ansible-lint, Jenkinsfile checks, JJB render
	$(PY) -m ci lint --env $(ENV)

unit: venv tools ## pytest: tests/unit and tests/dags (DAG integrity + DAG logic)
	$(PY) -m ci unit --env $(ENV)

provision: venv ## provision ENV (budget gate first; local starts the local AWS endpoint)
	$(PY) -m ci provision --env $(ENV)

aws-policy: venv ## tests/aws against ENV (local: a private local cloud, provisioned twice, torn down)
	$(PY) -m ci aws-policy --env $(ENV)

teardown: venv ## remove ENV (production: make teardown ENV=production CONFIRM=production)
	$(PY) -m ci teardown --env $(ENV) --confirm "$(CONFIRM)"

power: venv ## office hours: make power ENV=staging STATE=stopped|running
	$(PY) -m ci power --env $(ENV) --state $(STATE)

cost: venv ## monthly estimate of ENV beside AWS MWAA's smallest environment
	$(PY) -m ci cost --env $(ENV)

configure deploy verify smoke rebuild promote-check promote rollback: venv tools
	$(PY) -m ci $@ --env $(ENV)

bench: venv tools ## benchmarks: prints ratios against baselines, JSON in reports/bench/
	$(PY) -m bench

venv: $(STAMPS)/venv ## the locked Python tooling in .venv (re-created when a lock changes)

$(STAMPS)/venv: requirements/bootstrap.txt requirements/tooling.txt | $(STAMPS)/debs
	@mkdir -p $(STAMPS)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/bootstrap.txt
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) --require-hashes -r requirements/tooling.txt
	@touch $@

tools: $(STAMPS)/debs $(STAMPS)/npm ## Debian packages and the locked Node tools

.PHONY: debs
debs: $(STAMPS)/debs

$(STAMPS)/debs: ci/install-debs.sh
	@mkdir -p $(STAMPS)
	ci/install-debs.sh
	@touch $@

$(STAMPS)/npm: $(NPM_DIR)/package-lock.json | $(STAMPS)/debs
	cd $(NPM_DIR) && npm ci --silent --no-audit --no-fund
	@touch $@

clean: ## remove generated files (keeps the venv)
	rm -rf reports .cache/ansible .cache/jenkins_jobs

distclean: clean ## remove everything generated, the venv and Node tools too
	rm -rf $(VENV) .cache $(NPM_DIR)/node_modules
