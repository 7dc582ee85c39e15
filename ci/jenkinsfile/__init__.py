"""The project's Jenkinsfile checker: Groovy 2.4 parse (as Jenkins does) + declarative structure rules."""

from ci.jenkinsfile.check import Finding, check_files

__all__ = ["Finding", "check_files"]
