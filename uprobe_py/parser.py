"""Tokens → AST: a hand-written recursive-descent parser for the stap language.

This module parses declarations (probes, aliases, globals, functions), probe
points and statements; expressions are in parser_expr.py, the token cursor in
token_stream.py. Messages and recovery copy stap's: the first error in a top-level
declaration is recorded and parsing resumes at the next `probe`, `global`,
`function`, `private` or `%{`, so one run reports every broken declaration.

Input is the preprocessed token list (preprocess.py); output is nodes.Script.
"""
from __future__ import annotations

from typing import Optional

from . import nodes as n
from .diagnostics import Diagnostic
from .lexer import Token
from .parser_expr import STAT_OPS, ExpressionParser
from .token_stream import ParseError

TOP_LEVEL_EXPECT = "expected 'probe', 'global', 'private', 'function', or '%{'"


class Parser(ExpressionParser):
    def __init__(self, tokens: list[Token], privileged: bool = False, file: str = "") -> None:
        self.toks = tokens
        self.pos = 0
        self.errors: list[Diagnostic] = []
        self.privileged = privileged
        self.file = file
        self.in_function = False
        self.global_names: set[str] = set()

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
            return self.parse_string_literal()
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
        points = []
        for comps in alternatives:
            suffixes = {c.suffix for c in comps if c.suffix}
            points.append(n.ProbePoint(start, comps, optional or bool(suffixes),
                                       sufficient or "!" in suffixes, cond))
        return points

    def parse_brace_components(self) -> list[n.Component]:
        self.expect_op("{")
        comps = []
        while True:
            comp = self.parse_component()
            if self.cur.is_op("?", "!"):     # `{trace("a")!, trace("b")}`: per-alternative suffix
                comp.suffix = self.next().text
            comps.append(comp)
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


def parse(tokens: list[Token], privileged: bool = False, file: str = "") -> tuple[n.Script, list[Diagnostic]]:
    p = Parser(tokens, privileged, file)
    script = p.parse_script()
    return script, p.errors
