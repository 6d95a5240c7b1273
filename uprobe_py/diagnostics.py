"""User-facing errors and warnings, formatted the way stap formats them.

Every compile-time problem becomes a `Diagnostic` carrying a kind (`parse error`,
`semantic error`, `WARNING`), a message and usually a token, whose location lets
the formatter print stap's three-line shape:

    parse error: expected statement
            saw: identifier 'x' at t.stp:1:18
         source: probe begin { if x }
                                  ^

`CompileFailed` carries a pass's collected diagnostics up to the CLI, which
prints them and stap's `Pass N: ... failed` trailer. Nothing here knows the AST.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lexer import Token
    from .source import Loc


def describe_token(tok: "Token") -> str:
    """stap's `kind 'text' at FILE:LINE:COL` description of a token."""
    if tok.kind == "eof":
        return f"{tok.loc.source.name} EOF"
    return f"{tok.kind} '{tok.text}' at {tok.loc}"


def source_lines(loc: "Loc", indent: str = "     ") -> list[str]:
    """The `source:` line and the caret under column `loc.col` (tabs mirrored)."""
    line = loc.source.line(loc.line)
    prefix = indent + "source: "
    pad = "".join("\t" if ch == "\t" else " " for ch in line[: loc.col - 1])
    return [prefix + line, " " * len(prefix) + pad + "^"]


@dataclass
class Diagnostic:
    kind: str                  # "parse error", "semantic error", "WARNING"
    message: str
    token: "Token | None" = None
    at_word: str = "saw"       # parse errors on a token say "saw:"; lexer errors say "at:"
    extra: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = [f"{self.kind}: {self.message}"]
        tok = self.token
        if tok is not None:
            if self.kind == "parse error":
                label = f"{self.at_word}:".rjust(12)
                out.append(f"{label} {describe_token(tok)}")
                if tok.kind != "eof":
                    out.extend(source_lines(tok.loc))
            else:
                out[0] += f": {describe_token(tok)}"
                if tok.kind != "eof":
                    out.extend(source_lines(tok.loc, indent="        "))
        out.extend(self.extra)
        return "\n".join(out) + "\n"


class CompileFailed(Exception):
    """A pass failed; `diagnostics` holds what it found, `pass_no` which pass."""

    def __init__(self, pass_no: int, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"pass {pass_no} failed")
        self.pass_no = pass_no
        self.diagnostics = diagnostics


class UsageError(Exception):
    """A command-line problem: printed as stap prints them, exit status 1."""
