"""Context variables of `process[...].syscall` and `.syscall.return` probes, as stap gives them.

`$syscall` (the number), `$arg1`…`$arg6` (the argument registers, as longs), `$return`
(`.return` only, the signed result) and `$$parms` ("$arg1=%#llx … $arg6=%#llx"), read
from `ctx.extra["syscall"]` = (nr, args, retval) that the ptrace engine sets for each
stop; anything else is stap's pass-2 error. `syscall_access` returns the same `Access`
(type, fn(ctx), number of run-time arguments) as DWARF target variables (target_vars.py).
"""
from __future__ import annotations

from typing import Any

from . import nodes as n

M64 = (1 << 64) - 1


def _signed(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def _parms(c: Any) -> str:
    args = c.extra["syscall"][1]
    return " ".join(f"$arg{i + 1}={a & M64:#x}" if a & M64 else f"$arg{i + 1}=0x0" for i, a in enumerate(args))


def syscall_access(e: n.TargetVar, rp: Any) -> Any:
    from .target_vars import Access, TVError
    is_return = rp.spec.params.get("kind") == "syscall.return"
    name = e.name
    if e.components:
        tok = (getattr(e, "comp_toks", None) or [e.tok])[0]
        raise TVError(f"utrace variable '{name}' may not be used as a structure", tok)
    if name == "$syscall":
        return Access("long", lambda c: c.extra["syscall"][0], 0)
    if name == "$return":
        if not is_return:
            raise TVError('only "process(PATH_OR_PID).syscall.return" support $return.', e.tok)
        return Access("long", lambda c: c.extra["syscall"][2], 0)
    if name == "$$parms":
        return Access("string", _parms, 0)
    if name.startswith("$arg") and name[4:].isdigit():
        i = int(name[4:])
        if not 1 <= i <= 6:
            raise TVError("invalid syscall argument number (1-6)", e.tok)
        return Access("long", lambda c, k=i - 1: _signed(c.extra["syscall"][1][k]), 0)
    raise TVError("invalid target symbol for utrace probe, $syscall, $return, $argN or $$parms expected", e.tok)
