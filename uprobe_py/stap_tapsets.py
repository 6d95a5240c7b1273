"""Where SystemTap's own tapset library defines a function, for stap-identical messages.

stap points some messages (arity mismatches, errors raised inside tapset
functions) at the function's definition in its tapset directory. When Debian's
systemtap-common is installed we find the same place; otherwise the messages
simply omit it. Nothing from those files is executed or copied.
"""
from __future__ import annotations

import functools
import os
import re
from typing import Iterator, Optional

from .lexer import Token
from .source import Loc, Source

STAP_TAPSET_DIR = "/usr/share/systemtap/tapset"
_ORDER = ["", "linux", "x86_64"]   # stap's search order for this machine: generic, runtime, arch


def tapset_sources() -> Iterator[tuple[str, str]]:
    """(path, text) of every `.stp` file of stap's installed tapsets, in stap's load order
    (generic, runtime, arch; sorted by name within each); unreadable files are skipped."""
    for sub in _ORDER:
        d = os.path.join(STAP_TAPSET_DIR, sub)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if not f.endswith(".stp"):
                continue
            path = os.path.join(d, f)
            try:
                with open(path, "rb") as fh:
                    text = fh.read().decode("latin-1")
            except OSError:
                continue
            yield path, text


@functools.lru_cache(maxsize=None)
def _index() -> dict[str, tuple[str, int, int, int]]:
    """name -> (file, line, col, arity) of its last definition, in stap's load order."""
    found: dict[str, tuple[str, int, int, int]] = {}
    rx = re.compile(r"^(\s*(?:private\s+)?function\s+)([A-Za-z_][A-Za-z0-9_]*)[^(]*\(([^)]*)\)", re.M)
    for path, text in tapset_sources():
        for m in rx.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            col = m.start(2) - (text.rfind("\n", 0, m.start(2)) + 1) + 1
            arity = len([a for a in m.group(3).split(",") if a.strip()])
            found[m.group(2)] = (path, line, col, arity)
    return found


@functools.lru_cache(maxsize=None)
def overload_token(name: str, arity: int) -> Optional[Token]:
    """The token naming overload `name`/`arity` at its (last) definition in stap's installed
    tapsets, where stap's run-time errors inside it point; None when not installed."""
    rx = re.compile(r"^(\s*(?:@__private30\s+)?(?:private\s+)?function\s+)" + re.escape(name)
                    + r"\b[^(]*\(([^)]*)\)", re.M)
    found = None
    for path, text in tapset_sources():
        if name not in text:
            continue
        for m in rx.finditer(text):
            if len([a for a in m.group(2).split(",") if a.strip()]) != arity:
                continue
            start = m.start(1) + len(m.group(1))
            line = text.count("\n", 0, start) + 1
            col = start - (text.rfind("\n", 0, start) + 1) + 1
            found = (path, line, col)
    if found is None:
        return None
    path, line, col = found
    return Token("identifier", name, Loc(Source.from_file(path), line, col))


def function_definition(name: str) -> Optional[tuple[Token, int]]:
    """The token naming `name` at its stap tapset definition, and that overload's arity."""
    where = _index().get(name)
    if where is None:
        return None
    path, line, col, arity = where
    try:
        src = Source.from_file(path)
    except OSError:
        return None
    return Token("identifier", name, Loc(src, line, col)), arity


def function_location(name: str) -> Optional[Token]:
    found = function_definition(name)
    return found[0] if found else None
