"""The README's bad-input table cannot drift from the tests: every row names at least one test function as
`path::function`, and each named file and function exists."""

from __future__ import annotations

import ast
import re

import pytest

from ci.paths import ROOT

README = ROOT / "README.md"
HEADING = "## Bad input: what is refused, and what you see"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The body rows (cells) of the first table after heading."""
    lines = markdown[markdown.index(heading):].splitlines()[1:]
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    header, rule, *body = table
    assert set(rule[0]) <= {"-", ":"} and header[-1] == "test", header
    return body


def defined_functions(path: str) -> set[str]:
    """Module-level function names of a test file."""
    tree = ast.parse((ROOT / path).read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


ROWS = table_rows(README.read_text(), HEADING)


def test_the_table_is_found_and_not_empty():
    assert len(ROWS) >= 20, ROWS


@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}: {r[1][:40]}" for r in ROWS])
def test_each_row_names_tests_that_exist(row):
    refs = TEST_REF.findall(row[-1])
    assert refs, f"the row names no `tests/...py::test_function`: {row[-1]!r}"
    for path, function in refs:
        assert (ROOT / path).is_file(), f"{path} does not exist"
        assert function in defined_functions(path), f"{path} has no function {function}"
