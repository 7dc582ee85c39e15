"""Lexical checks Jenkins' Groovy 2.4 parser needs help with: unbalanced brackets, Groovy 3 syntax.

Groovy 2.4 fails on most of these with a plain syntax error; worse, `{ def f = x -> x + 1 }` parses as
a closure with a defaulted parameter. Scanning tokens (strings and comments blanked out) names the cause.
"""

from __future__ import annotations

import re

OPERATORS = {
    "!in": re.compile(r"!in\b"),
    "!instanceof": re.compile(r"!instanceof\b"),
    "===": re.compile(r"(?<![=!])===(?!=)"),
    "!==": re.compile(r"!=="),
    "?=": re.compile(r"\?=(?!=)"),
    "?[": re.compile(r"\?\["),
    "::": re.compile(r"\w::\w|\)::\w"),
}
# What may stand between a closure's `{` and its `->`: a parameter list without default values.
CLOSURE_PARAMS = re.compile(r"^\s*(?:[\w.<>\[\]?]+\s+)?\w+(?:\s*,\s*(?:[\w.<>\[\]?]+\s+)?\w+)*\s*$|^\s*$")


def blank_strings_and_comments(source: str) -> str:
    """Replace string literal and comment contents with spaces, keeping offsets and newlines."""
    out = list(source)
    i, n = 0, len(source)

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            blank(i, end)
            i = end
        elif source.startswith(("'''", '"""'), i):
            quote = source[i:i + 3]
            end = source.find(quote, i + 3)
            end = n if end < 0 else end + 3
            blank(i + 3, end - 3)
            i = end
        elif source[i] in "'\"":
            quote, j = source[i], i + 1
            while j < n and source[j] != quote and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _position(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    col = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _enclosing_brace(code: str, offset: int) -> int:
    depth = 0
    for k in range(offset - 1, -1, -1):
        if code[k] == "}":
            depth += 1
        elif code[k] == "{":
            if depth == 0:
                return k
            depth -= 1
    return -1


def groovy3_findings(source: str) -> list[tuple[int, int, str]]:
    """(line, col, message) for each Groovy-3-only construct in the source."""
    code = blank_strings_and_comments(source)
    found = []
    for token, pattern in OPERATORS.items():
        for m in pattern.finditer(code):
            line, col = _position(code, m.start())
            found.append((line, col, f"Groovy 3 syntax `{token}` is not supported by Jenkins' Groovy 2.4"))
    for m in re.finditer(r"->", code):
        brace = _enclosing_brace(code, m.start())
        if brace < 0 or not CLOSURE_PARAMS.match(code[brace + 1:m.start()]):
            line, col = _position(code, m.start())
            found.append((line, col, "Groovy 3 lambda `->` is not supported by Jenkins' Groovy 2.4: "
                                     "use a closure `{ x -> ... }`"))
    return sorted(found)


def unbalanced_brackets(source: str) -> list[tuple[int, int, str]]:
    """(line, col, message) for each bracket without its partner, so `expecting '}'` gets a cause."""
    code = blank_strings_and_comments(source)
    pairs = {"}": "{", ")": "(", "]": "["}
    stack: list[tuple[str, int]] = []
    found = []
    for offset, char in enumerate(code):
        if char in "{([":
            stack.append((char, offset))
        elif char in pairs:
            if stack and stack[-1][0] == pairs[char]:
                stack.pop()
            else:
                line, col = _position(code, offset)
                found.append((line, col, f"unbalanced brackets: `{char}` has no matching `{pairs[char]}`"))
    for char, offset in stack:
        line, col = _position(code, offset)
        found.append((line, col, f"unbalanced brackets: `{char}` opened here is never closed"))
    return found
