"""DAG bundles: the deployable artifact of one commit, kept in the environment's artifacts bucket.

A bundle is `git archive <sha> dags/` gzipped without a timestamp, so the same commit always gives the
same bytes and the same SHA-256. It is uploaded once per commit (a second upload with another digest is
refused: an artifact is never rebuilt under the same name), and every deploy fetches it back from the
bucket and checks the digest, so what lands on a host is exactly the artifact of record.

A dev bundle (`make dev`, local only) is the work tree's dags/ as git sees it (tracked and untracked files,
none that git ignores), marked with its base commit and whether it differs from it. It is stored under
dev/<base sha>-<digest12>/ and unpacked into releases/dev-<base12>-<digest12>: names no commit's bundle or
release can have, so a dev bundle is never mistaken for, nor promoted as, a commit's.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from ci.paths import ROOT

BUNDLE_DIR = ROOT / ".work" / "bundles"
DEV_PREFIX = "dev/"
# A dev bundle carries this file beside dags/: base commit, dirty flag and the changes it holds.
DEV_MARKER = "DEV_RELEASE.json"
GIT_STATUS_KINDS = {"?": "untracked", "M": "modified", "A": "added", "D": "deleted", "R": "renamed", "C": "copied",
                    "T": "retyped", "U": "unmerged"}


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

    @property
    def release(self) -> str:
        """The release folder's name on the hosts: the commit SHA."""
        return self.sha

    def deployed_fields(self) -> dict:
        """What deployed.json records about it beyond sha, sha256 and the time (nothing for a commit)."""
        return {}


@dataclass(frozen=True)
class Change:
    """One uncommitted change under dags/ as `git status` reports it."""

    kind: str  # modified, added, deleted, renamed, untracked, ...
    path: str  # relative to the repository root

    def __str__(self) -> str:
        return f"{self.kind:<9} {self.path}"


@dataclass(frozen=True)
class DevBundle:
    """The work tree's dags/ as a dev release: built on `sha` (the base commit), never promotable."""

    sha: str
    digest: str
    path: Path
    dirty: bool
    changes: tuple[Change, ...] = field(default=())

    @property
    def release(self) -> str:
        """The release folder's name on the hosts: `dev-`, never 40 hex digits like a commit's."""
        return f"dev-{self.sha[:12]}-{self.digest[:12]}"

    @property
    def key(self) -> str:
        """Its object key in the artifacts bucket (under dev/, never under bundles/)."""
        return dev_bundle_key(self.sha, self.digest)

    def deployed_fields(self) -> dict:
        """deployed.json marks a dev release (smoke refuses to write a verification record for it)."""
        return {"dev": True, "base_sha": self.sha, "dirty": self.dirty}


def dev_bundle_key(base_sha: str, digest: str) -> str:
    """Object key of a dev bundle: its base commit and the first 12 hex digits of its digest."""
    return f"{DEV_PREFIX}{base_sha}-{digest[:12]}/dags.tar.gz"


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


def _s3_error(action: str, bucket: str, key: str, exc: Exception) -> BundleError:
    """One line for an S3 call that failed for another reason than a missing object (access, network)."""
    code = exc.response["Error"].get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
    return BundleError(f"cannot {action} s3://{bucket}/{key}: {code or exc} ({exc}); check the AWS credentials, "
                       "the endpoint and the bucket's policy")


def _store(s3: BaseClient, bucket: str, key: str, path: Path, digest: str, manifest: dict) -> bool:
    """Put path's bytes at key (and manifest.json beside it) unless that key already holds them; an artifact
    is never replaced by other bytes."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise _s3_error("read", bucket, key, exc) from exc
        head = None
    except BotoCoreError as exc:
        raise _s3_error("read", bucket, key, exc) from exc
    if head is not None:
        stored = head.get("Metadata", {}).get("sha256")
        if stored != digest:
            raise BundleError(f"s3://{bucket}/{key} already holds digest {stored}, not {digest}: "
                              "an artifact is never replaced")
        return False
    manifest = {**manifest, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), Metadata={"sha256": digest})
        s3.put_object(Bucket=bucket, Key=key.rsplit("/", 1)[0] + "/manifest.json",
                      Body=json.dumps(manifest).encode())
    except (BotoCoreError, ClientError) as exc:
        raise _s3_error("write", bucket, key, exc) from exc
    return True


def upload(s3: BaseClient, bucket: str, bundle: Bundle) -> bool:
    """Store the bundle and its manifest; False when the same digest is already stored (idempotent)."""
    return _store(s3, bucket, bundle.key, bundle.path, bundle.digest, {"sha": bundle.sha, "sha256": bundle.digest})


def _fetch(s3: BaseClient, bucket: str, key: str, name: str, expected_digest: str | None) -> tuple[bytes, str]:
    """The bytes at key and their digest, checked against the stored (and expected) digest."""
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
        data = obj["Body"].read()
    except s3.exceptions.NoSuchKey as exc:
        raise BundleError(f"no bundle for {name} in s3://{bucket}: it was never deployed there") from exc
    except (BotoCoreError, ClientError) as exc:
        raise _s3_error("read", bucket, key, exc) from exc
    digest = sha256(data)
    stored = obj.get("Metadata", {}).get("sha256")
    for which, want in (("stored", stored), ("expected", expected_digest)):
        if want and want != digest:
            raise BundleError(f"bundle {name} in s3://{bucket} has digest {digest}, {which} {want}: refusing it")
    return data, digest


def fetch(s3: BaseClient, bucket: str, sha: str, expected_digest: str | None = None) -> Bundle:
    """Download sha's bundle from the bucket and check its digest against the stored (and expected) one."""
    data, digest = _fetch(s3, bucket, bundle_key(sha), sha, expected_digest)
    BUNDLE_DIR.mkdir(parents=True, exist_ok=True)
    path = BUNDLE_DIR / f"fetched-{sha}.tar.gz"
    path.write_bytes(data)
    return Bundle(sha, digest, path)


