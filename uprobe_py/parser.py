"""Tokens → AST: a hand-written recursive-descent parser for the stap language.

Precedence follows stap's parser (lowest first): assignment (right-associative,
including `<<<` and `.=`), `?:`, `||`, `&&`, `|`, `^`, `&`, `in`, comparisons
and `=~`/`!~`, shifts, `.` (concatenation), `+ -`, `* / %`, unary, `++/--`,
then values. Messages and recovery copy stap's: the first error in a top-level
declaration is recorded and parsing resumes at the next `probe`, `global`,
`function`, `private` or `%{`, so one run reports every broken declaration.

Input is the preprocessed token list (preprocess.py); output is nodes.Script.
"""
from __future__ import annotations

from typing import Optional

from . import nodes as n
from .diagnostics import Diagnostic
from .lexer import Token

ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=", ".=", "<<<")
COMPARE_OPS = ("<", ">", "<=", ">=", "==", "!=")
PRINT_FUNCS = frozenset("print println printf printd printdln sprint sprintln sprintf sprintd sprintdln".split())
STAT_OPS = frozenset("@count @sum @min @max @avg @variance".split())
TOP_LEVEL_EXPECT = "expected 'probe', 'global', 'private', 'function', or '%{'"


class ParseError(Exception):
    def __init__(self, msg: str, tok: Token, skip_some: bool = True, at_word: str = "saw") -> None:
        super().__init__(msg)
        self.msg = msg
        self.tok = tok
        self.at_word = at_word
        self.skip_some = skip_some    # recovery consumes the current token first


