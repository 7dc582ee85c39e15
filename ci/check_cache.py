"""A content-hash cache for the slow checkers of `make lint`: a checker whose inputs are byte for byte those of
its last passing run is not run again.

A checker's inputs are the files it reads (its own configuration and the tool's lock file included) and its
command line; the key is the sha256 over their paths and contents. Only a pass is recorded, under
`.cache/checks/` (delete it to run everything again). The secrets scan is cached per file: only files whose
content is new since the last clean scan against the same baseline are scanned.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from ci.paths import ROOT

# Folders no checker reads: generated, installed or cached content.
PRUNED = {".git", ".venv", ".cache", ".work", "reports", "node_modules", "__pycache__", ".ruff_cache",
          ".pytest_cache", ".hypothesis"}


def cache_dir() -> Path:
    """`.cache/checks/`, or TINY_CHECK_CACHE_DIR (tests), read when used."""
    return Path(os.environ.get("TINY_CHECK_CACHE_DIR") or ROOT / ".cache" / "checks")


def files_under(root: Path, suffixes: tuple[str, ...] = ()) -> list[Path]:
    """Every file under root (with one of `suffixes`, if given), generated and installed folders left out."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in PRUNED)
        found += [Path(folder) / n for n in sorted(names) if not suffixes or n.endswith(suffixes)]
    return found


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes ("missing" for a file that is not there: its absence is an input too)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def inputs_key(argv: Sequence[str], files: Iterable[Path], extra: str = "") -> str:
    """The key of one checker run: its command line, `extra` (settings it reads from the environment) and
    every input file's path and content."""
    digest = hashlib.sha256("\0".join([*argv, extra]).encode())
    for path in sorted(set(files)):
        name = os.path.relpath(path, ROOT)
        digest.update(f"\0{name}\0{file_digest(path)}".encode())
    return digest.hexdigest()


def passed_before(step: str, key: str) -> bool:
    """The checker passed with exactly these inputs last time."""
    stamp = cache_dir() / f"{step}.key"
    return stamp.exists() and stamp.read_text().strip() == key


def record_pass(step: str, key: str) -> None:
    """Remember a passing run's inputs."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    (cache_dir() / f"{step}.key").write_text(key + "\n")


def forget(step: str) -> None:
    """Drop a checker's record (it failed, or its inputs could not be read)."""
    (cache_dir() / f"{step}.key").unlink(missing_ok=True)


def unscanned(step: str, context: str, files: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """(files whose content was not in the last clean scan made with the same `context`, every file's
    digest): what an incremental checker must scan now, and what to record once it passed."""
    digests = {name: file_digest(ROOT / name) for name in files}
    record = cache_dir() / f"{step}.files.json"
    clean: dict[str, str] = {}
    if record.exists():
        saved = json.loads(record.read_text())
        if saved.get("context") == context:
            clean = saved.get("files", {})
    return [name for name in files if clean.get(name) != digests[name]], digests


def record_scanned(step: str, context: str, digests: dict[str, str]) -> None:
    """Remember every file of a clean scan by content (the files scanned now and those clean before)."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    (cache_dir() / f"{step}.files.json").write_text(json.dumps({"context": context, "files": digests}))
