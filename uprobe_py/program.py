"""Generated source → a loaded `Program`: compiled once, handlers looked up by probe index.

The module is compiled under the name `<uprobe-py SCRIPT>` and registered in
`linecache`, so a traceback (with --show-traceback) shows the generated lines.
Its namespace holds only the runtime's exported helpers, the pre-compiled
constants (formats, regexes, built-ins) and the script's globals.
"""
from __future__ import annotations

import linecache
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .codegen import Generated
from .lexer import Token
from .options import Options
from .runtime.arrays import StapArray
from .runtime.ops import EXPORTED
from .runtime.stats import Stat
from .symbols import STAT, STRING, Var
from .symbols import py


@dataclass
class Program:
    filename: str
    namespace: dict[str, Any]
    handlers: dict[int, Callable[[Any], None]]
    line_tokens: dict[int, Token]
    globals: dict[str, Var]
    tokens: list[Token]

    builtin_calls: frozenset[int] = frozenset()

    def token_of(self, e: BaseException) -> Optional[Token]:
        """The script token to blame for a run-time error: named by the raiser, else by line.

        An error raised inside a built-in is blamed, as stap blames it, on the tapset
        function's own definition (when SystemTap's tapsets are installed to point at).
        """
        tok = getattr(e, "token", None)          # a tapset function's own definition (fn_umem.py)
        if tok is not None:
            return tok
        where = getattr(e, "where", None)
        if where is not None:
            return self.tokens[where]
        tok = self.token_for(e.__traceback__)
        if tok is not None and id(tok) in self.builtin_calls and self._raised_below(e.__traceback__):
            from .stap_tapsets import function_location
            return function_location(tok.text) or tok
        return tok

    def _raised_below(self, tb: Any) -> bool:
        """True if the innermost frame is not generated code (a built-in raised it)."""
        last = None
        while tb is not None:
            last = tb
            tb = tb.tb_next
        return last is not None and last.tb_frame.f_code.co_filename != self.filename

    def token_for(self, tb: Any) -> Optional[Token]:
        """The script token of the innermost generated-code frame of a traceback."""
        found = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                found = self.line_tokens.get(tb.tb_lineno)
            tb = tb.tb_next
        return found


def initial_value(v: Var, opts: Options) -> Any:
    if v.arity:
        limit = v.decl.size if v.decl is not None and v.decl.size else opts.maxmapentries
        sized = bool(v.decl is not None and v.decl.size)
        wrap = bool(v.decl is not None and v.decl.wrap)
        if v.type == STAT:
            return StapArray(limit, wrap, sized, v.hist, v.stat_shift)
        return StapArray(limit, wrap, sized)
    if v.type == STAT:
        return Stat(v.hist, v.stat_shift, False)
    if v.decl is not None and v.decl.init is not None:
        return v.decl.init.value
    return "" if v.type == STRING else 0


def load(gen: Generated, opts: Options, output_write: Callable[[str], None]) -> Program:
    filename = f"<uprobe-py {opts.script_name}>"
    ns: dict[str, Any] = dict(EXPORTED)
    ns.update(gen.consts)
    ns["_out"] = output_write
    for name, v in gen.globals.items():
        ns[f"g_{py(name)}"] = initial_value(v, opts)
    code = compile(gen.source, filename, "exec")
    lines = gen.source.splitlines(True)
    linecache.cache[filename] = (len(gen.source), None, lines, filename)
    exec(code, ns)
    handlers = {idx: ns[name] for idx, name in gen.handlers.items()}
    return Program(filename, ns, handlers, gen.line_tokens, gen.globals, gen.tokens,
                   frozenset(id(t) for t in gen.builtin_calls))
