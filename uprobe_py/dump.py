"""`-p1`: print the parsed script the way `stap -p1` prints its parse tree.

The layout is stap 4.8's own (staptree.cxx, the `print` methods): every
expression operand is parenthesised (`(x) = ((1) + ((2) * (3)))`), unary
operators print as `op(operand)` so `-1` reads `-(1)`, a block prints each
statement followed by `;` on its own line, `if`/`try` end their own line
(hence the lone `;` lines after them), `while` prints as the `for` loop stap
turns it into, and `foreach` always brackets its keys.

Strings: stap's lexer keeps the C escapes `\\a \\b \\t \\n \\v \\f \\r \\0-7 \\x
\\\\` as written and drops the backslash of any other escape, and a literal
prints that content with only `"` re-escaped. A printf format or printd
delimiter is printed C-quoted instead (backslashes doubled, unprintable bytes
as octal). Our AST keeps decoded string values, so the stap content is rebuilt
from the tokens' source text (`_string_content`).

Order per file: top-level embedded C (no line break after it), globals,
probe aliases, probes, functions; then one empty line.
"""
from __future__ import annotations

from typing import Optional

from . import nodes as n
from .lexer import Lexer, Token, decode_string
from .source import Source

_KEPT_ESCAPES = frozenset("abtnvfr01234567\\x")


def dump_script(script: n.Script, name: str) -> str:
    return "# parse tree dump\n" + Dumper().file(script, name) + "\n"


# ---- string literals ---------------------------------------------------------

def _lexer_content(inner: str) -> str:
    """The body of a string token (between the quotes) as stap's lexer stores it."""
    out = []
    i = 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\" and i + 1 < len(inner):
            nxt = inner[i + 1]
            if nxt in _KEPT_ESCAPES:
                out.append("\\" + nxt)
            else:
                out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def qstring(s: str) -> str:
    """stap's lex_cast_qstring: C-quote, unprintable bytes as three-digit octal."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        if c < 0x20 or c > 0x7e:
            c &= 0xFF
            out.append("\\" + format(c, "03o"))
        elif ch in '"\\':
            out.append("\\" + ch)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _reencode(value: str) -> str:
    """Content stap would hold for a string it quoted itself (e.g. `@1`): lex(qstring(value))."""
    return _lexer_content(qstring(value)[1:-1])


_LINE_STARTS: dict[int, tuple[Source, list[int]]] = {}


def _line_starts(src: Source) -> list[int]:
    hit = _LINE_STARTS.get(id(src))
    if hit is None or hit[0] is not src:
        starts = [0]
        find = src.text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        hit = (src, starts)
        _LINE_STARTS[id(src)] = hit
    return hit[1]


def _token_in_source(tok: Token) -> Optional[int]:
    """Offset of `tok` in its source text, if the text there is the token's spelling."""
    loc = tok.loc
    src = getattr(loc, "source", None)
    if src is None or not isinstance(getattr(src, "text", None), str):
        return None
    starts = _line_starts(src)
    if not 1 <= loc.line <= len(starts):
        return None
    off = starts[loc.line - 1] + loc.col - 1
    if src.text.startswith(tok.text, off):
        return off
    return None


def _following_strings(tok: Token, off: int, limit: int) -> list[Token]:
    """Re-lex the string tokens that directly follow `tok` in its source."""
    src = tok.loc.source
    lx = Lexer(src)
    # position the lexer just after the token
    lx.pos, lx.line, lx.col = off, tok.loc.line, tok.loc.col
    lx._advance(len(tok.text))
    out: list[Token] = []
    while len(out) < limit:
        t = lx.next_token()
        if not isinstance(t, Token) or t.kind != "string":
            break
        out.append(t)
    return out


def _string_content(lit: n.Literal) -> str:
    value = str(lit.value)
    tok = lit.tok
    if tok is None or tok.kind != "string" or not tok.text.startswith('"') or not tok.text.endswith('"') \
            or len(tok.text) < 2:
        return _reencode(value)
    off = _token_in_source(tok)
    if off is None:     # a positional `@N` or `@#`: stap quoted the text itself
        return _reencode(value)
    inner = tok.text[1:-1]
    decoded = decode_string(inner)
    content = _lexer_content(inner)
    if decoded == value:
        return content
    if not value.startswith(decoded):
        return _reencode(value)
    # adjacent literals glued by the parser: find the rest in the source
    rest = value[len(decoded):]
    try:
        more = _following_strings(tok, off, 64)
    except Exception:   # pragma: no cover - defensive: never fail a dump over this
        more = []
    for t in more:
        piece = decode_string(t.text[1:-1])
        if not rest.startswith(piece):
            break
        content += _lexer_content(t.text[1:-1])
        rest = rest[len(piece):]
        if not rest:
            return content
    return content + _reencode(rest)


def _wrap64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def literal_text(lit: n.Literal) -> str:
    """A literal as stap prints it where the grammar wants a literal (globals, probe point args)."""
    if isinstance(lit.value, str):
        return '"' + _string_content(lit).replace('"', '\\"') + '"'
    return str(lit.value)


