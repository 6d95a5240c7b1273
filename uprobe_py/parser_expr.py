"""Expressions of the stap language, by precedence (lowest first).

Assignment (right-associative, including `<<<` and `.=`), `?:`, `||`, `&&`,
`|`, `^`, `&`, `in`, comparisons and `=~`/`!~`, shifts, `.` (concatenation),
`+ -`, `* / %`, unary, `++/--`, then values: literals, variables, array
elements, calls (the print family parsed specially), `$target` chains and the
`@` operators (statistics, histograms, @cast, @defined...). A mixin of Parser.
"""
from __future__ import annotations

from typing import Optional

from . import nodes as n
from .lexer import Token
from .token_stream import ParseError, TokenStream

ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=", ".=", "<<<")
COMPARE_OPS = ("<", ">", "<=", ">=", "==", "!=")
PRINT_FUNCS = frozenset("print println printf printd printdln sprint sprintln sprintf sprintd sprintdln".split())
STAT_OPS = frozenset("@count @sum @min @max @avg @variance".split())


class ExpressionParser(TokenStream):
    def parse_string_literal(self) -> n.Literal:
        """The string literal at the current token; adjacent literals are glued."""
        t = self.cur
        self.next()
        s = str(t.value)
        while self.cur.kind == "string":
            s += str(self.next().value)
        return n.Literal(t, s, "string")

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
            return self.parse_string_literal()
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
                arrow = self.next()
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
                tv.__dict__.setdefault("comp_toks", []).append(arrow)     # errors name the operator
            elif self.cur.is_op("["):
                bracket = self.next()
                idx = self.parse_expression()
                self.expect_op("]")
                tv.components.append(("[]", idx))
                tv.__dict__.setdefault("comp_toks", []).append(bracket)
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
        if name.text in ("printd", "printdln", "sprintd", "sprintdln") and len(args) < 2:
            # stap's printd takes a delimiter and at least two values
            raise self.fail("expected literal string or number")
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
