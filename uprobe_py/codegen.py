"""Pass 3: the checked program → Python source, one function per probe and script function.

The generated module is compiled once (program.py). A probe handler is a plain
function `p_N(c)` taking the per-hit Context; script functions are `f_NAME_ARITY(c,
...)`. Everything decidable at start-up is decided here: format strings are
pre-compiled into `fmt_N` callables, regexes into `rx_N`, built-ins bound to
module names, array limits baked in as constants. Nothing walks the AST per hit.

Names: script locals are `l_x`, globals `g_x`, so they cannot collide with the
runtime helpers (all starting with `_`) that `runtime/ops.py` exports.

The writer records, for each generated line, the script token a run-time error on
that line is reported at (stap's `near identifier 'a' at t.stp:3:5`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from . import nodes as n
from .builtins.registry import Builtin
from .lexer import Token
from .options import Options
from .runtime import formatting
from .symbols import STAT, STRING, FuncInfo, Program, Var
from .symbols import py

MAX64 = (1 << 63) - 1


@dataclass
class Generated:
    source: str
    consts: dict[str, Any]
    line_tokens: dict[int, Token]
    handlers: dict[int, str]            # resolved probe index -> function name
    globals: dict[str, Var]
    maxnesting: int
    tokens: list[Token]                 # tokens run-time helpers name by index (division)
    builtin_calls: list[Token]          # where built-ins are called


class Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0
        self.line_tokens: dict[int, Token] = {}

    def line(self, text: str, tok: Optional[Token] = None) -> None:
        self.lines.append("    " * self.level + text)
        if tok is not None:
            self.line_tokens[len(self.lines)] = tok

    def indent(self) -> None:
        self.level += 1

    def dedent(self) -> None:
        self.level -= 1


def default_of(t: Optional[str]) -> str:
    return '""' if t == STRING else "0"


class FunctionGen:
    """Generates one Python function (a probe handler or a script function)."""

    def __init__(self, gen: "Codegen", w: Writer, scope: dict[str, Var],
                 func: Optional[FuncInfo] = None) -> None:
        self.g = gen
        self.w = w
        self.scope = scope
        self.func = func
        self.tmp = 0
        self.risky: Optional[Token] = None
        self.assigned_globals: set[str] = set()
        # stap's INTERRUPTIBLE is 1 by default, so every handler gets MAXACTION_INTERRUPTIBLE
        self.maxaction = gen.opts.maxaction_interruptible
        self.loop_stack: list[str] = []
        self.probe: Any = None               # the resolved probe a handler is generated for

    def t(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    # --- variables ----------------------------------------------------------------
    def var(self, e: n.Expr) -> Var:
        v = getattr(e, "sym", None)
        assert isinstance(v, Var), f"unresolved symbol {getattr(e, 'name', '?')}"
        if v.scope == "global":
            return v
        return self.scope.get(v.name, v)

    def name(self, v: Var) -> str:
        return f"g_{py(v.name)}" if v.scope == "global" else f"l_{py(v.name)}"

    def key(self, idx: list[Optional[n.Expr]]) -> str:
        parts = [self.expr(i) if i is not None else "None" for i in idx]
        return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"

    # --- expressions ------------------------------------------------------------
    def cond(self, e: n.Expr) -> str:
        """A Python expression whose truth is the stap condition (no int conversion)."""
        if isinstance(e, n.Binary):
            if e.op in ("<", ">", "<=", ">=", "==", "!="):
                return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
            if e.op == "&&":
                return f"({self.cond(e.left)} and {self.cond(e.right)})"
            if e.op == "||":
                return f"({self.cond(e.left)} or {self.cond(e.right)})"
        if isinstance(e, n.Unary) and e.op == "!":
            return f"(not {self.cond(e.operand)})"
        if isinstance(e, n.InArray):
            return self.in_array(e, as_cond=True)
        if isinstance(e, n.Regex):
            rx = self.g.regex(str(e.pattern.value))
            return f"({'not ' if e.op == '!~' else ''}_rematch(c, {rx}, {self.expr(e.left)}))"
        return self.expr(e)

    def expr(self, e: n.Expr) -> str:
        if isinstance(e, n.Literal):
            if isinstance(e.value, str):
                return repr(e.value[: self.g.maxlen])
            return repr(e.value)
        if isinstance(e, n.Symbol):
            v = self.var(e)
            return self.name(v)
        if isinstance(e, n.ArrayRef):
            v = self.var(e)
            if v.type == STAT:
                return f"g_{py(v.name)}.get({self.key(e.indexes)})"
            return f"g_{py(v.name)}.get({self.key(e.indexes)}, {default_of(v.type)})"
        if isinstance(e, n.Unary):
            o = self.expr(e.operand)
            if e.op == "-":
                return f"_w(-{o})"
            if e.op == "!":
                return f"(0 if {self.cond(e.operand)} else 1)"
            if e.op == "~":
                return f"(~{o})"
            return o
        if isinstance(e, n.Binary):
            return self.binary(e)
        if isinstance(e, n.Ternary):
            return f"({self.expr(e.true)} if {self.cond(e.cond)} else {self.expr(e.false)})"
        if isinstance(e, n.Assign):
            return self.assign_expr(e)
        if isinstance(e, n.IncDec):
            return self.incdec_expr(e)
        if isinstance(e, n.InArray):
            return self.in_array(e, as_cond=False)
        if isinstance(e, n.Regex):
            rx = self.g.regex(str(e.pattern.value))
            neg = "not " if e.op == "!~" else ""
            return f"(1 if {neg}_rematch(c, {rx}, {self.expr(e.left)}) else 0)"
        if isinstance(e, n.StatOp):
            self.risky = e.tok
            fn = {"@count": "_s_count", "@sum": "_s_sum", "@min": "_s_min", "@max": "_s_max",
                  "@avg": "_s_avg", "@variance": "_s_variance"}[e.op]
            return f"{fn}({self.expr(e.stat)})"
        if isinstance(e, n.Hist):
            self.risky = e.tok
            if e.bucket is not None:
                return f"_hist_index({self.expr(e.stat)}, {self.expr(e.bucket)})"
            return self.hist_text(e)
        if isinstance(e, n.Call):
            return self.call(e)
        if isinstance(e, n.PrintFormat):
            return self.print_format(e)
        if isinstance(e, (n.Special, n.TargetVar)):      # $var, @defined, @entry: codegen_targets.py
            from .codegen_targets import target_expr
            return target_expr(self, e)
        raise AssertionError(f"cannot generate {type(e).__name__}")

    def hist_text(self, e: n.Hist) -> str:
        el = self.g.opts.hist_elision
        extra = "" if el is None else f", elision={el}"
        if e.kind == "log":
            return f"_fmt_hist_log({self.expr(e.stat)}{extra})"
        lo, hi, step = (p.value for p in e.params)  # type: ignore[attr-defined]
        return f"_fmt_hist_linear({self.expr(e.stat)}, {lo}, {hi}, {step}{extra})"

    def ring(self, e: n.Expr) -> tuple[str, int]:
        """`e` as exact integer arithmetic, congruent to stap's value modulo 2**64.

        +, - and * commute with reduction modulo 2**64, so a chain of them is computed
        exactly and wrapped once by the caller: one `_w()` per chain instead of one per
        operator, and no nesting that grows with the chain. Returns (text, precedence):
        1 for + -, 2 for *, 3 for unary minus, 4 for anything self-contained.
        """
        if isinstance(e, n.Binary) and e.op in ("+", "-", "*"):
            prec = 2 if e.op == "*" else 1
            a, pa = self.ring(e.left)
            b, pb = self.ring(e.right)
            if pa < prec:
                a = f"({a})"
            if pb <= prec:
                b = f"({b})"
            return f"{a} {e.op} {b}", prec
        if isinstance(e, n.Unary) and e.op == "-":
            x, px = self.ring(e.operand)
            return (f"-{x}" if px >= 3 else f"-({x})"), 3
        text = self.expr(e)
        return text, (3 if text.startswith("-") else 4)

    def concat_parts(self, e: n.Expr, out: list[str]) -> None:
        """Flatten a chain of `.`: one cut to MAXSTRINGLEN at the end gives the same prefix."""
        if isinstance(e, n.Binary) and e.op == ".":
            self.concat_parts(e.left, out)
            self.concat_parts(e.right, out)
        else:
            out.append(self.expr(e))

    def binary(self, e: n.Binary) -> str:
        op = e.op
        if op == ".":
            parts: list[str] = []
            self.concat_parts(e, parts)
            return f"({' + '.join(parts)})[:{self.g.maxlen}]"
        if op in ("+", "-", "*"):
            return f"_w({self.ring(e)[0]})"
        a, b = self.expr(e.left), self.expr(e.right)
        if op in ("<", ">", "<=", ">=", "==", "!="):
            return f"(1 if {a} {op} {b} else 0)"
        if op in ("&&", "||"):
            return f"(1 if {self.cond(e)} else 0)"
        if op in ("&", "|", "^"):
            return f"({a} {op} {b})"
        if op in ("<<", ">>") and isinstance(e.left, n.Literal) and isinstance(e.right, n.Literal) \
                and e.left.tok.text != "-" and isinstance(e.right.value, int) and not 0 <= e.right.value < 64:
            return a        # stap's constant folding leaves the left operand of an over-wide shift
        if op in ("/", "%"):
            fn = "_div" if op == "/" else "_mod"
            return f"{fn}({a}, {b}, {self.g.token_index(e.tok)})"
        fn = "_shl" if op == "<<" else "_shr"
        return f"{fn}({a}, {b})"

    def in_array(self, e: n.InArray, as_cond: bool) -> str:
        arr = e.array
        v = self.var(arr)
        if any(i is None for i in arr.indexes):
            test = f"_in_wild(g_{py(v.name)}, ({', '.join(self.expr(i) if i else 'None' for i in arr.indexes)},))"
            return test
        test = f"{self.key(arr.indexes)} in g_{py(v.name)}"
        return f"({test})" if as_cond else f"(1 if {test} else 0)"

    def value_op(self, op: str, cur: str, val: str, blame: Token) -> str:
        """The new value of `cur OP= val`; a division by 0 blames `blame` (the right operand)."""
        if op == ".=":
            return f"({cur} + {val})[:{self.g.maxlen}]"
        o = op[:-1]
        if o in ("+", "-", "*"):
            return f"_w({cur} {o} {val})"
        if o in ("&", "|", "^"):
            return f"({cur} {o} {val})"
        if o in ("/", "%"):
            return f"{'_div' if o == '/' else '_mod'}({cur}, {val}, {self.g.token_index(blame)})"
        return f"{'_shl' if o == '<<' else '_shr'}({cur}, {val})"

    def assign_expr(self, e: n.Assign) -> str:
        tgt = e.target
        if isinstance(tgt, n.TargetVar):             # guru writes: codegen_targets.py
            from .codegen_targets import target_assign
            return target_assign(self, e)
        val = self.expr(e.value)
        if isinstance(tgt, n.Symbol):
            v = self.var(tgt)
            name = self.name(v)
            if v.scope == "global":
                self.assigned_globals.add(name)
            if e.op == "<<<":
                return f"_stat_add_scalar({name}, {val})"
            if e.op == "=":
                return f"({name} := {val})"
            return f"({name} := {self.value_op(e.op, name, val, e.value.tok)})"
        assert isinstance(tgt, n.ArrayRef)
        v = self.var(tgt)
        self.risky = tgt.tok
        arr = f"g_{py(v.name)}"
        if e.op == "<<<":
            return f"_stat_add_elem({arr}, {self.key(tgt.indexes)}, {val})"
        if e.op == "=":
            return f"_aset({arr}, {self.key(tgt.indexes)}, {val})"
        k = self.t()
        cur = f"{arr}.get({k}, {default_of(v.type)})"
        return f"_aset({arr}, ({k} := {self.key(tgt.indexes)}), {self.value_op(e.op, cur, val, e.value.tok)})"

    def incdec_expr(self, e: n.IncDec) -> str:
        d = "+" if e.op == "++" else "-"
        tgt = e.target
        if isinstance(tgt, n.Symbol):
            v = self.var(tgt)
            name = self.name(v)
            if v.scope == "global":
                self.assigned_globals.add(name)
            new = f"({name} := _w({name} {d} 1))"
            if e.prefix:
                return new
            inv = "-" if d == "+" else "+"
            return f"_w({new} {inv} 1)"
        assert isinstance(tgt, n.ArrayRef)
        v = self.var(tgt)
        self.risky = tgt.tok
        return f"_incdec(g_{py(v.name)}, {self.key(tgt.indexes)}, {d}1, {e.prefix})"

    def call(self, e: n.Call) -> str:
        args = [self.expr(a) for a in e.args]
        tgt = e.target
        self.risky = e.tok
        if isinstance(tgt, FuncInfo):
            return f"{tgt.pyname}(c{''.join(', ' + a for a in args)})"
        assert isinstance(tgt, Builtin)
        self.g.builtin_calls.append(e.tok)
        name = self.g.builtin(tgt)
        if tgt.needs_ctx:
            args = ["c"] + args
        text = f"{name}({', '.join(args)})"
        if tgt.ret == STRING:
            text = f"{text}[:{self.g.maxlen}]"
        return text

    def to_text(self, e: n.Expr) -> str:
        """An argument of print/println/printd as text."""
        if e.type == "hist":
            return self.expr(e)
        if e.type == STRING:
            return self.expr(e)
        return f"str({self.expr(e)})"

    def print_format(self, e: n.PrintFormat) -> str:
        name = e.name
        base = name[1:] if name.startswith("s") else name
        if base == "printf":
            fmt = self.g.format(str(e.fmt.value), name == "sprintf")  # type: ignore[union-attr]
            args = [self.expr(a) for a in e.args]
            self.risky = e.tok
            tup = "(" + "".join(a + ", " for a in args) + ")"
            text = f"{fmt}({tup})"
        elif base in ("printd", "printdln"):
            delim = repr(str(e.fmt.value))  # type: ignore[union-attr]
            parts = [self.to_text(a) for a in e.args]
            text = f"{delim}.join(({''.join(p + ', ' for p in parts)}))"
            if base == "printdln":
                text = f"({text} + '\\n')"
        else:
            parts = [self.to_text(a) for a in e.args] or ["''"]
            text = " + ".join(parts) if len(parts) > 1 else parts[0]
            if any(a.type == "hist" for a in e.args):
                self.risky = e.tok
            if base == "println":
                if len(e.args) == 1 and e.args[0].type == "hist":
                    pass   # println of a histogram adds no newline (stap runtime)
                else:
                    text = f"({text} + '\\n')"
        if name == "sprintf":
            return text   # the sprintf formatter already cuts to MAXSTRINGLEN
        if name.startswith("s"):
            return f"({text})[:{self.g.maxlen}]"
        return f"_out({text})"

    # --- statements -------------------------------------------------------------
    def stmts(self, body: n.Stmt) -> None:
        if isinstance(body, n.Block):
            if not body.stmts:
                self.w.line("pass")
            for s in body.stmts:
                self.stmt(s)
        else:
            self.stmt(body)

    def line(self, text: str, tok: Token) -> None:
        self.w.line(text, self.risky or tok)
        self.risky = None

    def stmt(self, s: n.Stmt) -> None:
        w = self.w
        self.risky = None
        if getattr(s, "elided", False):      # dropped by elision.py, as stap's optimizer drops it
            w.line("pass")
            return
        if isinstance(s, n.Block):
            if not s.stmts:
                w.line("pass")
            for x in s.stmts:
                self.stmt(x)
        elif isinstance(s, n.Null):
            w.line("pass")
        elif isinstance(s, n.ExprStmt):
            self.expr_stmt(s.expr)
        elif isinstance(s, n.If):
            keyword = "if"
            branch: Optional[n.Stmt] = s
            while isinstance(branch, n.If) and not getattr(branch, "elided", False):
                # `else if` chains become elif: no indentation per branch
                self.line(f"{keyword} {self.cond(branch.cond)}:", branch.tok)
                w.indent()
                self.stmts(branch.then)
                w.dedent()
                keyword = "elif"
                branch = branch.orelse
            if branch is not None:
                w.line("else:")
                w.indent()
                self.stmts(branch)
                w.dedent()
        elif isinstance(s, n.While):
            self.line(f"while {self.cond(s.cond)}:", s.tok)
            w.indent()
            self.action_check(s.body, s.tok)
            self.stmts(s.body)
            w.dedent()
        elif isinstance(s, n.For):
            if s.init is not None:
                self.expr_stmt(s.init)
            first = self.t()
            w.line(f"{first} = True")
            w.line("while True:")
            w.indent()
            w.line(f"if {first}:")
            w.line(f"    {first} = False")
            if s.incr is not None:
                w.line("else:")
                w.indent()
                self.expr_stmt(s.incr)
                w.dedent()
            if s.cond is not None:
                self.line(f"if not {self.cond(s.cond)}:", s.tok)
                w.line("    break")
            self.action_check(s.body, s.tok)
            self.stmts(s.body)
            w.dedent()
        elif isinstance(s, n.Foreach):
            self.foreach(s)
        elif isinstance(s, n.Break):
            w.line("break")
        elif isinstance(s, n.Continue):
            w.line("continue")
        elif isinstance(s, n.Next):
            if self.func is None:
                w.line("return")
            elif self.func.next_pyname:      # on to the next overload of this function
                args = "".join(f", l_{py(p.name)}" for p in self.func.params)
                w.line(f"return {self.func.next_pyname}(c{args})")
            else:
                w.line(f"return {default_of(self.func.ret)}")
        elif isinstance(s, n.Return):
            if s.value is None:
                w.line(f"return {default_of(self.func.ret if self.func else None)}")
            else:
                self.line(f"return {self.expr(s.value)}", s.tok)
        elif isinstance(s, n.Delete):
            self.delete(s)
        elif isinstance(s, n.TryCatch):
            w.line("try:")
            w.indent()
            self.stmts(s.body)
            w.dedent()
            w.line("except _StapRuntimeError as _e:")
            w.indent()
            w.line("if not _e.catchable: raise")      # MAXACTION ends the probe regardless
            if s.var is not None:
                v = self.var(s.var)
                name = self.name(v)
                if v.scope == "global":
                    self.assigned_globals.add(name)
                w.line(f"{name} = _e.msg[:{self.g.maxlen}]")
            self.stmts(s.handler)
            w.dedent()
        else:
            raise AssertionError(f"cannot generate {type(s).__name__}")

    def action_check(self, body: n.Stmt, tok: Token) -> None:
        """Count a loop iteration's statements; stap blames the body's first statement."""
        stmts = body.stmts if isinstance(body, n.Block) else [body]
        k = len(stmts) + 1
        blame = stmts[0].tok if stmts else tok
        while isinstance(blame, Token) and stmts and isinstance(stmts[0], n.Block) and stmts[0].stmts:
            stmts = stmts[0].stmts
            blame = stmts[0].tok
        self.w.line(f"c.actions += {k}")
        self.w.line(f"if c.actions > {self.maxaction}: _maxaction()", _first_token(stmts[0]) if stmts else tok)

    def expr_stmt(self, e: n.Expr) -> None:
        w = self.w
        tok = e.tok
        if isinstance(e, n.Assign) and isinstance(e.target, n.Symbol):
            v = self.var(e.target)
            name = self.name(v)
            if v.scope == "global" and e.op != "<<<":
                self.assigned_globals.add(name)
            val = self.expr(e.value)
            if e.op == "<<<":
                self.line(f"{name}.add({val})", tok)
            elif e.op == "=":
                self.line(f"{name} = {val}", tok)
            else:
                self.line(f"{name} = {self.value_op(e.op, name, val, e.value.tok)}", tok)
            return
        if isinstance(e, n.Assign) and isinstance(e.target, n.ArrayRef):
            v = self.var(e.target)
            arr = f"g_{py(v.name)}"
            key = self.key(e.target.indexes)
            val = self.expr(e.value)
            atok = e.target.tok
            if e.op == "<<<":
                self.line(f"_stat_add_elem({arr}, {key}, {val})", atok)
                return
            k = self.t()
            self.line(f"{k} = {key}", atok)
            if e.op == "=":
                self.line(f"{k}_v = {val}", e.value.tok)
            else:
                cur = f"{arr}.get({k}, {default_of(v.type)})"
                self.line(f"{k}_v = {self.value_op(e.op, cur, val, e.value.tok)}", e.value.tok)
            w.line(f"if len({arr}) >= {self.g.limit(v)} and {k} not in {arr}: {arr}.make_room({k})", atok)
            w.line(f"{arr}[{k}] = {k}_v")
            return
        if isinstance(e, n.IncDec) and isinstance(e.target, n.ArrayRef):
            v = self.var(e.target)
            arr = f"g_{py(v.name)}"
            k = self.t()
            d = "+" if e.op == "++" else "-"
            atok = e.target.tok
            self.line(f"{k} = {self.key(e.target.indexes)}", atok)
            w.line(f"{k}_v = {arr}.get({k}, 0) {d} 1")
            w.line(f"if len({arr}) >= {self.g.limit(v)} and {k} not in {arr}: {arr}.make_room({k})", atok)
            w.line(f"{arr}[{k}] = {k}_v if {-MAX64 - 1} <= {k}_v <= {MAX64} else _w({k}_v)")
            return
        if isinstance(e, n.IncDec) and isinstance(e.target, n.Symbol):
            v = self.var(e.target)
            name = self.name(v)
            if v.scope == "global":
                self.assigned_globals.add(name)
            d = "+" if e.op == "++" else "-"
            w.line(f"{name} = _w({name} {d} 1)", tok)
            return
        text = self.expr(e)
        self.line(text, tok)

    def delete(self, s: n.Delete) -> None:
        t = s.target
        if isinstance(t, n.ArrayRef):
            v = self.var(t)
            if all(i is None for i in t.indexes):
                self.line(f"g_{py(v.name)}.clear()", s.tok)          # delete a[*, *]: everything
            elif any(i is None for i in t.indexes):
                pat = ", ".join(self.expr(i) if i else "None" for i in t.indexes)
                self.line(f"_delete_wild(g_{py(v.name)}, ({pat},))", s.tok)
            else:
                self.line(f"g_{py(v.name)}.pop({self.key(t.indexes)}, None)", s.tok)
            return
        assert isinstance(t, n.Symbol)
        v = self.var(t)
        name = self.name(v)
        if v.arity or v.type == STAT:
            self.line(f"{name}.clear()", s.tok)
        else:
            if v.scope == "global":
                self.assigned_globals.add(name)
            self.line(f"{name} = {default_of(v.type)}", s.tok)

    def foreach(self, s: n.Foreach) -> None:
        w = self.w
        keys = []
        for k in s.keys:
            kv = self.var(k)
            keys.append(self.name(kv))
            if kv.scope == "global":
                self.assigned_globals.add(self.name(kv))
        val_name = "_"
        if s.value is not None:
            vv = self.var(s.value)
            val_name = self.name(vv)
            if vv.scope == "global":
                self.assigned_globals.add(val_name)
        limit = self.expr(s.limit) if s.limit is not None else "None"
        if isinstance(s.array, n.Hist):
            src = f"_hist_buckets({self.expr(s.array.stat)})"
            if limit != "None":
                src = f"{src}[:max(0, {limit})]"
            self.line(f"for {keys[0]}, {val_name} in {src}:", s.tok)
        else:
            v = self.var(s.array)
            pattern = "None"
            if isinstance(s.array, n.ArrayRef):
                pattern = "(" + "".join((self.expr(i) if i else "None") + ", " for i in s.array.indexes) + ")"
            agg = repr(s.sort_agg)
            src = (f"_foreach_items(g_{py(v.name)}, {s.sort_col!r}, {s.sort_dir}, {agg}, {limit}, {pattern}, "
                   f"{len(s.keys)})")
            target = keys[0] if len(keys) == 1 else "(" + ", ".join(keys) + ")"
            self.line(f"for {target}, {val_name} in {src}:", s.tok)
        w.indent()
        self.action_check(s.body, s.tok)
        self.stmts(s.body)
        w.dedent()

    # --- whole functions --------------------------------------------------------
    def emit(self, header: str, body: n.Stmt, prologue: list[str], epilogue: list[str],
             locals_: dict[str, Var], params: set[str], uses_actions: bool) -> None:
        w = self.w
        w.line(header)
        w.indent()
        start = len(w.lines)
        for line in prologue:
            w.line(line)
        for name, v in sorted(locals_.items()):
            if name in params or v.scope != "local":
                continue
            w.line(f"l_{py(name)} = {default_of(v.type)}")
        if uses_actions:
            w.line("c.actions = 0")
        self.stmts(body)
        for line in epilogue:
            w.line(line)
        w.dedent()
        if self.assigned_globals:
            w.lines.insert(start, "    global " + ", ".join(sorted(self.assigned_globals)))
            # line numbers after the insertion moved by one
            moved = {}
            for ln, tok in w.line_tokens.items():
                moved[ln + 1 if ln > start else ln] = tok
            w.line_tokens = moved


def _first_token(s: n.Stmt) -> Token:
    """The token stap names for a statement: an expression statement's leftmost token."""
    if isinstance(s, n.ExprStmt):
        e: Any = s.expr
        while isinstance(e, (n.Assign, n.Binary, n.Ternary)) or (isinstance(e, n.IncDec) and not e.prefix):
            e = e.target if isinstance(e, (n.Assign, n.IncDec)) else (e.left if isinstance(e, n.Binary)
                                                                         else e.cond)
        return e.tok
    return s.tok


