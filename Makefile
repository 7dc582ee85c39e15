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
CHECKOV_VENV := .cache/tools/checkov

.PHONY: help up down test suites lint unit unit-slow etl-tests pipeline-tests seed localcloud provision aws-policy teardown power cost configure deploy dev run \
	verify smoke rebuild rollback password ca promote-check promote bench venv tools clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s $$'\t'

UP_STAGES := localcloud provision configure deploy verify smoke
up: lint unit $(UP_STAGES) ## the whole pipeline on the local default
	@$(PY) -m ci localcloud info

down: venv ## remove the local default: host containers, network, moto and the engine it started (by PID)
	$(PY) -m ci localcloud down

localcloud: venv tools ## start the local default: Docker engine, base image, hosts, AWS endpoint
	$(PY) -m ci localcloud up

password: venv ## print ENV's Airflow admin password, or a tenant person's (LOGIN=<tenant>.<name>); terminal only
	@$(PY) -m ci password --env $(ENV) --login $(or $(LOGIN),admin)

ca: venv ## write ENV's platform CA certificate (the UI's issuer) for your browser; prints the file's path
	@$(PY) -m ci ca --env $(ENV)

# `make test` is the README's second command after its first: lint, unit, the ETL suite and the local default's
# hosts (`localcloud`: the base image build is most of it) with the AWS-policy suite beside them (tests/aws runs
# its own private local cloud, so they share nothing, and a core is idle there while tests/aws runs); then the
# pipeline suite, whose first tests are the rest of `make up`'s stages (its session fixture finds the hosts up),
# so one bring-up serves every suite after it. A local default that this run brought up is taken down at the end,
# pass or fail; one that was up before is left as it was.
test: ## the whole test suite, make up's stages included (what .ci/run and CI run)
	@if [ -x $(PY) ] && $(PY) -m ci localcloud status > /dev/null; then was_up=1; fi; \
	$(MAKE) --no-print-directory suites; rc=$$?; \
	if [ -z "$$was_up" ] && $(PY) -m ci localcloud status > /dev/null; then $(MAKE) --no-print-directory down || rc=1; fi; \
	exit $$rc

suites: venv ## make test without the final clean-up: every suite, then the time of each
	$(PY) -m ci suites "lint unit unit-slow etl-tests localcloud & aws-policy" pipeline-tests

etl-tests: venv tools ## tests/etl: the ETL DAGs end to end (dag.test) against S3 (moto) and PostgreSQL; minutes
	$(PY) -m ci etl-tests --env $(ENV)

pipeline-tests: venv tools ## tests/integration: the whole pipeline on the local default, promotion, faults, load
	$(PY) -m ci pipeline-tests --env $(ENV) $(if $(K),-k "$(K)")

seed: venv ## upload a day of sample raw files to ENV's raw bucket (DAY=YYYY-MM-DD)
	$(PY) -m ci seed --env $(ENV) $(if $(DAY),--day $(DAY))

lint: venv tools ## ruff, yamllint, ansible-lint, Jenkinsfile checks, JJB render
	$(PY) -m ci lint --env $(ENV)

unit: venv tools ## the push loop's tests: tests/unit and tests/dags (DAG integrity + DAG logic) but those marked slow
	$(PY) -m ci unit --env $(ENV)

unit-slow: venv tools ## the unit tests marked slow: they run ansible-playbook, moto, a JVM, the unit stage itself
	$(PY) -m ci unit --env $(ENV) --tier slow

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

configure: venv tools ## site.yml on ENV's hosts (base, database, Airflow)
	$(PY) -m ci configure --env $(ENV)

deploy: venv tools ## this commit's DAG bundle onto ENV's hosts (SHA=... for another commit)
	$(PY) -m ci deploy --env $(ENV) $(if $(filter-out undefined,$(origin SHA)),--sha "$(SHA)")

dev: venv tools ## local default: the work tree's dags/ live without a commit; prints import errors as FILE:LINE
	$(PY) -m ci dev --env $(ENV)

run: venv ## run one DAG through the API, show task states, print a failed task's log (DAG=... [DAY=YYYY-MM-DD])
	$(PY) -m ci run --env $(ENV) --dag "$(DAG)" $(if $(DAY),--day "$(DAY)")

verify: venv tools ## testinfra (tests/infra) against ENV's hosts
	$(PY) -m ci verify --env $(ENV)

smoke: venv tools ## seed a day, run the tenant ETL DAG through the Airflow API, check the warehouse
	$(PY) -m ci smoke --env $(ENV)

rebuild: venv tools ## re-run site.yml on ENV (LIMIT=hosts, CHECK_ONLY=true for check-only drift detection)
	$(PY) -m ci rebuild --env $(ENV) $(if $(LIMIT),--limit $(LIMIT)) $(if $(filter true 1,$(CHECK_ONLY)),--check)

rollback: venv tools ## ENV's hosts return to the previous DAG release
	$(PY) -m ci rollback --env $(ENV)

promote-check: venv ## is SHA verified on ENV (make promote-check SHA=... ENV=staging)
	$(PY) -m ci promote-check --env $(or $(FROM),$(ENV)) --sha "$(SHA)"

promote: venv tools ## deploy a verified SHA from FROM to TO, verify, audit (SHA=... FROM=staging TO=production)
	PROMOTED_BY="$(APPROVER)" $(PY) -m ci promote --sha "$(SHA)" --from $(or $(FROM),staging) --to $(or $(TO),production)

bench: venv tools ## benchmarks: ratios against baselines; reports/bench/bench.md (the README table) and results.json
	$(PY) -m bench

venv: $(STAMPS)/venv ## the locked Python tooling in .venv (re-created when a lock changes)

$(STAMPS)/venv: requirements/bootstrap.txt requirements/tooling.txt | $(STAMPS)/debs
	@mkdir -p $(STAMPS)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/bootstrap.txt
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) --require-hashes -r requirements/tooling.txt
	@touch $@

tools: $(STAMPS)/debs $(STAMPS)/npm $(STAMPS)/checkov ## Debian packages, the locked Node tools and checkov

.PHONY: debs
debs: $(STAMPS)/debs

$(STAMPS)/debs: ci/install-debs.sh
	@mkdir -p $(STAMPS)
	ci/install-debs.sh
	@touch $@

$(STAMPS)/npm: $(NPM_DIR)/package-lock.json | $(STAMPS)/debs
	cd $(NPM_DIR) && npm ci --silent --no-audit --no-fund
	@touch $@

# checkov's pins do not resolve together with the tooling lock: its own locked venv.
$(STAMPS)/checkov: requirements/checkov.txt | $(STAMPS)/venv
	rm -rf $(CHECKOV_VENV)
	$(VENV)/bin/uv venv --quiet --python $(PY) $(CHECKOV_VENV)
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(CHECKOV_VENV)/bin/python --require-hashes -r requirements/checkov.txt
	@touch $@

clean: ## remove generated files (keeps the venv)
	rm -rf reports .cache/ansible .cache/jenkins_jobs

distclean: clean ## remove everything generated, the venv and Node tools too
	rm -rf $(VENV) .cache $(NPM_DIR)/node_modules
