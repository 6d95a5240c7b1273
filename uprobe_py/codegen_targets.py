"""Pass 3 for target variables: each resolved `$var` becomes a call of a bound constant.

`target_expr(fg, e)` returns the Python expression of a TargetVar, `@defined(...)` or
`@entry(...)` in the handler of probe `fg.probe`. A resolved access (semantic pass:
`prog.tvars[(probe index, id(node))]`) is bound as `tv_N`, a function `(c, *args)`
whose args are the non-constant `[i]` indexes (and @cast's pointer); a read fault
becomes stap's `read fault [man error::fault] at 0x...` blamed on the `$var` token.
In a `.return` probe, target expressions other than `$return` are the values at
the function's entry: the probe gets an `entry_saver` (called by the ptrace engine
at the entry hit) that evaluates them then, and the handler reads the saved tuple
from `c.extra["entry_values"]`.
"""
from __future__ import annotations

from typing import Any, Callable

from . import nodes as n
from .elf.dwarf_locations import Fault
from .runtime.errors import StapRuntimeError

READ_FAULT = "read fault [man error::fault] at 0x%x"


def _guard(fn: Callable, where: int) -> Callable:
    def get(c: Any, *a: Any) -> Any:
        try:
            return fn(c, *a)
        except Fault as f:
            raise StapRuntimeError(READ_FAULT % (f.addr & ((1 << 64) - 1)), where) from None
        except (AttributeError, TypeError) as err:      # no registers/memory: not a DWARF hit
            raise StapRuntimeError(f"target variable read failed ({err})", where) from None
    return get


def _unresolvable(where: int) -> Callable:
    def get(c: Any, *a: Any) -> Any:
        raise StapRuntimeError("unresolved target-symbol expression", where)
    return get


def _bind(fg: Any, fn: Callable) -> str:
    g = fg.g
    name = f"tv_{len([k for k in g.consts if k.startswith('tv_')])}"
    g.consts[name] = fn
    return name


def _entry_slots(fg: Any) -> dict:
    rp = fg.probe
    slots = rp.__dict__.get("_tv_entry")
    if slots is None:
        slots = rp._tv_entry = {"fns": []}

        def saver(c: Any, _fns: list = slots["fns"]) -> tuple:
            out = []
            for f in _fns:
                try:
                    out.append((True, f(c)))
                except StapRuntimeError as err:
                    out.append((False, err))
            return tuple(out)
        rp.entry_saver = saver
    return slots


def _entry_value(v: tuple) -> Any:
    if v[0]:
        return v[1]
    raise v[1]


def target_expr(fg: Any, e: Any) -> str:
    rp = fg.probe
    table = getattr(fg.g.prog, "tvars", {})
    if isinstance(e, n.Special):
        if e.op == "@defined":
            a = e.args[0] if e.args else None
            if isinstance(a, n.TargetVar) and rp is not None:
                return "1" if table.get((rp.index, id(a))) is not None else "0"
            return "0" if isinstance(a, n.TargetVar) else "1"
        if e.op == "@entry":
            return entry_expr(fg, e.args[0])
        raise AssertionError(f"cannot generate {e.op}")
    where = fg.g.token_index(e.tok)
    acc = table.get((rp.index, id(e))) if rp is not None else None
    if acc is None:
        return f"{_bind(fg, _unresolvable(where))}(c)"
    args: list[str] = []
    if e.name == "@cast":
        args.append(fg.expr(e.args[0]))
    for _k, v in e.components:
        if isinstance(v, n.Expr) and not (isinstance(v, n.Literal) and isinstance(v.value, int)):
            args.append(fg.expr(v))
    fn = _guard(acc.fn, where)
    if rp.spec.params.get("kind") == "return" and e.name not in ("$return", "$$return") and not args:
        return entry_expr(fg, e, fn)
    name = _bind(fg, fn)
    return f"{name}(c{''.join(', ' + a for a in args)})"


def entry_expr(fg: Any, inner: Any, fn: Callable = None) -> str:
    """A value computed at the function's entry (`@entry(expr)` or a `$var` in a .return probe)."""
    if fn is None:
        if isinstance(inner, n.TargetVar):
            acc = getattr(fg.g.prog, "tvars", {}).get((fg.probe.index, id(inner)))
            if acc is None or acc.nargs:
                return fg.expr(inner)
            fn = _guard(acc.fn, fg.g.token_index(inner.tok))
        else:
            return fg.expr(inner)        # @entry(non-target expression): the value now
    slots = _entry_slots(fg)
    slots["fns"].append(fn)
    i = len(slots["fns"]) - 1
    ev = _bind(fg, _entry_value)
    return f"{ev}(c.extra['entry_values'][{i}])"


WRITE_FAULT = "write fault [man error::fault] at 0x%x"


def _guard_store(fn: Callable, where: int) -> Callable:
    from .target_writes import StoreFault

    def put(c: Any, *a: Any) -> Any:
        try:
            return fn(c, *a)
        except StoreFault as f:
            raise StapRuntimeError(WRITE_FAULT % (f.addr & ((1 << 64) - 1)), where) from None
        except Fault as f:
            raise StapRuntimeError(READ_FAULT % (f.addr & ((1 << 64) - 1)), where) from None
        except (AttributeError, TypeError) as err:      # no registers/memory: not a DWARF hit
            raise StapRuntimeError(f"target variable write failed ({err})", where) from None
    return put


def target_assign(fg: Any, e: Any) -> str:
    """`$var = value` (guru mode): the store bound as `tv_N(c, value, *indexes)`; its value is the value."""
    rp = fg.probe
    tgt = e.target
    where = fg.g.token_index(tgt.tok)
    acc = getattr(fg.g.prog, "tvars", {}).get((rp.index, id(tgt))) if rp is not None else None
    val = fg.expr(e.value)
    if acc is None:
        return f"{_bind(fg, _unresolvable(where))}(c)"
    args: list[str] = []
    if tgt.name == "@cast":
        args.append(fg.expr(tgt.args[0]))
    for _k, v in tgt.components:
        if isinstance(v, n.Expr) and not (isinstance(v, n.Literal) and isinstance(v.value, int)):
            args.append(fg.expr(v))
    name = _bind(fg, _guard_store(acc.fn, where))
    return f"{name}(c, {val}{''.join(', ' + a for a in args)})"
