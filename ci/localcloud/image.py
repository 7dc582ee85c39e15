"""The hosts' base image: Debian 12 with systemd, built from a debootstrap root file system.

No registry is reachable here, so the image is made from Debian's packages (`rootfs.sh`, beside this module) and
`docker import`ed. Its tag is a hash of the recipe, the mirror and the CA certificates it trusts: an
unchanged recipe is never rebuilt, a changed one gets a new tag.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from ci.localcloud import settings
from ci.localcloud.engine import EngineError, EngineState, docker
from ci.paths import ROOT

RECIPE = Path(__file__).resolve().with_name("rootfs.sh")
CA_DIR = Path("/usr/local/share/ca-certificates")
REPOSITORY = "tiny-analytics/debian-host"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BUILD_DIR = ROOT / ".work" / "image"


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses (TINY_DEBIAN_MIRROR overrides it)."""
    override = settings.debian_mirror()
    if override:
        return override
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.sources")),
               *sorted(Path("/etc/apt/sources.list.d").glob("*.list"))]
    for source in sources:
        text = source.read_text(errors="replace") if source.is_file() else ""
        for match in re.finditer(r"(?:^URIs:\s*|^deb\s+(?:\[[^]]*\]\s+)?)(\S+/debian)/?\s", text, re.MULTILINE):
            return match.group(1)
    return DEFAULT_MIRROR


def recipe_tag(mirror: str) -> str:
    """The image tag: the first 12 hex digits of sha256(recipe, mirror, CA certificates)."""
    digest = hashlib.sha256(RECIPE.read_bytes())
    digest.update(mirror.encode())
    for cert in sorted(CA_DIR.glob("*.crt")) if CA_DIR.is_dir() else []:
        digest.update(cert.read_bytes())
    return digest.hexdigest()[:12]


def ensure(engine: EngineState, log: Callable[[str], object] = print) -> str:
    """The base image's name, built first if the engine does not hold this recipe's tag."""
    mirror = apt_mirror()
    image = f"{REPOSITORY}:{recipe_tag(mirror)}"
    if docker(engine, "image", "inspect", image, check=False).returncode == 0:
        return image
    if not shutil.which("debootstrap"):
        raise EngineError("debootstrap is not installed: run `make tools` (installs Debian's debootstrap)")
    rootfs = BUILD_DIR / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    build_log = BUILD_DIR / "build.log"
    log(f"building {image} from {mirror} with debootstrap (about 90 s; log {build_log})")
    started = time.monotonic()
    with build_log.open("wb") as out:
        built = subprocess.run(["bash", str(RECIPE), str(rootfs), mirror, str(CA_DIR)], stdout=out,
                               stderr=subprocess.STDOUT, check=False)
    if built.returncode != 0:
        tail = build_log.read_text(errors="replace").strip().splitlines()[-3:]
        raise EngineError(f"base image recipe failed (exit {built.returncode}, {build_log}): {' | '.join(tail)}")
    tar = subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-c", "."], capture_output=True, check=True)
    docker(engine, "import", "-c", 'CMD ["/sbin/init"]', "-", image, stdin=tar.stdout)
    shutil.rmtree(rootfs, ignore_errors=True)
    log(f"built {image} in {time.monotonic() - started:.0f} s")
    return image
