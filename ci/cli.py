"""Command line: `python -m ci <stage> [options]`; `python -m ci --help` lists the stages."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

# stage name -> (module under ci.stages, one-line help). One module per stage.
STAGES = {
    "lint": ("lint", "ruff, yamllint, ansible-lint, Jenkinsfile checks, JJB render"),
    "unit": ("unit", "pytest over tests/unit and tests/dags (DAG integrity + DAG logic)"),
    "etl-tests": ("etl_tests", "tests/etl: the ETL DAGs end to end against S3 (moto) and PostgreSQL, minutes"),
    "pipeline-tests": ("pipeline_tests", "tests/integration: the whole pipeline on the local default, promotion, "
                                         "security, faults, load"),
    "suites": ("suites", "make test's suites in order, then the time of each beside the suite's budget"),
    "seed": ("seed", "upload a day of sample raw files to the environment's raw bucket"),
    "jenkins": ("jenkins", "Jenkins controller: sync jobs/, promote SHA --to ENV, status"),
    "jenkinsfile-check": ("jenkinsfile_check", "check Jenkinsfiles: Groovy 2.4 parse + declarative structure"),
    "localcloud": ("localcloud", "the local default: Docker engine, base image, hosts, AWS endpoint: up|down|status"),
    "cost": ("cost", "monthly cost estimate of an environment beside AWS MWAA's smallest"),
    "provision": ("provision", "provision AWS (or the local endpoint) with amazon.aws"),
    "power": ("power", "office hours: stop or start an environment's EC2 host and database"),
    "aws-policy": ("aws_policy", "tests/aws: check the provisioned state through the AWS API"),
    "teardown": ("teardown", "remove an environment (production needs --confirm production)"),
    "configure": ("configure", "run site.yml on the hosts"),
    "deploy": ("deploy", "deploy one commit's DAG bundle onto the hosts"),
    "dev": ("dev", "local default only: deploy the work tree's dags/ as a dev release, wait for the parse"),
    "run": ("run", "trigger one DAG run through the API, show task states, print a failed task's log"),
    "verify": ("verify", "testinfra against the hosts"),
    "smoke": ("smoke", "trigger an ETL DAG through the Airflow API and check the warehouse"),
    "rebuild": ("rebuild", "re-run site.yml against an environment (--limit, check-only)"),
    "password": ("password", "print an Airflow password (admin, or --login <tenant>.<name>) from the secret store "
                             "(terminal only)"),
    "ca": ("ca", "write the platform CA's certificate (the UI's issuer) for your browser; print its path"),
    "promote-check": ("promote_check", "refuse a SHA without a verification record"),
    "promote": ("promote", "deploy a verified SHA's artifact to production, verify, audit"),
    "rollback": ("rollback", "return an environment to its previous release"),
}
ENVIRONMENTS = ("local", "local-prod", "staging", "production")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per stage."""
    parser = argparse.ArgumentParser(prog="python -m ci", description=__doc__)
    subs = parser.add_subparsers(dest="stage", metavar="<stage>", required=True)
    for name, (module_name, summary) in STAGES.items():
        sub = subs.add_parser(name, help=summary, description=summary)
        sub.add_argument("--env", choices=ENVIRONMENTS, default="local", help="target environment (default: local)")
        module = importlib.import_module(f"ci.stages.{module_name}")
        if hasattr(module, "add_arguments"):
            module.add_arguments(sub)
    return parser


def _stopped(signum: int, frame: object) -> None:
    """SIGTERM (a `kill`, a CI job stopped) ends a stage the way Ctrl-C does: its running command first."""
    raise KeyboardInterrupt


def handle_stop_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM end a stage, its running command first (ci.runner), whatever this process
    inherited: a shell's background job, `nohup` and Jenkins' durable tasks start it with SIGINT ignored, and an
    ignored signal stays ignored across exec. A handled one is reset to the default in the commands it starts."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stopped)


def main(argv: list[str] | None = None) -> int:
    """Run one stage; its exit code is the process's."""
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"ci.stages.{STAGES[args.stage][0]}")
    handle_stop_signals()
    try:
        return module.run(args)
    except KeyboardInterrupt:
        print(f"{args.stage}: interrupted", file=sys.stderr)
        return 130
