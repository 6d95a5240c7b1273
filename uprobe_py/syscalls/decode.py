"""The syscall alias machinery: a call's variables, how each is computed, and the
`argstr`/`retstr` strings, from (syscall number, six argument registers, return
value, user memory).

A family module (fs.py, mm.py, proc.py, net.py, ...) describes each call with `call()`:
its stap alias name, the x86_64 system calls it covers, its variables as
(name, computer) pairs and its argstr (a stap format over variable names, or a
function of the `View`). Computers are built once; a hit makes one `View` and
computes only what the handler reads, each variable at most once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Union

from ..runtime import formatting
from . import fmt as F
from .table import NAME_TO_NR, NR_TO_NAME

LONG, STRING = "long", "string"
Computer = Callable[["View"], object]


@dataclass(frozen=True)
class Var:
    name: str
    type: str
    compute: Computer


# --- computers over argument registers ------------------------------------------------------

def int_arg(n: int) -> Var:
    return Var("", LONG, lambda v: F.s32(v.args[n - 1]))


def uint_arg(n: int) -> Var:
    return Var("", LONG, lambda v: F.u32(v.args[n - 1]))


def long_arg(n: int) -> Var:
    return Var("", LONG, lambda v: F.s64(v.args[n - 1]))


ulong_arg = pointer_arg = long_arg        # stap's long is signed 64-bit either way


def ustr_quoted(n: int) -> Var:
    return Var("", STRING, lambda v: F.quoted(v.ctx, v.args[n - 1]))


def ustr(n: int) -> Var:
    return Var("", STRING, lambda v: F.nofault(v.ctx, v.args[n - 1]))


def derived(fn: Callable[..., object], *names: str, type: str = STRING) -> Var:
    return Var("", type, lambda v: fn(*[v.get(x) for x in names]))


def with_mem(fn: Callable[..., object], *names: str, type: str = STRING) -> Var:
    return Var("", type, lambda v: fn(v.ctx, *[v.get(x) for x in names]))


def by_call(table: dict[str, Var], default: Var) -> Var:
    """A variable computed differently per covered system call (e.g. pipe vs pipe2)."""
    nrs = {NAME_TO_NR[k]: var for k, var in table.items() if k in NAME_TO_NR}
    return Var("", default.type, lambda v: nrs.get(v.nr, default).compute(v))


def const(value: object) -> Var:
    return Var("", LONG if isinstance(value, int) else STRING, lambda v: value)


# --- call specs ------------------------------------------------------------------------------

@dataclass
class CallSpec:
    alias: str                                   # stap alias name, without "syscall."
    names: tuple[str, ...]                       # x86_64 system calls it covers
    vars: dict[str, Var]                         # entry variables (besides name, argstr)
    argstr: Union[Computer, None]
    ret_vars: dict[str, Var] = field(default_factory=dict)   # extra .return variables
    retfmt: int = 1                              # return_str format: 1 decimal, 2 hex, 3 octal
    name_of: Optional[dict[int, Any]] = None     # `name` per syscall number (str, or fn of the View)
    generic: bool = False                        # not decoded: raw arguments only


CALLS: dict[str, CallSpec] = {}


def _argstr_from(fmt: str, names: Sequence[str]) -> Computer:
    f = formatting.compile_format(fmt, sprintf=True)
    return lambda v: f(tuple(v.get(x) for x in names))


def call(alias: str, vars: Sequence[tuple[str, Var]], argstr: Union[str, Computer, None] = "",
         *argnames: str, covers: Sequence[str] = (), ret_vars: Sequence[tuple[str, Var]] = (),
         retfmt: int = 1, names: Optional[dict[str, Any]] = None) -> CallSpec:
    """Register one alias. `argstr` is a stap format over `argnames`, or a function of the View."""
    vs = {n: Var(n, v.type, v.compute) for n, v in vars}
    if isinstance(argstr, str):
        comp: Computer = (_argstr_from(argstr, argnames) if argnames else (lambda v, s=argstr: s))
    else:
        comp = argstr                            # type: ignore[assignment]
    covered = tuple(covers) or (alias,)
    name_of = None
    if names:
        name_of = {NAME_TO_NR[k]: v for k, v in names.items() if k in NAME_TO_NR}
    spec = CallSpec(alias, covered, vs, comp, {n: Var(n, v.type, v.compute) for n, v in ret_vars},
                    retfmt, name_of)
    CALLS[alias] = spec
    return spec


# --- the per-hit view ---------------------------------------------------------------------------

class _Session:
    __slots__ = ("maxstringlen",)

    def __init__(self, n: int) -> None:
        self.maxstringlen = n


class MemCtx:
    """The context shape fmt.py's memory readers need, around any `read(addr, n) -> bytes`."""
    __slots__ = ("memory", "session")

    def __init__(self, memory: Any, maxstringlen: int = 512) -> None:
        self.memory = memory
        self.session = _Session(maxstringlen)


class View:
    """One system call event: compute variables on demand, once each."""
    __slots__ = ("spec", "nr", "args", "ret", "ctx", "cache", "is_return")

    def __init__(self, spec: CallSpec, nr: int, args: Sequence[int], ret: Optional[int], ctx: Any) -> None:
        self.spec = spec
        self.nr = nr
        self.args = tuple(a & F.M64 for a in args) + (0,) * (6 - len(args))
        self.ret = ret
        self.ctx = ctx
        self.cache: dict[str, object] = {}
        self.is_return = ret is not None

    def get(self, name: str) -> object:
        c = self.cache
        if name in c:
            return c[name]
        spec = self.spec
        if name == "name":
            val = (spec.name_of or {}).get(self.nr) or (
                NR_TO_NAME.get(self.nr, "syscall") if spec.generic else spec.alias)
            if callable(val):                    # a name that depends on the arguments
                val = val(self)
        elif self.is_return and name == "retval":
            val = F.s64(self.ret or 0)
        elif self.is_return and name == "retstr":
            val = F.retstr(spec.retfmt, F.s64(self.ret or 0))
        elif self.is_return and name in spec.ret_vars:
            val = spec.ret_vars[name].compute(self)
        elif name == "argstr" and not self.is_return:
            val = spec.argstr(self) if spec.argstr else ""
        elif name in spec.vars:
            val = spec.vars[name].compute(self)
        else:
            raise KeyError(name)
        c[name] = val
        return val


def variables_of(spec: CallSpec, is_return: bool) -> dict[str, str]:
    """name -> stap type of the alias's variables."""
    if is_return:
        out = {"name": STRING, "retval": LONG, "retstr": STRING}
        out.update({n: v.type for n, v in spec.ret_vars.items()})
        return out
    out = {"name": STRING}
    out.update({n: v.type for n, v in spec.vars.items()})
    out["argstr"] = STRING
    return out


def generic_spec(alias: str) -> CallSpec:
    """A stap alias uprobe-py does not decode yet: `name`, and argstr as the six raw
    argument registers in hex (uprobe-py's own form; stap has no generic one)."""
    spec = CallSpec(alias, (alias,), {}, lambda v: ", ".join("0x%x" % a for a in v.args),
                    generic=True)
    return spec


def _load() -> None:
    from . import event, fs, mm, net, proc, sig  # noqa: F401  (registration side effect)


_load()
