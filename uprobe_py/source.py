"""Script sources and positions in them.

A `Source` is one script file (or `-e` text, named `<input>` as stap names it).
Text is decoded as latin-1 so that one character is one byte: columns, string
lengths and output are byte-exact. A `Loc` is a 1-based line and column plus the
source it points into; the diagnostics formatter prints the line and a caret.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class Source:
    name: str
    text: str
    _lines: list[str] | None = field(default=None, repr=False)

    @classmethod
    def from_file(cls, path: str) -> "Source":
        with open(path, "rb") as f:
            return cls(path, f.read().decode("latin-1"))

    def line(self, n: int) -> str:
        if self._lines is None:
            self._lines = self.text.split("\n")
        if 1 <= n <= len(self._lines):
            return self._lines[n - 1]
        return ""


@dataclass(frozen=True, eq=False)
class Loc:
    source: Source
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.col}"