def _git(root: Path, *args: str) -> bytes:
    """Output of a read-only git command in root (no optional locks: another git may run in the same checkout)."""
    proc = subprocess.run(["git", "--no-optional-locks", "-C", str(root), *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise BundleError(f"git {' '.join(args)} failed in {root}: {proc.stderr.decode().strip()}")
    return proc.stdout


def uncommitted_changes(root: Path | None = None, folder: str = "dags") -> list[Change]:
    """The work tree's changes under folder that are not committed (staged or not, untracked files included,
    ignored ones not), as `git status` reports them."""
    fields = _git(root or ROOT, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", folder)
    entries = fields.decode().split("\0")
    changes: list[Change] = []
    while entries and entries[0]:
        entry = entries.pop(0)
        xy, path = entry[:2], entry[3:]
        if "R" in xy or "C" in xy:
            entries.pop(0)  # -z puts a rename's old path in the next field
        letter = xy[0] if xy[0] not in " ?" else xy[1]
        changes.append(Change(GIT_STATUS_KINDS.get(letter, xy.strip()), path))
    return changes


def work_tree_files(root: Path | None = None, folder: str = "dags") -> list[str]:
    """Files under folder as git sees the work tree: tracked ones still present and untracked ones, none that
    git ignores (__pycache__, *.pyc), sorted."""
    root = root or ROOT
    listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", folder).decode()
    found = {name for name in listed.split("\0") if name}
    return sorted(name for name in found
                  if (root / name).is_file() and "__pycache__" not in Path(name).parts and not name.endswith(".pyc"))


def _tar_entry(name: str, *, size: int = 0, mode: int = 0o644, mtime: int = 0,
               directory: bool = False) -> tarfile.TarInfo:
    """A tar member owned by root with fixed times: no trace of who built it or when."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, mtime
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def build_dev(base_sha: str, root: Path | None = None) -> DevBundle:
    """The work tree's dags/ (as `work_tree_files` lists it) as a reproducible .tar.gz with DEV_RELEASE.json:
    the same files and base commit always give the same digest."""
    root = root or ROOT
    files = work_tree_files(root)
    if not files:
        raise BundleError(f"no file under {root / 'dags'}: nothing to deploy")
    changes = tuple(uncommitted_changes(root))
    commit_time = int(_git(root, "show", "-s", "--format=%ct", base_sha).decode().strip())
    marker = {"base_sha": base_sha, "dirty": bool(changes), "changes": [[c.kind, c.path] for c in changes],
              "files": len(files)}
    folders = sorted({str(parent) for name in files for parent in Path(name).parents if str(parent) != "."})
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        body = (json.dumps(marker, indent=2, sort_keys=True) + "\n").encode()
        tar.addfile(_tar_entry(DEV_MARKER, size=len(body), mtime=commit_time), io.BytesIO(body))
        for folder in folders:
            tar.addfile(_tar_entry(folder, mode=0o755, mtime=commit_time, directory=True))
        for name in files:
            data = (root / name).read_bytes()
            mode = 0o755 if (root / name).stat().st_mode & 0o111 else 0o644
            tar.addfile(_tar_entry(name, size=len(data), mode=mode, mtime=commit_time), io.BytesIO(data))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as out:
        out.write(raw.getvalue())
    data = buffer.getvalue()
    digest = sha256(data)
    BUNDLE_DIR.mkdir(parents=True, exist_ok=True)
    path = BUNDLE_DIR / f"dev-{base_sha}-{digest[:12]}.tar.gz"
    path.write_bytes(data)
    return DevBundle(base_sha, digest, path, bool(changes), changes)


def upload_dev(s3: BaseClient, bucket: str, bundle: DevBundle) -> bool:
    """Store a dev bundle under dev/ with its manifest (base commit, dirty flag); False when already stored."""
    manifest = {"base_sha": bundle.sha, "sha256": bundle.digest, "dev": True, "dirty": bundle.dirty,
                "release": bundle.release, "changes": [[c.kind, c.path] for c in bundle.changes]}
    return _store(s3, bucket, bundle.key, bundle.path, bundle.digest, manifest)


def fetch_dev(s3: BaseClient, bucket: str, built: DevBundle) -> DevBundle:
    """Download the dev bundle just stored and check its digest, as `fetch` does for a commit's."""
    data, digest = _fetch(s3, bucket, built.key, built.release, built.digest)
    BUNDLE_DIR.mkdir(parents=True, exist_ok=True)
    path = BUNDLE_DIR / f"fetched-{built.release}.tar.gz"
    path.write_bytes(data)
    return DevBundle(built.sha, digest, path, built.dirty, built.changes)
