"""The symbol table pass 2 builds and later passes read: variables, functions, the program.

`Var` is one variable (global, local or parameter) with everything inference
learned about it; `FuncInfo` one script function overload; `Program` the whole
checked script handed to elision and codegen. Types are "long", "string",
"stat" (stap prints "stats"), or None while unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from . import nodes as n
from .diagnostics import Diagnostic
from .elaborate import Resolved
from .lexer import Token

LONG, STRING, STAT = "long", "string", "stat"


def py(name: str) -> str:
    """A script name as a Python identifier: stap allows `$` in names, Python does not.

    `$` becomes `ǂ` (a Unicode letter Python accepts and stap's ASCII names never contain)."""
    return name.replace("$", "\u01c2")


def type_name(t: Optional[str]) -> str:
    return {STAT: "stats", None: "unknown", "void": "unknown"}.get(t, t)  # type: ignore[arg-type]


@dataclass(eq=False)
class Var:
    name: str
    scope: str                          # "global", "local", "param"
    tok: Token
    type: Optional[str] = None
    type_tok: Optional[Token] = None
    arity: Optional[int] = None         # 0 scalar, N-key array, None unknown
    arity_tok: Optional[Token] = None
    index_types: list[Optional[str]] = field(default_factory=list)
    index_toks: list[Optional[Token]] = field(default_factory=list)
    decl: Optional[n.Global] = None
    read: bool = False
    written: bool = False
    declared_type: bool = False         # the type was written in the script, not inferred
    deleted: bool = False               # the script deletes it (stap then does not display it)
    uses: int = 0                       # reads, counted in the reporting walk
    writes: int = 0                     # assignments to it, counted in the reporting walk
    stat_local_reported: bool = False   # "stat locals not supported" said once
    rmw: bool = False                   # read-modify-written (x++, x += 1): alive for elision
    from_call: bool = False             # a parameter whose type came from a call's argument
    param_index: int = 0
    hist: Optional[tuple] = None        # ("linear", lo, hi, step) or ("log",) for stats
    stat_shift: Optional[int] = None    # @variance bit shift, when the script asks for variance
    pyname: str = ""

    @property
    def is_array(self) -> bool:
        return bool(self.arity)


@dataclass(eq=False)
class FuncInfo:
    node: n.Function
    params: list[Var]
    ret: Optional[str]
    ret_tok: Optional[Token] = None
    locals: dict[str, Var] = field(default_factory=dict)
    pyname: str = ""
    calls: set[str] = field(default_factory=set)
    next_pyname: Optional[str] = None       # the overload `next` moves on to
    writes: set[str] = field(default_factory=set)   # global arrays it modifies directly


@dataclass
class Program:
    """What codegen needs: the checked script, fully resolved."""
    globals: dict[str, Var]
    functions: dict[str, FuncInfo]      # keyed by pyname (name + arity)
    probes: list[Resolved]
    probe_locals: dict[int, dict[str, Var]]   # id(body block) -> locals
    warnings: list[Diagnostic]
