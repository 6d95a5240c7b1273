"""Pass 2b, calls: binding a call to a script function overload or a built-in, and typing it.

A mixin of the semantic Checker (semantic.py): it resolves `f(...)` against the
script's functions (overloads by arity, ordered by priority, reached in turn by
`next`), the tapset library files, then the Python built-ins; types arguments
against parameters both ways; checks print-family formats; and knows which global
arrays a function modifies (for foreach's no-modification rule).
"""
from __future__ import annotations

from typing import Optional

from . import nodes as n
from .builtins.registry import BUILTINS, builtin_arities, find_builtin
from .elaborate import similar
from .runtime import formatting
from .symbols import LONG, STAT, STRING, FuncInfo, Var, type_name
from .symbols import py


# tapset functions stap marks /* guru */: they act on the system, so they need -g
GURU_ONLY = frozenset({"mdelay", "udelay", "raise", "panic", "printk"})


class CallChecks:
    """Methods of the Checker that deal with calls (see semantic.Checker for the state)."""

    guru = False

    def infer_call(self, e: n.Call) -> Optional[str]:
        key = (e.name, len(e.args))
        group = self.func_nodes.get(key)
        if group is None and not find_builtin(e.name, len(e.args)) and self.library is not None:
            self.pull_library_function(e.name)
            group = self.func_nodes.get(key)
        if group:
            infos = [self.function_info(g) for g in group]
            fi = infos[0]
            e.target = fi
            for other in infos:
                if self.cur_func is not None:
                    self.cur_func.calls.add(other.pyname)
                self.call_args(e, other)
            if self.iterating and self.report:
                writes = set().union(*(self.function_writes(f) for f in infos))
                for v in self.iterating:
                    if v.name in writes:
                        self.error(f"function call modifies var '{v.name}' during 'foreach' iteration", e.tok)
            rets = [f.ret for f in infos if f.ret is not None]
            return rets[0] if rets and self.iteration > 0 else None
        b = find_builtin(e.name, len(e.args))
        b = find_builtin(e.name, len(e.args))
        if b is not None:
            e.target = b
            if b.name in GURU_ONLY and not self.guru:
                self.error("function may not be used unless -g is specified", e.tok)
            for arg, pt in zip(e.args, b.params):
                if pt in (LONG, STRING):
                    self.expect(arg, pt, argument=True)
                else:
                    self.infer(arg)
            return b.ret if self.iteration > 0 else None
        arities = sorted({k[1] for k in self.func_nodes if k[0] == e.name} | set(builtin_arities(e.name)))
        for a in e.args:
            self.infer(a)
        if arities:
            # stap names the overload it saw last: the script's, else its tapset's definition
            groups = [(k[1], g[-1].tok) for k, g in self.func_nodes.items() if k[0] == e.name]
            takes, decl = groups[-1] if groups else (arities[0], None)
            if decl is None:
                from .stap_tapsets import function_definition
                where = function_definition(e.name)
                if where is not None:
                    decl, takes = where
            self.error(f"arity mismatch found (function '{e.name}' takes {takes} args)", e.tok,
                       related=[decl] if decl is not None else [])
        else:
            names = [k[0] for k in self.func_nodes] + [k[0] for k in BUILTINS]
            self.error(f"unresolved function {e.name}{similar(e.name, names)}", e.tok)
        return None

    def call_args(self, e: n.Call, fi: FuncInfo) -> None:
        """Type a call's arguments against one overload's parameters."""
        for arg, p in zip(e.args, fi.params):
            t = self.infer(arg, p.type)
            if t is None and p.type is not None:
                self.push_type(arg, p.type)
                t = p.type
            if t == STAT:
                self.error("type mismatch: expected long but found stats", arg.tok)
            elif t is not None:
                if p.type is not None and p.type != t:
                    self.error(f"type mismatch: expected {type_name(t)} but found {type_name(p.type)}",
                               arg.tok)
                else:
                    if p.type is None:
                        p.from_call = True
                    self.unify_var(p, t, arg.tok)

    def pull_library_function(self, name: str) -> None:
        lib = self.library
        for path in lib.files_defining_function(name):  # type: ignore[attr-defined]
            script = lib.load(path)  # type: ignore[attr-defined]
            if script is None:
                continue
            for f in script.functions:
                self.add_function(f)
            for g in script.globals:
                if g.name not in self.globals:
                    v = Var(g.name, "global", g.tok, decl=g, pyname=f"g_{py(g.name)}")
                    if g.init is not None:
                        v.type, v.type_tok, v.arity, v.written = g.init.type, g.init.tok, 0, True
                    self.globals[g.name] = v

    def add_function(self, f: n.Function) -> None:
        group = self.func_nodes.setdefault((f.name, len(f.params)), [])
        group.append(f)
        group.sort(key=lambda g: g.priority)     # stable: declaration order breaks ties

    def function_info(self, node: n.Function) -> FuncInfo:
        """The FuncInfo of one overload; overload k > 0 is reached only through `next`."""
        group = self.func_nodes[(node.name, len(node.params))]
        k = group.index(node)
        key = (node.name, len(node.params), k)
        fi = self.funcs.get(key)
        if fi is None:
            params = [Var(p.name, "param", p.tok, type=p.type, type_tok=p.tok if p.type else None,
                          arity=0, pyname=f"l_{py(p.name)}", declared_type=p.type is not None,
                          param_index=i) for i, p in enumerate(node.params)]
            base = f"f_{py(node.name)}_{len(node.params)}"
            fi = FuncInfo(node, params, node.ret, node.tok if node.ret else None,
                          pyname=base if k == 0 else f"{base}__{k}",
                          next_pyname=f"{base}__{k + 1}" if k + 1 < len(group) else None)
            self.funcs[key] = fi
            self.set_changed()
        return fi

    def infer_print(self, e: n.PrintFormat) -> str:
        if e.fmt is not None and e.name in ("printf", "sprintf"):
            try:
                spec = formatting.parse_format(str(e.fmt.value))
            except formatting.FormatError as err:
                self.error(str(err), e.fmt.tok)
                return STRING if e.is_sprint else "void"
            want = spec.arg_types
            if len(want) != len(e.args):
                self.error("Wrong number of args to formatted print operator", e.tok)
            for arg, w in zip(e.args, want):
                if w in (LONG, STRING):
                    self.expect(arg, w, repeat=2)
                else:
                    self.infer(arg)
        else:
            if e.fmt is not None:
                self.infer(e.fmt)
            for arg in e.args:
                t = self.infer(arg)
                if t == "hist" and e.name not in ("print", "println", "sprint", "sprintln"):
                    self.error("histogram not allowed here", arg.tok)
                if t == STAT:
                    self.error("type mismatch: expected long but found stats", arg.tok)
                if t == "void":
                    self.error("type mismatch: expected long but found unknown", arg.tok)
        return STRING if e.is_sprint else "void"

    # --- statements ---------------------------------------------------------

    def function_writes(self, fi: FuncInfo) -> set[str]:
        """Global arrays a function modifies, through the functions it calls too."""
        seen: set[str] = set()
        out: set[str] = set()
        todo = [fi]
        by_name = {f.pyname: f for f in self.funcs.values()}
        while todo:
            f = todo.pop()
            if f.pyname in seen:
                continue
            seen.add(f.pyname)
            out |= f.writes
            todo.extend(by_name[c] for c in f.calls if c in by_name)
        return out
