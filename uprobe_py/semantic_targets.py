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

    def perf(self, ch: Any, e: n.Special) -> Optional[str]:
        """`@perf("NAME")`: a counter declared by a `perf....counter("NAME")` probe."""
        if ch.report:
            ch.error("@perf is not available in this context", e.tok)
        return None

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
