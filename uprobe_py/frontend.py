"""Pass 1: script text → preprocessed tokens → AST, for the user's script and tapset files.

`parse_script_source` runs lexer, preprocessor and parser over one Source and
returns the Script plus every diagnostic found. Library macros (`.stpm` files in
the tapset directories) are loaded once per run by `load_library_macros`.
"""
from __future__ import annotations

import os

from . import nodes as n
from .diagnostics import Diagnostic
from .lexer import tokenize
from .parser import parse
from .preprocess import Environment, Macro, Preprocessor
from .source import Source


def load_library_macros(tapset_dirs: list[str], env: Environment) -> dict[str, Macro]:
    macros: dict[str, Macro] = {}
    for d in tapset_dirs:
        for root, _dirs, files in sorted(os.walk(d)):
            for f in sorted(files):
                if f.endswith(".stpm"):
                    src = Source.from_file(os.path.join(root, f))
                    toks, _ = tokenize(src)
                    pp = Preprocessor(env, macros)
                    pp.run(toks)
                    macros.update(pp.macros)
    return macros


def parse_script_source(source: Source, env: Environment, args: list[str] | None = None,
                        macros: dict[str, Macro] | None = None,
                        privileged: bool = False) -> tuple[n.Script, list[Diagnostic]]:
    raw, diags = tokenize(source, args)
    pp = Preprocessor(env, macros)
    toks = pp.run(raw)
    diags = diags + pp.errors
    if len(toks) <= 1 and not privileged:
        empty = Diagnostic("parse error", "", None)
        after = " after preprocessing" if len(raw) > 1 else ""
        empty.summary = f"Input file '{source.name}' is empty{after}."
        return n.Script(toks[0]), diags + [empty]
    script, perrs = parse(toks, privileged, source.name)
    # stap lexes, preprocesses and parses in one stream: report in source order
    return script, sorted(diags + perrs, key=_position)


def _position(d: Diagnostic) -> tuple[int, int]:
    tok = d.anchor or d.token
    if tok is None or tok.kind == "eof":
        return (1 << 30, 0)
    return (tok.loc.line, tok.loc.col)
