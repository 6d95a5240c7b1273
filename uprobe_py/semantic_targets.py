"""Pass 2 hooks for target variables: typing `$var` expressions and resolving them per probe.

The checker walks a probe body once even when several probes share it
(`function("*")`); a `$var` is typed from its syntax alone ("string" for `$$vars`,
`$$parms`, `$$locals`, `$$return` and the `$`/`$$` pretty forms, else "long"), and,
in the reporting walk, resolved against every probe that runs the body
(uprobe_py.target_vars). The results go in `table[(probe index, id(node))]`: an
Access, or None when the expression is guarded by `@defined` and does not resolve.
Errors are stap's: the resolver's message, then "unresolved type" at the `$var`.
"""
from __future__ import annotations

from typing import Any, Optional

from . import nodes as n
from .symbols import LONG, STRING
from .target_vars import TargetResolver, TVError

STRING_VARS = ("$$vars", "$$parms", "$$locals", "$$return", "$$name", "$$provider")   # the last two: SDT marks


def target_key(e: n.TargetVar) -> tuple:
    comps = tuple((k, v.value if isinstance(v, n.Literal) else id(v)) for k, v in e.components)
    args = tuple(a.value if isinstance(a, n.Literal) else None for a in e.args)
    return (e.name, comps, args)


def collect_defined(node: Any, out: set, inside: bool = False) -> None:
    """Keys of the target expressions a body tests with @defined."""
    if isinstance(node, n.Special) and node.op in ("@defined", "@choose_defined"):
        for a in node.args:
            collect_defined(a, out, True)
        return
    if isinstance(node, n.TargetVar) and inside:
        out.add(target_key(node))
    if isinstance(node, list):
        for x in node:
            collect_defined(x, out, inside)
    elif isinstance(node, n.Node):
        for v in n.subtrees(node):
            collect_defined(v, out, inside)
        if isinstance(node, n.TargetVar):
            for _, v in node.components:
                if isinstance(v, n.Node):
                    collect_defined(v, out, inside)


