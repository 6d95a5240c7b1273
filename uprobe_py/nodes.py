"""The abstract syntax tree of a stap script.

Nodes are plain data, named after stap's grammar. Every node keeps the token it
starts at (`tok`), which is what stap's messages point at. Expressions carry a
`type` ("long", "string", "stat" or None until the type pass fills it in).
The parser is the only producer; the semantic pass annotates; codegen reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from .lexer import Token


@dataclass(eq=False)
class Node:
    tok: Token


def subtrees(node: Node, skip: tuple[str, ...] = ("tok",)) -> Iterator[Union[Node, list]]:
    """The Node and list values of node's fields, in field order, but those named in
    `skip`: what a walk over the tree descends into."""
    for f in node.__dataclass_fields__:
        if f not in skip:
            val = getattr(node, f)
            if isinstance(val, (Node, list)):
                yield val


# ---- expressions ------------------------------------------------------------

@dataclass(eq=False)
class Expr(Node):
    pass


@dataclass(eq=False)
class Literal(Expr):
    value: Union[int, str]
    type: Optional[str] = None


@dataclass(eq=False)
class Symbol(Expr):
    """A scalar variable reference: local, global, or function parameter."""
    name: str
    type: Optional[str] = None
    sym: object = None          # filled by the semantic pass: a semantic.VarInfo


@dataclass(eq=False)
class ArrayRef(Expr):
    """`name[i, j]` (element access); an index of None is a `*` wildcard (membership/delete)."""
    name: str
    indexes: list[Optional[Expr]]
    type: Optional[str] = None
    sym: object = None


@dataclass(eq=False)
class TargetVar(Expr):
    """`$name`, `$$vars`, `@cast(...)`, `@var(...)` with their `->f`, `[i]` chains."""
    name: str
    components: list[tuple[str, object]] = field(default_factory=list)
    pretty: int = 0             # 1 for `$`, 2 for `$$`
    addressof: bool = False
    args: list[Expr] = field(default_factory=list)   # for @cast / @var
    type: Optional[str] = None


@dataclass(eq=False)
class Call(Expr):
    name: str
    args: list[Expr]
    type: Optional[str] = None
    target: object = None       # filled by semantic pass: Function node or Builtin


@dataclass(eq=False)
class PrintFormat(Expr):
    """print/println/printf/printd/printdln and the s- versions."""
    name: str
    fmt: Optional[Literal]      # format string (printf) or delimiter (printd)
    args: list[Expr]
    type: Optional[str] = None

    @property
    def is_sprint(self) -> bool:
        return self.name.startswith("s")


@dataclass(eq=False)
class Unary(Expr):
    op: str                     # "-", "+", "!", "~"
    operand: Expr
    type: Optional[str] = None


@dataclass(eq=False)
class Binary(Expr):
    """Arithmetic, bitwise, shifts, comparisons, logical && ||, and string `.`."""
    op: str
    left: Expr
    right: Expr
    type: Optional[str] = None


@dataclass(eq=False)
class Ternary(Expr):
    cond: Expr
    true: Expr
    false: Expr
    type: Optional[str] = None


@dataclass(eq=False)
class Assign(Expr):
    op: str                     # "=", "+=", ..., ".=", "<<<"
    target: Expr                # Symbol, ArrayRef or TargetVar
    value: Expr
    type: Optional[str] = None


@dataclass(eq=False)
class IncDec(Expr):
    op: str                     # "++" or "--"
    prefix: bool
    target: Expr
    type: Optional[str] = None


@dataclass(eq=False)
class InArray(Expr):
    """`[k1, k2] in arr` (membership); `arr` is an ArrayRef with the key list."""
    array: ArrayRef
    type: Optional[str] = None


@dataclass(eq=False)
class Regex(Expr):
    op: str                     # "=~" or "!~"
    left: Expr
    pattern: Literal
    type: Optional[str] = None


@dataclass(eq=False)
class StatOp(Expr):
    """@count/@sum/@min/@max/@avg/@variance(stat)."""
    op: str
    stat: Expr
    params: list[Expr] = field(default_factory=list)
    type: Optional[str] = None


@dataclass(eq=False)
class Hist(Expr):
    """@hist_linear(stat, lo, hi, step) / @hist_log(stat), optionally indexed `[bucket]`."""
    kind: str                   # "linear" or "log"
    stat: Expr
    params: list[Expr]
    bucket: Optional[Expr] = None
    type: Optional[str] = None


@dataclass(eq=False)
class Special(Expr):
    """@defined(e), @entry(e), @perf("x"), @const("X"), @probewrite(v): context-dependent operators."""
    op: str
    args: list[Expr]
    type: Optional[str] = None


@dataclass(eq=False)
class EmbeddedExpr(Expr):
    code: str
    type: Optional[str] = None


# ---- statements ------------------------------------------------------------

@dataclass(eq=False)
class Stmt(Node):
    pass


@dataclass(eq=False)
class Block(Stmt):
    stmts: list[Stmt]


@dataclass(eq=False)
class Null(Stmt):
    pass


@dataclass(eq=False)
class ExprStmt(Stmt):
    expr: Expr


@dataclass(eq=False)
class If(Stmt):
    cond: Expr
    then: Stmt
    orelse: Optional[Stmt]


@dataclass(eq=False)
class While(Stmt):
    cond: Expr
    body: Stmt


@dataclass(eq=False)
class For(Stmt):
    init: Optional[Expr]
    cond: Optional[Expr]
    incr: Optional[Expr]
    body: Stmt


@dataclass(eq=False)
class Foreach(Stmt):
    value: Optional[Symbol]         # `v = [k] in a`
    keys: list[Symbol]
    array: Expr                     # Symbol naming the array, ArrayRef (slice) or Hist
    sort_col: Optional[int]         # None: unsorted; 0: by value; i: by key i (1-based)
    sort_dir: int                   # +1 ascending, -1 descending
    sort_agg: Optional[str]         # "@count", "@sum", ... for stat arrays
    limit: Optional[Expr]
    body: Stmt
    keys_bracketed: bool = False


@dataclass(eq=False)
class Break(Stmt):
    pass


@dataclass(eq=False)
class Continue(Stmt):
    pass


@dataclass(eq=False)
class Next(Stmt):
    pass


@dataclass(eq=False)
class Return(Stmt):
    value: Optional[Expr]


@dataclass(eq=False)
class Delete(Stmt):
    target: Expr


@dataclass(eq=False)
class TryCatch(Stmt):
    body: Block
    var: Optional[Symbol]
    handler: Block


@dataclass(eq=False)
class EmbeddedStmt(Stmt):
    code: str


# ---- declarations ------------------------------------------------------------

@dataclass(eq=False)
class Component(Node):
    name: str                       # may contain * and ** wildcards
    arg: Optional[Literal] = None
    suffix: str = ""                # "?" or "!" written inside a brace alternative


@dataclass(eq=False)
class ProbePoint(Node):
    components: list[Component]
    optional: bool = False          # `?`
    sufficient: bool = False        # `!`
    condition: Optional[Expr] = None

    def text(self) -> str:
        parts = []
        for c in self.components:
            if c.arg is None:
                parts.append(c.name)
            elif isinstance(c.arg.value, str):
                parts.append(f'{c.name}("{c.arg.value}")')
            else:
                parts.append(f"{c.name}({c.arg.value})")
        s = ".".join(parts)
        if self.sufficient:
            s += "!"
        elif self.optional:
            s += "?"
        return s


@dataclass(eq=False)
class Probe(Node):
    points: list[ProbePoint]
    body: Block
    privileged: bool = False        # from a tapset file


@dataclass(eq=False)
class ProbeAlias(Node):
    names: list[ProbePoint]         # the alias's own name(s)
    points: list[ProbePoint]        # what it expands to
    body: Block
    epilogue: bool                  # `+=`
    epilogue_body: Optional[Block] = None   # `probe a = b { prologue }, { epilogue }`


@dataclass(eq=False)
class Global(Node):
    name: str
    size: Optional[int] = None
    wrap: bool = False              # `global a%[N]`
    init: Optional[Literal] = None
    private: bool = False
    file: str = ""


@dataclass(eq=False)
class Param(Node):
    name: str
    type: Optional[str] = None


@dataclass(eq=False)
class Function(Node):
    name: str
    params: list[Param]
    ret: Optional[str]              # declared type or None
    body: Union[Block, EmbeddedStmt]
    private: bool = False
    priority: int = 0
    file: str = ""


@dataclass(eq=False)
class Script(Node):
    probes: list[Probe] = field(default_factory=list)
    aliases: list[ProbeAlias] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    embedded: list[EmbeddedStmt] = field(default_factory=list)