class Parser:
    def __init__(self, tokens: list[Token], privileged: bool = False, file: str = "") -> None:
        self.toks = tokens
        self.pos = 0
        self.errors: list[Diagnostic] = []
        self.privileged = privileged
        self.file = file
        self.in_function = False
        self.global_names: set[str] = set()

    # --- token stream ------------------------------------------------------
    @property
    def cur(self) -> Token:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> Token:
        i = min(self.pos + k, len(self.toks) - 1)
        return self.toks[i]

    def next(self) -> Token:
        t = self.toks[self.pos]
        if t.kind != "eof":
            self.pos += 1
        return t

    def fail(self, msg: str, tok: Optional[Token] = None) -> ParseError:
        tok = tok or self.cur
        if tok.error:
            # a lexer/preprocessor error carried in the stream surfaces where it is met
            return ParseError(tok.error, tok, at_word="at")
        return ParseError(msg, tok)

    def expect_op(self, op: str) -> Token:
        if not self.cur.is_op(op):
            raise self.fail(f"expected '{op}'")
        return self.next()

    def expect_kw(self, kw: str) -> Token:
        if not self.cur.is_kw(kw):
            raise self.fail(f"expected '{kw}'")
        return self.next()

    def expect_ident(self) -> Token:
        if self.cur.kind != "identifier":
            raise self.fail("expected identifier")
        return self.next()

    # --- top level ----------------------------------------------------------
    def parse_script(self) -> n.Script:
        script = n.Script(self.cur)
        while self.cur.kind != "eof":
            try:
                self.parse_declaration(script)
            except ParseError as e:
                self.errors.append(Diagnostic("parse error", e.msg, e.tok, at_word=e.at_word))
                self.in_function = False
                if e.skip_some:
                    self.recover()
        return script

    def recover(self) -> None:
        """stap's recovery: drop the current token, then skip to a top-level start."""
        self.next()
        while self.cur.kind != "eof":
            t = self.cur
            if t.is_kw("probe", "global", "function", "private") or t.kind == "embedded-code":
                return
            self.next()

    def unprivileged_embedded(self, tok: Token) -> None:
        self.errors.append(Diagnostic("parse error", "embedded code in unprivileged script; need stap -g", tok))

    def parse_declaration(self, script: n.Script) -> None:
        t = self.cur
        if t.is_kw("probe"):
            self.parse_probe(script)
        elif t.is_kw("global"):
            self.next()
            self.parse_global(script, private=False)
        elif t.is_kw("function"):
            self.next()
            script.functions.append(self.parse_function(t, private=False))
        elif t.is_kw("private"):
            self.next()
            if self.cur.is_kw("global"):
                self.next()
                self.parse_global(script, private=True)
            elif self.cur.is_kw("function"):
                ft = self.next()
                script.functions.append(self.parse_function(ft, private=True))
            elif self.cur.kind == "identifier":
                self.parse_global(script, private=True)   # `private NAME` is a private global
            else:
                raise self.fail("expected 'function' or identifier")
        elif t.kind == "embedded-code":
            self.next()
            if not self.privileged:
                self.unprivileged_embedded(t)
            script.embedded.append(n.EmbeddedStmt(t, str(t.value)))
        else:
            raise self.fail(TOP_LEVEL_EXPECT)

    def parse_global(self, script: n.Script, private: bool) -> None:
        while True:
            name = self.expect_ident()
            if name.text in self.global_names:
                raise ParseError("duplicate global name", name)
            self.global_names.add(name.text)
            g = n.Global(name, name.text, private=private, file=self.file)
            if self.cur.is_op("%"):
                self.next()
                g.wrap = True
            if self.cur.is_op("["):
                self.next()
                num = self.cur
                if num.kind != "number" or not isinstance(num.value, int):
                    raise self.fail("expected number")
                if num.value <= 0:
                    raise ParseError("array size out of range", self.toks[-1])
                self.next()
                g.size = num.value
                self.expect_op("]")
            if self.cur.is_op("%"):
                self.next()
                g.wrap = True
            if self.cur.is_op("="):
                self.next()
                g.init = self.parse_literal()
            script.globals.append(g)
            if not self.cur.is_op(","):
                if self.cur.is_op(";"):     # stap accepts `global a;`
                    self.next()
                return
            self.next()

    def parse_literal(self, allow_negative: bool = True) -> n.Literal:
        t = self.cur
        if t.kind == "string":
            self.next()
            s = str(t.value)
            while self.cur.kind == "string":  # adjacent literals are glued
                s += str(self.next().value)
            return n.Literal(t, s, "string")
        neg = False
        if allow_negative and t.is_op("-"):
            neg = True
            self.next()
        num = self.cur
        if num.kind != "number":
            raise self.fail("expected literal string or number")
        if not isinstance(num.value, int):
            raise self.fail("number invalid or out of range")
        self.next()
        v = num.value
        if neg:
            v = -v if v != -(1 << 63) else v
        return n.Literal(t, v, "long")

    def parse_type(self) -> str:
        t = self.cur
        if t.is_kw("long", "string"):
            self.next()
            return t.text
        raise self.fail("expected 'string' or 'long'")

    def parse_function(self, kw: Token, private: bool) -> n.Function:
        name = self.expect_ident()
        ret = None
        if self.cur.is_op(":"):
            self.next()
            ret = self.parse_type()
        self.expect_op("(")
        params: list[n.Param] = []
        if not self.cur.is_op(")"):
            while True:
                p = self.expect_ident()
                if any(q.name == p.text for q in params):
                    raise ParseError("duplicate parameter names", p)
                ptype = None
                if self.cur.is_op(":"):
                    self.next()
                    ptype = self.parse_type()
                params.append(n.Param(p, p.text, ptype))
                if self.cur.is_op(","):
                    self.next()
                    continue
                break
        if not self.cur.is_op(")"):
            raise self.fail("expected ',' or ')'")
        self.next()
        priority = 0
        if self.cur.is_op(":"):
            self.next()
            lit = self.parse_literal()
            priority = int(lit.value) if isinstance(lit.value, int) else 0
        body: n.Block | n.EmbeddedStmt
        if self.cur.kind == "embedded-code":
            t = self.next()
            if not self.privileged:
                self.unprivileged_embedded(t)
            body = n.EmbeddedStmt(t, str(t.value))
        else:
            self.in_function = True
            body = self.parse_block()
            self.in_function = False
        return n.Function(name, name.text, params, ret, body, private, priority, self.file)

    # --- probes ---------------------------------------------------------------
    def parse_probe(self, script: n.Script) -> None:
        kw = self.next()
        points = self.parse_probe_points()
        if self.cur.is_op("=", "+="):
            op = self.next()
            for p in points:
                if p.condition is not None or p.optional or p.sufficient:
                    raise ParseError("probe point alias name cannot be optional nor conditional", p.tok)
            targets = self.parse_probe_points()
            while self.cur.is_op("=", "+="):     # `probe a = b = c { }`: more alias names
                op = self.next()
                points = points + targets
                targets = self.parse_probe_points()
            body = self.parse_block()
            alias = n.ProbeAlias(kw, points, targets, body, op.text == "+=")
            if self.cur.is_op(",") and self.peek().is_op("{"):
                self.next()
                alias.epilogue_body = self.parse_block()
            script.aliases.append(alias)
            return
        body = self.parse_block()
        script.probes.append(n.Probe(kw, points, body, self.privileged))

    def parse_probe_points(self) -> list[n.ProbePoint]:
        points: list[n.ProbePoint] = []
        while True:
            points.extend(self.parse_probe_point())
            if self.cur.is_op(","):
                self.next()
                continue
            return points

    def parse_probe_point(self) -> list[n.ProbePoint]:
        start = self.cur
        # Each entry is a list of alternative components (brace expansion gives several).
        alternatives: list[list[n.Component]] = [[]]
        while True:
            if self.cur.is_op("{"):
                comps = self.parse_brace_components()
            else:
                comps = [self.parse_component()]
            alternatives = [a + [c] for a in alternatives for c in comps]
            if self.cur.is_op("."):
                self.next()
                continue
            break
        optional = sufficient = False
        if self.cur.is_op("?"):
            self.next()
            optional = True
        elif self.cur.is_op("!"):
            self.next()
            optional = sufficient = True
        cond = None
        if self.cur.is_kw("if"):
            self.next()
            self.expect_op("(")
            cond = self.parse_expression()
            self.expect_op(")")
        if not (self.cur.is_op(",", "{", "=", "+=")):
            raise self.fail("expected one of ', { } = +='")
        return [n.ProbePoint(start, comps, optional, sufficient, cond) for comps in alternatives]

    def parse_brace_components(self) -> list[n.Component]:
        self.expect_op("{")
        comps = []
        while True:
            comps.append(self.parse_component())
            if self.cur.is_op(","):
                self.next()
                continue
            self.expect_op("}")
            return comps

    def parse_component(self) -> n.Component:
        start = self.cur
        if not (start.kind in ("identifier", "keyword") or start.is_op("*")):
            raise self.fail("expected identifier or '*' or '{'")
        name = ""
        prev: Optional[Token] = None
        # Glue adjacent tokens (no whitespace between them): `sys_*`, `*_foo`, `**`.
        while True:
            t = self.cur
            if not (t.kind in ("identifier", "keyword", "number") or t.is_op("*")):
                break
            if prev is not None and not (t.loc.line == prev.loc.line
                                         and t.loc.col == prev.loc.col + len(prev.text)):
                break
            name += t.text
            prev = self.next()
        arg = None
        if self.cur.is_op("("):
            self.next()
            arg = self.parse_literal()
            self.expect_op(")")
        # the component's token shows its whole glued name (`nosuch*`), as stap's does
        return n.Component(Token(start.kind, name, start.loc), name, arg)

    # --- statements -------------------------------------------------------------
    def parse_block(self) -> n.Block:
        lb = self.expect_op("{")
        stmts: list[n.Stmt] = []
        while not self.cur.is_op("}"):
            if self.cur.kind == "eof":
                raise self.fail("expected statement")
            stmts.append(self.parse_statement())
        self.next()
        return n.Block(lb, stmts)

    def parse_statement(self) -> n.Stmt:
        stmt = self.parse_statement_body()
        # simple statements swallow one trailing ';' (so `if (x) a = 1; else ...` works)
        if isinstance(stmt, (n.ExprStmt, n.Return, n.Break, n.Continue, n.Next, n.Delete, n.EmbeddedStmt)) \
                and self.cur.is_op(";"):
            self.next()
        return stmt

    def parse_statement_body(self) -> n.Stmt:
        t = self.cur
        if t.is_op(";"):
            self.next()
            return n.Null(t)
        if t.is_op("{"):
            return self.parse_block()
        if t.kind == "keyword":
            kw = t.text
            if kw == "if":
                self.next()
                self.expect_op("(")
                cond = self.parse_expression()
                self.expect_op(")")
                then = self.parse_statement()
                orelse = None
                if self.cur.is_kw("else"):
                    self.next()
                    orelse = self.parse_statement()
                return n.If(t, cond, then, orelse)
            if kw == "while":
                self.next()
                self.expect_op("(")
                cond = self.parse_expression()
                self.expect_op(")")
                return n.While(t, cond, self.parse_statement())
            if kw == "for":
                self.next()
                self.expect_op("(")
                init = None if self.cur.is_op(";") else self.parse_expression()
                self.expect_op(";")
                cond = None if self.cur.is_op(";") else self.parse_expression()
                self.expect_op(";")
                incr = None if self.cur.is_op(")") else self.parse_expression()
                self.expect_op(")")
                return n.For(t, init, cond, incr, self.parse_statement())
            if kw == "foreach":
                return self.parse_foreach()
            if kw == "try":
                self.next()
                body = self.parse_block()
                self.expect_kw("catch")
                var = None
                if self.cur.is_op("("):
                    self.next()
                    v = self.expect_ident()
                    var = n.Symbol(v, v.text)
                    self.expect_op(")")
                return n.TryCatch(t, body, var, self.parse_block())
            if kw == "break":
                self.next()
                return n.Break(t)
            if kw == "continue":
                self.next()
                return n.Continue(t)
            if kw == "next":
                self.next()
                return n.Next(t)
            if kw == "return":
                if not self.in_function:
                    raise ParseError("found 'return' not in function context", t)
                self.next()
                if self.cur.is_op(";", "}"):
                    return n.Return(t, None)
                return n.Return(t, self.parse_expression())
            if kw == "delete":
                self.next()
                return n.Delete(t, self.parse_value_for_delete())
            if kw in ("string", "long"):
                pass
            else:
                raise self.fail("expected statement")
        if t.kind == "embedded-code":
            self.next()
            if not self.privileged:
                self.unprivileged_embedded(t)
            return n.EmbeddedStmt(t, str(t.value))
        if t.kind == "eof" or (t.kind == "junk" and not t.error):
            raise self.fail("expected statement")
        return n.ExprStmt(t, self.parse_expression())

    def parse_value_for_delete(self) -> n.Expr:
        e = self.parse_unary_level()
        return e

    def parse_sort(self) -> int:
        if self.cur.is_op("+"):
            self.next()
            return 1
        if self.cur.is_op("-"):
            self.next()
            return -1
        return 0

    def parse_foreach(self) -> n.Foreach:
        kw = self.next()
        self.expect_op("(")
        sort_col: Optional[int] = None
        sort_dir = 0

        def set_sort(col: int, d: int, tok: Token) -> None:
            nonlocal sort_col, sort_dir
            if d == 0:
                return
            if sort_col is not None:
                raise ParseError("multiple sort directives", tok)
            sort_col, sort_dir = col, d

        value = None
        # `v = [k] in a` or `v = k in a`: an identifier followed by (sort) '='
        if self.cur.kind == "identifier" and (self.peek().is_op("=") or
                                               (self.peek().is_op("+", "-") and self.peek(2).is_op("="))):
            vt = self.next()
            value = n.Symbol(vt, vt.text)
            st = self.cur
            set_sort(0, self.parse_sort(), st)
            self.expect_op("=")
        keys: list[n.Symbol] = []
        bracketed = False
        if self.cur.is_op("["):
            bracketed = True
            self.next()
            while True:
                kt = self.expect_ident()
                keys.append(n.Symbol(kt, kt.text))
                st = self.cur
                set_sort(len(keys), self.parse_sort(), st)
                if self.cur.is_op(","):
                    self.next()
                    continue
                if not self.cur.is_op("]"):
                    raise self.fail("expected ',' or ']'")
                self.next()
                break
        else:
            kt = self.expect_ident()
            keys.append(n.Symbol(kt, kt.text))
            st = self.cur
            set_sort(1, self.parse_sort(), st)
        self.expect_kw("in")
        array: n.Expr
        at = self.cur
        if at.kind == "operator" and at.text in ("@hist_linear", "@hist_log"):
            array = self.parse_hist(self.next())
        elif at.kind == "identifier" and not at.text.startswith(("@", "$")):
            self.next()
            if self.cur.is_op("["):
                array = n.ArrayRef(at, at.text, self.parse_index_list(allow_star=True))
            else:
                array = n.Symbol(at, at.text)
        else:
            raise self.fail("expected identifier or statistical operation")
        sort_agg = None
        if self.cur.kind == "operator" and self.cur.text in STAT_OPS:
            sort_agg = self.next().text
        st = self.cur
        set_sort(0, self.parse_sort(), st)
        limit = None
        if self.cur.is_kw("limit"):
            self.next()
            limit = self.parse_expression()
        self.expect_op(")")
        body = self.parse_statement()
        return n.Foreach(kw, value, keys, array, sort_col, sort_dir, sort_agg, limit, body, bracketed)

    # --- expressions --------------------------------------------------------
    def parse_expression(self) -> n.Expr:
        return self.parse_assignment()

    def parse_assignment(self) -> n.Expr:
        lhs = self.parse_ternary()
        t = self.cur
        if t.kind == "operator" and t.text in ASSIGN_OPS:
            self.next()   # whether `lhs` is an lvalue is pass 2's question, as in stap
            rhs = self.parse_expression()
            return n.Assign(t, t.text, lhs, rhs)
        return lhs

    def parse_ternary(self) -> n.Expr:
        cond = self.parse_binary(0)
        if self.cur.is_op("?"):
            q = self.next()
            yes = self.parse_expression()
            self.expect_op(":")
            no = self.parse_expression()
            return n.Ternary(q, cond, yes, no)
        return cond

    # Binary levels, lowest first; `in` is a level of its own (handled specially).
    LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",), ("&&",), ("|",), ("^",), ("&",), ("in",),
        COMPARE_OPS + ("=~", "!~"), ("<<", ">>"), (".",), ("+", "-"), ("*", "/", "%"),
    )

    def parse_binary(self, level: int) -> n.Expr:
        if level == len(self.LEVELS):
            return self.parse_unary_level()
        ops = self.LEVELS[level]
        if ops == ("in",):
            return self.parse_array_in(level)
        left = self.parse_binary(level + 1)
        while self.cur.kind == "operator" and self.cur.text in ops:
            t = self.next()
            if t.text in ("=~", "!~"):
                if self.cur.kind != "string":
                    raise self.fail("expected literal string")
                left = n.Regex(t, t.text, left, self.parse_literal(allow_negative=False))
                continue
            right = self.parse_binary(level + 1)
            left = n.Binary(t, t.text, left, right)
        return left

    def parse_array_in(self, level: int) -> n.Expr:
        if self.cur.is_op("["):
            keys = self.parse_index_list(allow_star=True)
            in_tok = self.expect_kw("in")
            arr = self.parse_array_name()
            return n.InArray(in_tok, n.ArrayRef(arr, arr.text, keys))
        left = self.parse_binary(level + 1)
        if self.cur.is_kw("in"):
            in_tok = self.next()
            arr = self.parse_array_name()
            return n.InArray(in_tok, n.ArrayRef(arr, arr.text, [left]))
        return left

    def parse_array_name(self) -> Token:
        t = self.cur
        if t.kind != "identifier" or t.text.startswith("$"):
            raise self.fail("expected identifier or statistical operation")
        return self.next()

    def parse_index_list(self, allow_star: bool = False) -> list[Optional[n.Expr]]:
        self.expect_op("[")
        out: list[Optional[n.Expr]] = []
        while True:
            if allow_star and self.cur.is_op("*") and self.peek().is_op(",", "]"):
                self.next()
                out.append(None)
            else:
                out.append(self.parse_expression())
            if self.cur.is_op(","):
                self.next()
                continue
            if not self.cur.is_op("]"):
                raise self.fail("expected one of '] ,'")
            self.next()
            return out

    def parse_unary_level(self) -> n.Expr:
        t = self.cur
        if t.kind == "operator" and t.text in ("+", "-", "!", "~"):
            self.next()
            if t.text == "-" and self.cur.kind == "number" and not self.peek().is_op("++", "--"):
                num = self.cur
                if isinstance(num.value, int):
                    self.next()
                    v = num.value
                    return n.Literal(t, -v if v != -(1 << 63) else v, "long")
            return n.Unary(t, t.text, self.parse_unary_level())
        if t.is_op("++", "--"):
            self.next()
            target = self.parse_unary_level()
            return n.IncDec(t, t.text, True, target)
        if t.is_op("&"):
            self.next()
            v = self.parse_unary_level()
            if not isinstance(v, n.TargetVar):
                v = n.TargetVar(v.tok, "@autocast", args=[v])
            v.addressof = True
            return v
        e = self.parse_value()
        if self.cur.is_op("->", "[") and not isinstance(e, n.TargetVar):
            e = self.parse_target_suffixes(n.TargetVar(e.tok, "@autocast", args=[e]))
        while self.cur.is_op("++", "--"):
            op = self.next()
            e = n.IncDec(op, op.text, False, e)
        return e

    def parse_value(self) -> n.Expr:
        t = self.cur
        if t.is_op("("):
            self.next()
            e = self.parse_expression()
            self.expect_op(")")
            return e
        if t.kind == "number":
            if not isinstance(t.value, int):
                raise self.fail("number invalid or out of range")
            self.next()
            return n.Literal(t, t.value, "long")
        if t.kind == "string":
            self.next()
            s = str(t.value)
            while self.cur.kind == "string":  # adjacent literals are glued
                s += str(self.next().value)
            return n.Literal(t, s, "string")
        if t.kind == "embedded-code":
            if not self.privileged:
                raise ParseError("embedded expression code in unprivileged script; need stap -g", t,
                                 skip_some=False)
            self.next()
            return n.EmbeddedExpr(t, str(t.value))
        if t.kind == "operator" and t.text.startswith("@"):
            return self.parse_at_operator(t)
        if t.kind == "identifier":
            name = t.text
            if name.startswith("$"):
                return self.parse_target_suffixes(self.next_target(t))
            self.next()
            if self.cur.is_op("("):
                return self.parse_call(t)
            if self.cur.is_op("["):
                return n.ArrayRef(t, name, self.parse_index_list(allow_star=True))
            return n.Symbol(t, name)
        raise self.fail("expected literal string or number")

    def next_target(self, t: Token) -> n.TargetVar:
        self.next()
        name = t.text
        pretty = 0
        if name.endswith("$$") and len(name) > 3:
            pretty, name = 2, name[:-2]
        elif name.endswith("$") and len(name) > 2 and not name.startswith("$$") or \
                (name.startswith("$$") and name.endswith("$") and name.count("$") == 3):
            pretty, name = 1, name[:-1]
        return n.TargetVar(t, name, pretty=pretty)

    def parse_target_suffixes(self, tv: n.TargetVar) -> n.Expr:
        while True:
            if self.cur.is_op("->"):
                self.next()
                f = self.cur
                if f.kind == "identifier" and f.text in ("$", "$$"):
                    self.next()
                    tv.pretty = len(f.text)
                    continue
                if f.is_op("$"):               # `$var->$` / `$var->$$`: pretty-print the pointee
                    self.next()
                    tv.pretty = 1
                    if self.cur.is_op("$"):
                        self.next()
                        tv.pretty = 2
                    continue
                if f.kind not in ("identifier", "keyword"):
                    raise self.fail("expected identifier")
                self.next()
                fname = f.text
                if fname.endswith("$$"):
                    tv.pretty, fname = 2, fname[:-2]
                elif fname.endswith("$"):
                    tv.pretty, fname = 1, fname[:-1]
                tv.components.append(("->", fname))
            elif self.cur.is_op("["):
                self.next()
                idx = self.parse_expression()
                self.expect_op("]")
                tv.components.append(("[]", idx))
            elif self.cur.is_op("$"):
                self.next()
                tv.pretty = 1
                if self.cur.is_op("$"):
                    self.next()
                    tv.pretty = 2
            else:
                return tv

    def parse_call(self, name: Token) -> n.Expr:
        self.expect_op("(")
        if name.text in PRINT_FUNCS:
            return self.parse_print(name)
        args = self.parse_arguments(allow_empty=True)
        return n.Call(name, name.text, args)

    def parse_arguments(self, allow_empty: bool) -> list[n.Expr]:
        """`a, b, c )` — a call's argument list through its closing parenthesis."""
        args: list[n.Expr] = []
        if not (allow_empty and self.cur.is_op(")")):
            while True:
                args.append(self.parse_expression())
                if not self.cur.is_op(","):
                    break
                self.next()
        if not self.cur.is_op(")"):
            raise self.fail("expected one of ', )'")
        self.next()
        return args

    def parse_print(self, name: Token) -> n.PrintFormat:
        """print-family calls: printf's format (printd's delimiter) must be a literal string."""
        fmt = None
        if name.text in ("printf", "sprintf", "printd", "printdln", "sprintd", "sprintdln"):
            t = self.cur
            if t.kind != "string":
                raise self.fail("expected literal string")
            fmt = self.parse_literal(allow_negative=False)
            if name.text in ("printf", "sprintf"):
                from .runtime.formatting import FormatError, parse_format
                try:
                    parse_format(str(fmt.value))
                except FormatError as e:
                    raise self.fail(str(e))
            if not self.cur.is_op(")"):
                if not self.cur.is_op(","):
                    raise self.fail("expected one of ', )'")
                self.next()
        # print() and printd(",") need an argument; println() and printf's format alone need none
        allow_empty = name.text in ("println", "sprintln", "printf", "sprintf")
        if fmt is not None and self.cur.is_op(")") and not allow_empty:
            raise self.fail("expected literal string or number")
        args = self.parse_arguments(allow_empty=allow_empty)
        return n.PrintFormat(name, name.text, fmt, args)

    def parse_hist(self, t: Token) -> n.Hist:
        self.expect_op("(")
        stat = self.parse_expression()
        params: list[n.Expr] = []
        kind = "linear" if t.text == "@hist_linear" else "log"
        for _ in range(3 if kind == "linear" else 0):
            self.expect_op(",")
            neg = self.cur.is_op("-")
            if (self.cur.kind != "number" and not neg) or (neg and self.peek().kind != "number"):
                raise self.fail("expected number")
            params.append(self.parse_literal())
        self.expect_op(")")
        return n.Hist(t, kind, stat, params)

    def parse_at_operator(self, t: Token) -> n.Expr:
        name = t.text
        if name in STAT_OPS:
            self.next()
            self.expect_op("(")
            stat = self.parse_expression()
            params: list[n.Expr] = []
            if name == "@variance" and self.cur.is_op(","):
                self.next()
                params.append(self.parse_expression())
            if not self.cur.is_op(")"):
                raise self.fail("expected one of ', )'")
            self.next()
            return n.StatOp(t, name, stat, params)
        if name in ("@hist_linear", "@hist_log"):
            self.next()
            h = self.parse_hist(t)
            if self.cur.is_op("["):
                self.next()
                h.bucket = self.parse_expression()
                self.expect_op("]")
            return h
        if name in ("@cast", "@var", "@kregister", "@uregister"):
            self.next()
            self.expect_op("(")
            args = [self.parse_expression()]
            while self.cur.is_op(","):
                self.next()
                if name == "@cast" and self.cur.kind != "string":
                    raise self.fail("expected string")
                args.append(self.parse_expression())
            if not self.cur.is_op(")"):
                raise self.fail("expected one of ', )'")
            self.next()
            tv = n.TargetVar(t, name, args=args)
            return self.parse_target_suffixes(tv)
        if name in ("@defined", "@entry", "@perf", "@const", "@probewrite", "@choose_defined"):
            self.next()
            self.expect_op("(")
            args = [self.parse_expression()]
            while self.cur.is_op(","):
                self.next()
                args.append(self.parse_expression())
            self.expect_op(")")
            return n.Special(t, name, args)
        raise self.fail(f"unknown operator {name}")


def parse(tokens: list[Token], privileged: bool = False, file: str = "") -> tuple[n.Script, list[Diagnostic]]:
    p = Parser(tokens, privileged, file)
    script = p.parse_script()
    return script, p.errors