def has_loops_or_calls(node: Any) -> bool:
    if isinstance(node, (n.While, n.For, n.Foreach)):
        return True
    if isinstance(node, n.Call) and isinstance(node.target, FuncInfo):
        return True
    if isinstance(node, list):
        return any(has_loops_or_calls(x) for x in node)
    if isinstance(node, n.Node):
        return any(has_loops_or_calls(val) for val in n.subtrees(node))
    return False


class Codegen:
    def __init__(self, prog: Program, opts: Options) -> None:
        self.prog = prog
        self.opts = opts
        self.maxlen = opts.maxstringlen - 1
        self.consts: dict[str, Any] = {}
        self._formats: dict[tuple[str, bool], str] = {}
        self.tokens: list[Token] = []
        self.builtin_calls: list[Token] = []     # call sites of built-ins (error locations)
        self._regexes: dict[str, str] = {}

    def format(self, fmt: str, sprintf: bool) -> str:
        name = self._formats.get((fmt, sprintf))
        if name is None:
            name = f"fmt_{len(self._formats)}"
            self._formats[(fmt, sprintf)] = name
            self.consts[name] = formatting.compile_format(fmt, sprintf=sprintf,
                                                          maxstringlen=self.opts.maxstringlen)
        return name

    def regex(self, pattern: str) -> str:
        from .runtime.regex import compile_regex
        name = self._regexes.get(pattern)
        if name is None:
            name = f"rx_{len(self._regexes)}"
            self._regexes[pattern] = name
            self.consts[name] = compile_regex(pattern)
        return name

    def limit(self, v: Var) -> int:
        """The entry limit of a global array, baked into the generated code."""
        if v.decl is not None and v.decl.size:
            return v.decl.size
        return self.opts.maxmapentries

    def token_index(self, tok: Token) -> int:
        """A script token a run-time helper may name in its error, by index."""
        self.tokens.append(tok)
        return len(self.tokens) - 1

    def builtin(self, b: Builtin) -> str:
        name = f"b_{b.name}_{len(b.params)}"
        self.consts[name] = b.impl
        return name

    def generate(self) -> Generated:
        w = Writer()
        w.line("# generated by uprobe-py: one function per probe handler and script function")
        recursive = self.recursive_functions()
        # stap sizes MAXNESTING from the call graph, adding 10 slots for recursive scripts
        # (measured: 13 for any script whose recursion is shallow)
        maxnesting = self.opts.maxnesting if self.opts.maxnesting is not None else \
            (max(self.static_depth(), 3) + 10 if recursive else self.static_depth())
        for fi in sorted(self.prog.functions.values(), key=lambda f: f.pyname):
            fg = FunctionGen(self, w, fi.locals, fi)
            params = ", ".join(f"l_{py(p.name)}" for p in fi.params)
            check = fi.pyname in recursive or self.opts.maxnesting is not None
            w.line("")
            if check:
                self.emit_checked_function(w, fi, maxnesting)
                continue
            fg.emit(f"def {fi.pyname}(c{', ' + params if params else ''}):", fi.node.body,
                    [], [f"return {default_of(fi.ret)}"], fi.locals,
                    {p.name for p in fi.params}, False)
        handlers: dict[int, str] = {}
        for rp in self.prog.probes:
            name = f"p_{rp.index}"
            handlers[rp.index] = name
            scope = self.prog.probe_locals.get(id(rp.body), {})
            fg = FunctionGen(self, w, scope)
            fg.probe = rp                        # target variables resolve per probe
            w.line("")
            w.line(f"# {rp.pp}  ({rp.probe.tok.loc})")
            prologue = []
            if rp.condition is not None:
                prologue = [f"if not {fg.cond(rp.condition)}: return"]
            bound = self.prebound_locals(rp, scope, prologue)
            fg.emit(f"def {name}(c):", rp.body, prologue, [], scope, bound, has_loops_or_calls(rp.body))
        return Generated("\n".join(w.lines) + "\n", self.consts, w.line_tokens, handlers,
                         self.prog.globals, maxnesting, self.tokens, self.builtin_calls)

    def prebound_locals(self, rp: Any, scope: dict[str, Var], prologue: list[str]) -> set[str]:
        """Alias locals a family computes per hit (probes/syscalls.py): bind the ones the body reads."""
        pre = rp.spec.params.get("prebound")
        if not pre:
            return set()
        names = [nm for nm in sorted(pre) if nm in scope and (scope[nm].read or scope[nm].uses)]
        if names:
            const = f"sc_{rp.index}"
            self.consts[const] = rp.spec.params["alias"].binder(names)
            targets = ", ".join(f"l_{py(nm)}" for nm in names)
            prologue.append(f"{targets}, = {const}(c)")
        return set(pre)

    def emit_checked_function(self, w: Writer, fi: FuncInfo, maxnesting: int) -> None:
        fg = FunctionGen(self, w, fi.locals, fi)
        params = ", ".join(f"l_{py(p.name)}" for p in fi.params)
        w.line(f"def {fi.pyname}(c{', ' + params if params else ''}):")
        w.indent()
        start = len(w.lines)
        w.line(f"if c.nesting >= {maxnesting}: _maxnesting()", fi.node.tok)
        w.line("c.nesting += 1")
        w.line("try:")
        w.indent()
        pnames = {p.name for p in fi.params}
        for name, v in sorted(fi.locals.items()):
            if name not in pnames and v.scope == "local":
                w.line(f"l_{py(name)} = {default_of(v.type)}")
        fg.stmts(fi.node.body)
        w.line(f"return {default_of(fi.ret)}")
        w.dedent()
        w.line("finally:")
        w.line("    c.nesting -= 1")
        w.dedent()
        if fg.assigned_globals:
            w.lines.insert(start, "    global " + ", ".join(sorted(fg.assigned_globals)))
            w.line_tokens = {(ln + 1 if ln > start else ln): t for ln, t in w.line_tokens.items()}

    def call_graph(self) -> dict[str, set[str]]:
        return {fi.pyname: set(fi.calls) for fi in self.prog.functions.values()}

    def recursive_functions(self) -> set[str]:
        graph = self.call_graph()
        out: set[str] = set()
        for start in graph:
            stack = list(graph[start])
            seen: set[str] = set()
            while stack:
                f = stack.pop()
                if f == start:
                    out.add(start)
                    break
                if f in seen:
                    continue
                seen.add(f)
                stack.extend(graph.get(f, ()))
        return out

    def static_depth(self) -> int:
        graph = self.call_graph()
        memo: dict[str, int] = {}

        def depth(f: str, path: frozenset[str]) -> int:
            if f in memo:
                return memo[f]
            best = 1 + max((depth(g, path | {f}) for g in graph.get(f, ()) if g not in path), default=0)
            memo[f] = best
            return best
        return max((depth(f, frozenset()) for f in graph), default=0)


def generate(prog: Program, opts: Options) -> Generated:
    return Codegen(prog, opts).generate()