class TargetChecks:
    def __init__(self, guru: bool) -> None:
        self.resolver = TargetResolver(guru)
        self.guru = guru
        self.table: dict[tuple[int, int], Any] = {}
        self.defined_depth = 0
        self.guarded: dict[int, set] = {}
        self.reported: set[int] = set()

    def infer(self, ch: Any, e: n.TargetVar, store: bool = False) -> Optional[str]:
        """Type a target expression; in the reporting walk, resolve it for each probe
        (with store: as the target of `=`, uprobe_py.target_writes)."""
        if e.name == "@autocast":
            for a in e.args:
                ch.infer(a)
            ch.error("unresolved target-symbol expression", e.tok)
            return None
        for _, v in e.components:
            if isinstance(v, n.Expr) and not isinstance(v, n.Literal):
                ch.expect(v, LONG)
        if e.name == "@cast" and e.args:
            ch.expect(e.args[0], LONG)
        t = STRING if (e.pretty or e.name in STRING_VARS) else LONG
        probes = getattr(ch, "cur_probes", None) or []
        if probes and probes[0].spec.family != "process":
            from .probes.registry import find_family     # a family's own variables (kernel.trace)
            typer = getattr(find_family(probes[0].spec.family), "target_type", None)
            t = (typer(e, probes[0]) if typer is not None else None) or t
        if not ch.report:
            return t if probes else None
        if not probes:
            self.unresolved(ch, e)
            return None
        body = id(probes[0].body)
        if body not in self.guarded:
            g: set = set()
            collect_defined(probes[0].body, g)
            self.guarded[body] = g
        first_err = None
        for rp in probes:
            key = (rp.index, id(e))
            if key in self.table:
                continue
            try:
                self.table[key] = self.resolver.resolve(e, rp, store)
            except TVError as err:
                self.table[key] = None
                if first_err is None and not self.defined_depth \
                        and target_key(e) not in self.guarded[body]:
                    first_err = err
        if first_err is not None and id(e) not in self.reported:
            self.reported.add(id(e))
            if first_err.msg.startswith("unresolved "):
                self.unresolved(ch, e)
                return None
            if store:
                ch.error(first_err.msg, first_err.tok, related=getattr(first_err, "related", None) or [])
                return None
            ch.error(first_err.msg, first_err.tok, repeat=getattr(first_err, "repeat", 1))
            for msg, tok in getattr(first_err, "extra", ()):      # stap's further errors (SDT marks)
                ch.error(msg, tok)
            if getattr(first_err, "no_unresolved", False):
                return None
            ch.error("unresolved type ", e.tok, repeat=2)
            return None
        return t

    @staticmethod
    def unresolved(ch: Any, e: n.TargetVar) -> None:
        if e.name == "@var":
            ch.error("unresolved @var() expression", e.tok)
        elif e.name == "@cast":
            ch.error("unresolved @cast() expression", e.tok)
        else:
            ch.error("unresolved target-symbol expression", e.tok)
        ch.error("unresolved type ", e.tok, repeat=3 if e.name == "@var" else 2)

    def defined(self, ch: Any, e: n.Special) -> str:
        self.defined_depth += 1
        try:
            for a in e.args:
                if isinstance(a, n.TargetVar):
                    self.infer(ch, a)
        finally:
            self.defined_depth -= 1
        return LONG

    def write(self, ch: Any, target: n.TargetVar, tok: Any) -> Optional[str]:
        """`++`/`--` and `OP=` on a target variable (the lvalue hook): stap implements only `=`."""
        if not self.guru:
            ch.error("write to target variable not permitted; need stap -g", target.tok)
            return None
        from .target_writes import ONLY_ASSIGN
        ch.error(ONLY_ASSIGN, tok)
        return None

    def assign(self, ch: Any, e: n.Assign) -> Optional[str]:
        """`$var = value` (guru mode): the value is a number, the target resolved for writing."""
        if e.op != "=" or not self.guru:
            if e.op in ("=", "<<<", ".="):
                ch.infer(e.value)
            else:
                ch.expect(e.value, LONG)
            return self.write(ch, e.target, e.tok)
        t = ch.infer(e.value, LONG)
        stringy = e.target.pretty or e.target.name in STRING_VARS      # refused as such below
        if t == STRING and ch.report and not stringy:
            ch.error("type mismatch: expected string but found long", e.value.tok)
            return None
        if t is None:
            ch.push_type(e.value, LONG)
        return LONG if self.infer(ch, e.target, store=True) is not None else None

    UPROBE_KINDS = ("entry", "return", "statement", "mark")     # process probes placed as breakpoints

    def perf(self, ch: Any, e: n.Special) -> Optional[str]:
        """`@perf("NAME")`: the value of the counter a `perf....counter("NAME")` probe declares.

        As in stap 4.8: in a probe placed on a process's code (function, statement, mark) the
        counter is read at each hit, and the probe gets a local `__perf_read_NAME` (listed by
        -p2 first, in the counters' order); an undefined name is an error there. Elsewhere
        pass 2 accepts it and pass 3 refuses it (codegen_targets.py); in a function it is an
        untyped local. The reads are recorded in `table[(probe index, id(e))]` as the
        counter's CounterSlot (probes/perf.py)."""
        arg = e.args[0] if len(e.args) == 1 else None
        if not (isinstance(arg, n.Literal) and isinstance(arg.value, str)):
            if ch.report:
                ch.error("@perf needs the counter's name as a literal string", e.tok)
            return None
        name = arg.value
        if getattr(ch, "cur_func", None) is not None:
            if ch.report and id(e) not in self.reported:
                # stap: the read becomes a local the function never assigns
                self.reported.add(id(e))
                from .diagnostics import Diagnostic
                ch.warnings.append(Diagnostic("WARNING", f"never-assigned local variable '__perf_read_{name}'",
                                              e.tok))
                ch.error("unresolved type ", e.tok, repeat=4)
            return None
        probes = getattr(ch, "cur_probes", None) or []
        uprobes = [rp for rp in probes
                   if rp.spec.family == "process" and rp.spec.params.get("kind") in self.UPROBE_KINDS]
        if not uprobes:
            return LONG
        counters = [rp.spec.params for rp in ch.probes if rp.spec.family == "perf"
                    and rp.spec.params.get("counter_slot") is not None]
        found = [c for c in counters if c["counter"] == name]
        if not found:
            if ch.report and id(e) not in self.reported:
                self.reported.add(id(e))
                ch.error(f"perf counter '{name}' not defined", None)
            return None
        slot = found[0]["counter_slot"]
        slot.used = True
        for rp in uprobes:
            self.table[(rp.index, id(e))] = slot
        self._perf_local(ch, name, [c["counter"] for c in counters])
        return LONG

    @staticmethod
    def _perf_local(ch: Any, name: str, order: list[str]) -> None:
        """The probe's `__perf_read_NAME` local; the perf locals first, in the counters' order."""
        from .symbols import Var, py
        scope = ch.scope
        local = f"__perf_read_{name}"
        if local in scope:
            return
        tok = ch.cur_probes[0].point.tok
        scope[local] = Var(local, "local", tok, type=LONG, type_tok=tok, arity=0, arity_tok=tok,
                           written=True, read=True, pyname=f"l_{py(local)}")
        rank = {f"__perf_read_{c}": i for i, c in enumerate(order)}
        items = list(scope.items())
        items.sort(key=lambda kv: (0, rank[kv[0]]) if kv[0] in rank else (1, 0))   # stable for the rest
        scope.clear()
        scope.update(items)

    def entry(self, ch: Any, e: n.Special) -> Optional[str]:
        probes = getattr(ch, "cur_probes", None) or []
        if not probes or any(rp.spec.family != "process" or rp.spec.params.get("kind") != "return"
                             for rp in probes):
            if ch.report and probes and all(rp.spec.family == "process" for rp in probes):
                ch.error("internal error: @entry is only valid in .return probes", e.tok)
            elif ch.report:
                ch.error("@entry is not available in this context", e.tok)
            return None
        return ch.infer(e.args[0]) if e.args else None
