"""`syscall.NAME` and `syscall.NAME.return`: stap's system-call tapset aliases.

stap defines them as aliases over kernel probes whose prologue assigns `name`,
`argstr`, `retstr` and per-call locals. Here the family resolves the point to the
alias specs of uprobe_py.syscalls, and each resolved probe carries
`params["prebound"]` = {variable: type}: the semantic pass seeds those as assigned
locals of the handler (semantic.py), and the code generator binds the ones the
body reads from `ctx.extra["syscall"]` = (nr, args, retval or None), which the
engine sets before firing (codegen.py, `AliasSpec.binder`).

The session's ptrace engine stops on the calls (a seccomp filter in the -c command,
PTRACE_SYSCALL in attached processes: uprobe_py/ptrace/syscall_stops.py).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from ..lexer import Token
from .registry import ProbeResolveError, ProbeSpec, register


class SyscallFamily:
    names = ("syscall",)

    def resolve(self, components: list[Any], tok: Token) -> list[ProbeSpec]:
        from ..elaborate import similar
        from ..syscalls import AliasError, all_aliases, resolve_alias
        if len(components) < 2 or components[0].arg is not None:
            raise ProbeResolveError("probe point mismatch", tok)
        comp = components[1]
        if comp.arg is not None:
            raise ProbeResolveError("probe point mismatch", comp.tok)
        is_return = False
        if len(components) > 2:
            if components[2].name != "return" or components[2].arg is not None or len(components) > 3:
                raise ProbeResolveError("probe point mismatch", components[2].tok)
            is_return = True
        try:
            specs = resolve_alias(comp.name, is_return)
        except AliasError as e:
            wild = ": didn't find any wildcard matches" if any(c in comp.name for c in "*?[") else ""
            raise ProbeResolveError(e.msg + wild + similar(comp.name.replace("*", ""), all_aliases()), comp.tok)
        return [ProbeSpec("syscall", s.pp, {"alias": s, "prebound": s.variables, "own_body": True})
                for s in specs]

    def make_engine(self, session: Any, probes: list[Any], fire: Callable[..., None]) -> Optional[Any]:
        """The session's ptrace engine stops on these calls (ptrace/syscall_stops.py)."""
        from ..ptrace.engine import shared_engine
        return shared_engine(session, probes, fire)


register(SyscallFamily())
