"""`python -m ci seed --env ENV [--day YYYY-MM-DD] [--rows N]`: upload a day of sample raw files to the
environment's raw bucket (the name from provision's outputs)."""

from __future__ import annotations

import argparse
import datetime as dt

import boto3
import yaml

from ci.ansible import WORK, aws_target
from ci.sample_data import sample_day


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Which day and how many rows per file."""
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date.today() - dt.timedelta(days=1))
    parser.add_argument("--rows", type=int, default=1000)


def run(args: argparse.Namespace) -> int:
    """Upload the sample objects; print each key."""
    outputs_file = WORK / args.env / "provision-outputs.yml"
    if not outputs_file.exists():
        print(f"seed failed: {outputs_file} not found: run `make provision ENV={args.env}` first")
        return 1
    outputs = yaml.safe_load(outputs_file.read_text())
    env, _ = aws_target(args.env, outputs["aws_region"])
    s3 = boto3.client("s3", region_name=outputs["aws_region"], endpoint_url=env.get("AWS_ENDPOINT_URL"),
                      aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
                      aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"))
    bucket = outputs["buckets"]["raw"]
    for raw in sample_day(args.day, rows=args.rows):
        try:
            s3.put_object(Bucket=bucket, Key=raw.key, Body=raw.body)
        except s3.exceptions.NoSuchBucket:
            print(f"seed failed: bucket {bucket} does not exist in {args.env}: run `make provision ENV={args.env}`")
            return 1
        print(f"s3://{bucket}/{raw.key}  {len(raw.body)} bytes")
    return 0
