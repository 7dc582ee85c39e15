"""Check Jenkinsfiles: syntax as Jenkins' Groovy 2.4 reads it, Groovy 3 constructs, declarative structure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ci.jenkinsfile import groovy
from ci.jenkinsfile.lexical import groovy3_findings, unbalanced_brackets
from ci.jenkinsfile.rules import check_pipeline


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at a position in a file."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: error: {self.message}"


def check_files(paths: list[Path]) -> list[Finding]:
    """All findings for the given Jenkinsfiles (one JVM start for all of them)."""
    findings: list[Finding] = []
    missing = [p for p in paths if not p.is_file()]
    findings += [Finding(str(p), 0, 0, "no such file") for p in missing]
    present = [p for p in paths if p.is_file()]
    if not present:
        return findings
    for path, parsed in zip(present, groovy.parse(present), strict=True):
        name = str(path)
        issues = [(e["line"], e["col"], f"syntax: {e['message']}") for e in parsed["errors"]]
        source = path.read_text(encoding="utf-8")
        issues += groovy3_findings(source)
        if parsed["errors"]:
            # The parser reports where it gave up; the bracket scan says which bracket caused it.
            issues += unbalanced_brackets(source)
        if not parsed["errors"]:
            issues += check_pipeline(parsed["body"])
        findings += [Finding(name, line, col, msg) for line, col, msg in sorted(set(issues))]
    return findings
