"""Pass 2c: stap's dead-code elision, with its warnings.

stap's optimizer drops what cannot be observed, and says so; uprobe-py does the
same so that scripts behave and warn alike (an elided `x = 1/0` raises nothing):
  - an assignment to a local that is never read: "Eliding assignment to 'x'";
    what remains is its right-hand side, itself dropped if it has no effect;
  - an expression statement with no side effect: "Eliding side-effect-free expression";
  - a probe whose body is then empty: "Probe 'begin' has been elided"; and when no
    probe is left, pass 2 fails with "no probes found".
`-u` (unoptimized) turns all of this off, as in stap.

Input: the checked program; output: warnings, with elided statements marked
(`stmt.elided = True`) for codegen to skip and elided probes removed.
"""
from __future__ import annotations

from typing import Any

from . import nodes as n
from .diagnostics import Diagnostic
from .symbols import Program, Var


def has_side_effects(e: Any) -> bool:
    if isinstance(e, (n.Assign, n.IncDec, n.Call, n.EmbeddedExpr)):
        return True
    if isinstance(e, n.PrintFormat):
        return not e.is_sprint or any(has_side_effects(a) for a in e.args)
    if isinstance(e, n.Regex):
        return True                     # it sets matched(n)
    if isinstance(e, list):
        return any(has_side_effects(x) for x in e)
    if isinstance(e, n.Node):
        return any(has_side_effects(val) for val in n.subtrees(e, ("tok", "sym", "target")))
    return False


class Elider:
    def __init__(self, prog: Program) -> None:
        self.prog = prog
        self.warnings: list[Diagnostic] = []
        self.live: dict[int, bool] = {}      # statements shared by several probes: visit once

    def warn(self, msg: str, tok: Any) -> None:
        self.warnings.append(Diagnostic("WARNING", msg, tok))

    def block(self, stmts: list[n.Stmt], scope: dict[str, Var]) -> bool:
        """Elide in place; True if anything observable remains."""
        live = False
        for s in stmts:
            if self.stmt(s, scope):
                live = True
        return live

    def stmt(self, s: n.Stmt, scope: dict[str, Var]) -> bool:
        if id(s) not in self.live:
            self.live[id(s)] = self.visit(s, scope)
        return self.live[id(s)]

    def visit(self, s: n.Stmt, scope: dict[str, Var]) -> bool:
        if isinstance(s, n.Block):
            return self.block(s.stmts, scope)
        if isinstance(s, n.ExprStmt):
            e = s.expr
            if isinstance(e, n.Assign) and e.op == "=" and isinstance(e.target, n.Symbol):
                v = scope.get(e.target.name)
                if v is not None and v.scope == "local" and not v.read and not v.rmw:
                    self.warn(f"Eliding assignment to '{v.name}'", e.tok)
                    if not has_side_effects(e.value):
                        self.warn("Eliding side-effect-free expression ", s.tok)
                        s.elided = True  # type: ignore[attr-defined]
                        return False
                    s.expr = e.value     # keep only the effects of the right-hand side
                    return True
            if not has_side_effects(e):
                self.warn("Eliding side-effect-free expression ", s.tok)
                s.elided = True  # type: ignore[attr-defined]
                return False
            return True
        if isinstance(s, n.Null):
            return False
        if isinstance(s, n.If):
            a = self.stmt(s.then, scope)
            b = self.stmt(s.orelse, scope) if s.orelse is not None else False
            return a or b or has_side_effects(s.cond)
        if isinstance(s, (n.While, n.For, n.Foreach)):
            self.stmt(s.body, scope)
            return True                  # a loop counts against MAXACTION: keep it
        if isinstance(s, n.TryCatch):
            a = self.stmt(s.body, scope)
            b = self.stmt(s.handler, scope)
            return a or b
        return True                      # return, next, break, continue, delete, embedded

    def run(self) -> None:
        if self.prog.functions:
            for fi in self.prog.functions.values():
                if isinstance(fi.node.body, n.Block):
                    self.stmt(fi.node.body, fi.locals)
        kept = []
        for p in self.prog.probes:
            scope = self.prog.probe_locals.get(id(p.body), {})
            live = self.stmt(p.body, scope)
            if live or p.condition is not None:
                kept.append(p)
            else:
                self.warn(f"Probe '{p.point.components[0].name}' has been elided", p.probe.tok)
        self.prog.probes[:] = kept


def elide(prog: Program) -> list[Diagnostic]:
    e = Elider(prog)
    e.run()
    return e.warnings
