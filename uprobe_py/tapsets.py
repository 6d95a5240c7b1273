"""The script-level tapset library: `.stp` files that define functions and probe aliases.

uprobe-py's own tapsets live in `uprobe_py/tapset/`; `-I DIR` adds more. As in
stap, a file is pulled in only when the script uses something it defines: an
index (name → files) is built from a cheap textual scan, and a file is parsed
the first time one of its names is needed.
"""
from __future__ import annotations

import os
import re

from . import nodes as n
from .diagnostics import Diagnostic
from .frontend import parse_script_source
from .preprocess import Environment, Macro
from .source import Source

PACKAGE_TAPSET_DIR = os.path.join(os.path.dirname(__file__), "tapset")

_FUNC_RE = re.compile(r"^\s*(?:private\s+)?function\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_ALIAS_RE = re.compile(r"^\s*probe\s+([A-Za-z_][A-Za-z0-9_.*]*)[^{]*?\+?=", re.M)


class TapsetLibrary:
    def __init__(self, dirs: list[str], env: Environment, macros: dict[str, Macro]) -> None:
        self.env = env
        self.macros = macros
        self.func_files: dict[str, list[str]] = {}
        self.alias_files: dict[str, list[str]] = {}
        self.loaded: dict[str, n.Script] = {}
        self.errors: list[Diagnostic] = []
        for d in dirs:
            if not os.path.isdir(d):
                continue
            for root, _dirs, files in sorted(os.walk(d)):
                for f in sorted(files):
                    if f.endswith(".stp"):
                        self._index(os.path.join(root, f))

    def _index(self, path: str) -> None:
        try:
            with open(path, encoding="latin-1") as fh:
                text = fh.read()
        except OSError:
            return
        for m in _FUNC_RE.finditer(text):
            self.func_files.setdefault(m.group(1), []).append(path)
        for m in _ALIAS_RE.finditer(text):
            first = m.group(1).split(".")[0]
            self.alias_files.setdefault(first, []).append(path)

    def load(self, path: str) -> n.Script | None:
        if path in self.loaded:
            return None
        script, diags = parse_script_source(Source.from_file(path), self.env, macros=self.macros,
                                            privileged=True)
        self.errors.extend(diags)
        self.loaded[path] = script
        return script

    def files_defining_function(self, name: str) -> list[str]:
        return [p for p in self.func_files.get(name, []) if p not in self.loaded]

    def files_defining_alias(self, first_component: str) -> list[str]:
        return [p for p in self.alias_files.get(first_component, []) if p not in self.loaded]
