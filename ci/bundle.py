"""DAG bundles: the deployable artifact of one commit, kept in the environment's artifacts bucket.

A bundle is `git archive <sha> dags/` gzipped without a timestamp, so the same commit always gives the
same bytes and the same SHA-256. It is uploaded once per commit (a second upload with another digest is
refused: an artifact is never rebuilt under the same name), and every deploy fetches it back from the
bucket and checks the digest, so what lands on a host is exactly the artifact of record.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.client import BaseClient

from ci.paths import ROOT

BUNDLE_DIR = ROOT / ".work" / "bundles"


class BundleError(RuntimeError):
    """A bundle could not be built, stored or fetched as it should be."""


@dataclass(frozen=True)
class Bundle:
    """One commit's DAG bundle on the control machine."""

    sha: str
    digest: str
    path: Path

    @property
    def key(self) -> str:
        """Its object key in the artifacts bucket."""
        return bundle_key(self.sha)


def bundle_key(sha: str) -> str:
    """Object key of sha's bundle in an artifacts bucket."""
    return f"bundles/{sha}/dags.tar.gz"


def resolve(ref: str = "HEAD") -> str:
    """The full commit SHA of ref; a BundleError naming ref when git does not know it."""
    if not ref.strip():  # `make promote SHA=` or a Jenkins parameter left blank
        raise BundleError("no commit given: set SHA to the full commit SHA (git rev-parse HEAD prints it)")
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                           capture_output=True, text=True, check=False)
    if found.returncode != 0:
        raise BundleError(f"{ref!r} is not a commit of this repository")
    return found.stdout.strip()


def sha256(data: bytes) -> str:
    """Hex SHA-256 of data."""
    return hashlib.sha256(data).hexdigest()


def build(sha: str) -> Bundle:
    """Archive dags/ of commit sha (never the work tree) into a reproducible .tar.gz."""
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", sha, "dags"], capture_output=True,
                         check=False)
    if tar.returncode != 0:
        raise BundleError(f"git archive {sha} dags failed: {tar.stderr.decode().strip()}")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as out:
        out.write(tar.stdout)
    data = buffer.getvalue()
    BUNDLE_DIR.mkdir(parents=True, exist_ok=True)
    path = BUNDLE_DIR / f"dags-{sha}.tar.gz"
    path.write_bytes(data)
    return Bundle(sha, sha256(data), path)


def upload(s3: BaseClient, bucket: str, bundle: Bundle) -> bool:
    """Store the bundle and its manifest; False when the same digest is already stored (idempotent)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=bundle.key)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
        head = None
    if head is not None:
        stored = head.get("Metadata", {}).get("sha256")
        if stored != bundle.digest:
            raise BundleError(f"s3://{bucket}/{bundle.key} already holds digest {stored}, not {bundle.digest}: "
                              "an artifact is never replaced")
        return False
    s3.put_object(Bucket=bucket, Key=bundle.key, Body=bundle.path.read_bytes(), Metadata={"sha256": bundle.digest})
    manifest = {"sha": bundle.sha, "sha256": bundle.digest, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                        time.gmtime())}
    s3.put_object(Bucket=bucket, Key=f"bundles/{bundle.sha}/manifest.json", Body=json.dumps(manifest).encode())
    return True


def fetch(s3: BaseClient, bucket: str, sha: str, expected_digest: str | None = None) -> Bundle:
    """Download sha's bundle from the bucket and check its digest against the stored (and expected) one."""
    try:
        obj = s3.get_object(Bucket=bucket, Key=bundle_key(sha))
    except s3.exceptions.NoSuchKey as exc:
        raise BundleError(f"no bundle for {sha} in s3://{bucket}: it was never deployed there") from exc
    data = obj["Body"].read()
    digest = sha256(data)
    stored = obj.get("Metadata", {}).get("sha256")
    for name, want in (("stored", stored), ("expected", expected_digest)):
        if want and want != digest:
            raise BundleError(f"bundle {sha} in s3://{bucket} has digest {digest}, {name} {want}: refusing it")
    BUNDLE_DIR.mkdir(parents=True, exist_ok=True)
    path = BUNDLE_DIR / f"fetched-{sha}.tar.gz"
    path.write_bytes(data)
    return Bundle(sha, digest, path)
