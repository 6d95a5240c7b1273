"""Pass 2b: symbol resolution and type inference, with stap's errors and warnings.

Every identifier in a probe body or function becomes a `Var` (global, local or
parameter); every call is bound to a script function or a built-in; every
expression gets a type: "long", "string" or "stat" (stap prints "stats").
Types flow in all directions (assignments, calls, returns, array indexes), so
inference is a fix-point: the bodies are walked until nothing changes (bounded),
then walked once more to report what is inconsistent or still unknown.

Input: the parsed script, the resolved probes (elaborate.py), the tapset library.
Output: a `Program` description for codegen: globals, functions in use, probes.
"""
from __future__ import annotations

from typing import Optional

from . import nodes as n
from .builtins.registry import load_all
from .diagnostics import Diagnostic
from .elaborate import Resolved, similar
from .lexer import Token
from .semantic_calls import CallChecks
from .symbols import LONG, STAT, STRING, FuncInfo, Program, Var, type_name
from .symbols import py

__all__ = ["check", "LONG", "STAT", "STRING", "FuncInfo", "Program", "Var", "type_name"]


class Checker(CallChecks):
    def __init__(self, script: n.Script, probes: list[Resolved], library: object | None,
                 extra_functions: list[n.Function], extra_globals: list[n.Global]) -> None:
        load_all()
        self.script = script
        self.probes = probes
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.report = False
        self.changed = False
        self.iteration = 0
        self.library = library
        self.globals: dict[str, Var] = {}
        for g in script.globals + extra_globals:
            if g.name in self.globals:
                continue
            v = Var(g.name, "global", g.tok, decl=g, pyname=f"g_{py(g.name)}")
            if g.init is not None:
                v.type = g.init.type
                v.type_tok = g.init.tok
                v.arity = 0
                v.arity_tok = g.tok
                v.written = True
                v.declared_type = True
            self.globals[g.name] = v
        # (name, arity) -> overloads in call order (stap: by priority, then declaration order)
        self.func_nodes: dict[tuple[str, int], list[n.Function]] = {}
        for f in script.functions + extra_functions:
            self.add_function(f)
        self.funcs: dict[tuple[str, int], FuncInfo] = {}
        self.scope: dict[str, Var] = {}
        self.cur_func: Optional[FuncInfo] = None
        self.body_locals: dict[int, dict[str, Var]] = {}
        self.iterating: list[Var] = []      # arrays of the enclosing foreach loops
        self.discarded: Optional[n.Expr] = None   # the expression statement being typed
        self.loop_depth = 0                       # for break/continue

    # --- reporting ----------------------------------------------------------
    def error(self, msg: str, tok: Optional[Token], *extra: Diagnostic,
              related: Optional[list[Token]] = None, repeat: int = 1) -> None:
        """Record an error. `repeat`: how many times stap's resolver reports it (its
        "Number of similar error messages suppressed" counts the extra ones)."""
        if self.report:
            self.errors.append(Diagnostic("semantic error", msg, tok, related=list(related or []),
                                          repeat=repeat))
            self.errors.extend(extra)

    def set_changed(self) -> None:
        self.changed = True

    # --- unification ----------------------------------------------------------
    def unify_var(self, v: Var, t: Optional[str], tok: Token) -> None:
        if t is None or t == "void":
            return
        if v.type is None:
            v.type = t
            v.type_tok = tok
            self.set_changed()
        elif v.type != t:
            self.var_mismatch(v, t, tok)

    def var_mismatch(self, v: Var, t: str, tok: Token) -> None:
        """stap's three shapes of a variable's type conflict (declared, parameter, inferred)."""
        if v.declared_type:
            # a type the script declared (global initialiser, typed parameter)
            self.error(f"type mismatch: expected {type_name(t)} but found {type_name(v.type)}", tok)
        elif v.scope == "param" and v.from_call:
            i = v.param_index
            self.error(f"index {i} type mismatch ({type_name(t)})", tok,
                       Diagnostic("semantic error",
                                  f"type of index {i} was first inferred here ({type_name(v.type)})", v.type_tok))
        else:
            self.error(f"type mismatch ({type_name(t)})", tok,
                       Diagnostic("semantic error", f"type was first inferred here ({type_name(v.type)})",
                                  v.type_tok))

    def expect(self, e: n.Expr, want: str, argument: bool = False, repeat: int = 1) -> None:
        """Infer `e` and require type `want`; pushes the type into untyped symbols.

        stap words a conflict "expected WANT but found HAVE", except for a function's
        argument, where it says "expected HAVE but found WANT" (the parameter's type).
        """
        t = self.infer(e, want)
        if t is None:
            self.push_type(e, want)
        elif t == "void":     # print(), exit()... have no value
            self.error(f"type mismatch: expected {type_name(want)} but found unknown", e.tok)
        elif t != want:
            if isinstance(e, (n.Symbol, n.ArrayRef)) and e.sym is not None:
                v = e.sym
                assert isinstance(v, Var)
                self.var_mismatch(v, want, e.tok)
            elif argument:
                self.error(f"type mismatch: expected {type_name(t)} but found {type_name(want)}", e.tok)
            else:
                self.error(f"type mismatch: expected {type_name(want)} but found {type_name(t)}", e.tok,
                           repeat=repeat)

    def set_arity(self, v: Var, arity: int, tok: Token) -> bool:
        if v.arity is None:
            v.arity = arity
            v.arity_tok = tok
            v.index_types = [None] * arity
            v.index_toks = [None] * arity
            self.set_changed()
            return True
        if v.arity != arity:
            self.error(f"inconsistent arity ({v.arity} vs {arity})", tok,
                       Diagnostic("semantic error", f"arity {v.arity} first inferred here", v.arity_tok))
            return False
        return True

    # --- symbols ----------------------------------------------------------------
    def lookup(self, name: str, tok: Token, create: bool) -> Optional[Var]:
        if name in self.scope:
            return self.scope[name]
        if name in self.globals:
            return self.globals[name]
        if not create:
            return None
        v = Var(name, "local", tok, pyname=f"l_{py(name)}", arity=0, arity_tok=tok)
        self.scope[name] = v
        self.set_changed()
        return v

    def lookup_array(self, name: str, tok: Token, arity: int) -> Optional[Var]:
        v = self.scope.get(name)
        if v is not None:
            if v.arity is not None and v.arity != arity and v.arity_tok is not None:
                self.set_arity(v, arity, tok)     # reports stap's "inconsistent arity"
            else:
                self.error(f"unresolved arity-{arity} global array {name}, missing global declaration?", tok)
            return None
        v = self.globals.get(name)
        if v is None:
            self.error(f"unresolved arity-{arity} global array {name}, missing global declaration?", tok)
            return None
        return v

    # --- expressions ------------------------------------------------------------
    def infer(self, e: n.Expr, hint: Optional[str] = None) -> Optional[str]:
        t = self._infer(e, hint)
        if t is not None:
            e.type = t  # type: ignore[attr-defined]
        return t

    def _infer(self, e: n.Expr, hint: Optional[str]) -> Optional[str]:
        if isinstance(e, n.Literal):
            return e.type
        if isinstance(e, n.Symbol):
            v = self.lookup(e.name, e.tok, create=True)
            assert v is not None
            e.sym = v
            v.read = True
            if self.report:
                v.uses += 1
            if v.arity:
                self.set_arity(v, 0, e.tok)
                return v.type
            if v.arity is None and v.scope == "global":
                self.set_arity(v, 0, e.tok)
            return v.type
        if isinstance(e, n.ArrayRef):
            return self.infer_arrayref(e, read=True)
        if isinstance(e, n.Unary):
            self.expect(e.operand, LONG)
            return LONG
        if isinstance(e, n.Binary):
            return self.infer_binary(e)
        if isinstance(e, n.Ternary):
            self.expect(e.cond, LONG)
            a = self.infer(e.true, hint)
            b = self.infer(e.false, a or hint)
            if a is None and b is not None:
                a = self.infer(e.true, b)
            if a is not None and b is not None and a != b:
                self.error(f"type mismatch: expected {type_name(a)} but found {type_name(b)}", e.false.tok)
            return a or b
        if isinstance(e, n.Assign):
            return self.infer_assign(e)
        if isinstance(e, n.IncDec):
            self.lvalue(e.target, LONG, e.tok)
            self.mark_rmw(e.target)
            if e is not self.discarded:
                self.mark_read(e.target)      # its value is used: stap counts that as a read
            return LONG
        if isinstance(e, n.InArray):
            self.infer_arrayref(e.array, read=True, membership=True)
            return LONG
        if isinstance(e, n.Regex):
            self.expect(e.left, STRING)
            if self.report:
                from .runtime.regex import RegexError, compile_regex
                try:
                    compile_regex(str(e.pattern.value))
                except RegexError as err:
                    self.error(str(err), e.pattern.tok)
            return LONG
        if isinstance(e, n.StatOp):
            v = self.stat_operand(e.stat, e.tok)
            for p in e.params:
                self.expect(p, LONG)
            if e.op == "@variance" and v is not None:
                shift = 0
                if e.params:
                    p = e.params[0]
                    if not isinstance(p, n.Literal) or not isinstance(p.value, int):
                        self.error("Expected literal number", p.tok)
                    else:
                        shift = p.value
                        if not 0 <= shift <= 62:
                            self.error(f"bit shift ({shift}) out of range <0..62>", p.tok)
                if v.stat_shift is None:
                    v.stat_shift = shift
                elif v.stat_shift != shift:
                    self.error(f"conflicting bit shifts declared (previously {v.stat_shift})", e.tok)
            return LONG
        if isinstance(e, n.Hist):
            v = self.stat_operand(e.stat, e.tok)
            for p in e.params:
                self.expect(p, LONG)
            if v is not None:
                spec = self.hist_spec(e)
                if spec is not None:
                    if v.hist is None:
                        v.hist = spec
                    elif v.hist != spec:
                        self.error(f"multiple histogram types declared on '__global_{v.name}'", e.tok)
            if e.bucket is not None:
                self.expect(e.bucket, LONG)
                return LONG
            return "hist"
        if isinstance(e, n.Call):
            return self.infer_call(e)
        if isinstance(e, n.PrintFormat):
            return self.infer_print(e)
        if isinstance(e, n.Special):
            if e.op == "@defined":
                return self.tv.defined(self, e)
            if e.op == "@entry":
                return self.tv.entry(self, e)
            if e.op == "@perf":
                return self.tv.perf(self, e)
            self.error(f"{e.op} is not available in this context", e.tok)
            return None
        if isinstance(e, n.TargetVar):
            return self.tv.infer(self, e)           # semantic_targets.py
        if isinstance(e, n.EmbeddedExpr):
            self.error("embedded C code is not supported by uprobe-py (there is no kernel module to run it)",
                       e.tok)
            return None
        raise AssertionError(f"unknown expression {type(e).__name__}")

    def hist_spec(self, e: n.Hist) -> Optional[tuple]:
        if e.kind == "log":
            return ("log",)
        vals = []
        for p in e.params:
            if not isinstance(p, n.Literal) or not isinstance(p.value, int):
                self.error("Expected literal number", p.tok)
                return None
            vals.append(p.value)
        from .runtime.histogram import check_hist_linear
        msg = check_hist_linear(*vals)
        if msg:
            self.error(msg, e.tok)
            return None
        return ("linear", *vals)

    def stat_operand(self, s: n.Expr, tok: Token) -> Optional[Var]:
        if isinstance(s, n.Symbol):
            v = self.scope.get(s.name) or self.globals.get(s.name)
            if v is None:
                v = self.lookup(s.name, s.tok, create=True)
            assert v is not None
            s.sym = v
            v.read = True
            self.set_arity(v, 0, s.tok)
            if v.scope != "global":
                self.stat_local(v, s.tok)
                return None
            self.unify_var(v, STAT, s.tok)
            s.type = v.type
            return v
        if isinstance(s, n.ArrayRef):
            self.infer_arrayref(s, read=True, want=STAT)
            return s.sym if isinstance(s.sym, Var) else None
        self.error("expected aggregate variable", s.tok)
        return None

    def infer_arrayref(self, e: n.ArrayRef, read: bool, membership: bool = False,
                       want: Optional[str] = None) -> Optional[str]:
        v = self.lookup_array(e.name, e.tok, len(e.indexes))
        for idx in e.indexes:
            if idx is not None:
                self.infer(idx)
        if v is None:
            return None
        e.sym = v
        if read:
            v.read = True
        if not self.set_arity(v, len(e.indexes), e.tok):
            return v.type
        for i, idx in enumerate(e.indexes):
            if idx is None:
                continue
            t = idx.type if idx.type else self.infer(idx, v.index_types[i])
            if t is None and v.index_types[i] is not None:
                t = self.infer(idx, v.index_types[i])
            if t is None:
                continue
            if t not in (LONG, STRING):
                self.error(f"index {i} type mismatch ({type_name(t)})", idx.tok)
            elif v.index_types[i] is None:
                v.index_types[i] = t
                v.index_toks[i] = idx.tok
                self.set_changed()
            elif v.index_types[i] != t:
                first = STAT if v.type == STAT else v.index_types[i]   # sic: stap prints "stats" here
                self.error(f"index {i} type mismatch ({type_name(t)})", idx.tok,
                           Diagnostic("semantic error",
                                      f"type of index {i} was first inferred here ({type_name(first)})",
                                      v.index_toks[i]))
        if want is not None:
            self.unify_var(v, want, e.tok)
        return v.type

    def infer_binary(self, e: n.Binary) -> Optional[str]:
        op = e.op
        if op == ".":
            self.expect(e.left, STRING)
            self.expect(e.right, STRING)
            return STRING
        if op in ("<", ">", "<=", ">=", "==", "!="):
            a = self.infer(e.left)
            b = self.infer(e.right, a)
            if a is None and b is not None:
                a = self.infer(e.left, b)
                if a is None and isinstance(e.left, n.Symbol) and isinstance(e.left.sym, Var):
                    self.unify_var(e.left.sym, b, e.left.tok)
            elif b is None and a is not None and isinstance(e.right, n.Symbol) \
                    and isinstance(e.right.sym, Var):
                self.unify_var(e.right.sym, a, e.right.tok)
            if a is not None and b is not None and a != b and STAT not in (a, b):
                if isinstance(e.right, (n.Symbol, n.ArrayRef)) and isinstance(e.right.sym, Var):
                    self.var_mismatch(e.right.sym, a, e.right.tok)
                elif isinstance(e.left, (n.Symbol, n.ArrayRef)) and isinstance(e.left.sym, Var):
                    self.var_mismatch(e.left.sym, b, e.left.tok)
                else:
                    self.error(f"type mismatch: expected {type_name(b)} but found {type_name(a)}", e.left.tok,
                               repeat=2)
            if a == STAT or b == STAT:
                self.error("type mismatch: expected long but found stats", e.tok)
            return LONG
        self.expect(e.left, LONG)
        self.expect(e.right, LONG)
        return LONG

    def lvalue(self, target: n.Expr, t: Optional[str], tok: Token) -> Optional[str]:
        """Type an assignment target with value type `t`; returns the target's type."""
        if isinstance(target, n.Symbol):
            v = self.lookup(target.name, target.tok, create=True)
            assert v is not None
            target.sym = v
            v.written = True
            if self.report:
                v.writes += 1
            if t == STAT and v.scope != "global":
                self.stat_local(v, target.tok)
                return None
            if v.arity is None:
                self.set_arity(v, 0, target.tok)
            elif v.arity:
                self.set_arity(v, 0, target.tok)
            self.unify_var(v, t, tok if t == STAT else target.tok)
            target.type = v.type
            return v.type
        if isinstance(target, n.ArrayRef):
            if any(i is None for i in target.indexes):
                self.error("wildcard not allowed in array assignment", target.tok)
            self.infer_arrayref(target, read=False)
            v = target.sym
            if isinstance(v, Var):
                v.written = True
                self.note_write(v, target.tok)
                self.unify_var(v, t, tok if t == STAT else target.tok)
                target.type = v.type
                return v.type
            return None
        if isinstance(target, n.TargetVar):
            return self.tv.write(self, target, tok)
        self.infer(target)        # a call on the left still has to resolve (stap checks that first)
        self.error("Expecting lvalue for assignment", tok, related=[target.tok])
        return None

    def infer_assign(self, e: n.Assign) -> Optional[str]:
        if isinstance(e.target, n.TargetVar):         # guru writes: semantic_targets.py
            return self.tv.assign(self, e)
        op = e.op
        if op == "<<<":
            self.expect(e.value, LONG)
            self.lvalue(e.target, STAT, e.target.tok)
            return LONG
        if op == ".=":
            self.expect(e.value, STRING)
            self.lvalue(e.target, STRING, e.tok)
            self.mark_rmw(e.target)
            return STRING
        if op != "=":
            self.expect(e.value, LONG)
            self.lvalue(e.target, LONG, e.tok)
            self.mark_rmw(e.target)
            return LONG
        target_t = None
        if isinstance(e.target, (n.Symbol, n.ArrayRef)) and isinstance(e.target.sym, Var):
            target_t = e.target.sym.type
        t = self.infer(e.value, target_t)
        if t == "void":
            self.lvalue(e.target, None, e.tok)
            return None          # stap: the target stays untyped ("unresolved type")
        if t == STAT:
            self.error("type mismatch: expected long but found stats", e.value.tok)
            return None
        have = self.lvalue(e.target, t, e.tok)
        if t is None and have is not None:
            self.infer(e.value, have)
            self.push_type(e.value, have)
        return have or t

    @staticmethod
    def mark_read(target: n.Expr) -> None:
        if isinstance(target, (n.Symbol, n.ArrayRef)) and isinstance(target.sym, Var):
            target.sym.read = True

    @staticmethod
    def mark_rmw(target: n.Expr) -> None:
        if isinstance(target, n.Symbol) and isinstance(target.sym, Var):
            target.sym.rmw = True

    def push_type(self, e: n.Expr, t: str) -> None:
        """Give an untyped symbol (or call to an untyped function) the type its context needs."""
        if t not in (LONG, STRING):
            return
        if isinstance(e, (n.Symbol, n.ArrayRef)) and isinstance(e.sym, Var) and e.sym.type is None:
            self.unify_var(e.sym, t, e.tok)
        elif isinstance(e, n.Call) and isinstance(e.target, FuncInfo) and e.target.ret is None:
            e.target.ret = t
            e.target.ret_tok = e.tok
            self.set_changed()

    def stmt(self, s: n.Stmt) -> None:
        if isinstance(s, n.Block):
            for x in s.stmts:
                self.stmt(x)
        elif isinstance(s, n.ExprStmt):
            self.discarded = s.expr          # a statement's own value is thrown away
            self.infer(s.expr)
        elif isinstance(s, n.If):
            self.expect(s.cond, LONG)
            self.stmt(s.then)
            if s.orelse is not None:
                self.stmt(s.orelse)
        elif isinstance(s, n.While):
            self.expect(s.cond, LONG)
            self.loop_body(s.body)
        elif isinstance(s, n.For):
            if s.init is not None:
                self.infer(s.init)
            if s.cond is not None:
                self.expect(s.cond, LONG)
            if s.incr is not None:
                self.infer(s.incr)
            self.loop_body(s.body)
        elif isinstance(s, n.Foreach):
            self.foreach(s)
        elif isinstance(s, n.Return):
            fi = self.cur_func
            if fi is None:
                self.error("return not in function context", s.tok)
                return
            if s.value is not None:
                t = self.infer(s.value, fi.ret)
                if t is None and fi.ret is not None:
                    self.push_type(s.value, fi.ret)
                elif t is not None and t not in ("void", "hist"):
                    if fi.ret is None:
                        fi.ret = t
                        fi.ret_tok = s.value.tok
                        self.set_changed()
                    elif fi.ret != t:
                        if fi.node.ret is not None:   # declared `function f:long`
                            self.error(f"type mismatch: expected {type_name(t)} but found {type_name(fi.ret)}",
                                       s.value.tok)
                        else:
                            self.error(f"type mismatch ({type_name(t)})", s.value.tok,
                                       Diagnostic("semantic error",
                                                  f"type was first inferred here ({type_name(fi.ret)})",
                                                  fi.ret_tok))
        elif isinstance(s, n.Delete):
            self.delete(s.target)
        elif isinstance(s, n.TryCatch):
            self.stmt(s.body)
            if s.var is not None:
                v = self.lookup(s.var.name, s.var.tok, create=True)
                assert v is not None
                s.var.sym = v
                v.written = True
                self.unify_var(v, STRING, s.var.tok)
            self.stmt(s.handler)
        elif isinstance(s, n.EmbeddedStmt):
            self.error("embedded C code is not supported by uprobe-py (there is no kernel module to run it)",
                       s.tok)
        elif isinstance(s, (n.Break, n.Continue)):
            if not self.loop_depth:
                self.error(f"cannot '{s.tok.text}' outside loop", s.tok)
        elif isinstance(s, (n.Null, n.Next)):
            pass
        else:
            raise AssertionError(f"unknown statement {type(s).__name__}")

    def stat_local(self, v: Var, tok: Token) -> None:
        """Statistics must be global: reported once per variable, which then counts as typed."""
        if self.report and not v.stat_local_reported:
            v.stat_local_reported = True
            self.error("stat locals not supported, missing global declaration? ", tok)
            v.type = v.type or STAT

    def loop_body(self, body: n.Stmt) -> None:
        self.loop_depth += 1
        try:
            self.stmt(body)
        finally:
            self.loop_depth -= 1

    def note_write(self, v: Var, tok: Token) -> None:
        """An array is modified here: remember it for the function, refuse it inside its foreach."""
        if self.cur_func is not None and v.scope == "global":
            self.cur_func.writes.add(v.name)
        if v in self.iterating:
            self.error(f"variable '{v.name}' modified during 'foreach' iteration", tok)

    def delete(self, t: n.Expr) -> None:
        if isinstance(t, n.ArrayRef):
            self.infer_arrayref(t, read=False, membership=True)
            if isinstance(t.sym, Var):
                t.sym.written = True
                t.sym.deleted = True
                self.note_write(t.sym, t.tok)
        elif isinstance(t, n.Symbol):
            v = self.lookup(t.name, t.tok, create=False)
            if v is None:
                self.error("unresolved array in delete statement", t.tok)
                return
            t.sym = v
            v.written = True
            v.deleted = True
        else:
            self.error("invalid operand of delete expression", t.tok)

    def foreach(self, s: n.Foreach) -> None:
        arr = s.array
        elem: Optional[str] = None
        key_types: list[Optional[str]] = []
        if isinstance(arr, n.Hist):
            self.infer(arr)
            key_types = [LONG]
            elem = LONG
            if len(s.keys) != 1:
                self.error("histogram iteration takes one key", s.tok)
        else:
            name = arr.name if isinstance(arr, (n.Symbol, n.ArrayRef)) else ""
            v = self.lookup_array(name, arr.tok, len(s.keys))
            if v is None:
                return
            arr.sym = v  # type: ignore[union-attr]
            v.read = True
            if not self.set_arity(v, len(s.keys), arr.tok):
                return
            if isinstance(arr, n.ArrayRef):
                if len(arr.indexes) != len(s.keys):
                    self.error(f"inconsistent arity ({len(s.keys)} vs {len(arr.indexes)})", arr.tok)
                self.infer_arrayref(arr, read=True, membership=True)
            key_types = v.index_types
            elem = v.type
            if s.sort_agg is not None and v.type not in (None, STAT):
                self.error("aggregate sort is only valid on an array of statistics", s.tok)
        for k, kt in zip(s.keys, key_types):
            kv = self.lookup(k.name, k.tok, create=True)
            assert kv is not None
            k.sym = kv
            kv.written = True
            if kv.scope == "global":
                self.error("foreach key must be a local variable", k.tok)
            if kt is not None:
                self.unify_var(kv, kt, k.tok)
            elif kv.type is not None and not isinstance(arr, n.Hist):
                v2 = arr.sym  # type: ignore[union-attr]
                i = s.keys.index(k)
                if isinstance(v2, Var) and v2.index_types[i] is None:
                    v2.index_types[i] = kv.type
                    v2.index_toks[i] = k.tok
                    self.set_changed()
        if s.value is not None:
            vv = self.lookup(s.value.name, s.value.tok, create=True)
            assert vv is not None
            s.value.sym = vv
            vv.written = True
        if s.limit is not None:
            self.expect(s.limit, LONG)
        iterated = arr.sym if isinstance(arr, (n.Symbol, n.ArrayRef)) and isinstance(arr.sym, Var) else None
        if iterated is not None:
            self.iterating.append(iterated)
        try:
            self.loop_body(s.body)
        finally:
            if iterated is not None:
                self.iterating.pop()
        # stap types the value variable after the body
        if s.value is not None and isinstance(s.value.sym, Var):
            if elem == STAT:
                self.error("cannot assign a statistics aggregate to a variable", s.value.tok)
            elif elem is not None:
                self.unify_var(s.value.sym, elem, s.value.tok)

    # --- driver ----------------------------------------------------------------
    def walk_all(self) -> None:
        seen_bodies: set[int] = set()
        body_probes: dict[int, list[Resolved]] = {}
        for p in self.probes:
            body_probes.setdefault(id(p.body), []).append(p)
        for p in self.probes:
            key = id(p.body)
            self.scope = self.body_locals.setdefault(key, {})
            prebound = p.spec.params.get("prebound")
            if prebound and key not in seen_bodies:
                # alias locals a probe family assigns before the body runs (probes/syscalls.py)
                for name, typ in prebound.items():
                    if name not in self.scope:
                        self.scope[name] = Var(name, "local", p.point.tok, type=typ, type_tok=p.point.tok,
                                               arity=0, arity_tok=p.point.tok, written=True,
                                               pyname=f"l_{py(name)}")
            self.cur_func = None
            self.cur_probes = body_probes[key]
            if key not in seen_bodies:
                seen_bodies.add(key)
                self.stmt(p.body)
            if p.condition is not None:
                saved = self.scope
                self.scope = {}
                self.expect(p.condition, LONG)
                for name, v in self.scope.items():
                    self.error(f"probe condition must use only global variables ('{name}' is local)", v.tok)
                self.scope = saved
        self.cur_probes = []
        done: set[tuple[str, int]] = set()
        while True:
            pending = [k for k in self.funcs if k not in done]
            if not pending:
                break
            for k in pending:
                done.add(k)
                fi = self.funcs[k]
                self.cur_func = fi
                self.scope = fi.locals
                for p in fi.params:
                    self.scope.setdefault(p.name, p)
                if isinstance(fi.node.body, n.EmbeddedStmt):
                    self.error("embedded C code is not supported by uprobe-py (there is no kernel module to "
                               "run it)", fi.node.body.tok)
                else:
                    self.stmt(fi.node.body)
        self.cur_func = None

    def check(self) -> Program:
        for self.iteration in range(30):
            self.changed = False
            self.walk_all()
            if not self.changed and self.iteration > 0:
                break
        self.report = True
        self.walk_all()
        self.final_checks()
        functions = {fi.pyname: fi for fi in self.funcs.values()}
        return Program(self.globals, functions, self.probes, self.body_locals, self.warnings)

    def final_checks(self) -> None:
        def scopes() -> list[dict[str, Var]]:
            return list(self.body_locals.values()) + [fi.locals for fi in self.funcs.values()]
        for sc in scopes():
            for v in sc.values():
                if v.scope == "local" and not v.written:
                    others = [o.name for o in sc.values() if o is not v and o.written]
                    hint = similar(v.name, others) if others else ""
                    self.warnings.append(Diagnostic("WARNING", f"never-assigned local variable '{v.name}'{hint}",
                                                    v.tok))
                if v.type is None:
                    # stap reports an untyped local once, then three times per read, once per write
                    self.errors.append(Diagnostic("semantic error", "unresolved type ", v.tok,
                                                  repeat=1 + 3 * v.uses + v.writes))
        for v in self.globals.values():
            if v.type is None and (v.read or v.written):
                self.errors.append(Diagnostic("semantic error", "unresolved type ", v.tok))
            if v.arity and any(t is None for t in v.index_types) and (v.read or v.written):
                self.errors.append(Diagnostic("semantic error", "unresolved type ", v.tok))
        for fi in self.funcs.values():
            for p in fi.params:
                if p.type is None:
                    self.errors.append(Diagnostic("semantic error", "unresolved type ", p.tok))


def check(script: n.Script, probes: list[Resolved], library: object | None = None,
          extra_functions: Optional[list[n.Function]] = None,
          extra_globals: Optional[list[n.Global]] = None,
          guru: bool = False) -> tuple[Program, list[Diagnostic]]:
    from .semantic_targets import TargetChecks
    c = Checker(script, probes, library, extra_functions or [], extra_globals or [])
    c.guru = guru
    c.tv = TargetChecks(guru)
    prog = c.check()
    prog.tvars = c.tv.table            # type: ignore[attr-defined]
    # stap resolves symbols before it infers types, and stops after the first phase that failed
    symbol_phase = ("unresolved function", "arity mismatch", "unresolved arity-")
    first = [d for d in c.errors if d.message.startswith(symbol_phase)]
    return prog, first or c.errors
