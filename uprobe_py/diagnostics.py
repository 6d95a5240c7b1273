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


def describe_token(tok: "Token", file_name: str | None = None) -> str:
    """stap's `kind 'text' at FILE:LINE:COL` description of a token (keywords show no text)."""
    if tok.kind == "eof":
        return f"{tok.loc.source.name} EOF"
    name = tok.loc.source.name if file_name is None else file_name
    where = f"{name}:{tok.loc.line}:{tok.loc.col}"
    kind = tok.shown_as or tok.kind
    if kind in ("keyword", "embedded-code"):
        return f"{kind} at {where}"
    text = tok.text[1:-1] if kind == "string" and tok.text.startswith('"') else tok.text
    if kind == "junk":   # stap shows a stray byte as an escape
        text = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)
    return f"{kind} '{text}' at {where}"


class RenderState:
    """stap prints a file name only when it differs from the last one it printed."""

    def __init__(self) -> None:
        self.last_file: str | None = None

    def describe(self, tok: "Token") -> str:
        name = tok.loc.source.name
        shown = "" if name == self.last_file else name
        self.last_file = name
        return describe_token(tok, shown)


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
    related: list["Token"] = field(default_factory=list)   # further locations, printed under it
    anchor: "Token | None" = None   # sort position, when not the token's own (notes)
    summary: str = ""               # replaces the "N parse errors." line (empty input)
    repeat: int = 1                 # times stap itself would report this (duplicates are counted)

    def render(self, state: RenderState | None = None) -> str:
        state = state or RenderState()
        out = [f"{self.kind}: {self.message}"]
        tok = self.token
        if tok is not None:
            if self.kind == "parse error":
                desc = describe_token(tok)     # parse errors always name the file
            else:
                desc = state.describe(tok) if tok.kind != "eof" else describe_token(tok)
            if self.kind == "parse error":
                label = f"{self.at_word}:".rjust(12)
                out.append(f"{label} {desc}")
                if tok.kind != "eof":
                    out.extend(source_lines(tok.loc))
            else:
                out[0] += f": {desc}"
                if tok.kind != "eof":
                    out.extend(source_lines(tok.loc, indent=" " if self.kind == "WARNING" else "        "))
        for rel in self.related:
            out.append(state.describe(rel))
            out.extend(source_lines(rel.loc, indent="        "))
        out.extend(self.extra)
        text = "\n".join(out) + "\n"
        if self.kind != "WARNING":
            text += "\n"
        return text


def render_all(diags: list[Diagnostic], state: RenderState | None = None) -> tuple[str, int]:
    """Render diagnostics as stap does, dropping repeats of a message; returns (text, suppressed)."""
    state = state or RenderState()
    seen: set[tuple[str, str]] = set()
    parts: list[str] = []
    suppressed = 0
    for d in diags:
        if d.summary:
            continue
        # stap drops a repeated parse error by its message alone, a repeated semantic error
        # only when it is the very same report; lexer/preprocessor errors are never dropped
        if d.kind == "parse error":
            if d.at_word == "at":
                parts.append(d.render(state))
                continue
            key: tuple[object, ...] = (d.kind, d.message)
        else:
            key = (d.kind, d.message)
        if key in seen:
            suppressed += d.repeat
            continue
        suppressed += d.repeat - 1
        seen.add(key)
        parts.append(d.render(state))
    return "".join(parts), suppressed


class CompileFailed(Exception):
    """A pass failed; `diagnostics` holds what it found, `pass_no` which pass."""

    def __init__(self, pass_no: int, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"pass {pass_no} failed")
        self.pass_no = pass_no
        self.diagnostics = diagnostics


class UsageError(Exception):
    """A command-line problem: printed as stap prints them, exit status 1."""