# ---- the printer -------------------------------------------------------------------

class Dumper:
    def file(self, script: n.Script, name: str) -> str:
        out = [f"# file {name}\n"]
        for e in script.embedded:
            out.append("%{" + e.code + "%}")
        for g in script.globals:
            out.append("global " + self.global_decl(g) + "\n")
        for a in script.aliases:
            out.append(self.alias(a) + "\n")
        for p in script.probes:
            out.append("probe " + ",".join(self.point(pt) for pt in p.points) + self.block(p.body) + "\n")
        for f in script.functions:
            out.append(self.function(f) + "\n")
        return "".join(out)

    # --- declarations ---
    def global_decl(self, g: n.Global) -> str:
        s = g.name
        if g.wrap:
            s += "%"
        if g.size:
            s += f"[{g.size}]"
        if g.init is not None:
            s += " = " + literal_text(g.init)
        return s

    def point(self, pt: n.ProbePoint, extras: bool = True) -> str:
        parts = []
        for c in pt.components:
            s = c.name
            if c.arg is not None:
                s += "(" + literal_text(c.arg) + ")"
            parts.append(s)
        s = ".".join(parts)
        if not extras:
            return s
        if pt.sufficient:
            s += "!"
        elif pt.optional:
            s += "?"
        if pt.condition is not None:
            s += " if (" + self.expr(pt.condition) + ")"
        return s

    def alias(self, a: n.ProbeAlias) -> str:
        # stap prints the prologue body only (an epilogue `, { ... }` body is not shown)
        s = "probe " + " = ".join(self.point(p) for p in a.names)
        s += " += " if a.epilogue else " = "
        s += ", ".join(self.point(p) for p in a.points)
        return s + self.block(a.body)

    def function(self, f: n.Function) -> str:
        head = f"function {f.name} (" + ", ".join(p.name for p in f.params) + ")\n"
        if isinstance(f.body, n.EmbeddedStmt):
            return head + "%{" + f.body.code + "%}"
        return head + self.block(f.body)

    # --- statements ---
    def block(self, b: n.Block) -> str:
        return "{\n" + "".join(self.stmt(s) + ";\n" for s in b.stmts) + "}"

    def stmt(self, s: n.Stmt) -> str:
        if isinstance(s, n.Block):
            return self.block(s)
        if isinstance(s, n.ExprStmt):
            return self.expr(s.expr)
        if isinstance(s, n.Null):
            return ";"
        if isinstance(s, n.If):
            out = "if (" + self.expr(s.cond) + ") " + self.stmt(s.then) + "\n"
            if s.orelse is not None:
                out += "else " + self.stmt(s.orelse) + "\n"
            return out
        if isinstance(s, n.While):
            return "for (; " + self.expr(s.cond) + "; ) " + self.stmt(s.body)
        if isinstance(s, n.For):
            init = self.expr(s.init) if s.init is not None else ""
            cond = self.expr(s.cond) if s.cond is not None else "1"
            incr = self.expr(s.incr) if s.incr is not None else ""
            return f"for ({init}; {cond}; {incr}) " + self.stmt(s.body)
        if isinstance(s, n.Foreach):
            return self.foreach(s)
        if isinstance(s, n.Return):
            return "return" if s.value is None else "return " + self.expr(s.value)
        if isinstance(s, n.Delete):
            return "delete " + self.expr(s.target)
        if isinstance(s, n.Next):
            return "next"
        if isinstance(s, n.Break):
            return "break"
        if isinstance(s, n.Continue):
            return "continue"
        if isinstance(s, n.TryCatch):
            out = "try {\n" + self.block(s.body) + "\n} catch "
            if s.var is not None:
                out += "(" + s.var.name + ") "
            return out + "{\n" + self.block(s.handler) + "\n}\n"
        if isinstance(s, n.EmbeddedStmt):
            # inside a block stap parses `%{ %}` as an expression statement
            return "%{ " + s.code + " %}"
        raise TypeError(f"dump: unexpected statement {type(s).__name__}")

    def foreach(self, s: n.Foreach) -> str:
        out = "foreach ("
        if s.value is not None:
            out += s.value.name + " = "
        keys = []
        for i, k in enumerate(s.keys, 1):
            mark = ""
            if s.sort_dir and s.sort_col == i:
                mark = "+" if s.sort_dir > 0 else "-"
            keys.append(k.name + mark)
        out += "[" + ", ".join(keys) + "] in "
        arr = s.array
        if isinstance(arr, n.ArrayRef):
            out += arr.name + "[" + self.indexes(arr.indexes) + "]"
        else:
            out += self.expr(arr)
        if s.sort_dir and s.sort_col == 0:
            if s.sort_agg and s.sort_agg != "@variance":
                out += " " + s.sort_agg
            out += "+" if s.sort_dir > 0 else "-"
        if s.limit is not None:
            out += " limit " + self.expr(s.limit)
        return out + ") " + self.stmt(s.body)

    # --- expressions ---
    def indexes(self, idx: list[Optional[n.Expr]]) -> str:
        return ", ".join("*" if e is None else self.expr(e) for e in idx)

    def number(self, e: n.Expr) -> str:
        """A place where stap's grammar takes a plain (possibly negative) number."""
        if isinstance(e, n.Literal) and isinstance(e.value, int):
            return str(e.value)
        return self.expr(e)

    def expr(self, e: n.Expr) -> str:
        if isinstance(e, n.Literal):
            if isinstance(e.value, str):
                return literal_text(e)
            if e.tok is not None and e.tok.is_op("-"):
                # the parser folded unary minus into the literal; stap keeps `-(N)`
                return "-(" + str(_wrap64(-e.value)) + ")"
            return str(e.value)
        if isinstance(e, n.Symbol):
            return e.name
        if isinstance(e, n.Binary):
            return "(" + self.expr(e.left) + ") " + e.op + " (" + self.expr(e.right) + ")"
        if isinstance(e, n.Assign):
            return "(" + self.expr(e.target) + ") " + e.op + " (" + self.expr(e.value) + ")"
        if isinstance(e, n.Unary):
            return e.op + "(" + self.expr(e.operand) + ")"
        if isinstance(e, n.IncDec):
            if e.prefix:
                return e.op + "(" + self.expr(e.target) + ")"
            return "(" + self.expr(e.target) + ")" + e.op
        if isinstance(e, n.Ternary):
            return "(" + self.expr(e.cond) + ")?(" + self.expr(e.true) + "):(" + self.expr(e.false) + ")"
        if isinstance(e, n.ArrayRef):
            return e.name + "[" + self.indexes(e.indexes) + "]"
        if isinstance(e, n.InArray):
            return "[" + self.indexes(e.array.indexes) + "] in " + e.array.name
        if isinstance(e, n.Regex):
            return "(" + self.expr(e.left) + ") " + e.op + " " + literal_text(e.pattern)
        if isinstance(e, n.Call):
            return e.name + "(" + ", ".join(self.expr(a) for a in e.args) + ")"
        if isinstance(e, n.PrintFormat):
            parts = []
            if e.fmt is not None:
                parts.append(qstring(_string_content(e.fmt)))
            parts.extend(self.expr(a) for a in e.args)
            return e.name + "(" + ", ".join(parts) + ")"
        if isinstance(e, n.StatOp):
            s = e.op + "(" + self.expr(e.stat)
            if e.op == "@variance" and len(e.params) == 1:
                s += ", " + self.number(e.params[0])
            return s + ")"
        if isinstance(e, n.Hist):
            s = "@hist_" + e.kind + "(" + self.expr(e.stat)
            for p in e.params:
                s += ", " + self.number(p)
            s += ")"
            if e.bucket is not None:
                s += "[" + self.expr(e.bucket) + "]"
            return s
        if isinstance(e, n.TargetVar):
            return self.target(e)
        if isinstance(e, n.Special):
            return self.special(e)
        if isinstance(e, n.EmbeddedExpr):
            return "%{ " + e.code + " %}"
        raise TypeError(f"dump: unexpected expression {type(e).__name__}")

    def components(self, t: n.TargetVar) -> str:
        out = []
        for kind, val in t.components:
            if kind == "->":
                out.append("->" + str(val))
            else:
                out.append("[" + self.expr(val) + "]")   # type: ignore[arg-type]
        if t.pretty:
            out.append("->" + "$" * t.pretty)
        return "".join(out)

    def _str_arg(self, e: n.Expr) -> str:
        if isinstance(e, n.Literal) and isinstance(e.value, str):
            return _string_content(e)
        return self.expr(e)

    def target(self, t: n.TargetVar) -> str:
        amp = "&" if t.addressof else ""
        if t.name == "@cast":
            s = "@cast(" + self.expr(t.args[0])
            for a in t.args[1:3]:
                s += ", " + qstring(self._str_arg(a))
            return amp + s + ")" + self.components(t)
        if t.name == "@var":
            s = '@var("' + self._str_arg(t.args[0]) + '"'
            for a in t.args[1:2]:
                s += ", " + qstring(self._str_arg(a))
            return amp + s + ")" + self.components(t)
        if t.name == "@autocast":
            return amp + "(" + self.expr(t.args[0]) + ")" + self.components(t)
        if t.name in ("@kregister", "@uregister"):
            reg = t.name + "(" + (self.number(t.args[0]) if t.args else "") + ")"
            if t.components or t.pretty or t.addressof:
                # stap wraps a register read with suffixes in an autocast
                return amp + "(" + reg + ")" + self.components(t)
            return reg
        return amp + t.name + self.components(t)

    def special(self, e: n.Special) -> str:
        if e.op == "@const" and e.args:
            return "%{ /* pure */ /* unprivileged */ /* stable */ " + self._str_arg(e.args[0]) + " %}"
        return e.op + "(" + ", ".join(self.expr(a) for a in e.args) + ")"
