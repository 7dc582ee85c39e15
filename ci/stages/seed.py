"""`python -m ci seed --env ENV [--day YYYY-MM-DD] [--rows N]`: upload a day of sample raw files to the
environment's raw bucket (the name from provision's outputs)."""

from __future__ import annotations

import argparse
import datetime as dt

from ci.platform import Platform, PlatformError
from ci.runner import Stage
from ci.sample_data import sample_day


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Which day and how many rows per file."""
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date.today() - dt.timedelta(days=1))
    parser.add_argument("--rows", type=int, default=1000)


def upload_sample_day(platform: Platform, day: dt.date, rows: int) -> list[str]:
    """Put the day's sample objects into the raw bucket; their s3:// addresses with sizes."""
    s3 = platform.client("s3")
    bucket = platform.bucket("raw")
    uploaded = []
    for raw in sample_day(day, rows=rows):
        try:
            s3.put_object(Bucket=bucket, Key=raw.key, Body=raw.body)
        except s3.exceptions.NoSuchBucket as exc:
            raise PlatformError(f"bucket {bucket} does not exist in {platform.env}: "
                                f"run `make provision ENV={platform.env}`") from exc
        uploaded.append(f"s3://{bucket}/{raw.key}  {len(raw.body)} bytes")
    return uploaded


def run(args: argparse.Namespace) -> int:
    """Upload the sample objects; print each key."""
    try:
        for line in upload_sample_day(Platform.load(args.env), args.day, args.rows):
            print(line)
    except PlatformError as exc:
        return Stage("seed").refuse("upload", str(exc))
    return 0
