"""Runs PipelineAst.groovy on Debian's Groovy 2.4 jars (the Groovy line Jenkins embeds)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path

GROOVY_LIB = Path(os.environ.get("GROOVY_LIB", "/usr/share/groovy/lib"))
SCRIPT = Path(__file__).with_name("PipelineAst.groovy")
JARS = ("groovy-2.4.*.jar", "groovy-json.jar", "antlr.jar", "asm.jar", "asm-tree.jar",
        "asm-commons.jar", "asm-util.jar", "asm-analysis.jar")


class GroovyUnavailable(RuntimeError):
    """Groovy 2.4 or a Java runtime is missing."""


def java_binary() -> str:
    """A Java 17 runtime if present (Groovy 2.4 and CodeNarc run on it), else `java` from PATH."""
    if os.environ.get("JAVA"):
        return os.environ["JAVA"]
    found = sorted(glob.glob("/usr/lib/jvm/java-17-openjdk-*/bin/java"))
    if found:
        return found[0]
    java = shutil.which("java")
    if not java:
        raise GroovyUnavailable("no Java runtime found: run `make tools` (installs Debian's groovy package)")
    return java


def classpath() -> str:
    """Classpath of the Groovy 2.4 parser from Debian's `groovy` package."""
    jars = []
    for pattern in JARS:
        matches = sorted(GROOVY_LIB.glob(pattern))
        if not matches:
            raise GroovyUnavailable(f"{GROOVY_LIB}/{pattern} not found: run `make tools` (Debian's groovy package)")
        jars.append(str(matches[0]))
    return os.pathsep.join(jars)


def parse(paths: list[Path]) -> list[dict]:
    """Parse the files in one JVM; per file: `errors` (syntax) or `body` (the call tree)."""
    argv = [java_binary(), "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp", classpath(),
            "groovy.ui.GroovyMain", str(SCRIPT), *map(str, paths)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise GroovyUnavailable(f"the Groovy parser failed: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout)
